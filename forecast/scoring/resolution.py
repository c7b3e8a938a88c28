"""Resolving questions: explicitly (`forecast resolve`) and partially, checkpoint by checkpoint,
from the observations."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from ..basics import validate
from ..basics.authors import author as author_of
from ..basics.months import month_label, parse_month, utc_now
from ..domain.evidence import log_observation
from ..domain.outcomes import checkpoint_outcomes, checkpoints, event_month  # noqa: F401  (re-exported)
from ..domain.questions import question_by_slug
from ..errors import InputError
from ..store.tables import NOT_WITHIN_HORIZON, Question


def resolve(session: Session, slug: str, *, month: str | None = None, not_within_horizon: bool = False,
            annul: bool = False, source: str = "", author: str | None = None) -> Question:
    """Record how a question resolved, and by whom; a dated resolution is also logged as an `event` observation
    (unless one is)."""
    question = question_by_slug(session, slug)
    author = author_of(author)
    if sum([month is not None, not_within_horizon, annul]) != 1:
        raise InputError("give exactly one of --date YYYY-MM, --not-within-horizon or --annul")
    source = validate.text(source, "resolution source")
    if not source.strip():
        raise InputError("a resolution needs a --source")
    if question.status != "open":
        raise InputError(f"question {slug!r} is already {question.status} ({question.resolution or 'annulled'})")
    if month is not None:
        ordinal = parse_month(month)
        if ordinal < parse_month(question.horizon_start):
            raise InputError(f"{month} is before the horizon starts ({question.horizon_start}): a question's event "
                             "falls within its horizon or after it; check the month")
        if ordinal > parse_month(question.horizon_end):
            raise InputError(f"{month} is outside the horizon {question.horizon_start} to {question.horizon_end}; "
                             "use --not-within-horizon")
        year, index = divmod(ordinal, 12)
        if event_month(session, question) != ordinal:
            log_observation(session, question=slug, kind="event", observed_on=dt.date(year, index + 1, 1),
                            source=source, note="logged by forecast resolve", date_precision="month", author=author)
    elif not_within_horizon:
        _check_horizon_over(question)
    elif annul:
        log_observation(session, question=slug, kind="annulled", observed_on=dt.date.today(), source=source,
                        note="logged by forecast resolve", author=author)
    question.status = "annulled" if annul else "resolved"
    question.resolution = None if annul else (month or NOT_WITHIN_HORIZON)
    question.resolution_source, question.resolved_at, question.resolved_by = source.strip(), utc_now(), author
    session.add(question)
    session.flush()
    return question


def _check_horizon_over(question: Question, today: dt.date | None = None) -> None:
    year, index = divmod(parse_month(question.horizon_end) + 1, 12)
    first_after = dt.date(year, index + 1, 1)
    if (today or dt.date.today()) < first_after:
        raise InputError(f"the horizon of {question.slug!r} runs to {question.horizon_end}: it can resolve "
                         f"'not within the horizon' from {first_after.isoformat()} on")


def date_outcome(session: Session, question: Question) -> int | None:
    """The resolved bin on the question's grid (the last bin for "not within the horizon"), if resolved."""
    n = parse_month(question.horizon_end) - parse_month(question.horizon_start) + 1
    if question.resolution == NOT_WITHIN_HORIZON:
        return n
    happened = event_month(session, question)
    return None if happened is None else happened - parse_month(question.horizon_start)


def describe(question: Question) -> str:
    """One line on how the question stands."""
    if question.status == "open":
        return f"{question.slug} is open"
    if question.status == "annulled":
        return f"{question.slug} was annulled"
    value = "not within the horizon" if question.resolution == NOT_WITHIN_HORIZON else month_label(parse_month(question.resolution))
    return f"{question.slug} resolved: {value}"
