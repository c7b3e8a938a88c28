"""Tamper evidence: a digest of every expert, evidence, question-version and run row, and a hash chain per table;
and a digest of the current state of every question and store setting (the prior sets).

Every write session records the digest of each row it adds in ``integrity_row`` and extends that
table's hash chain, whose head (with the order-free sum of the retraction digests) is kept in
``integrity_chain``; setting a retraction updates the row's retraction digest and the sum. Questions and
settings change legitimately (a new version, a resolution), so ``integrity_state`` keeps one digest per
row, rewritten when forecast changes the row, after checking that the row was as recorded before.
:func:`check` recomputes all of it from the tables and names every row changed, added or deleted
outside forecast. The column lists are fixed here as of migrations 0005 and 0007: a later migration that
changes these tables must extend them and call :func:`seal` / :func:`seal_state` itself. Migration 0009 added the
columns of ``LATER`` (authorship) without re-sealing: a later column joins a row's digest only when it holds a
known value (not None nor ``unknown``, what the migration gives existing rows), so rows sealed before it keep
their digests, and any change of such a value still changes the digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..errors import TamperError

RETRACTION = ("retracted_at", "retraction_reason", "superseded_by_id")
CHAINED: dict[str, tuple[str, ...]] = {
    "expert": ("name", "aliases", "role", "affiliation", "kind", "notes", "created_at"),
    "expert_change": ("expert_id", "kind", "name", "into_id", "note", "created_at"),  # from migration 0008
    "resolution_change": ("question_id", "kind", "status", "resolution", "resolution_source", "resolved_at",
                          "resolved_by", "reason", "created_at", "author"),  # from migration 0011
    "statement": ("uid", "question_id", "expert_id", "said_on", "date_precision", "quote", "source", "claim_text",
                  "claim_start", "claim_end", "probability", "strength", "rationale", "logged_at", "quote_kind", "url"),
    "observation": ("uid", "question_id", "observed_on", "date_precision", "kind", "source", "note", "logged_at",
                    "effective_on", "url"),
    "question_version": ("question_id", "version", "definition", "note", "created_at"),
    "forecast_run": ("created_at", "kind", "as_of", "known_at", "questions", "seed", "sampler", "settings",
                     "code_version", "model_version", "config_hash", "evidence_fingerprint", "evidence", "diagnostics",
                     "converged", "elapsed_seconds", "reliabilities", "posterior"),
    "forecast_result": ("run_id", "question_id", "monthly", "prior_monthly", "cdf_bands", "headline"),
}
# Tables whose rows forecast changes: (key column, digested columns).
STATE: dict[str, tuple[str, tuple[str, ...]]] = {
    "question": ("id", ("slug", "title", "criteria", "kind", "horizon_start", "horizon_end", "status", "resolution",
                        "resolution_source", "resolved_at", "created_at", "event", "tags", "definition", "version")),
    "store_setting": ("key", ("value",)),
}
# Columns added after the tables were first sealed (migrations 0009, 0010), digested only when known (see above).
LATER: dict[str, tuple[str, ...]] = {"expert": ("author",), "expert_change": ("author",),
                                     "statement": ("author", "retracted_by"),
                                     "observation": ("author", "retracted_by"), "question_version": ("author",),
                                     "question": ("resolved_by",)}
LATER_RETRACTION = ("retracted_by",)
UNKNOWN = "unknown"
EVIDENCE = ("statement", "observation")
RETRACTIONS = "retractions"
_MODULUS = 2**256
_TOUCHED = "forecast_integrity_touched"
_TOUCHED_STATE = "forecast_integrity_touched_state"
_PREFIX = {"expert": "expert #", "expert_change": "expert change #", "resolution_change": "resolution change #", "statement": "S", "observation": "O", "question_version": "question version #",
           "forecast_run": "run ", "forecast_result": "run result #"}

_META = sa.MetaData()
ROWS = sa.Table(
    "integrity_row", _META,
    sa.Column("tbl", sa.String, primary_key=True),
    sa.Column("row_id", sa.Integer, primary_key=True),
    sa.Column("content", sa.String, nullable=False),
    sa.Column("retraction", sa.String, nullable=True),
)
STATES = sa.Table(
    "integrity_state", _META,
    sa.Column("tbl", sa.String, primary_key=True),
    sa.Column("row_key", sa.String, primary_key=True),
    sa.Column("digest", sa.String, nullable=False),
)
CHAINS = sa.Table(
    "integrity_chain", _META,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("length", sa.Integer, nullable=False),
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("head", sa.String, nullable=False),
)


def ref(table: str, row_id: int) -> str:
    """How a row is named to the user: ``S12``, ``O3``, ``expert #4``, ``run 7``."""
    return f"{_PREFIX[table]}{row_id}"


