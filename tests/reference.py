"""Brute-force references for the model tests: products of probabilities over explicit grids, not sums of logs."""

from __future__ import annotations

import math
import tomllib

import numpy as np

from forecast.domain.priors import data_dir

RELIABILITY = tomllib.loads((data_dir("priors") / "reliability.toml").read_text())
WEIGHTS = {k: v["value"] for k, v in RELIABILITY["weights"].items()}
DEPENDENCE = {k: v["value"] for k, v in RELIABILITY["dependence"].items()}


def reference_prior(n: int, hazard: float, hazard_sd: float, trend: float, trend_sd: float,
                    lapse: float = 0.0) -> np.ndarray:
    """P(T = bin) over n months + beyond under the hazard prior, by brute force over a 241 x 241 grid of products;
    a share ``lapse`` of the mass is beyond the horizon whatever the hazard."""
    mu = math.log(hazard / (1 - hazard))
    alphas = np.linspace(mu - 6 * hazard_sd, mu + 6 * hazard_sd, 241)
    betas = np.linspace(trend - 6 * trend_sd, trend + 6 * trend_sd, 241)
    a, b = np.meshgrid(alphas, betas, indexing="ij")
    prior_weight = np.exp(-0.5 * ((a - mu) / hazard_sd) ** 2 - 0.5 * ((b - trend) / trend_sd) ** 2)
    annual = 1 / (1 + np.exp(-(a[..., None] + b[..., None] * np.arange(n) / 12)))
    monthly = 1 - (1 - annual) ** (1 / 12)
    alive = np.cumprod(1 - monthly, axis=-1)
    before = np.concatenate([np.ones(a.shape + (1,)), alive[..., :-1]], axis=-1)
    p = np.concatenate([monthly * before, alive[..., -1:]], axis=-1)
    marginal = (p * prior_weight[..., None]).sum(axis=(0, 1))
    mixed = (1 - lapse) * marginal / marginal.sum()
    mixed[-1] += lapse
    return mixed


def reference_likelihood(prior: np.ndarray, statements: list[tuple[int, int, float, float]], still_from: int = 0,
                         notice_until: int = 0, compliance: float = 0.0,
                         narrowness: float = WEIGHTS["narrowness"]) -> np.ndarray:
    """Likelihood of each of n months + beyond (``prior`` has n + 1 bins). statements: (first bin, last bin inclusive;
    n = beyond, weight, reliability); each interval's side gains by its prior mass to the power -narrowness x weight."""
    n = len(prior) - 1
    likelihood = np.ones(n + 1)
    for t in range(n + 1):
        for low, high, weight, r in statements:
            mass = float(prior[low : high + 1].sum())
            likelihood[t] *= (r / mass**narrowness if low <= t <= high else (1 - r) / (1 - mass) ** narrowness) ** weight
        if t < still_from:
            likelihood[t] = 0.0
        if t < notice_until:
            likelihood[t] *= 1 - compliance
    return likelihood


def reference_notice(prior: np.ndarray, given: int, first: int, until: int, lag: float, compliance: float,
                     bind: float) -> np.ndarray:
    """A pending notice's likelihood over n months + beyond (``prior`` has n + 1 bins), as the mixture written out.

    Binds (probability ``bind``): nothing before ``first``, then exp(-(t - first) / lag). Revoked: nothing before
    ``given``, 1 - compliance before ``until``, then 1. Each branch is divided by its prior mass, so that the
    notice binds with probability ``bind`` before any other evidence.
    """
    n = len(prior) - 1
    binds = np.array([math.exp(-(min(t, n) - first) / lag) if t >= first else 0.0 for t in range(n + 1)])
    revoked = np.array([0.0 if t < given else (1 - compliance if t < until else 1.0) for t in range(n + 1)])
    return bind * binds / float(prior @ binds) + (1 - bind) * revoked / float(prior @ revoked)


def affiliation_share(k: int) -> float:
    """E[1 / (1 + (k - 1) rho)] for rho ~ Beta with the priors' mean and sd, by adaptive quadrature."""
    from scipy import integrate, stats

    mean, sd = DEPENDENCE["affiliation_correlation"], DEPENDENCE["affiliation_correlation_sd"]
    nu = mean * (1 - mean) / sd**2 - 1
    rho = stats.beta(mean * nu, (1 - mean) * nu)
    return integrate.quad(lambda x: rho.pdf(x) / (1 + (k - 1) * x), 0, 1)[0]


def restated(weights: list[float]) -> float:
    """k restatements of one claim: the strongest in full, each other at (1 - rho) / (1 + (k - 1) rho)."""
    k, rho = len(weights), DEPENDENCE["restatement_correlation"]
    return max(weights) + (sum(weights) - max(weights)) * (1 - rho) / (1 + (k - 1) * rho)


def decay(said: str, as_of: str) -> float:
    import datetime as dt

    days = (dt.date.fromisoformat(as_of) - dt.date.fromisoformat(said)).days
    return 0.5 ** (days / 365.25 / WEIGHTS["half_life_years"])
