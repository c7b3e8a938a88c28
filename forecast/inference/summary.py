"""Headline numbers from a monthly distribution: checkpoints, median, credible intervals."""

from __future__ import annotations

import numpy as np

from ..basics.months import month_label

BEYOND = "not within the horizon"
INTERVAL_LEVELS = (0.5, 0.8, 0.95)


def checkpoint_probabilities(monthly: np.ndarray, start: int, n_months: int) -> dict[str, float]:
    """P(event before 1 January of each year after the horizon start, through the horizon's end)."""
    cdf = np.cumsum(monthly[:n_months])
    first_year, last_year = start // 12 + 1, (start + n_months - 1) // 12 + 1
    out = {}
    for year in range(first_year, last_year + 1):
        months_before = year * 12 - start
        out[f"{year}-01-01"] = float(cdf[min(months_before, n_months) - 1]) if months_before >= 1 else 0.0
    return out


def quantile_label(monthly: np.ndarray, start: int, n_months: int, q: float) -> str:
    """The month by which the probability first reaches ``q``, or the beyond label."""
    cdf = np.cumsum(monthly[:n_months])
    hits = np.nonzero(cdf >= q - 1e-12)[0]
    return month_label(start + int(hits[0])) if hits.size else BEYOND


def headline(monthly: np.ndarray, start: int, n_months: int, preempted: float | None = None) -> dict:
    """Checkpoints, P(not within the horizon), median and equal-tailed 50/80/95% intervals.

    For a question precluded by another, ``pre_empted`` is the part of "not within the horizon" in
    which the precluding event comes first.
    """
    monthly = np.asarray(monthly, dtype=float)
    beyond = {"not_within_horizon": float(monthly[-1])}
    if preempted is not None:
        beyond["pre_empted"] = float(preempted)
    return {
        "checkpoints": checkpoint_probabilities(monthly, start, n_months),
        **beyond,
        "median": quantile_label(monthly, start, n_months, 0.5),
        "intervals": {
            f"{int(level * 100)}%": [quantile_label(monthly, start, n_months, (1 - level) / 2),
                                     quantile_label(monthly, start, n_months, (1 + level) / 2)]
            for level in INTERVAL_LEVELS
        },
    }


def on_grid(monthly: np.ndarray, n_months: int) -> np.ndarray:
    """A padded row of bins cut to the question's months plus its beyond bin."""
    return np.append(monthly[:n_months], monthly[-1])


def yearly(monthly: np.ndarray, start: int, n_months: int) -> dict[str, float]:
    """Probability per calendar year within the horizon, plus the beyond bin."""
    out: dict[str, float] = {}
    for offset in range(n_months):
        year = str((start + offset) // 12)
        out[year] = out.get(year, 0.0) + float(monthly[offset])
    out[BEYOND] = float(monthly[-1])
    return out
