"""Export and import: exact round trips, and broken or duplicate files rejected whole."""

from __future__ import annotations

import csv
import errno
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import select
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from forecast.basics import files
from forecast.basics.text import FORMULA_STARTS, neutralise_cell, restore_cell
from forecast.cli import cli
from forecast.errors import DuplicateError, InputError, OutputError
from forecast.io.export_files import read_frame, write_export
from forecast.io.transfer import RECORDS, export_store, import_store
from forecast.store import Observation, Statement, open_store

from .conftest import QUESTION, assert_refused, log_args, snapshot, sqlite_only

# Cells a spreadsheet would run as formulas, and text that only looks neutralised already.
FORMULA_CELLS = {"notes": '=HYPERLINK("https://evil.example","click")', "role": "+1 555 0100",
                 "affiliation": "-2+3", "alias": "@SUM(A1:A9)"}


@pytest.fixture
def busy_store(run, seeded: str) -> str:
    """The seed store plus a hedged statement with a probability, a retraction and a supersession."""
    assert run(*log_args(probability="0.65", strength="hedged", rationale="tweet, 'probably'")).exit_code == 0
    assert run("retract", "S2", "--reason", "paraphrase").exit_code == 0
    assert run(*log_args(claim="after 2026", supersedes="S4")).exit_code == 0
    assert run("log", "observation", "--question", QUESTION, "--kind", "still-participating", "--date", "2025-03-01",
               "--source", "crew rotation", "--supersedes", "O3").exit_code == 0
    return seeded


@pytest.fixture
def formula_store(run, busy_store: str) -> str:
    """The busy store plus formula-leading cells in every kind of field, and a line break inside a quote."""
    cells = FORMULA_CELLS
    assert run("expert", "add", "Eve", "--kind", "analyst", "--role", cells["role"], "--affiliation", cells["affiliation"],
               "--alias", cells["alias"], "--notes", cells["notes"]).exit_code == 0
    assert run("expert", "add", "Tab", "--kind", "analyst", "--role", "\tleading tab", "--notes", "'=looks quoted").exit_code == 0
    assert run(*log_args(expert="Eve", quote="=1+1 and a\nline break", source="@source",
                         rationale="-minus first", claim="after 2025")).exit_code == 0
    for change in (["rename", "Tab", "Tab Renamed", "--note", "=fixture note"], ["merge", "Eve", "Tab", "--by", "Analyst B"],
                   ["rename", "Tab", "Tab Twice"]):  # the merge row names 'Tab Renamed', the name then
        assert run("expert", *change).exit_code == 0
    return busy_store


def _export(db: str, out: Path) -> Path:
    with open_store(db).session() as session:
        export_store(session, out)
    return out


def _import(db: str, source: Path) -> dict:
    with open_store(db).session() as session:
        return import_store(session, source)


@pytest.mark.every_backend
@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_round_trip_into_empty_store_is_exact(formula_store: str, make_db, tmp_path: Path, suffix: str) -> None:
    first = _export(formula_store, tmp_path / f"first.{suffix}")
    copy = make_db()
    _import(copy, first)
    second = _export(copy, tmp_path / f"second.{suffix}")
    assert second.read_bytes() == first.read_bytes()
    tables = ("question", "expert", "statement", "observation", "expert_change")
    original = [line for line in snapshot(formula_store) if line.startswith(tuple(f'INSERT INTO "{t}"' for t in tables))]
    copied = [line for line in snapshot(copy) if line.startswith(tuple(f'INSERT INTO "{t}"' for t in tables))]
    assert copied == original


@pytest.mark.every_backend
def test_renames_and_merges_travel_with_an_export(formula_store: str, make_db, tmp_path: Path) -> None:
    export = _export(formula_store, tmp_path / "all.json")
    changes = [row for row in json.loads(export.read_text()) if row["record"] == "expert_change"]
    assert [(c["expert"], c["kind"], c["name"], c["into"]) for c in changes] == [
        ("Tab", "rename", "Tab Renamed", None), ("Eve", "merge", "Tab Renamed", "Tab"), ("Tab", "rename", "Tab Twice", None)]
    assert changes[1]["author"] == "Analyst B"
    copy = make_db()
    imported = CliRunner().invoke(cli, ["--db", copy, "import", str(export)])
    assert imported.exit_code == 0 and "3 expert change(s)" in imported.output, imported.output
    for command in (["expert", "list", "--json"], ["expert", "show", "Eve", "--json"], ["evidence", "list", "--json"]):
        original, rebuilt = (CliRunner().invoke(cli, ["--db", db, *command]) for db in (formula_store, copy))
        assert rebuilt.exit_code == 0 and rebuilt.output == original.output, command
    shown = json.loads(CliRunner().invoke(cli, ["--db", copy, "expert", "show", "Eve", "--json"]).output)
    assert (shown["name"], shown["aliases"][:2]) == ("Tab Twice", ["Tab Renamed", "Tab"])
    assert CliRunner().invoke(cli, ["--db", copy, "verify"]).exit_code == 0


