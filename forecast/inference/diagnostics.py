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


def _average_ranks(rows: np.ndarray) -> np.ndarray:
    """Ranks from 1 within each row of a 2-d array, ties sharing their average rank."""
    order = np.argsort(rows, axis=1)  # any order of ties will do: they share their average rank
    ordered = np.take_along_axis(rows, order, axis=1)
    size = rows.shape[1]
    position = np.broadcast_to(np.arange(size), rows.shape)
    starts = np.ones(rows.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = np.ones(rows.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=1)  # where each sorted value's tie group starts
    last = np.minimum.accumulate(np.where(ends, position, size)[:, ::-1], axis=1)[:, ::-1]  # ... and ends
    ranks = np.empty(rows.shape)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=1)
    return ranks


@lru_cache(maxsize=8)
def _normal_scores(n: int) -> np.ndarray:
    """Normal quantiles of the Blom positions (k - 3/8) / (n + 1/4), k = 1..n."""
    return np.array([_NORMAL.inv_cdf((k - 0.375) / (n + 0.25)) for k in range(1, n + 1)])


def _z_scale(values: np.ndarray) -> np.ndarray:
    """Rank-normalised values of each (chain, draw) block of a (variable, chain, draw) array."""
    rows = values.reshape(values.shape[0], -1)
    ranks = _average_ranks(rows)
    whole = ranks == np.floor(ranks)
    z = np.empty(rows.shape)
    z[whole] = _normal_scores(rows.shape[1])[ranks[whole].astype(int) - 1]
    z[~whole] = [_NORMAL.inv_cdf((r - 0.375) / (rows.shape[1] + 0.25)) for r in ranks[~whole]]
    return z.reshape(values.shape)


def _split(values: np.ndarray) -> np.ndarray:
    """(variable, chain, draw) -> (variable, 2 x chain, draw / 2): each chain's first and last halves."""
    half = values.shape[2] // 2
    return np.concatenate((values[:, :, :half], values[:, :, -half:]), axis=1)


def _rhat(values: np.ndarray) -> np.ndarray:
    n = values.shape[2]
    between = n * np.var(values.mean(axis=2), axis=1, ddof=1)
    within = np.mean(np.var(values, axis=2, ddof=1), axis=1)
    return np.sqrt((between / within + n - 1) / n)


def _rhat_of_split(split: np.ndarray, z_split: np.ndarray) -> np.ndarray:
    folded = np.abs(split - np.median(split.reshape(split.shape[0], -1), axis=1)[:, None, None])
    return np.maximum(_rhat(z_split), _rhat(_z_scale(folded)))


def _autocov(values: np.ndarray) -> np.ndarray:
    n = values.shape[-1]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    centred = values - values.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=size, axis=-1)
    return np.fft.irfft(spectrum * np.conjugate(spectrum), n=size, axis=-1)[..., :n] / n


def _ess(values: np.ndarray) -> np.ndarray:
    """Effective sample size of each variable of (variable, chain, draw) values by Geyer's initial monotone
    sequence."""
    values = np.asarray(values, dtype=float)
    _, chains, n = values.shape
    mean_acov = _autocov(values).mean(axis=1)  # over chains, every lag at once
    mean_var = mean_acov[:, 0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n + (np.var(values.mean(axis=2), axis=1, ddof=1) if chains > 1 else 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant variable: its ESS is its size
        rho_hats = 1.0 - (mean_var[:, None] - mean_acov) / var_plus[:, None]
    constant = np.ptp(values.reshape(values.shape[0], -1), axis=1) < np.finfo(float).resolution
    return np.array([float(chains * n) if flat else _geyer_ess(rho_hat.tolist(), chains, n)
                     for rho_hat, flat in zip(rho_hats, constant)])


def _geyer_ess(rho_hat: list[float], chains: int, n: int) -> float:
    """ESS from the autocorrelations by lag (as Python floats)."""
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


def _ess_tail(values: np.ndarray, probability: float) -> np.ndarray:
    """Tail ESS of each variable of (variable, chain, draw) values."""
    flat = values.reshape(values.shape[0], -1)
    quantiles = np.quantile(flat, [probability, 1 - probability], axis=1)  # (2, variable)
    return np.minimum(*(_ess(_split(values <= q[:, None, None])) for q in quantiles))


def _one(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float)[None]


def rhat(values: np.ndarray) -> float:
    """Rank-normalised split R-hat of (chain, draw) draws: the larger of the bulk and the folded (tail) value."""
    split = _split(_one(values))
    return float(_rhat_of_split(split, _z_scale(split))[0])


def ess_bulk(values: np.ndarray) -> float:
    """Bulk effective sample size: of the rank-normalised split chains."""
    return float(_ess(_z_scale(_split(_one(values))))[0])


def mcse_mean(values: np.ndarray) -> float:
    """Monte Carlo standard error of the mean of (chain, draw) draws: sd over the square root of the split chains' ESS."""
    values = np.asarray(values, dtype=float)
    return float(np.std(values, ddof=1) / np.sqrt(_ess(_split(values[None]))[0]))


def ess_tail(values: np.ndarray, probability: float = TAIL_PROBABILITY) -> float:
    """Tail effective sample size: the smaller of those of the indicators of two quantiles.

    ArviZ 1 takes them at its default credible-interval probability, 89%: the 11% and 89% quantiles.
    """
    return float(_ess_tail(_one(values), probability)[0])


def summary(draws: dict[str, np.ndarray]) -> dict[str, float]:
    """Max R-hat and min bulk/tail ESS over every scalar of every (chain, draw, ...) array (all scalars at once)."""
    blocks = [np.moveaxis(np.asarray(v, dtype=float).reshape(v.shape[0], v.shape[1], -1), 2, 0) for v in draws.values()]
    values = np.concatenate(blocks)  # (scalar, chain, draw)
    split = _split(values)
    z_split = _z_scale(split)  # rank-normalised once, for the bulk R-hat and the bulk ESS
    return {"max_rhat": float(np.max(_rhat_of_split(split, z_split))), "min_ess_bulk": float(np.min(_ess(z_split))),
            "min_ess_tail": float(np.min(_ess_tail(values, TAIL_PROBABILITY)))}
