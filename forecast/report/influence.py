"""Leave-one-out influence of each evidence item on the exact path, without refitting.

With reliabilities fixed, the posterior over T is the hazard prior times exp(evidence log-likelihood),
and a statement adds its own term to that log-likelihood (weight x log r or log(1 - r) per bin). So the
forecast without statement s is one subtraction away. Where the dependence rules tie a statement's
weight to others (restatements, one affiliation), the rules are re-applied in memory to the statements
it touches. An observation's term is not additive (the latest notice binds, say), so each is re-derived
from the question's other observations. Only an observation that decides a claim rebuilds the dataset.
The prior terms are computed once; a question tied to another by pre-emption goes through the joint
exact path row by row, an unlinked one in one vectorised pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..basics.months import month_label
from ..domain.priors import Priors
from ..inference.dataset import Dataset
from ..inference.observed import observation_terms
from ..inference.dependence import dependence_weights
from ..inference.exact import exact_posterior, joint_from, log_evidence, prior_terms
from ..inference.parameters import PriorArrays, narrowness_units
from ..inference.preemption import NumpyOps
from ..inference.summary import BEYOND, when
from ..store.tables import Observation, Question

NEGLIGIBLE_PP = 0.05  # a change that rounds to 0.0 pp


@dataclass(frozen=True)
class Summary:
    """What the headline says, for one posterior over T: P(by the horizon end), median and 80% interval."""

    probability: float
    median: int  # month index on the grid; n_months means "not within the horizon"
    low: int
    high: int


def statement_units(data: Dataset, priors: Priors, reliability: np.ndarray) -> np.ndarray:
    """[statements, bins] each statement's log-likelihood term per unit of its weight: log r or log(1 - r), and
    what it gains for narrowing the prior (:func:`forecast.inference.parameters.narrowness_units`)."""
    r = np.asarray(reliability, dtype=float)[data.stmt_expert][:, None]
    return np.where(data.stmt_in, np.log(r), np.log1p(-r)) + narrowness_units(data, priors)


def statement_terms(data: Dataset, priors: Priors, reliability: np.ndarray) -> np.ndarray:
    """[statements, bins] each open statement's own log-likelihood term (they add up to the statements' part;
    a decided claim weighs the same whatever T is, so its term is zero)."""
    if not data.stmt_refs:
        return np.zeros((0, data.bins))
    weight = np.where(data.decided == 0, data.stmt_weight, 0.0)[:, None]
    return weight * statement_units(data, priors, reliability)


def _posteriors(log_prior: np.ndarray, evidence: np.ndarray) -> np.ndarray:
    """Rows of exp(log prior + evidence), normalised."""
    joint = log_prior[None, :] + evidence
    joint = np.exp(joint - joint.max(axis=1, keepdims=True))
    return joint / joint.sum(axis=1, keepdims=True)


def summarise(posteriors: np.ndarray, n_months: int) -> list[Summary]:
    """The headline numbers of each row (quantiles as in :func:`forecast.inference.summary.quantile_label`)."""
    cdf = np.cumsum(posteriors[:, :n_months], axis=1)

    def index(q: float) -> np.ndarray:
        reached = cdf >= q - 1e-12
        return np.where(reached.any(axis=1), reached.argmax(axis=1), n_months)

    probability, median, low, high = 1 - posteriors[:, -1], index(0.5), index(0.1), index(0.9)
    return [Summary(float(p), int(m), int(lo), int(hi)) for p, m, lo, hi in zip(probability, median, low, high)]


def _question_posteriors(data: Dataset, terms: tuple[np.ndarray, np.ndarray], q: int, evidence: np.ndarray,
                         rows: np.ndarray) -> np.ndarray:
    """Question q's posterior for each row of its evidence, the other questions' evidence as in ``evidence``.

    A question linked by pre-emption is coupled to its partner, so each row goes through the joint exact
    path (the prior terms computed once); an unlinked one is one vectorised pass."""
    if not _linked(data, q):
        log_prior = terms[0][q] - NumpyOps.lse(terms[0][q], 0)
        return _posteriors(log_prior, rows)
    out = []
    for row in rows:
        varied = evidence.copy()
        varied[q] = row
        out.append(joint_from(data, terms, varied)[0][q])
    return np.array(out)


def _linked(data: Dataset, q: int) -> bool:
    """Whether question q is tied to another by pre-emption (it precludes, or is precluded by, one)."""
    links = data.precluded_by if data.precluded_by is not None else np.full(len(data.questions), -1)
    return bool(links[q] >= 0 or (links == q).any())


def _statement_changes(data: Dataset, priors: Priors, reliability: np.ndarray, q: int) -> dict[str, np.ndarray]:
    """For each statement on question q (by uid): how question q's evidence changes without it.

    A statement whose removal changes no other weight takes its own term away. For a restated or
    affiliated one (see :func:`forecast.inference.dependence.entangled`) the dependence rules are re-applied, in
    memory, to the statements whose weights it touches: its expert's on the question and those of its
    affiliation's experts.
    """
    mine = np.flatnonzero(data.stmt_question == q) if data.stmt_refs else np.zeros(0, dtype=int)
    units = statement_units(data, priors, reliability)
    weights = np.where(data.decided == 0, data.stmt_weight, 0.0)
    tied = data.stmt_entangled if data.stmt_entangled is not None else np.zeros(len(data.stmt_refs), dtype=bool)
    facts = data.stmt_facts
    by_expert: dict[int, list[int]] = defaultdict(list)
    by_group: dict[str, list[int]] = defaultdict(list)
    for i in mine:
        if facts is not None:
            by_expert[facts[i].expert].append(int(i))
            if facts[i].group:
                by_group[facts[i].group].append(int(i))
    changes = {}
    for i in mine:
        change = -weights[i] * units[i]
        if tied[i] and facts is not None:
            touched = sorted((set(by_expert[facts[i].expert]) | set(by_group.get(facts[i].group, []))) - {int(i)})
            if touched:
                reweighted, _ = dependence_weights([facts[j] for j in touched], priors.reliability.dependence)
                change = change + (reweighted - weights[touched]) @ units[touched]
        changes[data.stmt_uids[i]] = change
    return changes


def leave_one_out(data: Dataset, priors: Priors, reliability: np.ndarray | None, question: Question,
                  observations: list[Observation],
                  rebuild: Callable[[str], Dataset]) -> tuple[Summary, dict[str, Summary]]:
    """The headline summary with everything, and without each statement and each observation (by uid).

    ``data`` holds the question (and any question linked to it by pre-emption); ``observations`` are the
    question's observations that ``data`` used; ``rebuild(uid)`` is the dataset without one item (the same
    experts), used only for an observation that decides a claim (the weights change with it). Every other
    item's posterior comes from question q's evidence with that item's change applied.
    """
    q = data.questions.index(question.slug)
    n = int(data.n_months[q])
    if reliability is None:
        reliability = PriorArrays.from_priors(data, priors).prior_mean_reliability()
    terms = prior_terms(data, priors)
    evidence = log_evidence(data, priors, reliability)
    rows = {uid: evidence[q] + change for uid, change in _statement_changes(data, priors, reliability, q).items()}
    spec, rebuilt = priors.questions[question.slug], {}
    for obs in observations:
        log, threshold = observation_terms(question, [o for o in observations if o.uid != obs.uid], spec,
                                           data.bins, data.as_of)
        obs_log, thresholds = data.obs_log.copy(), np.array(data.notice_threshold).copy()
        obs_log[q], thresholds[q] = log, threshold
        without = replace(data, obs_log=obs_log, notice_threshold=thresholds)
        if not np.array_equal(without.decided, data.decided):  # it decides a claim: the weights change
            rebuilt[obs.uid] = exact_posterior(rebuild(obs.uid), priors, reliability)[q]
        else:
            rows[obs.uid] = log_evidence(without, priors, reliability)[q]
    posteriors = _question_posteriors(data, terms, q, evidence, np.array([evidence[q], *rows.values()]))
    summaries = summarise(np.array([*posteriors, *rebuilt.values()]), n)
    return summaries[0], dict(zip([*rows, *rebuilt], summaries[1:]))


def _label(index: int, start: int, n_months: int) -> str:
    return when(BEYOND, month_label(start + n_months - 1)) if index >= n_months else month_label(start + index)


def _shift(with_item: int, without: int, start: int, n_months: int) -> str:
    """A month shift as '+3 mo', or 'A → B' when one side is beyond the horizon."""
    if with_item == without:
        return "0"
    if with_item >= n_months or without >= n_months:
        return f"{_label(without, start, n_months)} → {_label(with_item, start, n_months)}"
    return f"{with_item - without:+d} mo"


def effect(base: Summary, without: Summary, start: int, n_months: int) -> dict:
    """How the item moves the headline: probability in pp, median and 80% interval bounds in months."""
    delta = 100 * (base.probability - without.probability)
    moved = (base.median, base.low, base.high) != (without.median, without.low, without.high)
    return {
        "delta_pp": delta, "median_shift": _shift(base.median, without.median, start, n_months),
        "low_shift": _shift(base.low, without.low, start, n_months),
        "high_shift": _shift(base.high, without.high, start, n_months),
        "median_without": _label(without.median, start, n_months),
        "negligible": abs(delta) < NEGLIGIBLE_PP and not moved,
        "order": (abs(round(delta, 1)), abs(base.median - without.median) + abs(base.low - without.low)
                  + abs(base.high - without.high)),
    }
