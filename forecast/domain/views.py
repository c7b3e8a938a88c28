"""Read-only views of the store as plain dicts, for listings and JSON output."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from sqlmodel import Session, select
from sqlmodel.sql.expression import Select

from ..errors import InputError
from ..store.tables import NOT_WITHIN_HORIZON, Expert, ExpertChange, ForecastResult, ForecastRun, Observation, Question, Statement
from .evidence import expert_by_name, ref_of
from .experts import RENAME, Identities, identities
from .questions import last_day_before_outcome, question_by_slug, require_scope
from .reminders import question_status


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def question_view(question: Question) -> dict:
    """A question as a dict."""
    return {
        "slug": question.slug, "title": question.title, "kind": question.kind, "event": question.event,
        "horizon_start": question.horizon_start, "horizon_end": question.horizon_end,
        "status": question.status, "resolution": question.resolution,
        "resolution_source": question.resolution_source, "criteria": question.criteria,
        "tags": json.loads(question.tags), "version": question.version, "resolved_by": question.resolved_by,
    }


# How a headline dict reads, given the question: the interfaces pass the plain-words lead (inference.summary).
HeadlineWords = Callable[[Question, dict], str]


def _numbers_text(question: Question, head: dict) -> str:
    if question.kind == "binary":
        return f"P(yes) {100 * (1 - head['not_within_horizon']):.0f}%"
    return f"median {head['median']}; P(not within horizon) {100 * head['not_within_horizon']:.0f}%"


def _headline_text(question: Question, head: dict | None, run: ForecastRun | None = None,
                   words: HeadlineWords | None = None) -> str:
    if head is None:
        return "no run made before the outcome" if question.status == "resolved" else "no run yet"
    text = (words or _numbers_text)(question, head)
    if question.status == "resolved" and run is not None:
        text += f" (run {run.id} as of {run.as_of.isoformat()}, the last before the outcome)"
    return text


def run_results(question: str, *, kind: str | None = None, newest_first: bool = False) -> Select:
    """The query for one question's (run, result) pairs, by as-of date then run id; ``kind`` keeps one kind of run."""
    query = (select(ForecastRun, ForecastResult).join(ForecastResult, ForecastResult.run_id == ForecastRun.id)
             .join(Question, Question.id == ForecastResult.question_id).where(Question.slug == question))
    if kind is not None:
        query = query.where(ForecastRun.kind == kind)
    if newest_first:
        return query.order_by(ForecastRun.as_of.desc(), ForecastRun.id.desc())
    return query.order_by(ForecastRun.as_of, ForecastRun.id)


def shown_run(session: Session, question: Question,
              as_of: dt.date | None = None) -> tuple[ForecastRun, ForecastResult] | None:
    """The run `show`, `report` and `question list` show for a question, with its result.

    An open question: its latest full run (else its latest run of any kind, e.g. only backtests); with
    ``as_of``, its latest run of any kind as of then. A resolved question: its last run of any kind made as of
    a date before the outcome became known (`last_day_before_outcome`), so never a forecast that knew it.
    """
    limit = as_of
    if question.status == "resolved":
        before = last_day_before_outcome(session, question)
        limit = before if as_of is None else min(as_of, before)
    if limit is not None:
        return session.exec(run_results(question.slug, newest_first=True).where(ForecastRun.as_of <= limit)).first()
    return (session.exec(run_results(question.slug, kind="full", newest_first=True)).first()
            or session.exec(run_results(question.slug, newest_first=True)).first())


def before_outcome_note(session: Session, question: Question, run: ForecastRun) -> str | None:
    """For a resolved question: a line saying that ``run`` was made before the outcome became known."""
    if question.status != "resolved":
        return None
    known = last_day_before_outcome(session, question) + dt.timedelta(days=1)
    outcome = "not within the horizon" if question.resolution == NOT_WITHIN_HORIZON else question.resolution
    return (f"{question.slug} resolved ({outcome}, known from {known.isoformat()}): run {run.id}, as of "
            f"{run.as_of.isoformat()}, is its last run made before the outcome was known.")


def _latest_result(session: Session, question: Question) -> tuple[ForecastRun | None, dict | None]:
    found = shown_run(session, question)
    return (found[0], json.loads(found[1].headline)) if found else (None, None)


def portfolio(session: Session, tag: str | None = None, words: HeadlineWords | None = None) -> list[dict]:
    """Every question (optionally with a tag): status, current headline (worded by ``words``), last change,
    evidence count, tags, and what is due (see :mod:`.reminders`)."""
    require_scope(session, tag=tag)
    rows = []
    for q in session.exec(select(Question).order_by(Question.slug)):
        tags = json.loads(q.tags)
        if tag and tag not in tags:
            continue
        run, head = _latest_result(session, q)
        active = [*session.exec(select(Statement.logged_at).where(Statement.question_id == q.id,
                                                                  Statement.retracted_at.is_(None))),
                  *session.exec(select(Observation.logged_at).where(Observation.question_id == q.id,
                                                                    Observation.retracted_at.is_(None)))]
        changes = [q.created_at, q.resolved_at, run.created_at if run else None, *active]
        last = max(c for c in changes if c is not None)
        due = question_status(session, q)
        rows.append({"slug": q.slug, "kind": q.kind, "status": q.status, "resolution": q.resolution,
                     "horizon_start": q.horizon_start, "horizon_end": q.horizon_end,
                     "headline": _headline_text(q, head, run, words), "run": run.id if run else None,
                     "last_change": last.date().isoformat(), "evidence": len(active), "tags": tags,
                     "title": q.title, "new_since_run": sum(due["new_evidence"].values()),
                     "days_without_evidence": due["days_without_evidence"],
                     "undecided_checkpoints": due["undecided_checkpoints"], "past_horizon": due["past_horizon"],
                     "due": due["due"]})
    return rows


