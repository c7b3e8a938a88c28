"""Exact posterior over T with reliabilities fixed, by quadrature over the hazard parameters.

NumPy only (no PyMC import): this is the fast path behind the instant headline after
``forecast log``, and it gives the prior's probabilities for every run. The hazard parameters enter
only through each question's prior over T, so a question and the one that precludes it are combined
exactly from their two prior marginals.
"""

from __future__ import annotations

import numpy as np

from ..domain.priors import Priors
from .dataset import Dataset
from .hazard import _log_prior_marginal
from .parameters import PriorArrays
from .preemption import NumpyOps, by_precluder, links, star
from .summary import headline, on_grid


def log_prior_marginal(arrays: PriorArrays, q: int, n_months: int, bins: int) -> np.ndarray:
    """log P(T = bin) under question q's hazard prior, the hazard parameters integrated out by quadrature."""
    prior = (float(arrays.hazard_mu[q]), float(arrays.hazard_sd[q]), float(arrays.trend_mu[q]), float(arrays.trend_sd[q]),
             float(arrays.lapse[q]))
    return _log_prior_marginal(*prior, n_months, bins)


def log_evidence(data: Dataset, priors: Priors, reliability: np.ndarray | None = None) -> np.ndarray:
    """[Q, bins] log-likelihood of all the evidence for each T (-inf on padding), reliabilities fixed."""
    arrays = PriorArrays.from_priors(data, priors)
    evidence = np.where(data.valid, 0.0, -np.inf) + arrays.constant_log
    if data.experts:
        r = arrays.prior_mean_reliability() if reliability is None else np.asarray(reliability, dtype=float)
        w_in, w_out = data.sufficient_stats()
        evidence = evidence + np.einsum("e,eqb->qb", np.log(r), w_in) + np.einsum("e,eqb->qb", np.log1p(-r), w_out)
    return evidence


def exact_joint(data: Dataset, priors: Priors, reliability: np.ndarray | None = None,
                with_evidence: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """([Q, bins] posterior over T, [Q] P(pre-empted)) with reliabilities fixed (default: their prior centres).

    ``with_evidence=False`` gives the prior's own probabilities (hazard priors and pre-emption only).
    Decided claims weigh r or 1 - r whatever T is, so with reliabilities fixed they drop out.
    """
    evidence = log_evidence(data, priors, reliability) if with_evidence else np.where(data.valid, 0.0, -np.inf)
    return joint_given(data, priors, evidence)


def joint_given(data: Dataset, priors: Priors, evidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_joint` for a given [Q, bins] evidence log-likelihood (pre-emption links applied)."""
    return joint_from(data, prior_terms(data, priors), evidence)


def prior_terms(data: Dataset, priors: Priors) -> tuple[np.ndarray, np.ndarray]:
    """([Q, bins] log P(T = bin), log P(T >= bin)) with the hazard parameters integrated out; the same for any
    evidence, so callers that vary the evidence compute them once."""
    arrays = PriorArrays.from_priors(data, priors)
    log_prior = np.stack([log_prior_marginal(arrays, q, int(data.n_months[q]), data.bins)
                          for q in range(len(data.questions))])
    return log_prior, np.logaddexp.accumulate(log_prior[:, ::-1], axis=1)[:, ::-1]


def joint_from(data: Dataset, terms: tuple[np.ndarray, np.ndarray], evidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`joint_given` from the prior terms of :func:`prior_terms`."""
    log_prior, log_survival = terms
    joint = log_prior + evidence
    posterior = np.exp(joint - NumpyOps.lse(joint, 1)[:, None])
    preempted = np.zeros(len(data.questions))
    for precluder, members in by_precluder(links(data.precluded_by, data.starts, data.n_months, data.bins)).items():
        _, marginals, pre = star(NumpyOps, log_prior, log_survival, evidence, precluder, members)
        for q, log_p in marginals.items():
            posterior[q] = np.exp(log_p)
        for q, log_p in pre.items():
            preempted[q] = np.exp(log_p)
    return posterior, preempted


def exact_posterior(data: Dataset, priors: Priors, reliability: np.ndarray | None = None,
                    with_evidence: bool = True) -> np.ndarray:
    """[Q, bins] posterior over T with reliabilities fixed (default: their prior centres); see :func:`exact_joint`."""
    return exact_joint(data, priors, reliability, with_evidence)[0]


def exact_headline(data: Dataset, priors: Priors, question: str, reliability: np.ndarray | None = None) -> dict:
    """One question's headline from the exact path (with P(pre-empted) for a precluded question)."""
    q = data.questions.index(question)
    posterior, preempted = exact_joint(data, priors, reliability)
    n = int(data.n_months[q])
    linked = data.precluded_by is not None and data.precluded_by[q] >= 0
    return headline(on_grid(posterior[q], n), int(data.starts[q]), n, float(preempted[q]) if linked else None)


def exact_monthly(data: Dataset, priors: Priors, question: str, reliability: np.ndarray | None = None) -> np.ndarray:
    """One question's exact posterior on its own grid (its months, then the beyond bin)."""
    q = data.questions.index(question)
    return on_grid(exact_posterior(data, priors, reliability)[q], int(data.n_months[q]))
