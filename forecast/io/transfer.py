"""Export and import the whole store as one long table (CSV or JSON, through pandas).

Each row has a ``record`` column (question, expert, statement, observation, expert_change: see
:mod:`.changes`; with runs, run and result: see :mod:`forecast.runs.transfer`); every value
is a string, and a missing value is empty (CSV) or null (JSON). Export then import into an
empty store reproduces the store exactly; an import is validated in full before anything is
written and runs in the caller's single transaction.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return, OWASP's list) are written with a leading ``'``, which import removes again.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
from sqlmodel import Session, func, select

from ..basics import validate
from ..basics.months import parse_date, parse_month, utc_now
from ..basics.numbers import parse_int
from ..basics.authors import UNKNOWN
from ..domain.evidence import add_expert, content_uid, log_observation, log_statement, ref_of
from ..domain.questions import add_question, check_precluders
from ..errors import DuplicateError, ForecastError, InputError
from .cells import author_cell, blank as _blank, stamp as _stamp
from .export_files import file_format, read_frame, write_export
from .changes import CHANGE_FIELDS, change_records, import_change, stored_changes
from .prior_set_rows import PRIOR_SET_FIELDS, import_prior_set, prior_set_records
from .resolutions import RESOLUTION_FIELDS, import_resolution_change, resolution_records
from ..runs.transfer import RESULT_FIELDS, RUN_FIELDS, import_result, import_run, run_records
from ..store.vocab import OBSERVATION_ALIASES
from ..store.tables import (NOT_WITHIN_HORIZON, QUESTION_STATUSES, Expert, Observation, Question, QuestionVersion,
                            Statement)

RECORDS = ("prior_set", "question", "expert", "statement", "observation", "expert_change", "resolution_change", "run",
           "result")
STORE_RECORDS = RECORDS[:7]  # an export without runs
FIELDS = {
    "prior_set": PRIOR_SET_FIELDS,
    "question": ["slug", "title", "criteria", "kind", "horizon_start", "horizon_end", "status", "resolution",
                 "resolution_source", "resolved_at", "created_at", "event", "tags", "definition", "version",
                 "resolved_by", "author"],
    "expert": ["name", "aliases", "role", "affiliation", "kind", "notes", "created_at", "author"],
    "statement": ["uid", "question", "expert", "said_on", "date_precision", "quote", "source", "claim_text",
                  "claim_start", "claim_end", "probability", "strength", "rationale", "logged_at",
                  "retracted_at", "retraction_reason", "superseded_by", "quote_kind", "url", "author", "retracted_by"],
    "observation": ["uid", "question", "observed_on", "date_precision", "kind", "source", "note", "logged_at",
                    "retracted_at", "retraction_reason", "superseded_by", "url", "effective_on", "author",
                    "retracted_by"],
    "expert_change": CHANGE_FIELDS,
    "resolution_change": RESOLUTION_FIELDS,
    "run": RUN_FIELDS,
    "result": RESULT_FIELDS,
}

# Columns that exports of release 2026-11-24 do not have; blank means the default (as the store's migrations give:
# an author "unknown", also for who retracted a retracted row and who resolved a resolved question)
LATER_COLUMNS = {"question": ("event", "tags", "definition", "version", "resolved_by", "author"),
                 "expert": ("author",), "expert_change": ("author",), "statement": ("quote_kind", "url", "author", "retracted_by"),
                 "observation": ("url", "effective_on", "author", "retracted_by")}


def columns(records: tuple[str, ...]) -> list[str]:
    """The export's columns: ``record``, then every field of the included record types."""
    return ["record"] + list(dict.fromkeys(f for r in records for f in FIELDS[r]))


