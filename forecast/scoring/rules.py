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


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width probability bins, the last one closed: [0, 1/bins), ..., [1 - 1/bins, 1]."""
    return np.minimum((p * bins).astype(int), bins - 1)


def reliability_diagram(p: np.ndarray, y: np.ndarray, bins: int = 10, weights: np.ndarray | None = None) -> list[dict]:
    """Per probability bin: count, mean forecast, observed frequency, and the 5-95% consistency band
    (the observed frequencies a calibrated forecaster would produce, binomial at the mean forecast).

    With ``weights`` (e.g. each question's checkpoints sharing one unit), the means are weighted and the band is
    taken at the bin's effective count (Kish: (sum w)^2 / sum w^2)."""
    from scipy import stats

    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=float)
    index = _bin_index(p, bins)
    rows = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        if not n:
            continue
        mean = float(np.average(p[mask], weights=w[mask]))
        effective = max(1, round(w[mask].sum() ** 2 / np.sum(w[mask] ** 2)))
        low, high = stats.binom.ppf(CONSISTENCY, effective, mean) / effective
        rows.append({"bin": [b / bins, (b + 1) / bins], "count": n, "forecast": mean,
                     "observed": float(np.average(y[mask], weights=w[mask])), "band": [float(low), float(high)]})
    return rows


def murphy(p: np.ndarray, y: np.ndarray, bins: int = 10, weights: np.ndarray | None = None) -> dict[str, float]:
    """The Brier score decomposed over ``bins`` equal-width probability bins, with the two within-bin terms of
    Stephenson, Coelho and Jolliffe (2008, Weather and Forecasting 23(4)), so that it is exact:

        Brier = reliability - resolution + uncertainty + within-bin variance - within-bin covariance

    reliability = sum_k n_k (mean forecast_k - observed frequency_k)^2 / n; resolution = sum_k n_k (observed
    frequency_k - base rate)^2 / n; uncertainty = base rate (1 - base rate); within-bin variance = sum over
    forecasts of (f - mean forecast of its bin)^2 / n; within-bin covariance = 2 sum (f - mean forecast of its
    bin)(o - observed frequency of its bin) / n. With ``weights``, every sum and count is weighted (n their total),
    and the terms still add up exactly.
    """
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=float)
    index = _bin_index(p, bins)
    counts = np.bincount(index, weights=w, minlength=bins)
    used = counts > 0
    forecast = np.bincount(index, weights=w * p, minlength=bins)[used] / counts[used]
    observed = np.bincount(index, weights=w * y, minlength=bins)[used] / counts[used]
    full_forecast, full_observed = np.zeros(bins), np.zeros(bins)
    full_forecast[used], full_observed[used] = forecast, observed
    spread, hit = p - full_forecast[index], y - full_observed[index]
    n, base = w.sum(), np.average(y, weights=w)
    return {
        "brier": float(np.average(brier(p, y), weights=w)),
        "reliability": float(np.sum(counts[used] * (forecast - observed) ** 2) / n),
        "resolution": float(np.sum(counts[used] * (observed - base) ** 2) / n),
        "uncertainty": float(base * (1 - base)),
        "within_bin_variance": float(np.sum(w * spread ** 2) / n),
        "within_bin_covariance": float(2 * np.sum(w * spread * hit) / n),
        "bins": bins,
    }


def _step_shares(ranges: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``[n, len(edges) - 1]``: the share of each forecast's randomised PIT, uniform on [F(y-), F(y)], in each band."""
    ranges = np.clip(np.asarray(ranges, dtype=float).reshape(-1, 2), 0.0, 1.0)
    low, high = ranges[:, :1], np.maximum(ranges[:, 1:], ranges[:, :1])
    width = high - low
    overlap = np.clip(np.minimum(high, edges[None, 1:]) - np.maximum(low, edges[None, :-1]), 0.0, None)
    point = (low >= edges[None, :-1]) & ((low < edges[None, 1:]) | (edges[None, 1:] >= 1.0))  # P(outcome) = 0
    return np.where(width > 0, overlap / np.where(width > 0, width, 1.0), point.astype(float))


def pit_histogram(ranges: np.ndarray, bins: int = 5) -> np.ndarray:
    """The non-randomised PIT histogram of discrete forecasts (Czado, Gneiting and Held 2009, Biometrics 65(4)):
    each forecast spreads one unit uniformly over [F(y-), F(y)], its cumulative probability just before and at
    the outcome, so that the bins of a calibrated forecaster fill evenly even when an outcome carries a lump of
    probability (as "not within the horizon" does). ``ranges`` is ``[n, 2]``; returns the expected counts."""
    return _step_shares(ranges, np.linspace(0.0, 1.0, bins + 1)).sum(axis=0)


def pit_coverage(ranges: np.ndarray, level: float) -> np.ndarray:
    """Per forecast, the chance that its randomised PIT falls in the central ``level`` band: the coverage of a
    central ``level`` interval that may split the outcome's lump. Its mean is ``level`` for a calibrated
    forecaster, while containment of a whole-month interval exceeds ``level`` by construction."""
    edges = np.array([(1 - level) / 2, (1 + level) / 2])
    return _step_shares(ranges, edges)[:, 0]


def cluster_draws(clusters: int, draws: int = 4000, seed: int = 0) -> np.ndarray:
    """``[draws, clusters]`` indices of whole clusters (questions) drawn with replacement, one row per replicate."""
    return np.random.default_rng(seed).integers(0, clusters, size=(draws, clusters))


def percentile_interval(samples: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap replicates."""
    low, high = np.quantile(np.asarray(samples, dtype=float), [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def cluster_bootstrap(values: np.ndarray, clusters=None, draws: int = 4000, seed: int = 0,
                      level: float = 0.9) -> tuple[float, float, float]:
    """Mean of ``values`` and its bootstrap ``level`` interval, resampling whole clusters (``clusters[i]`` names
    the cluster of ``values[i]``, e.g. its question; default: each value its own cluster).

    Each replicate is the mean over every value of the clusters drawn, so values of one cluster (the checkpoints
    or as-of dates of one question, which move together) are never counted as independent observations.
    """
    values = np.asarray(values, dtype=float)
    labels = np.arange(len(values)) if clusters is None else np.unique(np.asarray(clusters), return_inverse=True)[1]
    k = int(labels.max()) + 1
    sums, counts = np.bincount(labels, weights=values, minlength=k), np.bincount(labels, minlength=k)
    picks = cluster_draws(k, draws, seed)
    low, high = percentile_interval(sums[picks].sum(axis=1) / counts[picks].sum(axis=1), level)
    return float(values.mean()), low, high


def bootstrap_difference(a: np.ndarray, b: np.ndarray, clusters=None, draws: int = 4000, seed: int = 0,
                         level: float = 0.9) -> tuple[float, float, float]:
    """Mean of ``a - b`` (paired) and its bootstrap ``level`` interval, resampling ``clusters`` (default: pairs)."""
    return cluster_bootstrap(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), clusters, draws, seed, level)


def murphy_text(m: dict) -> str:
    """One line: the decomposition `murphy` returned, its terms in the order they add up."""
    return (f"Brier {m['brier']:.4f} = reliability {m['reliability']:.4f} - resolution {m['resolution']:.4f} "
            f"+ uncertainty {m['uncertainty']:.4f} + within-bin variance {m['within_bin_variance']:.4f} "
            f"- within-bin covariance {m['within_bin_covariance']:.4f} ({m['bins']} probability bins; "
            "Stephenson, Coelho and Jolliffe 2008)")