def expert_view(expert: Expert, ids: Identities | None = None) -> dict:
    """An expert as a dict: with ``ids``, its current name, and every other name it answers to as aliases."""
    names = ids.names[expert.id] if ids is not None else [expert.name, *json.loads(expert.aliases)]
    return {
        "name": names[0], "kind": expert.kind, "role": expert.role, "affiliation": expert.affiliation,
        "aliases": names[1:], "notes": expert.notes, "author": expert.author,
    }


def expert_record(session: Session, name: str) -> dict:
    """`expert show`: the expert (by any name), with its renames and the experts merged into it."""
    expert = expert_by_name(session, name)
    ids = identities(session)
    record = expert_view(expert, ids)
    changes = session.exec(select(ExpertChange).where(ExpertChange.expert_id.in_(ids.merged_into(expert.id)))
                           .order_by(ExpertChange.id))
    originals = {e.id: e.name for e in session.exec(select(Expert))}
    record["history"] = [f"{c.created_at:%Y-%m-%d}: " + (f"{originals[c.expert_id]} renamed {c.name}" if c.kind == RENAME
                                                         else f"{originals[c.expert_id]} merged into {c.name}")
                         + f" (by {c.author})" for c in changes]
    return record


def _status(row: Statement | Observation) -> str:
    if row.superseded_by_id is not None:
        return f"superseded by {'S' if isinstance(row, Statement) else 'O'}{row.superseded_by_id}"
    return "retracted" if row.retracted_at is not None else "active"


def statement_view(row: Statement, question: str, expert: str) -> dict:
    """A statement as a dict."""
    return {
        "ref": ref_of(row), "type": "statement", "question": question, "date": _iso(row.said_on),
        "date_precision": row.date_precision, "expert": expert, "claim": row.claim_text,
        "interval": [row.claim_start, row.claim_end], "strength": row.strength,
        "probability": row.probability, "quote": row.quote, "quote_kind": row.quote_kind, "source": row.source,
        "url": row.url,
        "rationale": row.rationale, "logged_at": _iso(row.logged_at), "author": row.author, "status": _status(row),
        "retraction_reason": row.retraction_reason, "retracted_by": row.retracted_by,
    }


def observation_view(row: Observation, question: str) -> dict:
    """An observation as a dict."""
    return {
        "ref": ref_of(row), "type": "observation", "question": question, "date": _iso(row.observed_on),
        "date_precision": row.date_precision, "kind": row.kind, "note": row.note, "source": row.source,
        "url": row.url, "effective_on": _iso(row.effective_on),
        "logged_at": _iso(row.logged_at), "author": row.author, "status": _status(row),
        "retraction_reason": row.retraction_reason, "retracted_by": row.retracted_by,
    }


def list_questions(session: Session) -> list[dict]:
    """All questions, by slug."""
    return [question_view(q) for q in session.exec(select(Question).order_by(Question.slug))]


def list_experts(session: Session, kind: str | None = None) -> list[dict]:
    """All experts (optionally of one kind), by name."""
    query = select(Expert)
    if kind:
        query = query.where(Expert.kind == kind)
    ids = identities(session)
    rows = [expert_view(e, ids) for e in session.exec(query) if ids.target[e.id] == e.id]
    return sorted(rows, key=lambda r: r["name"])


def list_evidence(
    session: Session, question: str | None = None, expert: str | None = None,
    since: dt.date | None = None, until: dt.date | None = None, include_inactive: bool = False,
) -> list[dict]:
    """Statements and observations, by date, filtered by question, expert and date range."""
    if since and until and since > until:
        raise InputError(f"--since {since} is after --until {until}: the range is empty")
    slugs = {q.id: q.slug for q in session.exec(select(Question))}
    ids = identities(session)
    names = ids.current
    statements = select(Statement)
    observations = select(Observation)
    if question:
        qid = question_by_slug(session, question).id
        statements = statements.where(Statement.question_id == qid)
        observations = observations.where(Observation.question_id == qid)
    if expert:
        statements = statements.where(Statement.expert_id.in_(ids.merged_into(expert_by_name(session, expert).id)))
    if since:
        statements = statements.where(Statement.said_on >= since)
        observations = observations.where(Observation.observed_on >= since)
    if until:
        statements = statements.where(Statement.said_on <= until)
        observations = observations.where(Observation.observed_on <= until)
    rows = [statement_view(s, slugs[s.question_id], names[s.expert_id]) for s in session.exec(statements)]
    if not expert:
        rows += [observation_view(o, slugs[o.question_id]) for o in session.exec(observations)]
    if not include_inactive:
        rows = [r for r in rows if r["status"] == "active"]
    return sorted(rows, key=lambda r: (r["date"], r["type"], int(r["ref"][1:])))
