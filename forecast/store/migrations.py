"""Named, ordered schema migrations, each applied in one transaction and recorded.

Migrations are history: each describes the schema as it changed then, with its own
table definitions, never importing the current models. Append new ones at the end.
A migration that rewrites expert, evidence, question-version or run rows must lift the SQLite
update triggers of 0005 for its own changes and call ``integrity.seal`` afterwards, or
`forecast verify` will report its changes as tampering.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import integrity  # its tables and column lists are fixed as of migration 0005


def _evidence_columns() -> list[sa.Column]:
    return [
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retraction_reason", sa.String, nullable=True),
    ]


def m0001_initial(conn: Connection) -> None:
    """Questions, experts, statements and observations."""
    meta = sa.MetaData()
    sa.Table(
        "question", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String, nullable=False, unique=True),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("criteria", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("horizon_start", sa.String, nullable=False),
        sa.Column("horizon_end", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("resolution", sa.String, nullable=True),
        sa.Column("resolution_source", sa.String, nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "expert", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("aliases", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("affiliation", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("notes", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "statement", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String, nullable=False, unique=True),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("question.id"), nullable=False),
        sa.Column("expert_id", sa.Integer, sa.ForeignKey("expert.id"), nullable=False),
        sa.Column("said_on", sa.Date, nullable=False),
        sa.Column("date_precision", sa.String, nullable=False),
        sa.Column("quote", sa.String, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("claim_text", sa.String, nullable=False),
        sa.Column("claim_start", sa.String, nullable=True),
        sa.Column("claim_end", sa.String, nullable=True),
        sa.Column("probability", sa.Float, nullable=True),
        sa.Column("strength", sa.String, nullable=False),
        sa.Column("rationale", sa.String, nullable=False),
        *_evidence_columns(),
        sa.Column("superseded_by_id", sa.Integer, sa.ForeignKey("statement.id"), nullable=True),
    )
    sa.Table(
        "observation", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String, nullable=False, unique=True),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("question.id"), nullable=False),
        sa.Column("observed_on", sa.Date, nullable=False),
        sa.Column("date_precision", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("note", sa.String, nullable=False),
        *_evidence_columns(),
        sa.Column("superseded_by_id", sa.Integer, sa.ForeignKey("observation.id"), nullable=True),
    )
    meta.create_all(conn)


def m0002_evidence_indexes_and_append_only(conn: Connection) -> None:
    """Indexes for as-of reads; on SQLite, triggers that refuse deleting evidence."""
    conn.execute(sa.text("CREATE INDEX ix_statement_question_said ON statement (question_id, said_on)"))
    conn.execute(sa.text("CREATE INDEX ix_statement_expert ON statement (expert_id)"))
    conn.execute(sa.text("CREATE INDEX ix_observation_question_observed ON observation (question_id, observed_on)"))
    if conn.dialect.name == "sqlite":
        for table in ("statement", "observation"):
            conn.execute(sa.text(
                f"CREATE TRIGGER {table}_append_only BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'evidence is append-only: retract or supersede instead'); END"
            ))


def m0003_forecast_runs(conn: Connection) -> None:
    """Stored forecast runs and their per-question results (append-only)."""
    meta = sa.MetaData()
    sa.Table("question", meta, sa.Column("id", sa.Integer, primary_key=True))  # existing, for the foreign key
    text = {name: sa.Column(name, sa.String, nullable=False) for name in (
        "kind", "questions", "sampler", "settings", "code_version", "model_version", "config_hash",
        "evidence_fingerprint", "evidence", "diagnostics", "reliabilities")}
    run = sa.Table(
        "forecast_run", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("known_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("converged", sa.Boolean, nullable=False),
        sa.Column("elapsed_seconds", sa.Float, nullable=False),
        sa.Column("posterior", sa.LargeBinary, nullable=False),
        *text.values(),
    )
    result = sa.Table(
        "forecast_result", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("forecast_run.id"), nullable=False, index=True),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("question.id"), nullable=False),
        *(sa.Column(name, sa.String, nullable=False) for name in ("monthly", "prior_monthly", "cdf_bands", "headline")),
    )
    meta.create_all(conn, tables=[run, result])
    if conn.dialect.name == "sqlite":
        for table in ("forecast_run", "forecast_result"):
            conn.execute(sa.text(
                f"CREATE TRIGGER {table}_append_only BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'forecast runs are append-only'); END"
            ))


_RENAMED_OBSERVATION_KINDS = {
    "still-participating": "event-not-yet",
    "withdrawn": "event",
    "formal-notice": "notice-given",
    "no-formal-notice": "no-notice-as-of",
}


def _uid(*parts: object) -> str:
    """The evidence uid of this version: sha256 of the JSON list of the parts as text, 16 hex digits."""
    text = json.dumps([str(part) for part in parts], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def m0004_questions_as_data(conn: Connection) -> None:
    """Questions carry their definition, tags and version; generic observation kinds; sources get URLs.

    Observation kinds are renamed to the generic vocabulary and their uids recomputed from the new names.
    """
    for table, column in (("question", "event VARCHAR NOT NULL DEFAULT 'The event happens'"),
                          ("question", "tags VARCHAR NOT NULL DEFAULT '[]'"),
                          ("question", "definition VARCHAR"),
                          ("question", "version INTEGER NOT NULL DEFAULT 1"),
                          ("statement", "quote_kind VARCHAR NOT NULL DEFAULT 'verbatim'"),
                          ("statement", "url VARCHAR NOT NULL DEFAULT ''"),
                          ("observation", "effective_on DATE"),
                          ("observation", "url VARCHAR NOT NULL DEFAULT ''")):
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column}"))
    meta = sa.MetaData()
    sa.Table("question", meta, sa.Column("id", sa.Integer, primary_key=True))
    version = sa.Table(
        "question_version", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("question.id"), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("definition", sa.String, nullable=False),
        sa.Column("note", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    setting = sa.Table(
        "store_setting", meta,
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.String, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    meta.create_all(conn, tables=[version, setting])
    rows = conn.execute(sa.text(
        "SELECT o.id, q.slug, o.kind, o.observed_on, o.source, o.note FROM observation o "
        "JOIN question q ON q.id = o.question_id")).all()
    for row_id, slug, kind, observed_on, source, note in rows:
        if kind in _RENAMED_OBSERVATION_KINDS:
            new = _RENAMED_OBSERVATION_KINDS[kind]
            day = observed_on if isinstance(observed_on, str) else observed_on.isoformat()
            conn.execute(sa.text("UPDATE observation SET kind = :kind, uid = :uid WHERE id = :id"),
                         {"kind": new, "uid": _uid(slug, new, day, source, note), "id": row_id})
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text(
            "CREATE TRIGGER question_version_append_only BEFORE DELETE ON question_version "
            "BEGIN SELECT RAISE(ABORT, 'question versions are append-only'); END"))


def _refuse_update(conn: Connection, table: str, frozen: tuple[str, ...], set_once: tuple[str, ...], why: str) -> None:
    changed = [f"NEW.{c} IS NOT OLD.{c}" for c in frozen] + [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS NOT OLD.{c})"
                                                              for c in set_once]
    conn.execute(sa.text(
        f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} WHEN {' OR '.join(changed)} "
        f"BEGIN SELECT RAISE(ABORT, '{why}'); END"
    ))


def m0005_tamper_evidence(conn: Connection) -> None:
    """Row digests and hash-chain heads (sealing the store as it stands); on SQLite, triggers that refuse
    updates of evidence fields other than a first retraction, of runs and of question versions."""
    integrity.ROWS.create(conn)
    integrity.CHAINS.create(conn)
    if conn.dialect.name == "sqlite":
        for table in integrity.EVIDENCE:
            _refuse_update(conn, table, ("id", *integrity.CHAINED[table]), integrity.RETRACTION,
                           "evidence is append-only: only a retraction may be added to a row")
        for table in ("forecast_run", "forecast_result"):
            _refuse_update(conn, table, ("id", *integrity.CHAINED[table]), (), "forecast runs are append-only")
        _refuse_update(conn, "question_version", ("id", *integrity.CHAINED["question_version"]), (),
                       "question versions are append-only")
    integrity.seal(conn, later=False)


_POSTGRES_JSON_COLUMNS = {
    "expert": ("aliases",),
    "forecast_run": ("questions", "settings", "evidence", "diagnostics", "reliabilities"),
    "forecast_result": ("monthly", "prior_monthly", "cdf_bands", "headline"),
}
_POSTGRES_APPEND_ONLY = {
    "statement": "evidence is append-only: retract or supersede instead",
    "observation": "evidence is append-only: retract or supersede instead",
    "forecast_run": "forecast runs are append-only",
    "forecast_result": "forecast runs are append-only",
    "question_version": "question versions are append-only",
}
_POSTGRES_REFUSE = """
CREATE FUNCTION forecast_refuse_removal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
END
$$
"""


def _jsonb_ready(conn: Connection, table: str, column: str) -> None:
    """Tag NaN and infinities, which jsonb cannot hold, as {"__float__": "NaN"} before the cast."""
    rows = conn.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} ~ '(NaN|Infinity)'"))
    for row_id, text in rows.all():
        tagged = json.dumps(json.loads(text, parse_constant=lambda name: {"__float__": name}))
        conn.execute(sa.text(f"UPDATE {table} SET {column} = :tagged WHERE id = :id"),
                     {"tagged": tagged, "id": row_id})


def m0006_postgres_jsonb_and_append_only(conn: Connection) -> None:
    """On PostgreSQL: JSON columns as jsonb, slugs and names sorted bytewise as on SQLite, and
    PL/pgSQL triggers refusing DELETE and TRUNCATE of evidence and runs. Nothing on SQLite."""
    if conn.dialect.name != "postgresql":
        return
    for table, columns in _POSTGRES_JSON_COLUMNS.items():
        for column in columns:
            _jsonb_ready(conn, table, column)
            conn.execute(sa.text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb"))
    conn.execute(sa.text('ALTER TABLE question ALTER COLUMN slug TYPE varchar COLLATE "C"'))
    conn.execute(sa.text('ALTER TABLE expert ALTER COLUMN name TYPE varchar COLLATE "C"'))
    conn.execute(sa.text(_POSTGRES_REFUSE))
    for table, message in _POSTGRES_APPEND_ONLY.items():
        for event, scope in (("DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
            conn.execute(sa.text(
                f"CREATE TRIGGER {table}_append_only_{event.lower()} BEFORE {event} ON {table} "
                f"FOR EACH {scope} EXECUTE FUNCTION forecast_refuse_removal('{message}')"
            ))


def m0007_question_and_setting_digests(conn: Connection) -> None:
    """A digest of each question's and store setting's current state (status, resolution, definition, priors),
    sealing them as they stand; forecast rewrites a digest only after checking the row against it."""
    integrity.STATES.create(conn)
    integrity.seal_state(conn, later=False)


def m0008_expert_changes(conn: Connection) -> None:
    """Renames and merges of experts as their own append-only, hash-chained rows (the expert rows stay as they were)."""
    meta = sa.MetaData()
    sa.Table("expert", meta, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "expert_change", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("expert_id", sa.Integer, sa.ForeignKey("expert.id"), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("into_id", sa.Integer, sa.ForeignKey("expert.id"), nullable=True),
        sa.Column("note", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    meta.create_all(conn, tables=[meta.tables["expert_change"]])
    integrity.start_chain(conn, "expert_change")


def m0009_authorship(conn: Connection) -> None:
    """Who made each write: the author of experts, evidence and question versions, who retracted a row and who
    resolved a question; existing rows get "unknown". Nothing is re-sealed: an "unknown" author is left out of a
    row's digest (see integrity.LATER), so every sealed row keeps its digest. On SQLite, the update triggers of
    0005 are rebuilt to freeze the author too (and to let the retraction's author be set once)."""
    unknown = integrity.UNKNOWN
    for table in ("expert", *integrity.EVIDENCE, "question_version"):
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN author VARCHAR NOT NULL DEFAULT '{unknown}'"))
    for table in integrity.EVIDENCE:
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN retracted_by VARCHAR"))
        conn.execute(sa.text(f"UPDATE {table} SET retracted_by = '{unknown}' WHERE retracted_at IS NOT NULL"))
    conn.execute(sa.text("ALTER TABLE question ADD COLUMN resolved_by VARCHAR"))
    conn.execute(sa.text(f"UPDATE question SET resolved_by = '{unknown}' WHERE status != 'open'"))
    if conn.dialect.name == "sqlite":
        for table in integrity.EVIDENCE:
            conn.execute(sa.text(f"DROP TRIGGER {table}_immutable"))
            _refuse_update(conn, table, ("id", *integrity.CHAINED[table], "author"),
                           (*integrity.RETRACTION, "retracted_by"),
                           "evidence is append-only: only a retraction may be added to a row")
        conn.execute(sa.text("DROP TRIGGER question_version_immutable"))
        _refuse_update(conn, "question_version", ("id", *integrity.CHAINED["question_version"], "author"), (),
                       "question versions are append-only")


def m0010_expert_change_authors(conn: Connection) -> None:
    """Who renamed or merged an expert; earlier changes get "unknown", left out of their digests as in 0009."""
    conn.execute(sa.text(f"ALTER TABLE expert_change ADD COLUMN author VARCHAR NOT NULL DEFAULT '{integrity.UNKNOWN}'"))


def m0011_resolution_changes(conn: Connection) -> None:
    """Reopened resolutions as their own append-only, hash-chained rows: what the question's resolution was, why
    and by whom it was undone (the question row then holds the new state, as after `resolve`)."""
    meta = sa.MetaData()
    sa.Table("question", meta, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "resolution_change", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("question.id"), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("resolution", sa.String, nullable=True),
        sa.Column("resolution_source", sa.String, nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String, nullable=True),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String, nullable=False),
    )
    meta.create_all(conn, tables=[meta.tables["resolution_change"]])
    integrity.start_chain(conn, "resolution_change")


MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_initial", m0001_initial),
    ("0002_evidence_indexes_and_append_only", m0002_evidence_indexes_and_append_only),
    ("0003_forecast_runs", m0003_forecast_runs),
    ("0004_questions_as_data", m0004_questions_as_data),
    ("0005_tamper_evidence", m0005_tamper_evidence),
    ("0006_postgres_jsonb_and_append_only", m0006_postgres_jsonb_and_append_only),
    ("0007_question_and_setting_digests", m0007_question_and_setting_digests),
    ("0008_expert_changes", m0008_expert_changes),
    ("0009_authorship", m0009_authorship),
    ("0010_expert_change_authors", m0010_expert_change_authors),
    ("0011_resolution_changes", m0011_resolution_changes),
]

# What each migration creates that a store could not have without it: a store holding one of these without the
# migration's record has had its record rolled back (to have it re-sealed), and is refused.
CREATES: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "sqlite": {
        "0005_tamper_evidence": (("table", "integrity_row"), ("table", "integrity_chain"),
                                 *(("trigger", f"{t}_immutable") for t in (*integrity.EVIDENCE, "forecast_run",
                                                                           "forecast_result", "question_version"))),
        "0007_question_and_setting_digests": (("table", "integrity_state"),),
        "0008_expert_changes": (("table", "expert_change"),),
        "0011_resolution_changes": (("table", "resolution_change"),),
    },
    "postgresql": {
        "0005_tamper_evidence": (("table", "integrity_row"), ("table", "integrity_chain")),
        "0006_postgres_jsonb_and_append_only": tuple(("trigger", f"{t}_append_only_{e}") for t in _POSTGRES_APPEND_ONLY
                                                     for e in ("delete", "truncate")),
        "0007_question_and_setting_digests": (("table", "integrity_state"),),
        "0008_expert_changes": (("table", "expert_change"),),
        "0011_resolution_changes": (("table", "resolution_change"),),
    },
}
# The triggers that keep evidence, runs and question versions append-only, by dialect (`forecast verify` checks them).
TRIGGERS: dict[str, tuple[str, ...]] = {
    "sqlite": (*(f"{t}_append_only" for t in (*integrity.EVIDENCE, "forecast_run", "forecast_result", "question_version")),
               *(f"{t}_immutable" for t in (*integrity.EVIDENCE, "forecast_run", "forecast_result", "question_version"))),
    "postgresql": tuple(f"{t}_append_only_{e}" for t in _POSTGRES_APPEND_ONLY for e in ("delete", "truncate")),
}


def schema_objects(conn: Connection) -> set[tuple[str, str]]:
    """The store's tables and triggers as (kind, name)."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(sa.text("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'trigger')"))
        return {(kind, name) for kind, name in rows}
    tables = conn.execute(sa.text("SELECT 'table', table_name FROM information_schema.tables "
                                  "WHERE table_schema = current_schema()"))
    triggers = conn.execute(sa.text("SELECT 'trigger', tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                    "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"))
    return {(kind, name) for kind, name in (*tables, *triggers)}


def rolled_back(conn: Connection, applied: set[str]) -> str | None:
    """A line naming a migration whose record is missing although what it creates is there, or None."""
    found = schema_objects(conn)
    for name, objects in CREATES.get(conn.dialect.name, {}).items():
        present = [f"{kind} {obj}" for kind, obj in objects if (kind, obj) in found]
        if name not in applied and present:
            return (f"the store's migration record is older than its tables: it lacks {name!r} but has {present[0]} "
                    "(the record was rolled back outside forecast, which would re-seal changed rows); restore the "
                    "store from a backup")
    return None
