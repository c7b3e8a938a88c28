"""Dependence between statements: repeating a position must not multiply it.

Three rules, each from ``[dependence]`` in the reliability priors (docs/model.md):

* **Restatements.** An expert's statements on one question with the same claim (the same bins)
  are one position, restated: correlated sources with correlation ``restatement_correlation``, so
  k of equal weight count as ``k / (1 + (k - 1) rho)`` (Clemen & Winkler 1985); with unequal
  weights the strongest (in practice the freshest) counts in full and each other one at
  ``(1 - rho) / (1 + (k - 1) rho)`` of its weight.
* **Supersession.** The claims an expert made on the latest day they spoke on a question are their
  position; an open claim they have since replaced by a different one is weighted by ``superseded``.
  Once observations decide a claim it counts for the expert's track record, superseded or not.
* **Affiliation.** k experts of one affiliation speaking on one question share information, with an
  uncertain correlation rho ~ Beta(``affiliation_correlation``, sd ``affiliation_correlation_sd``):
  each one's open weight is multiplied by ``E[1 / (1 + (k - 1) rho)]``, so together they count as the
  expected effective number ``E[k / (1 + (k - 1) rho)]``, which saturates as k grows.

The weights are fixed before the fit: an exponent of the likelihood cannot be learned from the same
data (a smaller exponent always raises a tempered likelihood), so rho is set a priori and averaged over.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

_GRID = (np.arange(4000) + 0.5) / 4000  # midpoints on (0, 1) for averaging over rho


@dataclass(frozen=True)
class StatementFacts:
    """What the dependence rules need to know about one statement."""

    expert: int
    question: int
    said_on: dt.date  # only compared
    claim: bytes  # the statement's bins on its question's grid, as a hashable key
    base: float  # strength x stated-probability factor
    recency: float  # recency decay at the as-of date
    decided: bool  # the observations have borne it out or falsified it
    group: str  # affiliation group ("" for an expert without one)


def effective_count(k: int, rho: float) -> float:
    """Clemen & Winkler's effective number of independent sources among k with correlation rho."""
    return k / (1.0 + (k - 1) * rho)


def expected_share(k: int, mean: float, sd: float) -> float:
    """E[1 / (1 + (k - 1) rho)] for rho ~ Beta with this mean and sd: the weight each of k correlated sources keeps."""
    if k <= 1:
        return 1.0
    if sd <= 0:
        return 1.0 / (1.0 + (k - 1) * mean)
    a, b = beta_parameters(mean, sd)
    log_pdf = (a - 1) * np.log(_GRID) + (b - 1) * np.log1p(-_GRID)
    density = np.exp(log_pdf - log_pdf.max())
    return float(np.sum(density / (1.0 + (k - 1) * _GRID)) / np.sum(density))


def beta_parameters(mean: float, sd: float) -> tuple[float, float]:
    """The Beta(a, b) with this mean and sd (sd**2 < mean * (1 - mean))."""
    concentration = mean * (1 - mean) / sd**2 - 1
    return mean * concentration, (1 - mean) * concentration


def restated_weight(weights: np.ndarray, rho: float) -> float:
    """The weight of k restatements: the strongest, plus the rest at (1 - rho) / (1 + (k - 1) rho) each.

    With equal weights w this is w x k / (1 + (k - 1) rho) (Clemen & Winkler); rho = 0 gives the sum
    (independent statements), rho = 1 the strongest alone.
    """
    strongest, k = float(weights.max()), len(weights)
    return strongest + (float(weights.sum()) - strongest) * (1 - rho) / (1 + (k - 1) * rho)


def _restated(indices: list[int], weights: np.ndarray, rho: float) -> dict[int, float]:
    """Each statement's share of its restatement cluster's weight, in proportion to its own."""
    total = float(weights[indices].sum())
    if total <= 0:
        return {i: 0.0 for i in indices}
    cluster = restated_weight(weights[indices], rho)
    return {i: cluster * float(weights[i]) / total for i in indices}


def dependence_weights(facts: list[StatementFacts], dependence: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """(weight in the date likelihood while open, weight in the track record once decided) per statement."""
    base = np.array([f.base for f in facts], dtype=float)
    current = base * np.array([f.recency for f in facts], dtype=float)
    open_w, record_w = np.zeros(len(facts)), np.zeros(len(facts))
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for s, f in enumerate(facts):
        cells[(f.expert, f.question)].append(s)
    rho = dependence["restatement_correlation"]
    for members in cells.values():
        latest = max(facts[s].said_on for s in members)
        position = {facts[s].claim for s in members if facts[s].said_on == latest}
        clusters: dict[tuple[bool, bytes], list[int]] = defaultdict(list)
        for s in members:
            clusters[(facts[s].decided, facts[s].claim)].append(s)
        for (decided, claim), indices in clusters.items():
            if decided:
                for s, w in _restated(indices, base, rho).items():
                    record_w[s] = w
                continue
            keep = 1.0 if claim in position else dependence["superseded"]
            for s, w in _restated(indices, current, rho).items():
                open_w[s] = w * keep
    _discount_affiliations(facts, open_w, dependence)
    return open_w, record_w


def _discount_affiliations(facts: list[StatementFacts], open_w: np.ndarray, dependence: dict[str, float]) -> None:
    """Scale the open weights of the k experts of one affiliation on one question by E[1 / (1 + (k - 1) rho)]."""
    speakers: dict[tuple[int, str], set[int]] = defaultdict(set)
    for s, f in enumerate(facts):
        if open_w[s] > 0 and f.group:
            speakers[(f.question, f.group)].add(f.expert)
    shares = {key: expected_share(len(experts), dependence["affiliation_correlation"],
                                  dependence["affiliation_correlation_sd"]) for key, experts in speakers.items()}
    for s, f in enumerate(facts):
        if f.group and (f.question, f.group) in shares:
            open_w[s] *= shares[(f.question, f.group)]


def affiliation_group(affiliation: str) -> str:
    """The group key of an affiliation: case and spacing ignored; empty for none."""
    return " ".join(affiliation.split()).casefold()


def entangled(facts: list[StatementFacts]) -> np.ndarray:
    """[S] whether leaving a statement out could change another statement's weight: its expert said
    something else on the question (restatements, the latest position), or another expert of its
    affiliation spoke on the question too."""
    cells: dict[tuple[int, int], int] = defaultdict(int)
    speakers: dict[tuple[int, str], set[int]] = defaultdict(set)
    for f in facts:
        cells[(f.expert, f.question)] += 1
        if f.group:
            speakers[(f.question, f.group)].add(f.expert)
    return np.array([cells[(f.expert, f.question)] > 1 or (bool(f.group) and len(speakers[(f.question, f.group)]) > 1)
                     for f in facts], dtype=bool)
