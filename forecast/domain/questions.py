"""Questions as data: add, re-version and read question definitions (with their priors) in the store.

A question's definition (the validated question file: criteria, horizon, date prior, notice rule,
tags) is stored with it, so every later command reads priors from the store, not from files.
Changing what a forecast depends on (horizon, kind, priors, notice rule) needs a new question;
title, criteria, event wording and tags may change, each change recorded as a new version.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from ..basics import validate
from ..basics.authors import author as author_of
from ..basics.months import known_on, parse_month
from ..basics.text import listed
from ..errors import DuplicateError, InputError, NotFoundError, PriorError
from ..store.tables import Observation, Question, QuestionVersion, ResolutionChange, StoreSetting
from .prior_sets import apply_current
from .priors import (
    Priors,
    QuestionSpec,
    data_dir,
    load_question,
    load_reliability,
    parse_question,
    parse_reliability,
    read_toml,
    spec_from_definition,
)
from .template import TODO

EDITABLE = ("title", "criteria", "event", "tags", "trigger", "review_every")
RELIABILITY_KEY = "reliability_priors"


def question_by_slug(session: Session, slug: str) -> Question:
    """The question with this slug, or a NotFoundError with the closest known slug."""
    slug = validate.text(slug, "question")
    question = session.exec(select(Question).where(Question.slug == slug)).first()
    if question is None:
        raise validate.unknown("question", slug, list(session.exec(select(Question.slug))))
    return question


def known_tags(session: Session) -> list[str]:
    """Every tag some question carries."""
    return sorted({tag for tags in session.exec(select(Question.tags)) for tag in json.loads(tags)})


def require_scope(session: Session, question: str | None = None, tag: str | None = None) -> None:
    """Refuse an unknown question or a tag no question carries (read commands would otherwise show nothing)."""
    if question is not None:
        question_by_slug(session, question)
    if tag is not None and validate.text(tag, "tag") not in (tags := known_tags(session)):
        raise validate.unknown("tag", tag, tags)


def last_day_before_outcome(session: Session, question: Question) -> dt.date:
    """The last as-of date whose forecast could not know the outcome: the day before an `event` observation in
    force became known (its day, or the end of its month or year for a coarser date, or the day it was logged if
    earlier), and never after the
    horizon's last day (from the day after it, "not within the horizon" is known)."""
    year, index = divmod(parse_month(question.horizon_end) + 1, 12)
    last = dt.date(year, index + 1, 1) - dt.timedelta(days=1)
    events = session.exec(select(Observation).where(Observation.question_id == question.id,
                                                    Observation.kind == "event", Observation.retracted_at.is_(None)))
    return min([last, *[known_on(o.observed_on, o.date_precision, o.logged_at) - dt.timedelta(days=1) for o in events]])


def _definition(spec: QuestionSpec, raw: dict[str, Any]) -> str:
    return json.dumps({"spec": {k: v for k, v in asdict(spec).items() if k != "source"}, "file": raw},
                      ensure_ascii=False, sort_keys=True, default=str)


def _spec(question: Question) -> QuestionSpec | None:
    if question.definition is None:
        return None
    spec = json.loads(question.definition)["spec"]
    return spec_from_definition({**spec, "source": f"store: {question.slug}"})


def _forecast_fields(spec: QuestionSpec) -> dict[str, Any]:
    return {k: v for k, v in asdict(spec).items() if k not in (*EDITABLE, "source")}


def _apply(question: Question, spec: QuestionSpec, raw: dict[str, Any]) -> None:
    question.title, question.criteria, question.kind = spec.title, spec.criteria, spec.kind
    question.horizon_start, question.horizon_end, question.event = spec.horizon_start, spec.horizon_end, spec.event
    question.tags = json.dumps(list(spec.tags))
    question.definition = _definition(spec, raw)


