"""The store: migrations, refusal of newer or corrupt stores, append-only rows, concurrency."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from forecast.errors import StoreError
from forecast.evidence import content_uid, log_statement
from forecast.store import open_store
from forecast.store.migrations import MIGRATIONS, m0001_initial
from forecast.verify import verify_store

from .conftest import QUESTION, snapshot, store_exact_run


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
            "(1, :uid, 1, 1, '2023-01-02', 'day', 'quote', 'src', 'after 2024', '2025-01', NULL, 0.7, 'firm', 'r', "
            "'2026-01-01 00:00:00')"), {"uid": content_uid("q", "Ann", "2023-01-02", "after 2024", "quote", "src")})
        conn.execute(sa.text(
            "INSERT INTO observation (id, uid, question_id, observed_on, date_precision, kind, source, note, logged_at) "
            "VALUES (1, 'o1', 1, '2023-02-01', 'day', 'still-participating', 'src', 'n', '2026-01-01 00:00:00')"))
    engine.dispose()


def test_first_schema_store_upgrades_with_data_intact(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _first_schema_store(path)
    before = {t: sqlite3.connect(path).execute(f"SELECT * FROM {t}").fetchall() for t in ("question", "expert", "statement")}
    store = open_store(str(path))
    assert store.schema_version() == [name for name, _ in MIGRATIONS]
    after = {t: sqlite3.connect(path).execute(f"SELECT * FROM {t}").fetchall() for t in before}
    assert {t: [row[: len(before[t][0])] for row in rows] for t, rows in after.items()} == before  # new columns last
    renamed = sqlite3.connect(path).execute("SELECT kind, uid FROM observation").fetchall()
    assert renamed == [("event-not-yet", content_uid("q", "event-not-yet", "2023-02-01", "src", "n"))]
    with store.session() as session:
        from forecast.views import list_evidence

        rows = list_evidence(session, question="q")
    statements = [(r["ref"], r["expert"], r["interval"], r["probability"]) for r in rows if r["type"] == "statement"]
    assert statements == [("S1", "Ann", ["2025-01", None], 0.7)]
    with store.reader() as session:  # the upgrade sealed the store as it stood
        assert verify_store(session).problems == []


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
    with open_store(str(seeded)).reader() as session:  # both writers extended the hash chains in turn
        assert verify_store(session).problems == []


def test_a_reader_cannot_write(seeded: Path) -> None:
    before = snapshot(seeded)
    with open_store(str(seeded)).reader() as session, pytest.raises(sa.exc.OperationalError, match="readonly"):
        session.execute(sa.text("UPDATE question SET title = 'x'"))
    assert snapshot(seeded) == before


def test_a_writer_holding_the_lock_does_not_stop_readers(seeded: Path) -> None:
    writer = sqlite3.connect(seeded, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE question SET title = 'uncommitted'")
    started = time.perf_counter()
    store = open_store(str(seeded))  # an up-to-date store is opened without the write lock
    with store.reader() as session:
        title = session.execute(sa.text("SELECT title FROM question")).scalar_one()
    elapsed = time.perf_counter() - started
    writer.execute("ROLLBACK")
    assert title != "uncommitted" and elapsed < 1.0


_REPORT = textwrap.dedent("""
    import sys
    import forecast.report.content as content
    from forecast.cli import cli

    leave_one_out = content._exact_headline
    def announced(*args, **kwargs):  # says once that the report is computing influence inside its snapshot
        if not announced.done:
            announced.done = print("computing influence", flush=True) or True
        return leave_one_out(*args, **kwargs)
    announced.done = False
    content._exact_headline = announced
    cli.main(sys.argv[1:], prog_name="forecast")
""")


def test_a_long_report_never_makes_a_writer_wait(seeded: Path, tmp_path: Path) -> None:
    store = open_store(str(seeded))
    experts = ["Zak", "Borisov", "Logsdon", "Dreier"]
    with store.session() as session:
        for i in range(2000):
            log_statement(session, question=QUESTION, expert=experts[i % 4], claim=f"after {2024 + i % 6}",
                          said_on=dt.date(2022, 8, 1) + dt.timedelta(days=i % 1000), quote=f"bulk {i}", source="bulk")
    store_exact_run(seeded)
    script = tmp_path / "report.py"
    script.write_text(_REPORT)
    report = subprocess.Popen([sys.executable, str(script), "--db", str(seeded), "report", "--out", str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert report.stdout.readline() == "computing influence\n", report.stderr.read()
        started = time.perf_counter()
        with store.session() as session:
            row = log_statement(session, question=QUESTION, expert="Zak", said_on=dt.date(2024, 1, 2),
                                claim="after 2027", quote="logged during the report", source="writer")
        waited = time.perf_counter() - started
        report_was_running = report.poll() is None
    finally:
        report.kill()
        report.wait()
    assert report_was_running, "the report should still be computing (about a minute for 2,000 statements)"
    assert waited < 1.0, f"the writer waited {waited:.2f} s"
    with sqlite3.connect(seeded) as conn:
        assert conn.execute("SELECT quote FROM statement WHERE id = ?", (row.id,)).fetchone() == ("logged during the report",)
