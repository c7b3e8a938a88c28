"""The hard observations' log-likelihood over one question's bins: "not yet", the event, and a pending notice.

A pending notice binds with its rule's bind probability (see :mod:`.notices`); a no-notice observation moves
the month from which a compliant exit could come (the no-notice threshold).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..basics.months import date_month, parse_month
from ..domain.consistency import pending_notice
from ..domain.priors import DEFAULT_BIND_PROBABILITY
from ..store.tables import NOT_WITHIN_HORIZON, Observation, Question
from .notices import pending_notice_log

NEG_INF = -np.inf
NO_RULE_LAG_MONTHS = 1.0  # a notice with a stated effective date, on a question without a notice rule


def _notice_terms(rows: list[Observation], notice: dict, q_start: int) -> tuple[int | None, int, int]:
    """(first month a pending notice lets the event take effect, or None; the month it was given, or -1;
    the no-notice threshold month, or -1)."""
    months = int(notice["months"])
    threshold = parse_month(notice["earliest"]) + months - q_start if notice.get("earliest") else -1
    pending = pending_notice(rows)
    for row in rows:
        if row.kind in ("no-notice-as-of", "notice-revoked"):
            threshold = max(threshold, date_month(row.observed_on) + months - q_start)
    if pending is None:
        return None, -1, threshold
    first = date_month(pending.effective_on or pending.observed_on) - q_start + (0 if pending.effective_on else months)
    for row in rows:
        if row.kind == "notice-extended" and row.effective_on is not None and row.observed_on >= pending.observed_on:
            first = max(first, date_month(row.effective_on) - q_start)
    return first, date_month(pending.observed_on) - q_start, threshold


def _observation_log(rows: list[Observation], q_start: int, n: int, bins: int, notice: dict | None,
                     date_prior: dict[str, float]) -> tuple[np.ndarray, int]:
    """Log-likelihood of one question's observations over its bins, and the no-notice threshold bin.

    A pending notice binds with its rule's bind probability (see :mod:`.notices`).
    """
    log = np.zeros(bins)
    log[n:bins - 1] = NEG_INF  # padding
    months = np.append(np.arange(n), n).astype(float)  # beyond bin sits just past the horizon
    cols = np.append(np.arange(n), bins - 1)
    for row in rows:
        month = date_month(row.observed_on) - q_start
        if row.kind == "event-not-yet":  # after the horizon it leaves only the beyond bin
            log[cols[months < min(month, n)]] = NEG_INF
        elif row.kind == "event":
            log[cols[months != min(month, n)]] = NEG_INF
    ordered = sorted(rows, key=lambda r: (r.observed_on, r.id or 0))
    if notice is None:  # no notice rule: a pending notice binds (with the default probability) only through a stated date
        pending = pending_notice(ordered)
        if pending is None or pending.effective_on is None:
            return log, -1
        notice = {"months": 0, "lag_after_notice_months": NO_RULE_LAG_MONTHS, "compliance_mean": 0.0,
                  "bind_probability": DEFAULT_BIND_PROBABILITY}
    first, given, threshold = _notice_terms(ordered, notice, q_start)
    if first is not None:
        log[cols] += pending_notice_log(first, given, threshold, n, notice, date_prior)
        threshold = -1
    return log, threshold


def observation_terms(q: Question, rows: list[Observation], spec, bins: int, as_of: dt.date) -> tuple[np.ndarray, int]:
    """One question's observation log-likelihood over its bins, and its no-notice threshold bin, from its rows."""
    start = parse_month(q.horizon_start)
    n = parse_month(q.horizon_end) - start + 1
    log, threshold = _observation_log(rows, start, n, bins, spec.notice, spec.date_prior)
    if spec.public_event and not any(r.kind == "event" for r in rows):
        # A public event that no observation reports had not happened by the as-of month.
        log[: max(min(date_month(as_of) - start, n), 0)] = NEG_INF
    if q.resolution == NOT_WITHIN_HORIZON and q.resolved_at is not None and q.resolved_at.date() <= as_of:
        log[:-1] = NEG_INF
    return log, threshold
