"""Corrections without retyping: a superseding row made from the old one and only the changed fields.

The new row goes through :func:`forecast.domain.evidence.log_statement` / ``log_observation`` with
``supersedes``, so it is validated, stored and chained like any other row, and the old one is marked
superseded by the one rule that already does that.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from sqlmodel import Session

from ..basics import validate
from ..claims import parse_claim
from ..errors import InputError
from ..store.tables import Expert, Observation, Question, Statement
from .evidence import evidence_by_ref, expert_by_name, log_observation, log_statement, ref_of, require_live

# The fields an edit may change, by option name -> column ("expert": the expert's name). A correction that keeps
# the row's content (its uid's parts) and changes only, say, the probability is a revision (evidence.revised_uid).
STATEMENT_FIELDS = {"claim": "claim_text", "date": "said_on", "quote": "quote", "source": "source", "expert": "expert",
                    "probability": "probability", "strength": "strength", "quote_kind": "quote_kind", "url": "url"}
OBSERVATION_FIELDS = {"date": "observed_on", "note": "note", "source": "source", "url": "url",
                      "effective": "effective_on"}
OPTION_NAMES = {"quote_kind": "--paraphrase/--verbatim"}  # the others: --KEY


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
    require_live(session, row)
    fields = _fields(row)
    kind = "a statement" if isinstance(row, Statement) else "an observation"
    options = ", ".join(_option(f) for f in fields)
    foreign = sorted(k for k, v in changes.items() if v is not None and k not in fields)
    if foreign:
        raise InputError(f"{ref_of(row)} is {kind}: {_option(foreign[0])} does not apply (it has {options})")
    diff = []
    for key, new in changes.items():
        if new is None:
            continue
        old, value = _current(session, row, key), _comparable(session, key, new)
        if value != old:
            diff.append((key, old, value))
    if not diff:
        raise InputError(f"nothing to change in {ref_of(row)}: give at least one of {options} with a new value")
    return diff


def _option(key: str) -> str:
    return OPTION_NAMES.get(key, f"--{key}")


def _current(session: Session, row: Statement | Observation, key: str) -> Any:
    if key == "expert" and isinstance(row, Statement):
        return _stored(session.get(Expert, row.expert_id)).name
    return getattr(row, _fields(row)[key])


def _comparable(session: Session, key: str, new: Any) -> Any:
    """A new value as the row would store it (an expert's canonical name, 80% as 0.8), so that an unchanged
    field is not shown as a change; refuses one it would refuse."""
    if key == "expert":
        return expert_by_name(session, new).name
    if key == "probability":
        return validate.probability(new)
    if key == "url":
        return validate.web_address(new)
    return new.strip() if isinstance(new, str) else new


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
            session, question=slug, expert=changed.get("expert", _current(session, old, "expert")),
            said_on=changed.get("date", old.said_on), claim=claim, quote=changed.get("quote", old.quote),
            source=changed.get("source", old.source), strength=changed.get("strength", old.strength),
            probability=changed.get("probability", probability), rationale=old.rationale, date_precision=precision,
            supersedes=ref_of(old), today=today, quote_kind=changed.get("quote_kind", old.quote_kind),
            url=changed.get("url", old.url))
    else:
        new = log_observation(
            session, question=slug, kind=old.kind, observed_on=changed.get("date", old.observed_on),
            source=changed.get("source", old.source), note=changed.get("note", old.note), date_precision=precision,
            supersedes=ref_of(old), today=today, url=changed.get("url", old.url),
            effective_on=changed.get("effective", old.effective_on))
    return Correction(old, new, slug)


def question_of(session: Session, row: Statement | Observation) -> str:
    """The slug of the question a row is evidence on."""
    return _stored(session.get(Question, row.question_id)).slug


def _stored[T](row: T | None) -> T:
    """A row a foreign key points to (the store's constraints keep it there)."""
    if row is None:
        raise ValueError("a foreign key points to no row")
    return row