def add_question(session: Session, raw: dict[str, Any], where: str, note: str = "",
                 precluder_later: bool = False, author: str | None = None) -> tuple[Question, str]:
    """Store a validated question definition; returns the row and what happened (added, updated, unchanged).

    The question named by ``precluded_by`` must be stored already, unless ``precluder_later``: a batch then
    calls `check_precluders` once all its questions are in.
    """
    spec = parse_question(raw, where)
    _written(spec, where)
    author = author_of(author)
    if not precluder_later:
        _check_precluder(session, spec, where)
    existing = session.exec(select(Question).where(Question.slug == spec.slug)).first()
    if existing is None:
        question = Question(slug=spec.slug, title=spec.title, criteria=spec.criteria, horizon_start=spec.horizon_start,
                            horizon_end=spec.horizon_end)
        _apply(question, spec, raw)
        outcome = "added"
    else:
        question, outcome = existing, _update(existing, spec, raw, where)
        if outcome == "unchanged":
            return question, outcome
    session.add(question)
    session.flush()
    session.add(QuestionVersion(question_id=question.id, version=question.version, definition=question.definition,
                                note=note.strip(), author=author))
    session.flush()
    return question, outcome


def _written(spec: QuestionSpec, where: str) -> None:
    """Refuse a question file whose text fields still hold the template's TODO placeholders."""
    left = [field for field in ("title", "event", "criteria") if getattr(spec, field).lstrip().startswith(TODO.strip())]
    if left:
        fields = listed(left)
        verb = "starts" if len(left) == 1 else "start"
        raise InputError(f"{where}: the {fields} still {verb} with {TODO.strip()!r}, the template's placeholder: "
                         f"write the question's own {fields} first (nothing was added)")


def require_new_slug(session: Session, slug: str) -> None:
    """Refuse a new question file for a slug the store already holds (adding it would re-word that question)."""
    if session.exec(select(Question).where(Question.slug == slug)).first() is not None:
        raise DuplicateError(f"question {slug!r} is already in the store (`forecast question show {slug}`): to "
                             f"re-word it, `forecast question edit {slug}`; for a new question choose another slug")


def check_precluders(session: Session, slugs: list[str]) -> None:
    """After a batch (seed, casebook, import) whose questions may name each other in any order."""
    for slug in slugs:
        _check_precluder(session, stored_spec(question_by_slug(session, slug)), f"question {slug!r}")


def _check_precluder(session: Session, spec: QuestionSpec, where: str) -> None:
    """The question named by ``precluded_by`` must be in the store already, and the chain must not come back."""
    seen, slug = {spec.slug}, spec.precluded_by
    while slug is not None:
        row = session.exec(select(Question).where(Question.slug == slug)).first()
        if row is None:
            known = list(session.exec(select(Question.slug)))
            raise InputError(f"{where}: precluded_by {slug!r} is not in the store{validate.suggestion(slug, known)}: "
                             "add that question first")
        if slug in seen:
            raise InputError(f"{where}: precluded_by makes a cycle through {slug!r}")
        seen.add(slug)
        slug = stored_spec(row).precluded_by


def _update(question: Question, spec: QuestionSpec, raw: dict[str, Any], where: str) -> str:
    old = _spec(question)
    if (question.horizon_start, question.horizon_end) != (spec.horizon_start, spec.horizon_end):
        raise InputError(f"{where}: the horizon of {spec.slug!r} differs from the store's "
                         f"({question.horizon_start} to {question.horizon_end}); add a new question instead")
    if old is not None and _forecast_fields(old) != _forecast_fields(spec):
        changed = sorted(k for k, v in _forecast_fields(spec).items() if _forecast_fields(old)[k] != v)
        raise InputError(f"{where}: {', '.join(changed)} of {spec.slug!r} differ from the store's; forecasts depend "
                         "on them, so add a new question instead")
    if old is not None and old == replace(spec, source=old.source):
        return "unchanged"
    if old is not None:
        question.version += 1
    _apply(question, spec, raw)
    return "updated" if old is not None else "defined"


def edit_question(session: Session, slug: str, note: str = "", *, author: str | None = None,
                  **changes: Any) -> Question:
    """A new version of a question with new wording (title, criteria, event, tags, trigger), by ``author``."""
    question = question_by_slug(session, slug)
    author = author_of(author)
    spec = stored_spec(question)
    changes = {k: v for k, v in changes.items() if v is not None}
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InputError(f"{unknown[0]!r} cannot be edited (editable: {', '.join(EDITABLE)})")
    if not changes:
        raise InputError("nothing to change: give --title, --criteria, --event, --tag, --trigger or --review-every")
    raw = json.loads(question.definition)["file"] if question.definition else {}
    raw = {**raw, "question": {**raw.get("question", {}), **{k: list(v) if k == "tags" else v for k, v in changes.items()}}}
    parse_question(raw, f"edit of {slug}")  # validates the new wording
    new = replace(spec, **{k: tuple(v) if k == "tags" else v for k, v in changes.items()})
    if new == spec:
        raise InputError(f"{slug}: the new wording is the same as version {question.version}")
    question.version += 1
    _apply(question, new, raw)
    session.add(question)
    session.flush()
    session.add(QuestionVersion(question_id=question.id, version=question.version, definition=question.definition,
                                note=note.strip(), author=author))
    session.flush()
    return question


