"""The store's evidence with the model's view of it: effective weights, status words, one row whole, and what
moved the instant headline after a write."""

from __future__ import annotations

import datetime as dt

from typing import Any

from sqlmodel import Session, col, select

from ..basics.months import utc_now
from ..domain import views
from ..domain.corrections import question_of
from ..domain.evidence import evidence_by_ref, ref_of
from ..domain.experts import identities
from ..domain.priors import Priors
from ..domain.questions import store_priors
from ..errors import ForecastError
from ..inference.dataset import build_dataset
from ..inference.dependence import affiliation_group
from ..inference.explain import DECIDED, Reason, StatementWeight, statement_weights
from ..store.tables import Expert, Observation, Question, Statement
from .views import fast_headline, run_gap_note

NOT_MODELLED = "not in the model"  # a live statement of a question the model leaves out (annulled)
_JUST_BEFORE = dt.timedelta(microseconds=1)


def _affiliation_names(session: Session) -> dict[str, str]:
    names: dict[str, str] = {}
    for expert in session.exec(select(Expert).order_by(col(Expert.id))):
        names.setdefault(affiliation_group(expert.affiliation), expert.affiliation.strip())
    return names


def evidence_weights(session: Session, priors: Priors, questions: list[str] | None = None,
                     known_at: dt.datetime | None = None) -> dict[str, StatementWeight]:
    """Each statement in force (as known at ``known_at``, default now), by reference: weight and rules applied."""
    data = build_dataset(session, priors, known_at=known_at, questions=questions)
    return statement_weights(data, priors.reliability.dependence, _affiliation_names(session))


def annotate(rows: list[dict], weights: dict[str, StatementWeight] | None) -> list[dict]:
    """Evidence view rows with ``weight`` and the model's status word (a retracted or corrected row weighs 0);
    ``weights`` None (the model cannot be built from the store): weights unknown, the store's status kept."""
    out = []
    for row in rows:
        row = dict(row)
        if weights is None:
            row["weight"] = None
        elif row["type"] == "statement":
            found = weights.get(row["ref"])
            if row["status"] != "active":
                row["weight"] = 0.0
            elif found is None:
                row["weight"], row["status"] = 0.0, NOT_MODELLED
            else:
                row["weight"], row["status"] = round(found.weight, 4), found.status
        else:
            row["weight"] = None
        out.append(row)
    return out


def evidence_listing(session: Session, **filters) -> list[dict]:
    """`evidence list`: the rows of :func:`forecast.domain.views.list_evidence` with weight and status."""
    rows = views.list_evidence(session, **filters)
    try:
        weights = evidence_weights(session, store_priors(session))
    except ForecastError:  # e.g. observations that leave a question no month: the listing helps find them
        weights = None
    return annotate(rows, weights)


def _history(session: Session, row: Statement | Observation) -> tuple[list[str], list[str]]:
    """(the rows this one corrected, oldest first; the rows that corrected it, in order)."""
    table: Any = type(row)
    earlier: list[str] = []
    current: Any = row
    while (older := session.exec(select(table).where(table.superseded_by_id == current.id)).first()) is not None:
        earlier.insert(0, ref_of(older))
        current = older
    later: list[str] = []
    current = row
    while current.superseded_by_id is not None:
        current = session.get(table, current.superseded_by_id)
        later.append(ref_of(current))
    return earlier, later


def evidence_detail(session: Session, ref: str) -> dict:
    """`evidence show`: one row whole, who logged it (if recorded), its corrections both ways, and for a
    statement its effective weight with the rules applied."""
    row = evidence_by_ref(session, ref)
    slug = question_of(session, row)
    if isinstance(row, Statement):
        record = views.statement_view(row, slug, identities(session).current[row.expert_id])
        record["named_as"] = next(e.name for e in session.exec(select(Expert).where(Expert.id == row.expert_id)))  # as logged
    else:
        record = views.observation_view(row, slug)
    record["supersedes"], record["superseded_by"] = _history(session, row)
    weight = None
    if isinstance(row, Statement) and row.retracted_at is None:
        weight = evidence_weights(session, store_priors(session), [slug]).get(ref_of(row))
    (record,) = annotate([record], {weight.ref: weight} if weight else {})
    record["rules"] = [r.as_dict() for r in weight.reasons] if weight else _out_of_force(record)
    return record


