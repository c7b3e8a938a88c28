"""What is due on each question (`forecast status`, and the due columns of `question list`).

A question is due when evidence was logged or retracted since its last full run (or it was never run), when
its last full run failed its diagnostics, when nothing was said or observed for longer than its
``review_every`` days, when a checkpoint passed without an observation that decides it, or when its horizon
ended and it was not resolved. Only open questions are due.
"""

from __future__ import annotations

import datetime as dt
import json

from typing import Any

from sqlmodel import Session, col, select

from ..basics import validate
from ..basics.months import parse_month
from ..store.tables import ForecastResult, ForecastRun, Observation, Question, Statement
from .consistency import pending_notice
from .outcomes import checkpoint_outcomes
from .questions import require_scope, stored_spec


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _last_full_run(session: Session, question: Question) -> ForecastRun | None:
    query = (select(ForecastRun).join(ForecastResult, col(ForecastResult.run_id) == col(ForecastRun.id))
             .where(ForecastResult.question_id == question.id, ForecastRun.kind == "full")
             .order_by(col(ForecastRun.created_at).desc(), col(ForecastRun.id).desc()))
    return session.exec(query).first()


def _evidence(session: Session, question: Question) -> list[Statement | Observation]:
    return [*session.exec(select(Statement).where(Statement.question_id == question.id)),
            *session.exec(select(Observation).where(Observation.question_id == question.id))]


def _since_run(rows: list[Statement | Observation], run: ForecastRun | None) -> dict[str, int]:
    """Active statements and observations logged after the run, and rows retracted after it (all, without a run)."""
    after = None if run is None else validate.as_utc(run.created_at)

    def later(stamp: dt.datetime | None) -> bool:
        return stamp is not None and (after is None or validate.as_utc(stamp) > after)

    active = [r for r in rows if r.retracted_at is None and later(r.logged_at)]
    return {"statements": sum(isinstance(r, Statement) for r in active),
            "observations": sum(isinstance(r, Observation) for r in active),
            "retractions": 0 if run is None else sum(1 for r in rows if later(r.retracted_at)
                                                     and not later(r.logged_at))}


def _new_evidence_text(counts: dict[str, int], run: ForecastRun | None) -> str | None:
    parts = [_plural(counts[k], k[:-1]) for k in ("statements", "observations", "retractions") if counts[k]]
    if run is None:
        return "never run" + (f" ({' and '.join(parts)} logged)" if parts else "")
    if not parts:
        return None
    return f"{' and '.join(parts)} since the last run ({run.created_at.date().isoformat()})"


def _last_evidence(rows: list[Statement | Observation], question: Question) -> tuple[dt.date, bool]:
    """The latest day said or observed among active rows (True), else the day the question was added (False)."""
    days = [r.said_on if isinstance(r, Statement) else r.observed_on for r in rows if r.retracted_at is None]
    return (max(days), True) if days else (question.created_at.date(), False)


def _horizon_over(question: Question, today: dt.date) -> bool:
    year, index = divmod(parse_month(question.horizon_end) + 1, 12)
    return today >= dt.date(year, index + 1, 1)


def retry_command(seed: int, command: str = "forecast run") -> str:
    """``command`` again for a fit that failed its diagnostics: more tuning and draws, the next seed."""
    return f"{command} --tune 2000 --draws 2000 --seed {seed + 1}"


def _undecided_text(undecided: list[dt.date], rows: list[Statement | Observation], today: dt.date) -> str:
    """Checkpoints passed without a deciding observation, and what to log; a pending notice makes the answer likely
    but does not decide it (a party may leave without waiting)."""
    many = len(undecided) > 1
    text = (f"checkpoint{'s' if many else ''} {', '.join(c.isoformat() for c in undecided)} passed without an "
            f"observation that decides {'them' if many else 'it'}")
    notice = pending_notice([r for r in rows if isinstance(r, Observation) and r.retracted_at is None], before=today)
    if notice is None:
        return text + " (log event-not-yet or event)"
    return text + (f": the notice of {notice.observed_on} (O{notice.id}) is pending, so the event has most likely "
                   "not happened yet, but only an observation settles it (log event-not-yet, or event)")


def question_status(session: Session, question: Question, today: dt.date | None = None) -> dict[str, Any]:
    """One question's reminders: the facts behind each rule, and ``due``, each due item in plain words."""
    today = today or dt.date.today()
    rows = _evidence(session, question)
    run = _last_full_run(session, question)
    counts = _since_run(rows, run)
    last, any_evidence = _last_evidence(rows, question)
    review_every = stored_spec(question).review_every
    quiet = (today - last).days
    undecided = [c for c, outcome in checkpoint_outcomes(session, question).items() if outcome is None and c <= today]
    due: list[str] = []
    record: dict[str, Any] = {"slug": question.slug, "status": question.status, "title": question.title,
              "last_run": None if run is None else run.id,
              "last_run_at": None if run is None else run.created_at.date().isoformat(),
              "last_run_converged": None if run is None else run.converged,
              "new_evidence": counts, "last_evidence": last.isoformat() if any_evidence else None,
              "days_without_evidence": quiet, "review_every": review_every,
              "undecided_checkpoints": [c.isoformat() for c in undecided],
              "past_horizon": _horizon_over(question, today), "due": due}
    if question.status != "open":
        return record | {"undecided_checkpoints": [], "past_horizon": False}
    if (text := _new_evidence_text(counts, run)) is not None:
        due.append(text)
    if run is not None and not run.converged:
        due.append(f"its last run ({run.id}) failed its diagnostics: run it again with more tuning and draws "
                   f"({retry_command(run.seed)})")
    if quiet > review_every:
        since = f"since {last.isoformat()}" if any_evidence else f"since it was added on {last.isoformat()}"
        due.append(f"no evidence for {quiet} days ({since}; review every {_plural(review_every, 'day')})")
    if undecided:
        due.append(_undecided_text(undecided, rows, today))
    if record["past_horizon"]:
        due.append(f"the horizon ended with {question.horizon_end} and the "
                             f"question is not resolved (forecast resolve {question.slug})")
    return record


def status(session: Session, question: str | None = None, tag: str | None = None,
           today: dt.date | None = None) -> list[dict]:
    """The reminders of every open question (or one question, or those with a tag), by slug."""
    require_scope(session, question, tag)
    query = select(Question).order_by(Question.slug)
    if question is not None:
        query = query.where(Question.slug == question)
    return [question_status(session, q, today) for q in session.exec(query)
            if (question is not None or q.status == "open") and (tag is None or tag in json.loads(q.tags))]
