"""A pending notice that may be revoked before it takes effect.

A notice binds with probability b (``bind_probability`` of the question's notice rule). If it binds,
the event takes effect no earlier than the notice's first effective month ``f`` and likely soon after:
``N(T) = exp(-(T - f) / lag)`` from ``f`` on, 0 before (the notice term when b = 1). If it is revoked
(silently: a logged ``notice-revoked`` ends the notice instead), the party is as if no notice were
pending from the notice month ``d`` on: ``R(T) = 1 - c`` for ``d <= T < d + notice months`` (a compliant
party could not leave before a new notice ran out) and 1 after; the event had not happened before ``d``
in either case.

The two are mixed so that b keeps its meaning, the probability that the notice binds given that it was
given and the question's date prior:

    L(T) = b N(T) / Z_N + (1 - b) R(T) / Z_R,    Z_X = sum_T P(T) X(T)

with P the date prior's marginal over T (the hazard's level and trend integrated out). Without the
Z's the mixture would not be b to 1 - b: N holds the few months after ``f`` and R the whole remaining
horizon, so their prior masses differ 20 to 50 fold (the recipe's prior over 5 years, notice in month
0 or 12: Z_R / Z_N = 37, 49; hazard 0.08 a year and a 6-month lag: 19), and b = 0.9 would have left a
notice binding with probability 0.16-0.32 before any other evidence. The Z's are constants of the priors, so L is a fixed number per bin (divided by
``b / Z_N``, it is the old term plus ``kappa R(T)``) and enters the model with the other
observations; a run of ``event-not-yet`` past ``f`` moves the posterior to the revoked branch by itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .hazard import date_prior_marginal
from .preemption import NumpyOps


def pending_notice_log(first: int, given: int, threshold: int, n: int, notice: dict[str, Any],
                       date_prior: dict[str, float]) -> np.ndarray:
    """log L(T), up to a constant, over a question's own grid (months 0..n-1, then the beyond bin at n).

    ``first``: the notice's first effective month; ``given``: the month it was given; ``threshold``: the
    no-notice threshold the earlier rows set (-1 for none); all as months from the horizon start.
    """
    months = np.arange(n + 1)
    first = min(first, n)  # a notice taking effect after the horizon leaves only the beyond bin
    log_bind = np.where(months >= first, -(months - first) / notice["lag_after_notice_months"], -np.inf)
    bind = float(notice["bind_probability"])
    if bind >= 1.0:
        return log_bind
    until = max(threshold, given + int(notice["months"]))
    compliance = float(notice.get("compliance_mean", 0.0))
    log_revoked = np.where(months < min(given, n), -np.inf, np.where(months < until, math.log1p(-compliance), 0.0))
    log_prior = date_prior_marginal(date_prior, n)
    log_kappa = (math.log1p(-bind) - math.log(bind) + NumpyOps.lse(log_prior + log_bind, 0)
                 - NumpyOps.lse(log_prior + log_revoked, 0))
    return np.logaddexp(log_bind, log_kappa + log_revoked)