def _canonical(value: object) -> object:
    if isinstance(value, bytes | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:  # JSON text: PostgreSQL's jsonb gives it back with its own key order and spacing
            return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False)
        except ValueError:
            return value
    return value if value is None or isinstance(value, int) else str(value)


def _digest(parts: list) -> str:
    return hashlib.sha256(json.dumps([_canonical(p) for p in parts], ensure_ascii=False).encode()).hexdigest()


def _known(row, columns: tuple[str, ...]) -> list[dict]:
    """The later columns of ``row`` that hold a known value, each as {column: value}."""
    return [{c: row._mapping[c]} for c in columns
            if c in row._mapping and row._mapping[c] is not None and row._mapping[c] != UNKNOWN]


def _content(table: str, row) -> str:
    later = tuple(c for c in LATER.get(table, ()) if c not in LATER_RETRACTION)
    return _digest([table, row.id, *(row._mapping[c] for c in CHAINED[table]), *_known(row, later)])


def _retraction(table: str, row) -> str | None:
    values = [row._mapping[c] for c in RETRACTION]
    return None if all(v is None for v in values) else _digest([table, row.id, *values,
                                                                *_known(row, LATER_RETRACTION)])


def _link(head: str, digest: str) -> str:
    return hashlib.sha256(f"{head}{digest}".encode()).hexdigest()


def _genesis(name: str) -> str:
    return hashlib.sha256(f"forecast integrity chain: {name}".encode()).hexdigest()


def _plus(total: str, digest: str | None, sign: int = 1) -> str:
    value = int(total, 16) + sign * int(digest or "0", 16)
    return f"{value % _MODULUS:064x}"


def _source(table: str, later: bool = True) -> sa.TableClause:
    extra = (*(RETRACTION if table in EVIDENCE else ()), *(LATER.get(table, ()) if later else ()))
    return sa.table(table, sa.column("id"), *(sa.column(c) for c in dict.fromkeys((*CHAINED[table], *extra))))


def _rows(conn: Connection, table: str, after: int = 0, later: bool = True) -> Iterator:
    source = _source(table, later)
    yield from conn.execute(sa.select(source).where(source.c.id > after).order_by(source.c.id))


def seal(conn: Connection, later: bool = True) -> None:
    """Record the digests and chain heads of every row as it is now (the store is trusted as it stands);
    ``later=False`` for a store without the ``LATER`` columns yet (migration 0005)."""
    present = [table for table in CHAINED if sa.inspect(conn).has_table(table)]  # a migration adds a later one
    conn.execute(ROWS.delete())
    conn.execute(CHAINS.delete())
    conn.execute(CHAINS.insert(), [{"name": name, "length": 0, "last_id": 0, "head": _genesis(name)}
                                   for name in (*present, RETRACTIONS)])
    _extend(conn, set(), present, later)


def start_chain(conn: Connection, table: str) -> None:
    """Begin the (empty) hash chain of a table a later migration creates."""
    if conn.execute(sa.select(CHAINS.c.name).where(CHAINS.c.name == table)).first() is None:
        conn.execute(CHAINS.insert().values(name=table, length=0, last_id=0, head=_genesis(table)))


