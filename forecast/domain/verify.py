"""`forecast verify`: is every expert, evidence and run row exactly as forecast wrote it?

Recomputes each evidence row's uid from its content (as :mod:`forecast.domain.evidence` does when logging),
checks that what it refers to exists, and checks every row against its recorded digest and the
per-table hash chains (:mod:`forecast.store.integrity`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from ..errors import TamperError
from ..store import integrity, migrations
from .evidence import content_uid, revised_uid

# Stored forecasts: what `forecast verify` checks besides a fit's inputs. A fit reads none of them, so the check
# before a fit leaves their rows out (their digests cost ~6 ms per stored run, growing with every run).
RUN_TABLES = ("forecast_run", "forecast_result")

# The content each uid is made of, in order, as logged (``question`` and ``expert`` are looked up by id).
UID_CONTENT = {
    "statement": ("question", "expert", "said_on", "claim_text", "quote", "source"),
    "observation": ("question", "kind", "observed_on", "source", "note"),
}


@dataclass
class Verification:
    """What `forecast verify` found: problems (empty when intact), row counts and the chain head."""

    problems: list[str]
    counts: dict[str, int]
    head: str

    def summary(self, hint: str = "") -> str:
        """The one-line error for a tampered store."""
        return (f"the store was changed outside forecast ({len(self.problems)} problem(s), first: {self.problems[0]}); "
                f"`forecast verify` lists them all{hint}")


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


def _uid_matches(uid: str, content: str, logged_at: dt.datetime | str) -> bool:
    """The content's uid, or a revision's (a correction that kept the content, made at ``logged_at``)."""
    stamp = dt.datetime.fromisoformat(logged_at) if isinstance(logged_at, str) else logged_at
    return uid in (content, revised_uid(content, stamp))


def _evidence_problems(conn: sa.Connection, table: str) -> list[str]:
    slugs: dict[int | None, str] = dict(conn.execute(sa.select(*_table("question", "id", "slug").c)).all())
    names: dict[int | None, str] = dict(conn.execute(sa.select(*_table("expert", "id", "name").c)).all())
    links = ("question_id", "superseded_by_id") + (("expert_id",) if table == "statement" else ())
    source = _table(table, "id", "uid", "logged_at", *links,
                    *(c for c in UID_CONTENT[table] if c not in ("question", "expert")))
    rows = list(conn.execute(sa.select(source).order_by(source.c.id)))
    ids = {row.id for row in rows}
    problems = []
    for row in rows:
        values = dict(row._mapping)
        name = integrity.ref(table, row.id)
        values["question"], values["expert"] = slugs.get(row.question_id), names.get(values.get("expert_id"))
        dangling = [f"{what} #{values[f'{what}_id']}" for what in ("question", "expert")
                    if f"{what}_id" in values and values[what] is None]
        if row.superseded_by_id is not None and row.superseded_by_id not in ids:
            dangling.append(integrity.ref(table, row.superseded_by_id))
        if dangling:
            problems.append(f"{name} refers to {', '.join(dangling)}, which does not exist")
        elif not _uid_matches(row.uid, content_uid(*(values[c] for c in UID_CONTENT[table])), row.logged_at):
            problems.append(f"{name}: its uid does not match its content ({', '.join(UID_CONTENT[table])})")
    return problems


def _page_problems(conn: sa.Connection, skipped: tuple[str, ...] = ()) -> list[str]:
    """SQLite's integrity check (every page and index entry, or those of every table but ``skipped``);
    PostgreSQL: amcheck on the b-tree indexes of the store's tables (but ``skipped``) where it is installed."""
    if conn.dialect.name == "sqlite":
        return [f"SQLite's integrity check: {line}" for line in _sqlite_page_problems(conn, skipped)]
    if conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'")).first() is None:
        return []
    indexes = conn.execute(sa.text(
        "SELECT c.relname, t.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am a ON a.oid = c.relam "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND n.nspname = current_schema()"))
    problems = []
    for name in [index for index, table in indexes.all() if table not in skipped]:
        try:
            with conn.begin_nested():
                conn.execute(sa.text("SELECT bt_index_check(CAST(:name AS regclass))"), {"name": name})
        except sa.exc.DBAPIError as exc:
            problems.append(f"index {name}: {str(exc.orig).splitlines()[0]}")
    return problems


def _trigger_problems(conn: sa.Connection) -> list[str]:
    present = {name for kind, name in migrations.schema_objects(conn) if kind == "trigger"}
    return [f"trigger {name} is missing (dropped outside forecast): the store no longer refuses edits it should"
            for name in migrations.TRIGGERS.get(conn.dialect.name, ()) if name not in present]


def _sqlite_page_problems(conn: sa.Connection, skipped: tuple[str, ...]) -> list[str]:
    if not skipped:
        found = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check(20)")]
        return [] if found == ["ok"] else found
    tables = [name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
              if name not in skipped]
    found = [row[0] for name in tables for row in conn.exec_driver_sql(f'PRAGMA integrity_check("{name}")')]
    return [line for line in found if line != "ok"][:20]


def verify_store(session: Session, fit_inputs_only: bool = False) -> Verification:
    """Check the store in the caller's transaction (a reader's snapshot, or a writer's lock): pages and
    indexes, triggers, every row's digest and chain, questions' and settings' states, and evidence uids.
    ``fit_inputs_only``: leave out the stored runs' pages and row digests (their chains are still checked),
    as before a fit, which reads none of them; `forecast verify` checks everything."""
    conn = session.connection()
    skipped = RUN_TABLES if fit_inputs_only else ()
    problems = (_page_problems(conn, skipped) + _trigger_problems(conn) + integrity.check(conn, skipped)
                + [p for table in UID_CONTENT for p in _evidence_problems(conn, table)])
    counts = {table: conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one()
              for table in integrity.CHAINED}
    return Verification(problems, counts, integrity.head(conn))


def require_intact(session: Session, allow_tampered: bool = False, hint: str = "",
                   fit_inputs_only: bool = False) -> Verification:
    """Verify the store (see :func:`verify_store`); raise :class:`TamperError` on any problem unless
    ``allow_tampered``."""
    verification = verify_store(session, fit_inputs_only)
    if verification.problems and not allow_tampered:
        raise TamperError(verification.summary(hint))
    return verification
