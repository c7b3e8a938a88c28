"""Export and import: exact round trips, and broken or duplicate files rejected whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.cli import cli
from forecast.errors import DuplicateError, InputError
from forecast.store import open_store
from forecast.transfer import export_store, import_store

from .conftest import QUESTION, log_args, snapshot, sqlite_only


@pytest.fixture
def busy_store(run, seeded: str) -> str:
    """The seed store plus a hedged statement with a probability, a retraction and a supersession."""
    assert run(*log_args(probability="0.65", strength="hedged", rationale="tweet, 'probably'")).exit_code == 0
    assert run("retract", "S2", "--reason", "paraphrase").exit_code == 0
    assert run(*log_args(expert="Dreier", claim="after 2026", supersedes="S4")).exit_code == 0
    assert run("log", "observation", "--question", QUESTION, "--kind", "still-participating", "--date", "2025-03-01",
               "--source", "crew rotation", "--supersedes", "O3").exit_code == 0
    return seeded


def _export(db: str, out: Path) -> Path:
    with open_store(db).session() as session:
        export_store(session, out)
    return out


def _import(db: str, source: Path) -> dict:
    with open_store(db).session() as session:
        return import_store(session, source)


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_round_trip_into_empty_store_is_exact(busy_store: str, make_db, tmp_path: Path, suffix: str) -> None:
    first = _export(busy_store, tmp_path / f"first.{suffix}")
    copy = make_db()
    _import(copy, first)
    second = _export(copy, tmp_path / f"second.{suffix}")
    assert second.read_bytes() == first.read_bytes()
    tables = ("question", "expert", "statement", "observation")
    original = [line for line in snapshot(busy_store) if line.startswith(tuple(f'INSERT INTO "{t}"' for t in tables))]
    copied = [line for line in snapshot(copy) if line.startswith(tuple(f'INSERT INTO "{t}"' for t in tables))]
    assert copied == original


def test_duplicate_import_is_refused_and_store_unchanged(busy_store: str, tmp_path: Path) -> None:
    export = _export(busy_store, tmp_path / "all.csv")
    before = snapshot(busy_store)
    with pytest.raises(DuplicateError, match=r"row 11: duplicate import: this statement is already in the store as S1"):
        _import(busy_store, export)
    assert snapshot(busy_store) == before


BROKEN = {
    "unterminated quote": ('record,slug\n"question,q\n', "broken CSV in .*EOF inside string"),
    "no record column": ("slug,title\nq,Q\n", "no 'record' column"),
    "empty file": ("", "broken CSV in .*No columns to parse"),
    "unknown record": ("record,slug\nrumour,q\n", "row 2: unknown record type 'rumour'"),
    "missing columns": ("record,slug\nquestion,q\n", "row 2: question lacks column 'title'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_csv_is_refused_and_store_unchanged(seeded: str, tmp_path: Path, case: str) -> None:
    text, message = BROKEN[case]
    path = tmp_path / "broken.csv"
    path.write_text(text)
    before = snapshot(seeded)
    with pytest.raises(InputError, match=message):
        _import(seeded, path)
    assert snapshot(seeded) == before


def test_bad_row_late_in_file_writes_nothing(busy_store: str, make_db, tmp_path: Path) -> None:
    export = _export(busy_store, tmp_path / "all.csv")
    lines = export.read_text().splitlines()
    lines[-1] = lines[-1].replace("2025-03-01", "2025-02-30")
    export.write_text("\n".join(lines) + "\n")
    target = make_db()
    open_store(target)
    before = snapshot(target)
    with pytest.raises(InputError, match=f"row {len(lines)}: malformed date '2025-02-30'"):
        _import(target, export)
    assert snapshot(target) == before


def test_tampered_encoding_is_refused(busy_store: str, make_db, tmp_path: Path) -> None:
    export = _export(busy_store, tmp_path / "all.json")
    export.write_text(export.read_text().replace('"claim_start":"2025-01"', '"claim_start":"2024-01"', 1))
    with pytest.raises(InputError, match="claim 'after 2024' does not encode to 2024-01 .. None"):
        _import(make_db(), export)


def test_broken_json_is_refused(seeded: str, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"record": "question", ')
    with pytest.raises(InputError, match="broken JSON in"):
        _import(seeded, path)


@sqlite_only
@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_moving_a_store_to_postgres_and_back_is_exact(busy_store: str, pg_server, tmp_path: Path, suffix: str) -> None:
    """A team moves a local store to its server, logs there, and takes a copy home: every export is identical."""
    first = _export(busy_store, tmp_path / f"sqlite.{suffix}")
    shared = pg_server.create_database()
    _import(shared, first)
    assert _export(shared, tmp_path / f"postgres.{suffix}").read_bytes() == first.read_bytes()
    logged = CliRunner().invoke(cli, ["--db", shared, *log_args(expert="Nelson", claim="in 2030", quote="Ünïcode")])
    assert logged.exit_code == 0, logged.output
    grown = _export(shared, tmp_path / f"grown.{suffix}")
    home = str(tmp_path / "home.db")
    _import(home, grown)
    assert _export(home, tmp_path / f"home.{suffix}").read_bytes() == grown.read_bytes()
