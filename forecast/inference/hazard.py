"""The date prior: a discrete-time hazard with uncertain level and trend, and its marginal over T by quadrature.

A share ``lapse_probability`` of the announcements the prior describes are never acted on: their whole mass
is in the beyond bin, whatever the hazard (a cure-rate mixture), so the longer an announcement goes unacted
on, the more of what is left of the probability is that it lapsed.

NumPy only. The exact path (:mod:`.exact`) and the notice term of the dataset (:mod:`.notices`) both
read the prior's marginal, so it lives below both.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .preemption import NumpyOps

GRID_POINTS = 101
GRID_WIDTH_SD = 5.0


def log_prior_t(alpha: np.ndarray, beta: np.ndarray, n_months: int, bins: int) -> np.ndarray:
    """log P(T = bin) for hazard parameters of any shape ``S``: returns ``S + (bins,)``."""
    years = np.arange(bins) / 12.0
    months = np.arange(bins) < n_months
    logit_h = alpha[..., None] + beta[..., None] * years
    log_survive_year = -np.logaddexp(0.0, logit_h)
    log_survive = np.where(months, log_survive_year / 12.0, 0.0)
    log_hazard = np.log(-np.expm1(log_survive_year / 12.0))
    before = np.cumsum(log_survive, axis=-1) - log_survive
    log_p = np.where(months, log_hazard + before, -np.inf)
    log_p[..., -1] = log_survive.sum(axis=-1)
    return log_p


def with_lapse(log_p: np.ndarray, lapse: float) -> np.ndarray:
    """log((1 - lapse) P(T = bin) + lapse [bin is the beyond bin]) for ``log_p`` over bins, the beyond bin last."""
    if lapse <= 0.0:
        return log_p
    out = log_p + math.log1p(-lapse)
    out[..., -1] = np.logaddexp(math.log(lapse), out[..., -1])
    return out


def _grid(mu: float, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes over +-5 sd and their log weights under Normal(mu, sd)."""
    nodes = np.linspace(mu - GRID_WIDTH_SD * sd, mu + GRID_WIDTH_SD * sd, GRID_POINTS)
    return nodes, -0.5 * ((nodes - mu) / sd) ** 2


@lru_cache(maxsize=64)
def _log_prior_marginal(hazard_mu: float, hazard_sd: float, trend_mu: float, trend_sd: float, lapse: float,
                        n_months: int, bins: int) -> np.ndarray:
    """log P(T = bin) with the hazard parameters integrated out, by value, kept: scoring asks for the same prior
    once per run and baseline (the quadrature is 10,000 hazard curves; read-only, so no caller can change a kept
    result)."""
    alpha, log_wa = _grid(hazard_mu, hazard_sd)
    beta, log_wb = _grid(trend_mu, trend_sd)
    log_w = (log_wa[:, None] + log_wb[None, :]).reshape(-1)
    log_p = log_prior_t(alpha[:, None], beta[None, :], n_months, bins).reshape(-1, bins)
    marginal = with_lapse(NumpyOps.lse(log_p + log_w[:, None], 0) - NumpyOps.lse(log_w, 0), lapse)
    marginal.flags.writeable = False
    return marginal


def date_prior_marginal(date_prior: dict[str, float], n_months: int, bins: int | None = None) -> np.ndarray:
    """log P(T = bin) over a question's own grid (its ``n_months`` months, then the beyond bin) under its date prior;
    with ``bins``, on a dataset's padded grid (the beyond bin last)."""
    h = date_prior["annual_hazard"]
    return _log_prior_marginal(math.log(h / (1 - h)), float(date_prior["hazard_sd_logit"]),
                               float(date_prior["trend_per_year"]), float(date_prior["trend_sd"]),
                               float(date_prior["lapse_probability"]), n_months,
                               n_months + 1 if bins is None else bins)
