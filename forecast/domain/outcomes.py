"""What the observations decide about a question: the month the event happened and each checkpoint's outcome."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from ..basics.months import date_month, parse_month
from ..store.tables import NOT_WITHIN_HORIZON, Observation, Question


def checkpoints(question: Question) -> list[dt.date]:
    """Every 1 January after the horizon start, through the one after its end; a binary question's deadline only."""
    if question.kind == "binary":
        year, index = divmod(parse_month(question.horizon_end) + 1, 12)
        return [dt.date(year, index + 1, 1)]
    start, end = parse_month(question.horizon_start) // 12, parse_month(question.horizon_end) // 12
    return [dt.date(year, 1, 1) for year in range(start + 1, end + 2)]


def event_month(session: Session, question: Question) -> int | None:
    """The month the event happened, if known (resolution or an `event` observation in force)."""
    if question.resolution and question.resolution != NOT_WITHIN_HORIZON:
        return parse_month(question.resolution)
    rows = session.exec(select(Observation).where(Observation.question_id == question.id,
                                                  Observation.kind == "event",
                                                  col(Observation.retracted_at).is_(None)))
    months = [date_month(r.observed_on) for r in rows]
    return min(months) if months else None


def checkpoint_outcomes(session: Session, question: Question) -> dict[dt.date, bool | None]:
    """For each checkpoint C, whether the event happened before C: True, False, or None (not yet known).

    NO as soon as an observation says the event had not happened by a date on or after C; YES when
    the event is logged before C; all NO when the question resolved "not within the horizon".
    """
    happened = event_month(session, question)
    still = session.exec(select(col(Observation.observed_on)).where(
        Observation.question_id == question.id, Observation.kind == "event-not-yet",
        col(Observation.retracted_at).is_(None)))
    latest_still: dt.date | None = max(still, default=None)
    out: dict[dt.date, bool | None] = {}
    for c in checkpoints(question):
        if happened is not None:
            out[c] = happened < date_month(c)
        elif question.resolution == NOT_WITHIN_HORIZON or (latest_still is not None and latest_still >= c):
            out[c] = False
        else:
            out[c] = None
    return out
