"""Why each statement weighs what it does: the dependence rules applied to it, as structured reasons.

The rules themselves live in :mod:`forecast.inference.dependence`; this module only reads back which of
them touched a statement (its restatement cluster, a newer claim of the same expert, its affiliation
group, a claim the observations decided), for `evidence show`, `evidence list`, the report and the
headline after a write.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import Dataset
from .dependence import StatementFacts, affiliation_shares, restatement_clusters

RESTATEMENT, SUPERSEDED, AFFILIATION, DECIDED, OWN = "restatement", "superseded", "affiliation", "decided", "weight"


@dataclass(frozen=True)
class Reason:
    """One rule applied to a statement, in plain words; ``refs`` are the other rows it names."""

    rule: str  # RESTATEMENT, SUPERSEDED, AFFILIATION, DECIDED or OWN
    text: str
    refs: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"rule": self.rule, "text": self.text, "refs": list(self.refs)}


@dataclass(frozen=True)
class StatementWeight:
    """A statement's effective weight in the model and the rules that set it."""

    ref: str
    weight: float  # in the date likelihood while open; in the expert's track record once decided
    base: float  # strength x stated-probability factor
    recency: float  # recency decay at the as-of date
    status: str  # "active", "replaced by S40 (newer claim)", "restatement of S12", "decided: falsified"
    reasons: tuple[Reason, ...]

    def as_dict(self) -> dict:
        return {"ref": self.ref, "weight": self.weight, "base": self.base, "recency": self.recency,
                "status": self.status, "reasons": [r.as_dict() for r in self.reasons]}


def _ref_order(ref: str) -> int:
    return int(ref[1:])


def statement_weights(data: Dataset, dependence: dict[str, float],
                      affiliations: dict[str, str] | None = None) -> dict[str, StatementWeight]:
    """Every statement of the dataset, by reference, with its effective weight and the rules applied.

    ``affiliations`` maps an affiliation group key to the name to show (default: the key).
    """
    facts, refs = data.stmt_facts or [], data.stmt_refs
    if not facts:
        return {}
    reasons: list[list[Reason]] = [[] for _ in facts]
    status = ["active"] * len(facts)
    decided = data.decided
    for cluster in restatement_clusters(facts):
        order = sorted(cluster.members, key=lambda s: (facts[s].said_on, _ref_order(refs[s])))
        first = refs[order[0]]
        for s in order[1:]:
            reasons[s].append(Reason(RESTATEMENT, f"restates {first}", (first,)))
            status[s] = f"restatement of {first}"
        if len(order) > 1:
            later = tuple(refs[s] for s in order[1:])
            reasons[order[0]].append(Reason(RESTATEMENT, f"restated by {', '.join(later)}", later))
        if not cluster.decided and not cluster.in_position:
            newer = _newest_claim(facts, refs, cluster.members[0])
            for s in cluster.members:
                reasons[s].append(Reason(SUPERSEDED, f"replaced by {newer}, a newer claim of the same expert",
                                         (newer,)))
                status[s] = f"replaced by {newer} (newer claim)"
    for s in range(len(facts)):
        if decided[s]:
            word = "borne out" if decided[s] > 0 else "falsified"
            reasons[s].append(Reason(DECIDED, f"decided: {word} (counts only for the expert's track record)"))
            status[s] = f"decided: {word}"
    record = data.stmt_weight if data.stmt_record_weight is None else data.stmt_record_weight
    weights = np.where(decided == 0, data.stmt_weight, record)
    _affiliation_reasons(data, facts, dependence, affiliations or {}, reasons)
    return {refs[s]: StatementWeight(refs[s], float(weights[s]), float(f.base), float(f.recency), status[s],
                                     (Reason(OWN, _own_weight(refs[s], float(weights[s]), f)), *reasons[s]))
            for s, f in enumerate(facts)}


def _own_weight(ref: str, weight: float, facts: StatementFacts) -> str:
    """"S9 counts 1.65 (2.09 for its strength and stated probability, x0.79 for its age)": where the number comes
    from before the dependence rules (listed after it) apply."""
    age = f", x{facts.recency:.2f} for its age" if round(facts.recency, 2) < 1 else ""
    own = f"{facts.base:.2f} for its strength and stated probability{age}"
    if round(weight, 2) < round(facts.base * facts.recency, 2):  # a rule below took some or all of it
        return f"{ref} counts {weight:.2f} after the rules that follow ({own}, before them)"
    return f"{ref} counts {weight:.2f} ({own})"


def _newest_claim(facts: list[StatementFacts], refs: list[str], s: int) -> str:
    """The first statement the same expert made on the latest day they spoke on the question."""
    mine = [t for t, f in enumerate(facts) if (f.expert, f.question) == (facts[s].expert, facts[s].question)]
    latest = max(facts[t].said_on for t in mine)
    return min((refs[t] for t in mine if facts[t].said_on == latest), key=_ref_order)


def _affiliation_reasons(data: Dataset, facts: list[StatementFacts], dependence: dict[str, float],
                         names: dict[str, str], reasons: list[list[Reason]]) -> None:
    """Add "Roscosmos: 5 speakers count as 1.8" to each open statement of a shared affiliation."""
    shares = affiliation_shares(facts, data.stmt_weight, dependence)
    for s, f in enumerate(facts):
        k, share = shares.get((f.question, f.group), (1, 1.0))
        if k > 1 and data.stmt_weight[s] > 0:
            reasons[s].append(Reason(AFFILIATION, f"{names.get(f.group, f.group)}: {k} speakers count as {k * share:.1f}"))