def test_an_expert_change_that_does_not_replay_is_refused(formula_store: str, make_db, tmp_path: Path) -> None:
    export = _export(formula_store, tmp_path / "all.json")
    rows = json.loads(export.read_text())
    merge = next(row for row in rows if row["record"] == "expert_change" and row["kind"] == "merge")
    merge["name"] = "Somebody Else"
    export.write_text(json.dumps(rows))
    copy = make_db()
    with open_store(copy).session():  # the empty store, migrated
        pass
    before = snapshot(copy)
    with pytest.raises(InputError, match=r"row \d+: the merge of 'Eve' does not replay as exported"):
        _import(copy, export)
    assert snapshot(copy) == before


def test_csv_cells_never_start_a_formula(formula_store: str, tmp_path: Path) -> None:
    export = _export(formula_store, tmp_path / "all.csv")
    with export.open(newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    for value in ["\tleading tab", "=1+1 and a\nline break", "@source", "-minus first", *FORMULA_CELLS.values()]:
        if value != FORMULA_CELLS["alias"]:  # aliases are written as a JSON list, so that cell starts with '['
            assert "'" + value in cells, value
    assert json.dumps([FORMULA_CELLS["alias"]]) in cells
    assert "'=looks quoted" not in cells and "''=looks quoted" in cells


def test_a_carriage_return_inside_a_cell_stays_in_its_row(tmp_path: Path) -> None:
    """Input validation keeps a lone \\r out of the store now; an export still quotes one, so it is never
    read as a row break (pandas' reader splits rows at an unquoted \\r)."""
    frame = pd.DataFrame([{"record": "expert", "notes": "one\rtwo", "role": "\rfirst"}, {"record": "expert", "notes": "x"}])
    write_export(frame, tmp_path / "cr.csv")
    read = read_frame(tmp_path / "cr.csv", "csv")
    assert read.to_dict(orient="records") == [{"record": "expert", "notes": "one\rtwo", "role": "\rfirst"},
                                              {"record": "expert", "notes": "x", "role": None}]


@given(st.text())
def test_restoring_a_neutralised_cell_gives_it_back(value: str) -> None:
    safe = neutralise_cell(value)
    assert restore_cell(safe) == value and not safe.startswith(FORMULA_STARTS)


@pytest.mark.parametrize("suffix", ["csv", "json", "literal []"])
def test_empty_store_exports_and_imports_as_nothing(tmp_path: Path, suffix: str) -> None:
    if suffix == "literal []":
        export = tmp_path / "empty.json"
        export.write_text("[]")
    else:
        export = _export(str(tmp_path / "empty.db"), tmp_path / f"empty.{suffix}")
    target = str(tmp_path / "other.db")
    open_store(target)
    before = snapshot(target)
    assert _import(target, export) == dict.fromkeys(RECORDS, 0)  # runs and results too
    assert snapshot(target) == before


def _fail_fsync(monkeypatch) -> None:
    def fsync(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(files.os, "fsync", fsync)


def _fail_half_way(monkeypatch) -> None:
    """The temporary file takes half the bytes, then the disk is full."""
    real = files.os.fdopen

    def fdopen(fd, mode):
        handle = real(fd, mode)
        write = handle.write

        def half(data):
            write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        handle.write = half
        return handle
    monkeypatch.setattr(files.os, "fdopen", fdopen)


@pytest.mark.parametrize("failure", [_fail_fsync, _fail_half_way], ids=["at fsync", "half-way through writing"])
@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_failed_export_leaves_the_old_file_intact(busy_store: str, db_path: Path, tmp_path: Path, monkeypatch, failure,
                                                 suffix) -> None:
    target = tmp_path / f"export.{suffix}"
    target.write_text("the previous, good export\n")
    target.chmod(0o640)
    failure(monkeypatch)
    with pytest.raises(OutputError, match=f"cannot write .*export.{suffix}'.*No space left on device; any existing file is unchanged"):
        _export(busy_store, target)
    assert target.read_text() == "the previous, good export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export." + suffix, "forecast.db", "forecast.db-shm", "forecast.db-wal"]
    monkeypatch.undo()
    _export(busy_store, target)
    assert target.read_text().startswith(("[", '"record"')) and target.stat().st_mode & 0o777 == 0o640


@pytest.mark.every_backend
def test_duplicate_import_is_refused_and_store_unchanged(busy_store: str, tmp_path: Path) -> None:
    export = _export(busy_store, tmp_path / "all.csv")
    before = snapshot(busy_store)
    with pytest.raises(DuplicateError, match=r"row \d+: duplicate import: this statement is already in the store as S1"):
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


@pytest.mark.every_backend
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
    with pytest.raises(InputError, match=r"row \d+: claim '[^']+' does not encode to 2024-01 .. None"):
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
    logged = CliRunner().invoke(cli, ["--db", shared, *log_args(claim="in 2030", quote="Ünïcode")])
    assert logged.exit_code == 0, logged.output
    grown = _export(shared, tmp_path / f"grown.{suffix}")
    home = str(tmp_path / "home.db")
    _import(home, grown)
    assert _export(home, tmp_path / f"home.{suffix}").read_bytes() == grown.read_bytes()


@pytest.mark.every_backend
def test_revisions_travel_with_an_export(run, busy_store: str, make_db, tmp_path: Path) -> None:
    """Corrections that keep their row's content (a new probability or URL) have uids of their own, and an
    import replays them; each superseded row's reason names its successor as the copy numbers it."""
    # (Refs are read back: PostgreSQL's sequences skip the ids of the edit's rolled-back trial.)
    ref = "S9"
    for change in (["--probability", "0.7", "--url", "https://example.org/corrected"], ["--probability", "75%"]):
        edited = run("evidence", "edit", ref, *change, "--yes", "--no-update")
        assert edited.exit_code == 0, edited.output
        ref = re.search(r"Logged (S\d+)", edited.output).group(1)
    live = [row["ref"] for row in json.loads(run("evidence", "list", "--json").output)
            if row["type"] == "observation" and row["source"] == "crew rotation"]
    assert run("evidence", "edit", live[-1], "--url", "https://example.org/rotation", "--yes", "--no-update").exit_code == 0
    first = json.loads(_export(busy_store, tmp_path / "first.json").read_text())
    copy = make_db()
    _import(copy, tmp_path / "first.json")
    second = json.loads(_export(copy, tmp_path / "second.json").read_text())

    def evidence(export: list[dict]) -> list[tuple]:
        return sorted((r["uid"], r.get("probability"), r["url"], r["superseded_by"])
                      for r in export if r["record"] in ("statement", "observation"))

    assert evidence(second) == evidence(first)
    chain = [r for r in second if r["record"] == "statement" and r["source"] == "https://example.org/fixture"
             and r["probability"]]
    assert sorted(r["probability"] for r in chain) == ["0.65", "0.7", "0.75"] and len({r["uid"] for r in chain}) == 3
    with open_store(copy).session() as session:
        for table, prefix in ((Statement, "S"), (Observation, "O")):
            for row in session.exec(select(table).where(table.superseded_by_id.is_not(None))):
                assert row.retraction_reason == f"superseded by {prefix}{row.superseded_by_id}"
    assert "all as forecast wrote them" in CliRunner().invoke(cli, ["--db", copy, "verify"]).output


@pytest.mark.every_backend
def test_the_prior_set_in_force_travels_with_an_export(run, make_db, tmp_path: Path) -> None:
    """A copy made by export and import forecasts from the same priors (before, it fell back to the hand-set ones)."""
    source = make_db()
    assert run("init", db=source).exit_code == 0  # stores the shipped prior set, learned from the casebook
    assert json.loads(run("question", "show", QUESTION, "--json", db=source).output)["prior_set"] == "learned v1"
    out = tmp_path / "store.json"
    assert run("export", str(out), db=source).exit_code == 0
    copy = make_db()
    imported = run("import", str(out), db=copy)
    assert imported.output.startswith("Imported 1 prior set(s), 2 question(s)"), imported.output
    assert json.loads(run("question", "show", QUESTION, "--json", db=copy).output)["prior_set"] == "learned v1"
    assert run("learn", "--show", db=copy).output == run("learn", "--show", db=source).output
    rows = json.loads(out.read_text())
    rows[0]["prior_values"] = json.dumps({**json.loads(rows[0]["prior_values"]), "weights.half_life_years": 9.0})
    other = tmp_path / "other.json"
    other.write_text(json.dumps(rows))
    before = snapshot(copy)
    assert_refused(run("import", str(other), db=copy), "Error: row 2: the store's prior set v1 differs from the "
                                                       "export's: import into a new store")
    assert snapshot(copy) == before


@pytest.mark.parametrize(("values", "message"), [
    ("not json", "a prior set's prior_values and prior_provenance must be JSON objects"),
    ("[1, 2]", "a prior set's prior_values and prior_provenance must be JSON objects"),
    ('{"no.such.value": 1}', "import: prior set v1"),
])
def test_a_broken_prior_set_row_is_refused(run, make_db, tmp_path: Path, values: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps([{"record": "prior_set", "version": "1", "created_at": "2026-12-01T00:00:00+00:00",
                                 "prior_values": values, "prior_provenance": "{}"}]))
    copy = make_db()
    result = run("import", str(path), db=copy)
    assert result.exit_code == 2 and message in result.output, result.output
