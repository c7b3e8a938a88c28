"""The store: migrations, refusal of newer or corrupt stores, append-only rows, concurrency."""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import SQLModel, select

from forecast.domain.evidence import add_expert, content_uid, log_statement
from forecast.domain.verify import verify_store
from forecast.errors import StoreError
from forecast.store import Expert, Question, open_store, resolve_url
from forecast.store.migrations import MIGRATIONS
from forecast.store.tables import ForecastRun
from forecast.store.types import JSONText

from .conftest import OFFICIAL, QUESTION, REPORTER, postgres_only, query, snapshot, sqlite_only, store_exact_run

pytestmark = pytest.mark.every_backend  # the store is the backend: every test here runs on both


def _store_at(db: str, upto: int, *rows: str) -> None:
    """A store as an earlier release wrote it: its first ``upto`` migrations, then ``rows`` (SQL)."""
    engine = sa.create_engine(resolve_url(db))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE schema_migration (name VARCHAR PRIMARY KEY, "
                             "applied_at TIMESTAMP WITH TIME ZONE NOT NULL)"))
        for name, apply in MIGRATIONS[:upto]:
            apply(conn)
            conn.execute(sa.text("INSERT INTO schema_migration VALUES (:name, '2026-01-01 00:00:00')"), {"name": name})
        for row in rows:
            conn.execute(sa.text(row))
    engine.dispose()


FIRST_RELEASE_ROWS = (
    "INSERT INTO question (id, slug, title, criteria, kind, horizon_start, horizon_end, status, created_at) "
    "VALUES (1, 'q', 'Q?', 'c', 'date', '2022-07', '2032-12', 'open', '2026-01-01 00:00:00')",
    "INSERT INTO expert (id, name, aliases, role, affiliation, kind, notes, created_at) "
    "VALUES (1, 'Ann', '[\"Анна\"]', '', '', 'analyst', '', '2026-01-01 00:00:00')",
    "INSERT INTO statement (id, uid, question_id, expert_id, said_on, date_precision, quote, source, "
    "claim_text, claim_start, claim_end, probability, strength, rationale, logged_at) VALUES "
    f"(1, '{content_uid('q', 'Ann', '2023-01-02', 'after 2024', 'quote', 'src')}', 1, 1, '2023-01-02', 'day', 'quote', "
    "'src', 'after 2024', '2025-01', NULL, 0.7, 'firm', 'r', '2026-01-01 00:00:00')",
    "INSERT INTO observation (id, uid, question_id, observed_on, date_precision, kind, source, note, logged_at) "
    "VALUES (1, 'o1', 1, '2023-02-01', 'day', 'still-participating', 'src', 'n', '2026-01-01 00:00:00')",
)


def _rows(db: str, *tables: str) -> dict[str, list[tuple]]:
    return {t: query(db, f"SELECT * FROM {t} ORDER BY id") for t in tables}


def test_first_schema_store_upgrades_with_data_intact(db: str) -> None:
    _store_at(db, 1, *FIRST_RELEASE_ROWS)
    before = _rows(db, "question", "statement")
    store = open_store(db)
    assert store.schema_version() == [name for name, _ in MIGRATIONS]
    after = _rows(db, "question", "statement")
    assert {t: [row[: len(before[t][0])] for row in rows] for t, rows in after.items()} == before  # new columns last
    renamed = query(db, "SELECT kind, uid FROM observation")
    assert renamed == [("event-not-yet", content_uid("q", "event-not-yet", "2023-02-01", "src", "n"))]
    with store.session() as session:
        from forecast.domain.views import expert_view, list_evidence

        rows = list_evidence(session, question="q")
        assert expert_view(session.get(Expert, 1))["aliases"] == ["Анна"]
    statements = [(r["ref"], r["expert"], r["interval"], r["probability"]) for r in rows if r["type"] == "statement"]
    assert statements == [("S1", "Ann", ["2025-01", None], 0.7)]
    with store.reader() as session:  # the upgrade sealed the store as it stood
        assert verify_store(session).problems == []


def test_migrated_schema_matches_the_models(db: str, backend: str) -> None:
    store = open_store(db)
    inspector = sa.inspect(store.engine)
    for name, table in SQLModel.metadata.tables.items():
        columns = {c["name"]: c for c in inspector.get_columns(name)}
        assert {n: c["nullable"] for n, c in columns.items()} == {c.name: c.nullable for c in table.columns}, name
        stored_as_jsonb = {n for n, c in columns.items() if isinstance(c["type"], JSONB)}
        json_columns = {c.name for c in table.columns if isinstance(c.type, JSONText)}
        assert stored_as_jsonb == (json_columns if backend == "postgres" else set()), name