def track(session: Session) -> None:
    """Note the rows a session changes: existing evidence (to re-digest its retraction), and questions and
    settings (each checked against its recorded state before it is changed, and re-digested after)."""
    @event.listens_for(session, "before_flush")
    def _note(flushing: Session, _context, _instances) -> None:
        touched = flushing.info.setdefault(_TOUCHED, set())
        state = flushing.info.setdefault(_TOUCHED_STATE, set())
        for obj in (*flushing.dirty, *flushing.deleted):
            table = getattr(obj, "__tablename__", None)
            if table in EVIDENCE and obj.id is not None:
                touched.add((table, obj.id))
            elif table in STATE and (key := _key_of(obj, table)) is not None and (table, key) not in state:
                _require_recorded(flushing.connection(), table, key)
                state.add((table, key))

    @event.listens_for(session, "after_flush")
    def _note_new(flushing: Session, _context) -> None:
        state = flushing.info.setdefault(_TOUCHED_STATE, set())
        state.update((obj.__tablename__, _key_of(obj, obj.__tablename__)) for obj in flushing.new
                     if getattr(obj, "__tablename__", None) in STATE)


def _key_of(obj: object, table: str) -> str | None:
    value = getattr(obj, STATE[table][0], None)
    return None if value is None else str(value)


def _state_source(table: str, later: bool = True) -> sa.TableClause:
    key, columns = STATE[table]
    extra = LATER.get(table, ()) if later else ()
    return sa.table(table, *(sa.column(c) for c in dict.fromkeys((key, *columns, *extra))))


def _state_digest(table: str, row) -> str:
    key, columns = STATE[table]
    return _digest([table, str(row._mapping[key]), *(row._mapping[c] for c in columns),
                    *_known(row, LATER.get(table, ()))])


def _current_state(conn: Connection, table: str, key: str) -> str | None:
    source = _state_source(table)
    row = conn.execute(sa.select(source).where(sa.cast(source.c[STATE[table][0]], sa.String) == key)).first()
    return None if row is None else _state_digest(table, row)


def _require_recorded(conn: Connection, table: str, key: str) -> None:
    recorded = conn.execute(sa.select(STATES.c.digest).where((STATES.c.tbl == table) & (STATES.c.row_key == key)))
    if recorded.scalar_one_or_none() != _current_state(conn, table, key):
        raise TamperError(f"{table.replace('_', ' ')} {key} was changed outside forecast, so forecast will not change "
                          "it further; `forecast verify` lists what else was")


def seal_state(conn: Connection, later: bool = True) -> None:
    """Record the state digest of every question and setting as it is now (the store is trusted as it stands);
    ``later=False`` for a store without the ``LATER`` columns yet (migration 0007)."""
    conn.execute(STATES.delete())
    records = [{"tbl": table, "row_key": str(row._mapping[STATE[table][0]]), "digest": _state_digest(table, row)}
               for table in STATE for row in conn.execute(sa.select(_state_source(table, later)))]
    if records:
        conn.execute(STATES.insert(), records)


def extend(session: Session) -> None:
    """Add the session's new rows to the chains and its retractions to the sum, and record the new state of the
    questions and settings it changed, before it commits."""
    conn = session.connection()
    _extend(conn, session.info.pop(_TOUCHED, set()))
    for table, key in sorted(session.info.pop(_TOUCHED_STATE, set())):
        where = (STATES.c.tbl == table) & (STATES.c.row_key == key)
        conn.execute(STATES.delete().where(where))
        digest = _current_state(conn, table, key)
        if digest is not None:
            conn.execute(STATES.insert().values(tbl=table, row_key=key, digest=digest))


def _state(conn: Connection) -> dict[str, sa.Row]:
    return {row.name: row for row in conn.execute(sa.select(CHAINS))}


def _extend(conn: Connection, touched: set[tuple[str, int]], tables=tuple(CHAINED), later: bool = True) -> None:
    state = _state(conn)
    if set(state) != {*tables, RETRACTIONS}:
        raise TamperError("the store's integrity records were changed outside forecast; `forecast verify` lists "
                          "what else was")
    total = state[RETRACTIONS].head
    for table in tables:
        length, last_id, head = state[table].length, state[table].last_id, state[table].head
        records = []
        for row in _rows(conn, table, last_id, later):
            content, retraction = _content(table, row), _retraction(table, row) if table in EVIDENCE else None
            records.append({"tbl": table, "row_id": row.id, "content": content, "retraction": retraction})
            head, last_id, total = _link(head, content), row.id, _plus(total, retraction)
        if records:
            conn.execute(ROWS.insert(), records)
            conn.execute(CHAINS.update().where(CHAINS.c.name == table).values(
                length=length + len(records), last_id=last_id, head=head))
        for name, row_id in sorted(t for t in touched if t[0] == table and t[1] <= state[table].last_id):
            total = _redigest_retraction(conn, name, row_id, total)
    conn.execute(CHAINS.update().where(CHAINS.c.name == RETRACTIONS).values(head=total))