COLUMNS = columns(STORE_RECORDS)  # the columns of an export without runs


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _records(session: Session) -> list[dict]:
    slugs = {q.id: q.slug for q in session.exec(select(Question))}
    names = {e.id: e.name for e in session.exec(select(Expert))}
    authors = {v.question_id: v.author for v in session.exec(select(QuestionVersion).order_by(QuestionVersion.version))}
    rows: list[dict] = prior_set_records(session)
    for q in session.exec(select(Question).order_by(Question.id)):
        rows.append({"record": "question", **{f: authors.get(q.id, UNKNOWN) if f == "author" else getattr(q, f)
                                              for f in FIELDS["question"]}})
    for e in session.exec(select(Expert).order_by(Expert.id)):
        rows.append({"record": "expert", **{f: getattr(e, f) for f in FIELDS["expert"]}})
    for table, record in ((Statement, "statement"), (Observation, "observation")):
        uids = {r.id: r.uid for r in session.exec(select(table))}
        for r in session.exec(select(table).order_by(table.id)):
            links = {"question": slugs[r.question_id], "superseded_by": uids.get(r.superseded_by_id)}
            if record == "statement":
                links["expert"] = names[r.expert_id]
            rows.append({"record": record, **{f: links[f] if f in links else getattr(r, f) for f in FIELDS[record]}})
    rows += change_records(session, names)
    rows += resolution_records(session)
    return [{k: _text(v) for k, v in row.items()} for row in rows]


def export_frame(session: Session, runs: bool = False) -> pd.DataFrame:
    """Every row of the store as one long table (with ``runs``, stored runs and results too), read in the
    caller's snapshot."""
    records = RECORDS if runs else STORE_RECORDS
    rows = _records(session) + ([{k: _text(v) for k, v in r.items()} for r in run_records(session)] if runs else [])
    return pd.DataFrame(rows, columns=columns(records))


def export_store(session: Session, path: Path, fmt: str | None = None, runs: bool = False) -> int:
    """Write every row of the store to ``path`` (with ``runs``, stored runs and results too); return the row count."""
    file_format(path, fmt)
    return write_export(export_frame(session, runs), path, fmt)


def _required(row: dict, record: str, line: int) -> None:
    unknown = row["record"] not in RECORDS
    if unknown:
        raise InputError(f"row {line}: unknown record type {row['record']!r} (expected {', '.join(RECORDS)})")
    for name in LATER_COLUMNS.get(record, ()):
        row.setdefault(name, "")
    missing = [f for f in FIELDS[record] if f not in row]
    if missing:
        raise InputError(f"row {line}: {record} lacks column {missing[0]!r}")


def _horizon(row: dict) -> tuple[int, int]:
    start = parse_month(validate.text(row["horizon_start"], "horizon_start"))
    end = parse_month(validate.text(row["horizon_end"], "horizon_end"))
    if end < start:
        raise InputError(f"horizon ends ({row['horizon_end']}) before it starts ({row['horizon_start']})")
    return start, end


def _check_resolution(row: dict, start: int, end: int) -> None:
    status, resolution = row["status"], row["resolution"]
    if status not in QUESTION_STATUSES:
        raise InputError(f"unknown question status {status!r} (expected one of: {', '.join(QUESTION_STATUSES)})")
    if (resolution is None) != (status != "resolved"):
        raise InputError(f"status {status!r} {'needs' if resolution is None else 'cannot have'} a resolution")
    if resolution in (None, NOT_WITHIN_HORIZON):
        return
    if not start <= parse_month(validate.text(resolution, "resolution")) <= end:
        raise InputError(f"resolution {resolution} is outside the horizon {row['horizon_start']} to {row['horizon_end']}")


def _definition_of_early_export(row: dict) -> dict:
    """A question row from a release before definitions were stored: its own fields, and the default recipe's
    priors (as a casebook question gets), since the export does not carry the priors it was forecast with."""
    fields = {key: row[key] for key in ("slug", "title", "horizon_start", "horizon_end", "criteria") if row.get(key)}
    fields["kind"] = row.get("kind") or "date"
    if row.get("event"):
        fields["event"] = row["event"]
    if row.get("tags"):
        fields["tags"] = json.loads(row["tags"]) if isinstance(row["tags"], str) else row["tags"]
    return {"question": fields}


