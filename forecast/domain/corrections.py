"""Corrections without retyping: a superseding row made from the old one and only the changed fields.

The new row goes through :func:`forecast.domain.evidence.log_statement` / ``log_observation`` with
``supersedes``, so it is validated, stored and chained like any other row, and the old one is marked
superseded by the one rule that already does that.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from sqlmodel import Session

from ..claims import parse_claim
from ..errors import InputError
from ..store.tables import Expert, Observation, Question, Statement
from .evidence import evidence_by_ref, log_observation, log_statement, ref_of

# The fields an edit may change, by option name -> column. Only fields that are part of a row's identity (its
# uid), so that the corrected row is a new row; strength, probability and the rest: log with --supersedes.
STATEMENT_FIELDS = {"claim": "claim_text", "date": "said_on", "quote": "quote", "source": "source"}
OBSERVATION_FIELDS = {"date": "observed_on", "note": "note", "source": "source"}


class Correction(NamedTuple):
    """An edit as stored: the old row, the new row that supersedes it, and their question's slug."""

    old: Statement | Observation
    new: Statement | Observation
    question: str


def _fields(row: Statement | Observation) -> dict[str, str]:
    return STATEMENT_FIELDS if isinstance(row, Statement) else OBSERVATION_FIELDS


def edit_diff(session: Session, ref: str, changes: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, old value, new value) for each field the edit changes; refuses an edit that changes nothing, names
    a field the row does not have, or targets a row already retracted or superseded."""
    row = evidence_by_ref(session, ref)
    if row.retracted_at is not None:
        newer = f": edit {ref_of(row)[0]}{row.superseded_by_id} instead" if row.superseded_by_id else ""
        raise InputError(f"{ref_of(row)} is {row.retraction_reason or 'retracted'}{newer}")
    fields = _fields(row)
    kind = "a statement" if isinstance(row, Statement) else "an observation"
    foreign = sorted(k for k, v in changes.items() if v is not None and k not in fields)
    if foreign:
        raise InputError(f"{ref_of(row)} is {kind}: --{foreign[0]} does not apply (it has "
                         + ", ".join(f"--{f}" for f in fields) + ")")
    diff = []
    for key, new in changes.items():
        old = getattr(row, fields[key]) if key in fields else None
        if new is not None and (new.strip() if isinstance(new, str) else new) != old:
            diff.append((key, old, new))
    if not diff:
        raise InputError(f"nothing to change in {ref_of(row)}: give at least one of "
                         + ", ".join(f"--{f}" for f in fields) + " with a new value")
    return diff


def edit(session: Session, ref: str, changes: dict[str, Any], date_precision: str | None = None,
         today: dt.date | None = None) -> Correction:
    """Log the correction of ``ref`` (the old row with ``changes``) superseding it."""
    changed = {key: new for key, _, new in edit_diff(session, ref, changes)}
    old = evidence_by_ref(session, ref)
    slug = question_of(session, old)
    precision = date_precision if "date" in changed and date_precision else old.date_precision
    new: Statement | Observation
    if isinstance(old, Statement):
        claim = changed.get("claim", old.claim_text)
        probability = old.probability
        if "claim" in changed and probability == parse_claim(old.claim_text).probability:
            probability = None  # the old claim's own verbal probability: the new claim brings its own
        new = log_statement(
            session, question=slug, expert=_stored(session.get(Expert, old.expert_id)).name,
            said_on=changed.get("date", old.said_on), claim=claim, quote=changed.get("quote", old.quote),
            source=changed.get("source", old.source), strength=old.strength, probability=probability,
            rationale=old.rationale, date_precision=precision, supersedes=ref_of(old), today=today,
            quote_kind=old.quote_kind, url=old.url)
    else:
        new = log_observation(
            session, question=slug, kind=old.kind, observed_on=changed.get("date", old.observed_on),
            source=changed.get("source", old.source), note=changed.get("note", old.note), date_precision=precision,
            supersedes=ref_of(old), today=today, url=old.url, effective_on=old.effective_on)
    return Correction(old, new, slug)


def question_of(session: Session, row: Statement | Observation) -> str:
    """The slug of the question a row is evidence on."""
    return _stored(session.get(Question, row.question_id)).slug


def _stored[T](row: T | None) -> T:
    """A row a foreign key points to (the store's constraints keep it there)."""
    if row is None:
        raise ValueError("a foreign key points to no row")
    return row
