"""Export and import the whole store as one long table (CSV or JSON, through pandas).

Each row has a ``record`` column (question, expert, statement, observation; with runs, run and
result: see :mod:`forecast.run_transfer`); every value
is a string, and a missing value is empty (CSV) or null (JSON). Export then import into an
empty store reproduces the store exactly; an import is validated in full before anything is
written and runs in the caller's single transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
from sqlmodel import Session, select

from .errors import DuplicateError, ForecastError, InputError
from .evidence import add_expert, log_observation, log_statement
from .questions import add_question
from .run_transfer import RESULT_FIELDS, RUN_FIELDS, import_result, import_run, run_records
from .months import parse_date
from .store.tables import Expert, Observation, Question, Statement

RECORDS = ("question", "expert", "statement", "observation", "run", "result")
FIELDS = {
    "question": ["slug", "title", "criteria", "kind", "horizon_start", "horizon_end", "status", "resolution",
                 "resolution_source", "resolved_at", "created_at", "event", "tags", "definition", "version"],
    "expert": ["name", "aliases", "role", "affiliation", "kind", "notes", "created_at"],
    "statement": ["uid", "question", "expert", "said_on", "date_precision", "quote", "source", "claim_text",
                  "claim_start", "claim_end", "probability", "strength", "rationale", "logged_at",
                  "retracted_at", "retraction_reason", "superseded_by", "quote_kind", "url"],
    "observation": ["uid", "question", "observed_on", "date_precision", "kind", "source", "note", "logged_at",
                    "retracted_at", "retraction_reason", "superseded_by", "url", "effective_on"],
    "run": RUN_FIELDS,
    "result": RESULT_FIELDS,
}


def columns(records: tuple[str, ...]) -> list[str]:
    """The export's columns: ``record``, then every field of the included record types."""
    return ["record"] + list(dict.fromkeys(f for r in records for f in FIELDS[r]))


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
    rows: list[dict] = []
    for q in session.exec(select(Question).order_by(Question.id)):
        rows.append({"record": "question", **{f: getattr(q, f) for f in FIELDS["question"]}})
    for e in session.exec(select(Expert).order_by(Expert.id)):
        rows.append({"record": "expert", **{f: getattr(e, f) for f in FIELDS["expert"]}})
    for table, record in ((Statement, "statement"), (Observation, "observation")):
        uids = {r.id: r.uid for r in session.exec(select(table))}
        for r in session.exec(select(table).order_by(table.id)):
            links = {"question": slugs[r.question_id], "superseded_by": uids.get(r.superseded_by_id)}
            if record == "statement":
                links["expert"] = names[r.expert_id]
            rows.append({"record": record, **{f: links[f] if f in links else getattr(r, f) for f in FIELDS[record]}})
    return [{k: _text(v) for k, v in row.items()} for row in rows]


def export_store(session: Session, path: Path, fmt: str | None = None, runs: bool = False) -> int:
    """Write every row of the store to ``path`` (with ``runs``, stored runs and results too); return the row count."""
    fmt = _format(path, fmt)
    records = RECORDS if runs else RECORDS[:4]
    rows = _records(session) + ([{k: _text(v) for k, v in r.items()} for r in run_records(session)] if runs else [])
    frame = pd.DataFrame(rows, columns=columns(records))
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        path.write_text(frame.to_json(orient="records", indent=1, force_ascii=False) + "\n", encoding="utf-8")
    return len(frame)


def _format(path: Path, fmt: str | None) -> str:
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in ("csv", "json"):
        raise InputError(f"cannot tell the format of {str(path)!r}: use a .csv or .json name or --format")
    return fmt


def _read_frame(path: Path, fmt: str) -> pd.DataFrame:
    try:
        if fmt == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
            frame = frame.replace({"": None})
        else:
            text = path.read_text(encoding="utf-8")
            frame = pd.read_json(io.StringIO(text), orient="records", dtype=False)
    except FileNotFoundError:
        raise InputError(f"no such file {str(path)!r}") from None
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"broken {fmt.upper()} in {str(path)!r}: {str(exc).splitlines()[0]}") from None
    missing = [c for c in ("record",) if c not in frame.columns]
    if missing:
        raise InputError(f"broken {fmt.upper()} in {str(path)!r}: no 'record' column")
    return frame.astype(object).where(frame.notna(), None)


def _required(row: dict, record: str, line: int) -> None:
    unknown = row["record"] not in RECORDS
    if unknown:
        raise InputError(f"row {line}: unknown record type {row['record']!r} (expected {', '.join(RECORDS)})")
    missing = [f for f in FIELDS[record] if f not in row]
    if missing:
        raise InputError(f"row {line}: {record} lacks column {missing[0]!r}")


