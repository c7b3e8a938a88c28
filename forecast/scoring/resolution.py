"""Resolving questions: explicitly (`forecast resolve`) and partially, checkpoint by checkpoint,
from the observations."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from ..basics import validate
from ..basics.authors import author as author_of
from ..basics.months import month_label, parse_month, utc_now
from ..domain.evidence import log_observation, ref_of, retract
from ..domain.outcomes import checkpoint_outcomes, checkpoints, event_month  # noqa: F401  (re-exported)
from ..domain.questions import question_by_slug
from ..errors import InputError
from ..store.tables import NOT_WITHIN_HORIZON, Observation, Question, ResolutionChange


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
        raise InputError(f"question {slug!r} is already {question.status} ({question.resolution or 'annulled'}); "
                         f"if that was a mistake, `forecast reopen {slug} --reason ...` first")
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
                            source=source, note=RESOLVE_NOTE, date_precision="month", author=author)
    elif not_within_horizon:
        _check_horizon_over(question)
    elif annul:
        log_observation(session, question=slug, kind="annulled", observed_on=dt.date.today(), source=source,
                        note=RESOLVE_NOTE, author=author)
    question.status = "annulled" if annul else "resolved"
    question.resolution = None if annul else (month or NOT_WITHIN_HORIZON)
    question.resolution_source, question.resolved_at, question.resolved_by = source.strip(), utc_now(), author
    session.add(question)
    session.flush()
    return question


RESOLVE_NOTE = "logged by forecast resolve"  # the note of the observation a dated or annulling `resolve` logs


def reopen(session: Session, slug: str, reason: str, author: str | None = None) -> tuple[ResolutionChange, list[str]]:
    """Undo a mistaken resolution: keep it, with ``reason``, as an append-only row, retract the observation `resolve`
    logged for it, and set the question open again. Returns the row and the refs of observations that still
    date the event or annul the question (logged by hand: they stay until corrected)."""
    question = question_by_slug(session, slug)
    reason = validate.text(reason, "reason").strip()
    if not reason:
        raise InputError("reopening a resolution needs a --reason (it is kept with the old resolution)")
    if question.status == "open":
        raise InputError(f"question {slug!r} is open: there is no resolution to reopen")
    author = author_of(author)
    change = ResolutionChange(question_id=question.id, status=question.status, resolution=question.resolution,
                              resolution_source=question.resolution_source, resolved_at=question.resolved_at,
                              resolved_by=question.resolved_by, reason=reason, author=author)
    session.add(change)
    deciding = session.exec(select(Observation).where(
        Observation.question_id == question.id, col(Observation.retracted_at).is_(None),
        col(Observation.kind).in_(("event", "annulled"))).order_by(col(Observation.id))).all()
    for row in deciding:
        if row.note == RESOLVE_NOTE:
            retract(session, ref_of(row), f"its resolution was reopened: {reason}", author=author)
    question.status, question.resolution, question.resolution_source = "open", None, None
    question.resolved_at = question.resolved_by = None
    session.add(question)
    session.flush()
    return change, [ref_of(row) for row in deciding if row.note != RESOLVE_NOTE]


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


def resolution_notes(session: Session, question: Question) -> list[str]:
    """What is possible but unusual about a dated resolution, for whoever made it: an exit in a month before a
    pending notice could take effect (a party may leave without waiting, but a typo is likelier)."""
    from ..domain.consistency import earliest_effect, pending_notice
    from ..domain.questions import stored_spec

    if question.status != "resolved" or question.resolution in (None, NOT_WITHIN_HORIZON):
        return []
    month = parse_month(question.resolution)
    rows = list(session.exec(select(Observation).where(Observation.question_id == question.id,
                                                       col(Observation.retracted_at).is_(None))))
    notice = pending_notice(rows)
    if notice is None:
        return []
    earliest = earliest_effect(stored_spec(question), notice)
    if month >= earliest:
        return []
    return [f"the notice O{notice.id} of {notice.observed_on} could take effect from {month_label(earliest)} at the "
            f"earliest, so an exit in {month_label(month)} means leaving without waiting; if the month is a typo, "
            f"`forecast reopen {question.slug} --reason ...` and resolve it again"]


def describe(question: Question) -> str:
    """One line on how the question stands."""
    if question.status == "open":
        return f"{question.slug} is open"
    if question.status == "annulled":
        return f"{question.slug} was annulled"
    value = "not within the horizon" if question.resolution == NOT_WITHIN_HORIZON else month_label(parse_month(question.resolution))
    return f"{question.slug} resolved: {value}"


def reopened_line(slug: str, change: ResolutionChange, still_deciding: list[str]) -> str:
    """What `reopen` did, in one paragraph: the resolution it kept, and what is left to correct."""
    if change.status == "annulled":
        was = "annulled"
    else:
        was = "resolved " + ("not within the horizon" if change.resolution == NOT_WITHIN_HORIZON
                             else month_label(parse_month(change.resolution or "")))
    when = f" on {change.resolved_at:%Y-%m-%d}" if change.resolved_at else ""
    line = (f"Reopened {slug}: it was {was} (by {change.resolved_by or 'unknown'}{when}); that resolution is kept "
            f"with your reason.")
    if still_deciding:
        line += (f" {', '.join(still_deciding)} still date the event or annul the question: retract or edit "
                 f"{'them' if len(still_deciding) > 1 else 'it'} before resolving again.")
    return line
