"""Hostile files and stores: imports that would break later commands, impossible questions, damaged and empty
stores, tampering that verify must see, the roll-back-and-reseal laundering, and every release's export."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from .conftest import INIT, QUESTION, assert_refused, copy_store, invoke, snapshot

EXPORTS = Path(__file__).resolve().parent / "exports"


@pytest.fixture(scope="module")
def exported(tmp_path_factory, fitted_db: Path) -> list[dict]:
    """The rows of an export with one stored run (a real quick fit) and its results."""
    path = tmp_path_factory.mktemp("export") / "all.json"
    assert invoke(fitted_db, "export", str(path), "--runs").exit_code == 0
    return json.loads(path.read_text())


def _first(rows: list[dict], record: str) -> dict:
    return next(r for r in rows if r["record"] == record)


def _raw(text: str):
    return lambda rows: text


def _row(record: str, **values):
    def mutate(rows: list[dict]) -> list[dict]:
        _first(rows, record).update(values)
        return rows
    return mutate


FUTURE = "2099-01-01T00:00:00+00:00"
IMPORTS = {
    "null row": (_raw("[null]"), "row 1 is null, not an object"),
    "NaN literal": (_raw('[{"record": "expert", "probability": NaN}]'), "NaN is not a JSON number"),
    "repeated key": (_raw('[{"record": "expert", "name": "a", "name": "b"}]'), "key 'name' appears twice in one object"),
    "lone surrogate": (_raw('[{"record": "expert", "name": "\\ud800"}]'), "a lone surrogate"),
    "not a list": (_raw('{"record": "expert"}'), "expected a list of rows"),
    "version -3": (_row("question", version=-3), "question version -3 is less than 1"),
    "version 0": (_row("question", version=0), "question version 0 is less than 1"),
    "version 2.5": (_row("question", version=2.5), "question version '2.5' is not a whole number"),
    "version huge": (_row("question", version=99999999999999999999), "question version 99999999999999999999 is more"),
    "garbage draws": (_row("run", posterior="bm90IGRyYXdz"), "run 1: its draws cannot be read"),
    "draws not base64": (_row("run", posterior="***"), "run 1: its draws are not valid base64"),
    "future created_at": (_row("run", created_at=FUTURE), "run created_at 2099-01-01T00:00:00+00:00 is in the future"),
    "future as_of": (_row("run", as_of="2099-01-01"), "run as_of 2099-01-01 is in the future"),
    "seed -1": (_row("run", seed="-1"), "seed -1 is less than 0"),
    "Arabic digits in as_of": (_row("run", as_of="٢٠٢٥-01-01"), "date '٢٠٢٥-01-01' contains the digit '٢'"),
    "headline {}": (_row("result", headline="{}"), "result headline lacks 'checkpoints'"),
    "monthly a string": (_row("result", monthly='"often"'), "result 'monthly' must be a JSON list"),
    "monthly too short": (_row("result", monthly="[1.0]"), "result monthly must be a list of"),
    "monthly not summing to 1": (lambda rows: _shrunk(rows), "result monthly sums to"),
}


def _shrunk(rows: list[dict]) -> list[dict]:
    result = _first(rows, "result")
    result["monthly"] = json.dumps([v / 2 for v in json.loads(result["monthly"])])
    return rows


@pytest.mark.parametrize("case", list(IMPORTS))
def test_imports_that_would_break_later_commands_are_refused(exported: list[dict], tmp_path: Path, case: str) -> None:
    mutate, message = IMPORTS[case]
    changed = mutate(json.loads(json.dumps(exported)))
    path = tmp_path / "bad.json"
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed, ensure_ascii=False))
    target = tmp_path / "target.db"
    result = invoke(target, "import", str(path))
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not target.exists() or invoke(target, "question", "list", "--json").output.strip() in ("[]", "")


def test_a_checked_export_with_runs_imports_and_shows(exported: list[dict], tmp_path: Path) -> None:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(exported, ensure_ascii=False))
    target = tmp_path / "target.db"
    assert invoke(target, "import", str(path)).exit_code == 0
    assert invoke(target, "show", QUESTION).exit_code == 0 and invoke(target, "verify").exit_code == 0


def _question_file(tmp_path: Path, slug: str, start: str, end: str, extra: str = "") -> Path:
    path = tmp_path / f"{slug}.toml"
    path.write_text(f'[question]\nslug = "{slug}"\ntitle = "When?"\nkind = "date"\nhorizon_start = "{start}"\n'
                    f'horizon_end = "{end}"\ncriteria = "It happens."\n{extra}')
    return path


def test_the_old_treaty_table_is_read_as_notice(run, seeded, tmp_path: Path) -> None:
    path = _question_file(tmp_path, "zenda", "2030-01", "2035-12",
                          '[treaty]\nnotice_months = { value = 18, why = "the treaty\'s article 9" }\n')
    assert run("question", "add", str(path)).exit_code == 0
    shown = json.loads(run("question", "show", "zenda", "--json").output)
    assert shown["notice"]["months"] == 18 and shown["notice"]["compliance_mean"] == 0.9  # the rest from the recipe


@pytest.mark.parametrize("start, end, extra, message", [
    ("0000-01", "0005-12", "", "[question] the horizon must lie between 1900-01 and 2199-12"),
    ("2190-01", "2205-12", "", "[question] the horizon must lie between 1900-01 and 2199-12"),
    ("2030-01", "2035-12", 'precluded_by = "zenda"\n', "[question] precluded_by names the question itself"),
    ("2030-01", "2035-12", 'precluded_by = "iss-retirment"\n', "precluded_by 'iss-retirment' is not in the store "
                                                               "(did you mean 'iss-retirement'?): add that question first"),
    ("2030-01", "2035-12", '[treaty]\nnotice_months = { value = 12, why = "old name" }\n'
                           '[notice]\nmonths = { value = 12, why = "new name" }\n',
     "[treaty] is the old name of [notice]; give one of them, not both"),
], ids=["year-0", "past-2199", "itself", "unknown", "treaty-and-notice"])
def test_impossible_questions_are_refused(run, seeded, tmp_path: Path, start, end, extra, message) -> None:
    before = snapshot(seeded)
    path = _question_file(tmp_path, "zenda", start, end, extra)
    result = run("question", "add", str(path))
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert snapshot(seeded) == before


@pytest.fixture
def store(fitted_db: Path, tmp_path: Path) -> Path:
    """A private copy of the seed store with one stored run."""
    return copy_store(fitted_db, tmp_path / "forecast.db")


def _sql(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


PRIORS = "(SELECT value FROM store_setting WHERE key = 'reliability_priors')"
TAMPERING = {
    "status and resolution": (f"UPDATE question SET status = 'resolved', resolution = '2025-01' WHERE slug = '{QUESTION}'",
                              f"question '{QUESTION}' (#2) was changed outside forecast"),
    "definition's prior": (f"UPDATE question SET definition = replace(definition, '\"value\": 0.08,', "
                           f"'\"value\": 0.9,') WHERE slug = '{QUESTION}'", f"question '{QUESTION}' (#2) was changed"),
    "horizon end": (f"UPDATE question SET horizon_end = '2040-12' WHERE slug = '{QUESTION}'",
                    f"question '{QUESTION}' (#2) was changed outside forecast"),
    "reliability prior in range": ("UPDATE store_setting SET value = replace(value, '0.55', '0.98')",
                                   "setting 'reliability_priors' was changed outside forecast"),
    "reliability prior out of range": ("UPDATE store_setting SET value = replace(value, '0.55', '7.5')",
                                       "setting 'reliability_priors' was changed outside forecast"),
    "triggers dropped": ("DROP TRIGGER statement_append_only", "trigger statement_append_only is missing"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_seen_by_verify_and_refused_by_run(store: Path, case: str) -> None:
    statement, problem = TAMPERING[case]
    assert invoke(store, "verify").exit_code == 0
    _sql(store, statement)
    verified = invoke(store, "verify")
    assert verified.exit_code == 2 and problem in verified.output + verified.stderr, verified.output
    assert_refused(invoke(store, "run", "--draws", "10", "--tune", "10", "--chains", "1", "--quiet"),
                   "Error: the store was changed outside forecast")


def test_a_changed_question_is_not_changed_further(store: Path) -> None:
    _sql(store, f"UPDATE question SET status = 'resolved', resolution = '2025-01' WHERE slug = '{QUESTION}'")
    before = snapshot(store)
    assert_refused(invoke(store, "question", "edit", QUESTION, "--title", "Reworded"),
                   "Error: question 2 was changed outside forecast, so forecast will not change it further")
    assert snapshot(store) == before


def test_a_damaged_unique_index_is_refused_before_anything_is_written(store: Path) -> None:
    """The uid index pointed at another index's pages: SQLite's quick check finds the page counted twice, and
    every command refuses the store in one line, writing nothing."""
    with sqlite3.connect(store) as conn:
        conn.execute("CREATE TABLE spare (uid VARCHAR UNIQUE)")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_spare_1'").fetchone()[0]
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 'sqlite_autoindex_statement_1'", (root,))
    conn.close()
    before = store.read_bytes()
    for command in (["evidence", "list"], ["log", "observation", "--question", QUESTION, "--kind", "event-not-yet",
                                           "--date", "2024-01-02", "--source", "x"], ["verify"]):
        result = invoke(store, *command)
        assert result.exit_code == 2 and result.stderr.startswith("Error: the store is corrupt (quick_check:"), \
            result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert store.read_bytes() == before


def test_the_roll_back_and_reseal_laundering_is_refused(store: Path) -> None:
    _sql(store, "DROP TRIGGER statement_immutable", "UPDATE statement SET quote = 'laundered' WHERE id = 1",
         "DROP TABLE integrity_row", "DROP TABLE integrity_chain", "DROP TABLE integrity_state",
         "DELETE FROM schema_migration WHERE name >= '0005'")
    before = store.read_bytes()
    assert_refused(invoke(store, "evidence", "list"), "Error: the store's migration record is older than its tables: "
                   "it lacks '0005_tamper_evidence' but has trigger observation_immutable")
    assert store.read_bytes() == before


@pytest.mark.parametrize("command", [["evidence", "list"], ["export", "x.json"], ["verify"], ["show"], ["run"],
                                     ["log", "statement", "--help"]])
def test_an_empty_file_is_not_a_store(tmp_path: Path, command: list[str], monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "forecast.db"
    empty.write_bytes(b"")
    result = invoke(empty, *command)
    if command[-1] == "--help":
        assert result.exit_code == 0  # help needs no store
        return
    assert_refused(result, f"Error: {empty} is not a forecast store (an empty file); `forecast init` makes one there")
    assert empty.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["forecast.db"]
    assert invoke(empty, *INIT).exit_code == 0  # init makes one there


@pytest.mark.parametrize("command", [["evidence", "list"], ["export", "x.json"], ["question", "list"]])
def test_bytes_overwritten_mid_file_stop_read_commands(store: Path, command: list[str], tmp_path: Path,
                                                       monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(store.read_bytes())
    data[len(data) // 2: len(data) // 2 + 4096] = b"\xff" * 4096
    store.write_bytes(bytes(data))
    result = invoke(store, *command)
    assert result.exit_code == 2 and "the store is corrupt" in result.stderr, result.stderr
    assert not (tmp_path / "x.json").exists()


RELEASES = sorted(EXPORTS.glob("release-*"))


def _rows_of(path: Path) -> list[dict]:
    if path.suffix == ".json":
        return json.loads(path.read_text())
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("path", RELEASES, ids=[p.name for p in RELEASES])
def test_every_release_export_imports(path: Path, tmp_path: Path) -> None:
    target = tmp_path / "new.db"
    result = invoke(target, "import", str(path))
    assert result.exit_code == 0, result.stderr
    questions = sum(row["record"] == "question" for row in _rows_of(path))
    assert f"Imported {questions} question(s)" in result.output
    listed = json.loads(invoke(target, "evidence", "list", "--all", "--json").output)
    assert any(row.get("kind") == "event-not-yet" and row.get("note") == "crew rotation" for row in listed)
    assert any(row.get("source", "").startswith("fixture,") for row in listed)
    assert invoke(target, "verify").exit_code == 0


def test_release_fixtures_cover_every_landed_release() -> None:
    names = {p.name for p in RELEASES}
    assert {"release-2026-11-24.json", "release-2026-11-25a.json", "release-2026-11-25b.json",
            "release-2026-11-25b-runs.json"} <= names