def _stamp(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _import_question(session: Session, row: dict) -> None:
    """A question row is validated like `question add` (its stored definition is the question file's tables)."""
    if not row.get("definition"):
        raise InputError(f"question {row['slug']!r} has no definition (exports from before 0.2 need `question add`)")
    try:
        raw = json.loads(row["definition"])["file"]
    except (ValueError, KeyError, TypeError):
        raise InputError(f"question {row['slug']!r}: malformed definition") from None
    existing = session.exec(select(Question).where(Question.slug == row["slug"])).first()
    question, _ = add_question(session, raw, f"question {row['slug']!r}")
    if question.slug != row["slug"]:
        raise InputError(f"question {row['slug']!r}: its definition is for {question.slug!r}")
    if existing is None:
        for name in ("status", "resolution", "resolution_source"):
            setattr(question, name, row[name])
        question.resolved_at, question.created_at = _stamp(row["resolved_at"]), _stamp(row["created_at"])
        question.version = int(row["version"] or 1)
        session.add(question)
        session.flush()


def _import_expert(session: Session, row: dict) -> None:
    if session.exec(select(Expert).where(Expert.name == row["name"])).first() is not None:
        return
    expert = add_expert(session, row["name"], row["kind"], row["role"] or "", row["affiliation"] or "",
                        json.loads(row["aliases"] or "[]"), row["notes"] or "")
    expert.created_at = _stamp(row["created_at"]) or expert.created_at


def _import_evidence(session: Session, row: dict, record: str) -> Statement | Observation:
    common = dict(question=row["question"], source=row["source"] or "", date_precision=row["date_precision"],
                  logged_at=_stamp(row["logged_at"]))
    if record == "statement":
        created = log_statement(
            session, expert=row["expert"], said_on=parse_date(row["said_on"]), claim=row["claim_text"] or "",
            quote=row["quote"] or "", strength=row["strength"], rationale=row["rationale"] or "",
            probability=float(row["probability"]) if row["probability"] else None,
            quote_kind=row["quote_kind"] or "verbatim", url=row["url"] or "", **common)
        if (created.claim_start, created.claim_end) != (row["claim_start"], row["claim_end"]):
            raise InputError(f"claim {row['claim_text']!r} does not encode to {row['claim_start']} .. {row['claim_end']}")
    else:
        created = log_observation(session, kind=row["kind"], observed_on=parse_date(row["observed_on"]),
                                  note=row["note"] or "", url=row["url"] or "",
                                  effective_on=parse_date(row["effective_on"]) if row["effective_on"] else None, **common)
    if created.uid != row["uid"]:
        raise InputError(f"uid {row['uid']!r} does not match the row's content")
    created.retracted_at = _stamp(row["retracted_at"])
    created.retraction_reason = row["retraction_reason"]
    return created


def _link_supersessions(session: Session, pending: list[tuple[Statement | Observation, str]]) -> None:
    for row, target_uid in pending:
        table = type(row)
        target = session.exec(select(table).where(table.uid == target_uid)).first()
        if target is None:
            raise InputError(f"{row.uid} is superseded by unknown uid {target_uid!r}")
        row.superseded_by_id = target.id
        session.add(row)


def import_store(session: Session, path: Path, fmt: str | None = None) -> dict[str, int]:
    """Read an export into the store; return counts by record type. Raises on the first bad row."""
    frame = _read_frame(path, _format(path, fmt))
    added = dict.fromkeys(RECORDS, 0)
    pending: list[tuple[Statement | Observation, str]] = []
    run_ids: dict[str, int] = {}
    for line, row in enumerate(frame.to_dict(orient="records"), start=2):
        record = row["record"]
        try:
            _required(row, record, line)
            if record == "question":
                _import_question(session, row)
            elif record == "expert":
                _import_expert(session, row)
            elif record == "run":
                import_run(session, row, run_ids)
            elif record == "result":
                import_result(session, row, run_ids)
            else:
                created = _import_evidence(session, row, record)
                if row["superseded_by"]:
                    pending.append((created, row["superseded_by"]))
        except DuplicateError as exc:
            raise DuplicateError(f"row {line}: duplicate import: {exc}") from None
        except ForecastError as exc:
            raise type(exc)(exc.args[0] if str(exc).startswith("row ") else f"row {line}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise InputError(f"row {line}: {exc}") from None
        added[record] += 1
    _link_supersessions(session, pending)
    session.flush()
    return added
