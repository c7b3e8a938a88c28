"""OS and database failures are one line with exit 2, and leave the store as it was (issue 11)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .conftest import INIT, QUESTION, assert_refused, log_args, snapshot

BIG = "x" * 9_000  # needs new pages, whatever free space the store has
CORRUPT = "Error: the store is corrupt (database disk image is malformed); restore it from a backup"
READ_ONLY = "Error: the store is read-only (attempt to write a readonly database): nothing was written"
FULL = "Error: the disk is full (database or disk is full): nothing was written"
WRITES = {
    "log statement": [*log_args(quote=BIG), "--no-update"],
    "log observation": ["log", "observation", "--question", QUESTION, "--kind", "still-participating",
                        "--date", "2025-06-01", "--source", "crew", "--note", BIG, "--no-update"],
    "expert add": ["expert", "add", "Jeff Foust", "--kind", "journalist", "--notes", BIG],
    "retract": ["retract", "S1", "--reason", BIG],
    "resolve": ["resolve", QUESTION, "--annul", "--source", "s" * 2_000],
}
READS_STATEMENTS = ["evidence list", "export", "run", "log statement", "retract"]


def _checkpointed(path: Path) -> bytes:
    """Fold the WAL into the file and return its bytes."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


@pytest.fixture
def corrupt(seeded: str, db_path: Path) -> str:
    """The seed store with garbage over the statement table's page."""
    _checkpointed(db_path)
    with sqlite3.connect(db_path) as conn:
        root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'statement'").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    with db_path.open("r+b") as db:
        db.seek((root - 1) * size)
        db.write(b"\xa5" * size)
    return db_path


@pytest.mark.parametrize("case", READS_STATEMENTS)
def test_corruption_is_found_on_opening_in_one_line(run, corrupt: Path, case: str) -> None:
    args = {"evidence list": ["evidence", "list"], "export": ["export", "out.json"], "run": ["run"], **WRITES}[case]
    before = corrupt.read_bytes()
    found = f"Error: cannot open store sqlite:///{corrupt}: {CORRUPT.removeprefix('Error: ')}"
    assert_refused(run("expert", "list"), found)  # SQLite's quick check finds the damage when the store is opened
    assert_refused(run(*args), found)
    assert corrupt.read_bytes() == before


def test_garbage_header_is_one_line(run, db_path: Path) -> None:
    db_path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    assert_refused(run("evidence", "list"),
                   f"Error: cannot open store sqlite:///{db_path}: the store is corrupt (file is not a database)")


@pytest.fixture
def immutable(seeded: str, db_path: Path):
    """The seed store made immutable with ``chattr +i`` (root ignores file modes, not this flag)."""
    _checkpointed(db_path)
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(db_path)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here (the ?mode=ro variant still runs)")
    yield db_path
    subprocess.run(["chattr", "-i", str(db_path)], check=True)


@pytest.mark.parametrize("case", ["log statement", "retract"])
def test_immutable_store_refuses_writes_in_one_line(immutable: Path, case: str) -> None:
    """Through the real executable: in one process SQLite shares file handles between connections."""
    def call(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([shutil.which("forecast"), "--db", str(immutable), *args], capture_output=True,
                              text=True, timeout=120)

    before = immutable.read_bytes()
    assert call("evidence", "list").returncode == 0
    refused = call(*WRITES[case])
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith(READ_ONLY) and refused.stderr.count("\n") == 1
    assert immutable.read_bytes() == before


@pytest.mark.parametrize("url", ["sqlite:///file:{path}?mode=ro&uri=true", "sqlite:///{path}?mode=ro"],
                         ids=["uri-form", "mode-ro"])
@pytest.mark.parametrize("case", list(WRITES))
def test_read_only_store_refuses_writes_in_one_line(run, seeded: str, db_path: Path, case: str, url: str) -> None:
    before = snapshot(seeded)
    read_only = url.format(path=db_path)
    assert run("evidence", "list", db=read_only).exit_code == 0
    assert_refused(run(*WRITES[case], db=read_only), "Error: the store is read-only (opened with ?mode=ro): nothing was written")
    assert snapshot(seeded) == before


@pytest.fixture
def full_disk(seeded: str, db_path: Path):
    """A full disk, simulated: every connection may not grow the store beyond its current pages
    (SQLite's ``max_page_count``; a real 600 kB tmpfs gives the same error, see the README)."""
    def cap(dbapi_conn, _record) -> None:
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(Engine, "connect", cap)
    yield seeded
    event.remove(Engine, "connect", cap)


@pytest.mark.parametrize("case", list(WRITES))
def test_full_disk_is_one_line_and_writes_nothing(run, full_disk: Path, case: str) -> None:
    before = snapshot(full_disk)
    assert_refused(run(*WRITES[case]), FULL)
    assert snapshot(full_disk) == before


def test_full_disk_during_import_writes_nothing(run, seeded: str, db_path: Path, tmp_path: Path, request) -> None:
    other, export = tmp_path / "other.db", tmp_path / "new.json"
    assert run(*INIT, db=other).exit_code == 0
    assert run(*WRITES["log statement"], db=other).exit_code == 0
    assert run("export", str(export), db=other).exit_code == 0
    rows = json.loads(export.read_text())
    export.write_text(json.dumps([r for r in rows if r["record"] in ("question", "expert") or r.get("quote") == BIG]))
    request.getfixturevalue("full_disk")
    before = snapshot(seeded)
    assert_refused(run("import", str(export)), FULL)
    assert snapshot(seeded) == before


def test_missing_directory_and_os_errors_are_one_line(run, seeded: str, db_path: Path, tmp_path: Path) -> None:
    assert_refused(run("evidence", "list", db=tmp_path / "no" / "such" / "dir.db"),
                   f"Error: no store at {tmp_path / 'no' / 'such' / 'dir.db'}: `forecast init` creates one")
    assert_refused(run("init", db=tmp_path / "no" / "such" / "dir.db"), "Error: cannot open store sqlite:///")
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    assert_refused(run("export", str(not_a_dir / "out.json")), f"Error: cannot write '{not_a_dir / 'out.json'}': Not a directory")