def stored_spec(question: Question) -> QuestionSpec:
    """The definition stored with a question (a store from before 0.2 falls back to the bundled file)."""
    spec = _spec(question)
    if spec is not None:
        return spec
    path = data_dir("priors") / "questions" / f"{question.slug}.toml"
    if not path.exists():
        raise PriorError(f"question {question.slug!r} has no stored definition: run `forecast question add FILE.toml`")
    return load_question(path)


def set_reliability_priors(session: Session, path: Path) -> None:
    """Store the reliability priors of a ``reliability.toml`` (validated first)."""
    raw = read_toml(path)
    parse_reliability(raw, str(path))
    row = session.get(StoreSetting, RELIABILITY_KEY) or StoreSetting(key=RELIABILITY_KEY, value="{}")
    row.value = json.dumps(raw, ensure_ascii=False, sort_keys=True)
    session.add(row)
    session.flush()


def store_priors(session: Session, hand_set: bool = False) -> Priors:
    """Every question's definition and the reliability priors, as stored, with the prior set in force applied
    (``hand_set``: without it)."""
    rows = list(session.exec(select(Question).order_by(Question.slug)))
    questions = {q.slug: stored_spec(q) for q in rows}
    row = session.get(StoreSetting, RELIABILITY_KEY)
    reliability = (parse_reliability(json.loads(row.value), "store: reliability priors") if row is not None
                   else load_reliability(data_dir("priors") / "reliability.toml"))
    priors = Priors(questions=questions, reliability=reliability)
    return priors if hand_set else apply_current(session, priors, raw_files(rows))


def raw_files(rows: list[Question]) -> dict[str, dict | None]:
    """Each question's file as stored (None for a question stored before definitions were kept)."""
    return {q.slug: json.loads(q.definition)["file"] if q.definition else None for q in rows}


def spec_in_force(session: Session, question: Question) -> tuple[dict[str, Any], str]:
    """A question's spec with the store's prior set applied (as a dict), and the set's name."""
    priors = apply_current(session, Priors(questions={question.slug: stored_spec(question)},
                                           reliability=store_priors(session, hand_set=True).reliability),
                           raw_files([question]))
    return asdict(priors.questions[question.slug]), priors.prior_set


def definition_view(question: Question) -> dict[str, Any]:
    """The full stored definition, as given in its question file (rationales included), and its versions."""
    if question.definition is None:
        return {"spec": asdict(stored_spec(question)), "file": None}
    return json.loads(question.definition)


def reopened_resolutions(session: Session, question: Question) -> list[dict[str, Any]]:
    """Each resolution of a question that was undone (`forecast reopen`), oldest first: what it was, why it was
    reopened, by whom and when."""
    rows = session.exec(select(ResolutionChange).where(ResolutionChange.question_id == question.id)
                        .order_by(col(ResolutionChange.id)))
    return [{"was": r.status if r.status == "annulled" else f"resolved {r.resolution}",
             "source": r.resolution_source, "resolved_by": r.resolved_by,
             "resolved_at": r.resolved_at.isoformat(timespec="seconds") if r.resolved_at else None,
             "reason": r.reason, "reopened_by": r.author, "reopened_at": r.created_at.isoformat(timespec="seconds")}
            for r in rows]


def versions(session: Session, question: Question) -> list[dict[str, Any]]:
    """Each version of a question: number, time, note, title."""
    rows = session.exec(select(QuestionVersion).where(QuestionVersion.question_id == question.id)
                        .order_by(QuestionVersion.version))
    return [{"version": r.version, "created_at": r.created_at.isoformat(timespec="seconds"), "note": r.note,
             "title": json.loads(r.definition)["spec"]["title"], "author": r.author} for r in rows]
