"""Reopened resolutions (``resolution_change`` rows) in an export, and back.

A row names its question by slug. Import adds each as it was exported (the question rows, read first, already
hold the questions' current state), so a store moved by export and import keeps every undone resolution.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from ..basics import validate
from ..domain.questions import question_by_slug
from ..errors import InputError
from ..store.tables import NOT_WITHIN_HORIZON, Question, ResolutionChange
from .cells import author_cell, stamp

RESOLUTION_FIELDS = ["question", "kind", "status", "resolution", "resolution_source", "resolved_at", "resolved_by",
                     "reason", "created_at", "author"]


def resolution_records(session: Session) -> list[dict]:
    """Every reopened resolution in the order made, as export rows."""
    slugs = {q.id: q.slug for q in session.exec(select(Question))}
    return [{"record": "resolution_change", "question": slugs[c.question_id],
             **{f: getattr(c, f) for f in RESOLUTION_FIELDS[1:]}}
            for c in session.exec(select(ResolutionChange).order_by(col(ResolutionChange.id)))]


def import_resolution_change(session: Session, row: dict) -> bool:
    """Add a reopened resolution as exported (False: the store has it already)."""
    question = question_by_slug(session, validate.text(row["question"], "question"))
    if row["kind"] != "reopen":
        raise InputError(f"unknown resolution change {row['kind']!r} (expected reopen)")
    if row["status"] not in ("resolved", "annulled"):
        raise InputError(f"a reopened resolution was resolved or annulled, not {row['status']!r}")
    resolution = None if row["resolution"] in (None, "") else validate.text(row["resolution"], "resolution")
    if row["status"] == "resolved" and resolution is None:
        raise InputError("a reopened resolution that was resolved needs its resolution (YYYY-MM or "
                         f"{NOT_WITHIN_HORIZON})")
    created_at = stamp(row["created_at"], "created_at")
    if created_at is None:
        raise InputError("a reopened resolution needs its created_at")
    reason = validate.text(row["reason"], "reason").strip()
    if any(validate.as_utc(c.created_at) == created_at and c.reason == reason for c in session.exec(
            select(ResolutionChange).where(ResolutionChange.question_id == question.id))):
        return False
    if question.id is None:
        raise ValueError("the question is not stored yet")
    session.add(ResolutionChange(
        question_id=question.id, status=row["status"], resolution=resolution,
        resolution_source=validate.optional_text(row["resolution_source"], "resolution source") or None,
        resolved_at=stamp(row["resolved_at"], "resolved_at"),
        resolved_by=None if row["resolved_by"] in (None, "") else author_cell(row["resolved_by"]),
        reason=reason, created_at=created_at, author=author_cell(row["author"])))
    session.flush()
    return True