@postgres_only
def test_previous_postgres_store_moves_json_to_jsonb_keeping_every_value(db: str) -> None:
    """A store the last release wrote on PostgreSQL (JSON as varchar, NaN in diagnostics) migrates intact."""
    diagnostics = {"max_rhat": float("nan"), "min_ess_bulk": float("inf"), "min_ess_tail": -float("inf"),
                   "problems": ["R-hat nan > 1.01", "NaN"]}
    _store_at(db, 3, *FIRST_RELEASE_ROWS, (
        "INSERT INTO forecast_run (created_at, as_of, known_at, seed, converged, elapsed_seconds, posterior, kind, "
        "questions, sampler, settings, code_version, model_version, config_hash, evidence_fingerprint, evidence, "
        "diagnostics, reliabilities) VALUES ('2026-01-01 00:00:00', '2026-01-01', '2026-01-01 00:00:00', 1, false, "
        "1.5, '\\x00', 'full', '[\"q\"]', 'nutpie', '{\"draws\": 10}', '0.1.0', '1', 'c', 'f', '[\"u1\"]', "
        f"'{json.dumps(diagnostics)}', '[]')"))
    open_store(db)
    jsonb = query(db, "SELECT table_name || '.' || column_name FROM information_schema.columns "
                      "WHERE data_type = 'jsonb'")
    assert sorted(c for (c,) in jsonb) == sorted(f"{c.table.name}.{c.name}" for t in SQLModel.metadata.tables.values()
                                   for c in t.columns if isinstance(c.type, JSONText))
    with open_store(db).session() as session:
        stored = json.loads(session.get(ForecastRun, 1).diagnostics)
        assert json.loads(session.get(Expert, 1).aliases) == ["Анна"]
    assert math.isnan(stored.pop("max_rhat")) and math.isnan(diagnostics.pop("max_rhat"))
    assert stored == diagnostics


def test_json_columns_keep_every_value(db: str) -> None:
    """Non-finite floats, nesting, key order and any Unicode survive (on PostgreSQL as jsonb)."""
    diagnostics = {"max_rhat": float("nan"), "ess": [float("inf"), -float("inf"), 1.5e-300, 12],
                   "nested": {"z": None, "a": True, "problems": ["NaN", "Infinity", {"__float__": 1}]}}
    aliases = ["Юрий", 'a "quoted" \\ name', "😀", "tab\there"]
    store = open_store(db)
    with store.session() as session:
        add_expert(session, "Ann", "analyst", aliases=aliases)
        session.add(ForecastRun(
            as_of=dt.date(2026, 1, 1), known_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), questions='["q"]', seed=1,
            sampler="nutpie", settings="{}", code_version="0", model_version="0", config_hash="c",
            evidence_fingerprint="f", evidence="[]", diagnostics=json.dumps(diagnostics), converged=False,
            elapsed_seconds=1.0, reliabilities="[]", posterior=b"\x00\xff"))
    with open_store(db).session() as session:
        run, expert = session.get(ForecastRun, 1), session.exec(select(Expert)).one()
        assert (json.loads(expert.aliases), run.posterior) == (aliases, b"\x00\xff")
        stored = run.diagnostics
    assert json.dumps(json.loads(stored), sort_keys=True) == json.dumps(diagnostics, sort_keys=True)


def test_timestamps_read_back_in_utc_on_every_backend(db: str) -> None:
    """Whatever the zone written and the server's own (the test server's is New York): the same UTC instant."""
    store = open_store(db)
    with store.session() as session:
        session.add(Question(slug="q", title="t", criteria="c", horizon_start="2026-01", horizon_end="2026-12",
                             created_at=dt.datetime(2026, 1, 1, 7, tzinfo=dt.timezone(dt.timedelta(hours=-5)))))
    with open_store(db).session() as session:
        created = session.exec(select(Question)).one().created_at
    assert (created, created.tzinfo) == (dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC), dt.UTC)


def test_newer_store_is_refused_and_left_alone(db: str) -> None:
    open_store(db)
    query(db, "INSERT INTO schema_migration VALUES ('0999_from_the_future', '2030-01-01 00:00:00')")
    before = snapshot(db)
    with pytest.raises(StoreError, match="written by a newer version of forecast .*'0999_from_the_future'"):
        open_store(db)
    assert snapshot(db) == before


@pytest.mark.parametrize("content", [b"this is not a database at all" * 10, b"SQLite format 3\x00" + b"\xff" * 200])
def test_corrupt_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="cannot open store"):
        open_store(str(path))
    assert path.read_bytes() == content


def test_evidence_cannot_be_deleted_and_foreign_keys_hold(seeded: str) -> None:
    for statement in ("DELETE FROM statement WHERE id = 1", "DELETE FROM observation"):
        with pytest.raises(sa.exc.IntegrityError, match="evidence is append-only: retract or supersede instead"):
            query(seeded, statement)
    store = open_store(seeded)
    with store.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError, match="(?i)foreign key"):
        conn.execute(sa.text("UPDATE statement SET superseded_by_id = 999 WHERE id = 1"))