def _import_question(session: Session, row: dict) -> None:
    """A question row is validated like `question add` (its definition holds the question file's tables)."""
    slug = validate.slug(row["slug"])
    validate.text(row["title"], "title"), validate.text(row["criteria"], "criteria")
    _horizon(row)
    if not row.get("definition"):
        raw = _definition_of_early_export(row)
    else:
        try:
            raw = json.loads(validate.text(row["definition"], "definition"))["file"]
        except (ValueError, KeyError, TypeError):
            raise InputError(f"question {slug!r}: malformed definition") from None
    existing = session.exec(select(Question).where(Question.slug == slug)).first()
    question, _ = add_question(session, raw, f"question {slug!r}", precluder_later=True, author=author_cell(row["author"]))
    mirrored = ("slug", "title", "horizon_start", "horizon_end")
    if any(getattr(question, f) != row[f] for f in mirrored):
        raise InputError(f"question {slug!r}: its definition does not match the row (slug, title or horizon)")
    _check_resolution(row, parse_month(question.horizon_start), parse_month(question.horizon_end))
    if existing is None:
        for name in ("status", "resolution"):
            setattr(question, name, row[name])
        question.resolution_source = validate.optional_text(row["resolution_source"], "resolution source") or None
        question.resolved_at = _stamp(row["resolved_at"], "resolved_at")
        question.resolved_by = None if row["status"] == "open" else author_cell(row["resolved_by"])
        question.created_at = _stamp(row["created_at"], "created_at")
        question.version = parse_int(1 if row["version"] in (None, "") else row["version"], "question version",
                                     low=1, high=validate.VERSION_MAX)
        session.add(question)
        session.flush()


def _aliases(value: object) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InputError(f"aliases {value!r} are not a JSON list of names (e.g. [\"Zak\"])") from None
    return validate.names([] if value is None else value)


def _import_expert(session: Session, row: dict) -> None:
    name = validate.text(row["name"], "name")
    aliases = _aliases(row["aliases"])
    created_at = _stamp(row["created_at"], "created_at")
    if session.exec(select(Expert).where(Expert.name == name)).first() is not None:
        return
    expert = add_expert(session, name, row["kind"], _blank(row["role"]), _blank(row["affiliation"]), aliases,
                        _blank(row["notes"]), author=author_cell(row["author"]))
    expert.created_at = created_at or expert.created_at


