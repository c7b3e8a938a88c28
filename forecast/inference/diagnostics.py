"""Convergence diagnostics in NumPy: rank-normalised split R-hat and bulk/tail effective sample size.

The algorithms of Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat", as ArviZ computes them (``tests/test_diagnostics.py``
checks the numbers against ArviZ). Written out here so that a run need not import ArviZ and SciPy.
"""

from __future__ import annotations

from functools import lru_cache
from statistics import NormalDist

import numpy as np

TAIL_PROBABILITY = 0.11
_NORMAL = NormalDist()


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank."""
    order = np.argsort(values)  # any order of ties will do: they share their average rank
    ordered = values[order]
    new_group = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(new_group) - 1
    counts = np.bincount(group)
    ends = np.cumsum(counts)
    ranks = np.empty(values.size)
    ranks[order] = ((ends - counts + 1 + ends) / 2.0)[group]
    return ranks


@lru_cache(maxsize=8)
def _normal_scores(n: int) -> np.ndarray:
    """Normal quantiles of the Blom positions (k - 3/8) / (n + 1/4), k = 1..n."""
    return np.array([_NORMAL.inv_cdf((k - 0.375) / (n + 0.25)) for k in range(1, n + 1)])


def _z_scale(values: np.ndarray) -> np.ndarray:
    flat = values.ravel()
    ranks = _average_ranks(flat)
    whole = ranks == np.floor(ranks)
    z = np.empty(flat.size)
    z[whole] = _normal_scores(flat.size)[ranks[whole].astype(int) - 1]
    z[~whole] = [_NORMAL.inv_cdf((r - 0.375) / (flat.size + 0.25)) for r in ranks[~whole]]
    return z.reshape(values.shape)


def _split(values: np.ndarray) -> np.ndarray:
    half = values.shape[1] // 2
    return np.vstack((values[:, :half], values[:, -half:]))


def _rhat(values: np.ndarray) -> float:
    n = values.shape[1]
    between = n * np.var(values.mean(axis=1), ddof=1)
    within = np.mean(np.var(values, axis=1, ddof=1))
    return float(np.sqrt((between / within + n - 1) / n))


def _rhat_of_split(split: np.ndarray, z_split: np.ndarray) -> float:
    folded = np.abs(split - np.median(split))
    return max(_rhat(z_split), _rhat(_z_scale(folded)))


def rhat(values: np.ndarray) -> float:
    """Rank-normalised split R-hat of (chain, draw) draws: the larger of the bulk and the folded (tail) value."""
    split = _split(np.asarray(values, dtype=float))
    return _rhat_of_split(split, _z_scale(split))


def _autocov(values: np.ndarray) -> np.ndarray:
    n = values.shape[1]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    centred = values - values.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    return np.fft.irfft(spectrum * np.conjugate(spectrum), n=size, axis=1)[:, :n] / n


def _ess(values: np.ndarray) -> float:
    """Effective sample size of (chain, draw) values by Geyer's initial monotone sequence."""
    values = np.asarray(values, dtype=float)
    if np.max(values) - np.min(values) < np.finfo(float).resolution:
        return float(values.size)
    chains, n = values.shape
    mean_acov = _autocov(values).mean(axis=0)  # over chains, every lag at once
    mean_var = mean_acov[0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n + (np.var(values.mean(axis=1), ddof=1) if chains > 1 else 0.0)
    rho_hat = (1.0 - (mean_var - mean_acov) / var_plus).tolist()  # autocorrelation by lag, as Python floats
    rho = np.zeros(n)
    even, odd = 1.0, rho_hat[1]
    rho[0], rho[1] = even, odd
    t = 1
    while t < n - 3 and even + odd > 0.0:
        even, odd = rho_hat[t + 1], rho_hat[t + 2]
        if even + odd >= 0:
            rho[t + 1], rho[t + 2] = even, odd
        t += 2
    last = t - 2
    if even > 0:
        rho[last + 1] = even
    t = 1
    while t <= last - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2.0
        t += 2
    tau = -1.0 + 2.0 * np.sum(rho[: last + 1]) + np.sum(rho[last + 1: last + 2])
    tau = max(tau, 1 / np.log10(chains * n))
    return float("nan") if np.isnan(rho).any() else chains * n / tau


def ess_bulk(values: np.ndarray) -> float:
    """Bulk effective sample size: of the rank-normalised split chains."""
    return _ess(_z_scale(_split(np.asarray(values, dtype=float))))


def mcse_mean(values: np.ndarray) -> float:
    """Monte Carlo standard error of the mean of (chain, draw) draws: sd over the square root of the split chains' ESS."""
    values = np.asarray(values, dtype=float)
    return float(np.std(values, ddof=1) / np.sqrt(_ess(_split(values))))


def ess_tail(values: np.ndarray, probability: float = TAIL_PROBABILITY) -> float:
    """Tail effective sample size: the smaller of those of the indicators of two quantiles.

    ArviZ 1 takes them at its default credible-interval probability, 89%: the 11% and 89% quantiles.
    """
    values = np.asarray(values, dtype=float)
    return min(_ess(_split(values <= np.quantile(values, q))) for q in (probability, 1 - probability))


def summary(draws: dict[str, np.ndarray]) -> dict[str, float]:
    """Max R-hat and min bulk/tail ESS over every scalar of every (chain, draw, ...) array."""
    rhats, bulk, tail = [], [], []
    for values in draws.values():
        flat = np.asarray(values, dtype=float).reshape(values.shape[0], values.shape[1], -1)
        for i in range(flat.shape[2]):
            split = _split(flat[:, :, i])
            z_split = _z_scale(split)  # rank-normalised once, for the bulk R-hat and the bulk ESS
            rhats.append(_rhat_of_split(split, z_split))
            bulk.append(_ess(z_split))
            tail.append(ess_tail(flat[:, :, i]))
    return {"max_rhat": float(np.max(rhats)), "min_ess_bulk": float(np.min(bulk)), "min_ess_tail": float(np.min(tail))}