@postgres_only
def test_postgres_refuses_truncating_evidence_and_runs(seeded: str) -> None:
    before = snapshot(seeded)
    for table in ("statement", "observation", "forecast_run", "forecast_result", "question"):
        with pytest.raises(sa.exc.IntegrityError, match="append-only"):
            query(seeded, f"TRUNCATE {table} CASCADE")
    assert snapshot(seeded) == before


@sqlite_only
def test_store_uses_wal(seeded: str) -> None:
    store = open_store(seeded)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


_WRITER = textwrap.dedent("""
    import sys
    from forecast.cli import cli
    db, tag, logs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for i in range(logs):
        args = ["--db", db, "log", "statement", "--question", "%s", "--expert", "%s",
                "--date", "2023-01-01", "--claim", "after 2025", "--quote", f"{tag} {i}", "--source", tag,
                "--no-update", "--restatement"]  # one expert, day and claim: restatements, not duplicates
        try:
            cli.main(args, prog_name="forecast")
        except SystemExit as exit:
            if exit.code:
                raise
""") % (QUESTION, REPORTER)


@pytest.mark.slow  # many processes at once: run by `bash scripts/test --all` and CI
@pytest.mark.parametrize(("backend", "processes", "logs"), [("sqlite", 2, 200), ("postgres", 8, 50)],
                         indirect=["backend"])
def test_processes_logging_at_once_lose_nothing(seeded: str, tmp_path: Path, processes: int, logs: int) -> None:
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    tags = [f"writer-{n}" for n in range(processes)]
    procs = [subprocess.Popen([sys.executable, str(script), seeded, tag, str(logs)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for tag in tags]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * processes, errors
    rows = query(seeded, "SELECT id, uid, source, quote FROM statement WHERE source LIKE 'writer-%'")
    assert len(rows) == processes * logs
    assert all(len({row[i] for row in rows}) == len(rows) for i in (0, 1, 3)), "ids, uids and quotes all distinct"
    assert {tag: sum(row[2] == tag for row in rows) for tag in tags} == dict.fromkeys(tags, logs)
    with open_store(seeded).reader() as session:  # the writers extended the hash chains in turn
        assert verify_store(session).problems == []


def test_a_reader_cannot_write(seeded: str, db_path: Path) -> None:
    before = snapshot(seeded)
    with open_store(str(seeded)).reader() as session, pytest.raises(sa.exc.OperationalError, match="readonly"):
        session.execute(sa.text("UPDATE question SET title = 'x'"))
    assert snapshot(seeded) == before


def test_a_writer_holding_the_lock_does_not_stop_readers(seeded: str, db_path: Path) -> None:
    writer = sqlite3.connect(seeded, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE question SET title = 'uncommitted' WHERE slug = 'russia-iss-withdrawal'")
    started = time.perf_counter()
    store = open_store(str(seeded))  # an up-to-date store is opened without the write lock
    with store.reader() as session:
        title = session.execute(sa.text("SELECT title FROM question WHERE slug = 'russia-iss-withdrawal'")).scalar_one()
    elapsed = time.perf_counter() - started
    writer.execute("ROLLBACK")
    assert title != "uncommitted" and elapsed < 1.0


_REPORT = textwrap.dedent("""
    import sys
    import time
    import forecast.report.content as content
    from forecast.cli import cli

    leave_one_out = content.leave_one_out
    def slow(*args, **kwargs):  # says when the report computes influence inside its snapshot, then takes its time
        print("computing influence", flush=True)
        time.sleep(5)
        return leave_one_out(*args, **kwargs)
    content.leave_one_out = slow
    cli.main(sys.argv[1:], prog_name="forecast")
""")


def test_a_long_report_never_makes_a_writer_wait(seeded: str, db_path: Path, tmp_path: Path) -> None:
    store = open_store(str(seeded))
    experts = [REPORTER, OFFICIAL]
    with store.session() as session:
        for i in range(2000):
            log_statement(session, question=QUESTION, expert=experts[i % 2], claim=f"after {2024 + i % 6}",
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
            row = log_statement(session, question=QUESTION, expert=REPORTER, said_on=dt.date(2024, 1, 2),
                                claim="after 2027", quote="logged during the report", source="writer")
        waited = time.perf_counter() - started
        report_was_running = report.poll() is None
    finally:
        report.kill()
        report.wait()
    assert report_was_running, "the report should still be computing (its influence step is held for 5 s)"
    assert waited < 1.0, f"the writer waited {waited:.2f} s"
    with sqlite3.connect(seeded) as conn:
        assert conn.execute("SELECT quote FROM statement WHERE id = ?", (row.id,)).fetchone() == ("logged during the report",)