def _redigest_retraction(conn: Connection, table: str, row_id: int, total: str) -> str:
    source = _source(table)
    row = conn.execute(sa.select(source).where(source.c.id == row_id)).one()
    key = (ROWS.c.tbl == table) & (ROWS.c.row_id == row_id)
    old = conn.execute(sa.select(ROWS.c.retraction).where(key)).scalar_one()
    new = _retraction(table, row)
    if new != old:
        conn.execute(ROWS.update().where(key).values(retraction=new))
        total = _plus(_plus(total, old, -1), new)
    return total


def check(conn: Connection, unread: tuple[str, ...] = ()) -> list[str]:
    """Every difference between the tables and their integrity records, one line each (empty: intact).
    The rows of the tables in ``unread`` are not read back (their records and chains are still checked)."""
    state = _state(conn)
    missing = [name for name in (*CHAINED, RETRACTIONS) if name not in state]
    if missing:
        return [f"the integrity records of {', '.join(missing)} are missing (deleted outside forecast)"]
    recorded: dict[tuple[str, int], sa.Row] = {(r.tbl, r.row_id): r for r in conn.execute(sa.select(ROWS))}
    problems = []
    for table in CHAINED:
        problems += [] if table in unread else _check_table(conn, table, recorded)
        mine = sorted((k[1], r.content) for k, r in recorded.items() if k[0] == table)
        head = _genesis(table)
        for _, content in mine:
            head = _link(head, content)
        if (len(mine), head) != (state[table].length, state[table].head):
            problems.append(f"the integrity records of {table} were edited outside forecast (its hash chain is broken)")
    total = _genesis(RETRACTIONS)
    for record in recorded.values():
        total = _plus(total, record.retraction)
    if total != state[RETRACTIONS].head:
        problems.append("the integrity records of retractions were edited outside forecast (their sum does not match)")
    return problems + _check_states(conn)


def _check_states(conn: Connection) -> list[str]:
    recorded = {(r.tbl, r.row_key): r.digest for r in conn.execute(sa.select(STATES))}
    problems, seen = [], set()
    for table in STATE:
        for row in conn.execute(sa.select(_state_source(table))):
            key = (table, str(row._mapping[STATE[table][0]]))
            seen.add(key)
            shown = f"question {row.slug!r} (#{key[1]})" if table == "question" else f"setting {key[1]!r}"
            if key not in recorded:
                problems.append(f"{shown} was added outside forecast")
            elif recorded[key] != _state_digest(table, row):
                problems.append(f"{shown} was changed outside forecast")
    return problems + [f"{'question #' if t == 'question' else 'setting '}{k} was deleted outside forecast"
                       for t, k in sorted(set(recorded) - seen)]


def _check_table(conn: Connection, table: str, recorded: dict) -> list[str]:
    problems, seen = [], set()
    for row in _rows(conn, table):
        seen.add(row.id)
        record = recorded.get((table, row.id))
        if record is None:
            problems.append(f"{ref(table, row.id)} was added outside forecast")
        elif record.content != _content(table, row):
            problems.append(f"{ref(table, row.id)} was changed outside forecast")
        elif table in EVIDENCE and record.retraction != _retraction(table, row):
            problems.append(f"{ref(table, row.id)}: its retraction was changed outside forecast")
    gone = sorted(row_id for name, row_id in recorded if name == table and row_id not in seen)
    return problems + [f"{ref(table, row_id)} was deleted outside forecast" for row_id in gone]


def head(conn: Connection) -> str:
    """One value committing to every chain: keep a copy elsewhere to catch even a consistent rewrite."""
    return _digest(sorted((row.name, row.length, row.head) for row in _state(conn).values()))


def fingerprint(conn: Connection) -> str:
    """A value that changes with every write forecast makes (every chain's head, the retractions' sum and the
    recorded state of each question and setting): a cache key for anything read from the store."""
    states = sorted((r.tbl, r.row_key, r.digest) for r in conn.execute(sa.select(STATES)))
    return _digest([head(conn), states])
