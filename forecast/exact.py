"""Exact posterior over T with reliabilities fixed, by quadrature over the hazard parameters.

NumPy only (no PyMC import): this is the fast path behind the instant headline after
``forecast log``, and it gives the prior's probabilities for every run.
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset
from .model import PriorArrays
from .priors import Priors

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


def _grid(mu: float, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes over +-5 sd and their log weights under Normal(mu, sd)."""
    nodes = np.linspace(mu - GRID_WIDTH_SD * sd, mu + GRID_WIDTH_SD * sd, GRID_POINTS)
    return nodes, -0.5 * ((nodes - mu) / sd) ** 2


def _posterior_one(log_evidence: np.ndarray, arrays: PriorArrays, q: int, n_months: int) -> np.ndarray:
    alpha, log_wa = _grid(arrays.hazard_mu[q], arrays.hazard_sd[q])
    beta, log_wb = _grid(arrays.trend_mu[q], arrays.trend_sd[q])
    log_p = log_prior_t(alpha[:, None], beta[None, :], n_months, log_evidence.size)
    joint = log_p + log_evidence + (log_wa[:, None] + log_wb[None, :])[..., None]
    flat = joint.reshape(-1, log_evidence.size)
    peak = flat.max()
    mass = np.exp(flat - peak).sum(axis=0)
    return mass / mass.sum()


def log_evidence(data: Dataset, priors: Priors, reliability: np.ndarray | None = None) -> np.ndarray:
    """[Q, bins] log-likelihood of all the evidence for each T (-inf on padding), reliabilities fixed."""
    arrays = PriorArrays.from_priors(data, priors)
    evidence = np.where(data.valid, 0.0, -np.inf) + arrays.constant_log
    if data.experts:
        r = arrays.prior_mean_reliability() if reliability is None else np.asarray(reliability, dtype=float)
        w_in, w_out = data.sufficient_stats()
        evidence = evidence + np.einsum("e,eqb->qb", np.log(r), w_in) + np.einsum("e,eqb->qb", np.log1p(-r), w_out)
    return evidence


def exact_posterior(data: Dataset, priors: Priors, reliability: np.ndarray | None = None,
                    with_evidence: bool = True) -> np.ndarray:
    """[Q, bins] posterior over T with reliabilities fixed (default: their prior centres).

    ``with_evidence=False`` gives the prior's own probabilities (hazard prior only).
    """
    arrays = PriorArrays.from_priors(data, priors)
    evidence = log_evidence(data, priors, reliability) if with_evidence else np.where(data.valid, 0.0, -np.inf)
    return np.stack([_posterior_one(evidence[q], arrays, q, int(data.n_months[q])) for q in range(len(data.questions))])