def _evidence_times(row: dict) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(logged_at, retracted_at), each in the past, the retraction not before the logging."""
    logged_at, retracted_at = _stamp(row["logged_at"], "logged_at"), _stamp(row["retracted_at"], "retracted_at")
    if retracted_at is not None and validate.as_utc(retracted_at) < validate.as_utc(logged_at or utc_now()):
        raise InputError(f"retracted_at {row['retracted_at']} is before logged_at {row['logged_at']}")
    if row["superseded_by"] and retracted_at is None:
        raise InputError("a superseded row needs a retracted_at")
    return logged_at, retracted_at


def _check_not_backdated(row: Statement | Observation, floor: dt.datetime | None) -> None:
    if floor is not None and validate.as_utc(row.logged_at) < floor:
        raise InputError(f"logged_at {row.logged_at.isoformat()} is earlier than the store's latest evidence "
                         f"({floor:%Y-%m-%d %H:%M:%S}); backdated rows would change what --known-at reproduces "
                         "(import into an empty store instead)")


def _uid_of_renamed_kind(created: Statement | Observation, row: dict) -> bool:
    """Whether an observation of an earlier release carries the uid of its kind's old name (`still-participating`,
    ...): the uid was computed before the kinds were renamed, as migration 0004 recomputes it in a store."""
    if not isinstance(created, Observation) or row.get("kind") not in OBSERVATION_ALIASES:
        return False
    return row["uid"] == content_uid(row["question"], row["kind"], created.observed_on.isoformat(),
                                     created.source.strip(), created.note.strip())


def _import_evidence(session: Session, row: dict, record: str, floor: dt.datetime | None) -> Statement | Observation:
    logged_at, retracted_at = _evidence_times(row)
    common = dict(question=row["question"], source=_blank(row["source"]), date_precision=row["date_precision"],
                  logged_at=logged_at, author=author_cell(row["author"]))
    if record == "statement":
        created = log_statement(
            session, expert=row["expert"], said_on=parse_date(row["said_on"]), claim=_blank(row["claim_text"]),
            quote=_blank(row["quote"]), strength=row["strength"], rationale=_blank(row["rationale"]),
            probability=row["probability"], quote_kind=row["quote_kind"] or "verbatim", url=_blank(row["url"]),
            restatement=True, imported_uid=row["uid"], **common)
        if (created.claim_start, created.claim_end) != (row["claim_start"], row["claim_end"]):
            raise InputError(f"claim {row['claim_text']!r} does not encode to {row['claim_start']} .. {row['claim_end']}")
    else:
        created = log_observation(session, kind=row["kind"], observed_on=parse_date(row["observed_on"]),
                                  note=_blank(row["note"]), url=_blank(row["url"]),
                                  effective_on=parse_date(row["effective_on"]) if row["effective_on"] else None,
                                  imported_uid=row["uid"], **common)
    if created.uid != row["uid"] and not _uid_of_renamed_kind(created, row):
        raise InputError(f"uid {row['uid']!r} does not match the row's content")
    _check_not_backdated(created, floor)
    created.retracted_at = retracted_at
    created.retraction_reason = validate.optional_text(row["retraction_reason"], "reason") or None
    created.retracted_by = None if retracted_at is None else author_cell(row["retracted_by"])
    return created


_SUPERSEDED_RE = re.compile(r"superseded by [SO]\d+")  # the reason a correction gives the row it replaces


def _link_supersessions(session: Session, pending: list[tuple[int, Statement | Observation, str]]) -> None:
    """Point each superseded row at its successor; refuse self-supersession, unknown targets and cycles."""
    for line, row, target_uid in pending:
        table = type(row)
        target = session.exec(select(table).where(table.uid == target_uid)).first()
        if target is None:
            raise InputError(f"row {line}: superseded by unknown uid {target_uid!r}")
        if target.id == row.id:
            raise InputError(f"row {line}: superseded by itself ({row.uid})")
        row.superseded_by_id = target.id
        if row.retraction_reason and _SUPERSEDED_RE.fullmatch(row.retraction_reason):
            row.retraction_reason = f"superseded by {ref_of(target)}"  # the ref as this store numbers it
        session.add(row)
    session.flush()
    for line, row, _ in pending:
        seen, step = {row.id}, row
        while step.superseded_by_id is not None:
            step = session.get(type(row), step.superseded_by_id)
            if step.id in seen:
                raise InputError(f"row {line}: supersession cycle through {row.uid}")
            seen.add(step.id)


def _latest_logged_at(session: Session) -> dt.datetime | None:
    stamps = [session.exec(select(func.max(t.logged_at))).one() for t in (Statement, Observation)]
    return max((validate.as_utc(s) for s in stamps if s is not None), default=None)


def import_store(session: Session, path: Path, fmt: str | None = None) -> dict[str, int]:
    """Read an export into the store; return counts by record type. Raises on the first bad row.

    Every row is checked like the command that would have written it (a question like `question add`).
    Evidence may not be logged before the store's latest evidence, unless the store has none.
    """
    frame = read_frame(path, file_format(path, fmt))
    floor = _latest_logged_at(session)
    added = dict.fromkeys(RECORDS, 0)
    pending: list[tuple[int, Statement | Observation, str]] = []
    changes: list[tuple[int, dict]] = []
    run_ids: dict[str, int] = {}
    for line, row in enumerate(frame.to_dict(orient="records"), start=2):
        record = row["record"]
        try:
            _required(row, record, line)
            if record == "expert_change":  # after the evidence, which names its experts as they were added
                changes.append((line, row))
                continue
            if record == "prior_set":
                if not import_prior_set(session, row):
                    continue
            elif record == "question":
                _import_question(session, row)
            elif record == "resolution_change":
                if not import_resolution_change(session, row):
                    continue
            elif record == "expert":
                _import_expert(session, row)
            elif record == "run":
                import_run(session, row, run_ids)
            elif record == "result":
                import_result(session, row, run_ids)
            else:
                created = _import_evidence(session, row, record, floor)
                if row["superseded_by"]:
                    pending.append((line, created, validate.text(row["superseded_by"], "superseded_by")))
        except DuplicateError as exc:
            raise DuplicateError(f"row {line}: duplicate import: {exc}") from None
        except ForecastError as exc:
            raise type(exc)(exc.args[0] if str(exc).startswith("row ") else f"row {line}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise InputError(f"row {line}: {exc}") from None
        added[record] += 1
    _link_supersessions(session, pending)
    known = stored_changes(session)
    for line, row in changes:
        try:
            added["expert_change"] += import_change(session, row, known)
        except ForecastError as exc:
            raise type(exc)(f"row {line}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise InputError(f"row {line}: {exc}") from None
    check_precluders(session, [row["slug"] for row in frame.to_dict(orient="records") if row["record"] == "question"])
    session.flush()
    return added