def _out_of_force(record: dict) -> list[dict]:
    """The rule for a row out of force: corrected by a later row, or retracted with a reason."""
    if record["status"] == "active":
        return []
    if record["superseded_by"]:
        text = f"corrected by {record['superseded_by'][0]}: out of the model"
    else:
        text = f"retracted ({record['retraction_reason']}): out of the model"
    return [Reason("retracted", text, tuple(record["superseded_by"][:1])).as_dict()]


def headline_change(session: Session, priors: Priors, question: str, at: dt.datetime,
                    new_ref: str | None = None, supersedes: str | None = None) -> dict:
    """The instant headline just before the write at ``at`` and now, with the reasons that moved it: the new
    row's own weight and rules, the row it supersedes, and the statements whose status it changed."""
    then, now = (build_dataset(session, priors, known_at=known_at, questions=[question])
                 for known_at in (at - _JUST_BEFORE, utc_now()))
    before, after = (fast_headline(session, priors, question, data=data) for data in (then, now))
    names = _affiliation_names(session)
    old, new = (statement_weights(data, priors.reliability.dependence, names) for data in (then, now))
    own = list(new[new_ref].reasons) if new_ref in new else []
    replaced = [Reason("supersedes", f"supersedes {supersedes}", (supersedes,))] if supersedes else []
    gone = [Reason("retracted", f"{ref} retracted: out of the model (it counted {was.weight:.2f})", (ref,))
            for ref, was in old.items() if ref not in new and ref != supersedes]
    moved = _grouped_moves({ref: new[ref].status for ref, was in old.items()  # not a row that counted 0 before and after
                            if ref in new and new[ref].status != was.status and ref != new_ref
                            and (was.weight or new[ref].weight or "decided" in new[ref].status)})
    # the row's own weight, what it replaced, then the other rows it changed (they move the headline too), then
    # the rest of the row's own rules
    decided = [r for r in own[1:] if r.rule == DECIDED]  # a claim the observations already settle: say so early
    reasons = own[:1] + decided + replaced + gone + moved + [r for r in own[1:] if r.rule != DECIDED]
    q = session.exec(select(Question).where(Question.slug == question)).one()
    return {"question": question, "event": q.event, "horizon_end": q.horizon_end,
            "reliabilities_from": after["reliabilities_from"], "before": before["headline"],
            "after": after["headline"], "reasons": [r.as_dict() for r in _leading(reasons)],
            "run_note": run_gap_note(after, before["headline"])}


def _grouped_moves(statuses: dict[str, str], named: int = 3) -> list[Reason]:
    """One reason per new status, naming its rows: "S39, S41 and 5 more now replaced by S70 (newer claim)";
    "S49 now active" first."""
    by_status: dict[str, list[str]] = {}
    for ref, status in statuses.items():
        by_status.setdefault(status, []).append(ref)
    reasons = []  # rows that count again first: they move the headline most plainly
    for status, refs in sorted(by_status.items(), key=lambda item: item[0] != "active"):
        shown = ", ".join(refs[:named]) + (f" and {len(refs) - named} more" if len(refs) > named else "")
        reasons.append(Reason("status", f"{shown} now {status}", tuple(refs)))
    return reasons


def _leading(reasons: list[Reason], most: int = 5) -> list[Reason]:
    """At most ``most`` reasons in their order: one per rule of the row's own, every other row's change."""
    seen: set[str] = set()
    kept: list[Reason] = []
    for reason in reasons:
        if reason.rule in ("retracted", "status") or reason.rule not in seen:
            seen.add(reason.rule)
            kept.append(reason)
    return kept[:most]
