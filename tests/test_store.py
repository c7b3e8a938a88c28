"""The store: migrations, refusal of newer or corrupt stores, append-only rows, concurrency."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from forecast.errors import StoreError
from forecast.store import open_store
from forecast.store.migrations import MIGRATIONS, m0001_initial

from .conftest import QUESTION, snapshot


def _first_schema_store(path: Path) -> None:
    """A store as the first release wrote it: only migration 0001, with data."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE schema_migration (name VARCHAR PRIMARY KEY, applied_at DATETIME NOT NULL)"))
        m0001_initial(conn)
        conn.execute(sa.text("INSERT INTO schema_migration VALUES ('0001_initial', '2026-01-01 00:00:00')"))
        conn.execute(sa.text(
            "INSERT INTO question (id, slug, title, criteria, kind, horizon_start, horizon_end, status, created_at) "
            "VALUES (1, 'q', 'Q?', 'c', 'date', '2022-07', '2032-12', 'open', '2026-01-01 00:00:00')"))
        conn.execute(sa.text(
            "INSERT INTO expert (id, name, aliases, role, affiliation, kind, notes, created_at) "
            "VALUES (1, 'Ann', '[]', '', '', 'analyst', '', '2026-01-01 00:00:00')"))
        conn.execute(sa.text(
            "INSERT INTO statement (id, uid, question_id, expert_id, said_on, date_precision, quote, source, "
            "claim_text, claim_start, claim_end, probability, strength, rationale, logged_at) VALUES "
            "(1, 'u1', 1, 1, '2023-01-02', 'day', 'quote', 'src', 'after 2024', '2025-01', NULL, 0.7, 'firm', 'r', "
            "'2026-01-01 00:00:00')"))
    engine.dispose()


def test_first_schema_store_upgrades_with_data_intact(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _first_schema_store(path)
    before = {t: sqlite3.connect(path).execute(f"SELECT * FROM {t}").fetchall() for t in ("question", "expert", "statement")}
    store = open_store(str(path))
    assert store.schema_version() == [name for name, _ in MIGRATIONS]
    after = {t: sqlite3.connect(path).execute(f"SELECT * FROM {t}").fetchall() for t in before}
    assert after == before
    with store.session() as session:
        from forecast.views import list_evidence

        rows = list_evidence(session, question="q")
    assert [(r["ref"], r["expert"], r["interval"], r["probability"]) for r in rows] == [("S1", "Ann", ["2025-01", None], 0.7)]


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    inspector = sa.inspect(store.engine)
    for name, table in SQLModel.metadata.tables.items():
        columns = {c["name"]: c["nullable"] for c in inspector.get_columns(name)}
        assert columns == {c.name: c.nullable for c in table.columns}, name


def test_newer_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    open_store(str(path))
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migration VALUES ('0999_from_the_future', '2030-01-01 00:00:00')")
    before = snapshot(path)
    with pytest.raises(StoreError, match="written by a newer version of forecast .*'0999_from_the_future'"):
        open_store(str(path))
    assert snapshot(path) == before


@pytest.mark.parametrize("content", [b"this is not a database at all" * 10, b"SQLite format 3\x00" + b"\xff" * 200])
def test_corrupt_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="cannot open store"):
        open_store(str(path))
    assert path.read_bytes() == content


def test_evidence_cannot_be_deleted_and_foreign_keys_hold(seeded: Path) -> None:
    open_store(str(seeded))
    with sqlite3.connect(seeded) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM statement WHERE id = 1")
    store = open_store(str(seeded))
    with store.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
        conn.execute(sa.text("UPDATE statement SET superseded_by_id = 999 WHERE id = 1"))


def test_store_uses_wal(seeded: Path) -> None:
    store = open_store(str(seeded))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


_WRITER = textwrap.dedent("""
    import sys
    from forecast.cli import cli
    db, tag = sys.argv[1], sys.argv[2]
    for i in range(200):
        args = ["--db", db, "log", "statement", "--question", "%s", "--expert", "Zak",
                "--date", "2023-01-01", "--claim", "after 2025", "--quote", f"{tag} {i}", "--source", tag,
                "--no-update"]
        try:
            cli.main(args, prog_name="forecast")
        except SystemExit as exit:
            if exit.code:
                raise
""") % QUESTION


def test_two_processes_logging_at_once_lose_nothing(seeded: Path, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    procs = [subprocess.Popen([sys.executable, str(script), str(seeded), tag], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for tag in ("alpha", "beta")]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with sqlite3.connect(seeded) as conn:
        counts = dict(conn.execute("SELECT source, count(*) FROM statement WHERE source IN ('alpha', 'beta') GROUP BY source"))
    assert counts == {"alpha": 200, "beta": 200}
