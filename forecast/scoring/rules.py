"""Proper scores and calibration statistics (pure numpy; checked in tests against independent libraries).

Conventions: lower is better for every score. Brier = (p - y)^2; log score = -ln(probability given to
what happened), infinite when that probability is 0; RPS = sum over categories of the squared
difference between forecast and outcome cumulative distributions (unnormalised; with monthly
categories it is the discrete CRPS in months), the "not within the horizon" bin ordered last.
"""

from __future__ import annotations

import numpy as np

CONSISTENCY = (0.05, 0.95)


def brier(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Brier score of probabilities ``p`` for binary outcomes ``y``."""
    return (np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2


def log_score(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Negative log of the probability given to the outcome (natural log)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    given = np.where(y == 1, p, 1 - p)
    with np.errstate(divide="ignore"):
        return -np.log(given)


def rps(probabilities: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Ranked probability score of categorical forecasts ``[..., K]`` for outcome indices ``[...]``."""
    probabilities = np.asarray(probabilities, dtype=float)
    onehot = np.arange(probabilities.shape[-1]) == np.asarray(outcome)[..., None]
    return ((np.cumsum(probabilities, -1) - np.cumsum(onehot, -1)) ** 2).sum(-1)


def time_average(starts: list, values: list[float], end) -> float:
    """Average of a step function that takes ``values[i]`` from ``starts[i]`` until the next start (or ``end``)."""
    spans = [(min(b, end) - a) for a, b in zip(starts, [*starts[1:], end])]
    days = np.array([s.days if hasattr(s, "days") else s for s in spans], dtype=float)
    days = np.clip(days, 0, None)
    if days.sum() == 0:
        return float(values[-1])
    return float(np.dot(days, values) / days.sum())


def reliability_diagram(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    """Per probability bin: count, mean forecast, observed frequency, and the 5-95% consistency band
    (the observed frequencies a calibrated forecaster would produce, binomial at the mean forecast)."""
    from scipy import stats

    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        if not n:
            continue
        mean = float(p[mask].mean())
        low, high = stats.binom.ppf(CONSISTENCY, n, mean) / n
        rows.append({"bin": [b / bins, (b + 1) / bins], "count": n, "forecast": mean,
                     "observed": float(y[mask].mean()), "band": [float(low), float(high)]})
    return rows


def murphy(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Murphy's decomposition of the Brier score over the distinct forecast values:
    Brier = reliability - resolution + uncertainty (exact when grouped by distinct values)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    base = y.mean()
    values, groups = np.unique(p, return_inverse=True)
    counts = np.bincount(groups)
    observed = np.bincount(groups, weights=y) / counts
    n = len(p)
    return {
        "brier": float(brier(p, y).mean()),
        "reliability": float(np.sum(counts * (values - observed) ** 2) / n),
        "resolution": float(np.sum(counts * (observed - base) ** 2) / n),
        "uncertainty": float(base * (1 - base)),
    }


def bootstrap_difference(a: np.ndarray, b: np.ndarray, draws: int = 4000, seed: int = 0,
                         level: float = 0.9) -> tuple[float, float, float]:
    """Mean of ``a - b`` (paired) and its bootstrap ``level`` interval."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    samples = diff[rng.integers(0, len(diff), size=(draws, len(diff)))].mean(axis=1)
    low, high = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2])
    return float(diff.mean()), float(low), float(high)
