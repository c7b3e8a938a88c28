"""Hostile input on every write path: a one-line error, exit 2, and the store unchanged (issue 11)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import QUESTION, REPORTER, assert_refused, log_args, snapshot
from .worlds import World

OBSERVE = ["log", "observation", "--question", QUESTION, "--kind", "formal-notice", "--source", "TASS", "--date"]
FUTURE = "Error: as-of date 2099-01-01 is in the future"

EVIDENCE_CASES = {
    "Latin-1 byte in --quote": (log_args(quote="caf\udce9"), "Error: quote is not valid UTF-8: byte 0xE9 at character 4"),
    "unpaired surrogate": (log_args(quote="a\ud800"), "Error: quote is not valid UTF-8: unpaired surrogate U+D800"),
    "NUL in --quote": (log_args(quote="a\x00b"), "Error: quote contains control character U+0000 at character 2"),
    "terminal escape in --quote": (log_args(quote="\x1b]8;;https://evil.example\x1b\\click"),
                                   "Error: quote contains control character U+001B at character 1"),
    "lone carriage return": (log_args(quote="a\rb"), "Error: quote contains control character U+000D"),
    "C1 control": (log_args(quote="a\x85b"), "Error: quote contains control character U+0085"),
    "DEL in --source": (log_args(source="https://x\x7f"), "Error: source contains control character U+007F"),
    "bell in --rationale": (log_args(rationale="\x07"), "Error: rationale contains control character U+0007"),
    "quote too long": (log_args(quote="x" * 10_001), "Error: quote is 10001 characters long; the limit is 10000"),
    "claim too long": (log_args(claim="after 2025" + " " * 200), "Error: claim is 210 characters long; the limit is 200"),
    "source too long": (log_args(source="s" * 2_001), "Error: source is 2001 characters long; the limit is 2000"),
    "statement before 1900": (log_args(date="1899-12-31"), "Error: date 1899-12-31 is before 1900-01-01"),
    "notice dated 0001-01-01": (OBSERVE + ["0001-01-01"], "Error: date 0001-01-01 is before 1900-01-01"),
    "notice before the horizon": (OBSERVE + ["2022-06-30"],
                                  "Error: observation date 2022-06-30 is before the horizon of 'russia-iss-withdrawal' (from 2022-07)"),
    "NUL in --note": (OBSERVE + ["2023-01-01", "--note", "\x00"], "Error: note contains control character U+0000"),
    "expert name with escape": (["expert", "add", "Eve\x1b[2J", "--kind", "other"], "Error: name contains control character U+001B"),
    "blank alias": (["expert", "add", "Eve", "--kind", "other", "--alias", " "], "Error: aliases contains a blank name"),
    "role too long": (["expert", "add", "Eve", "--kind", "other", "--role", "r" * 201], "Error: role is 201 characters long"),
    "retraction reason with NUL": (["retract", "S1", "--reason", "typo\x00"], "Error: reason contains control character U+0000"),
    "not within the horizon before it ends": (
        ["resolve", QUESTION, "--not-within-horizon", "--source", "s"],
        "Error: the horizon of 'russia-iss-withdrawal' runs to 2032-12: it can resolve 'not within the horizon' from 2033-01-01 on"),
    "resolved in a future month": (["resolve", QUESTION, "--date", "2030-01", "--source", "s"],
                                   "Error: date 2030-01-01 is in the future"),
    "resolution source with escape": (["resolve", QUESTION, "--annul", "--source", "\x1b[31m"],
                                      "Error: resolution source contains control character U+001B"),
}

RUN_CASES = {
    "run --as-of 2099-01-01": (["run", "--as-of", "2099-01-01"], FUTURE),
    "run --as-of before 1900": (["run", "--as-of", "1899-12-31"], "Error: as-of date 1899-12-31 is before 1900-01-01"),
    "run --known-at year 1 in +01:00": (["run", "--known-at", "0001-01-01T00:00:00+01:00"],
                                        "Error: Invalid value for '--known-at': timestamp '0001-01-01T00:00:00+01:00' is out of range"),
    "run --known-at before 1900": (["run", "--known-at", "1800-01-01"],
                                   "Error: known-at time 1800-01-01T23:59:59.999999+00:00 is before"),
    "run --known-at in the future": (["run", "--known-at", "2099-01-01T00:00:00Z"],
                                     "Error: known-at time 2099-01-01T00:00:00+00:00 is in the future"),
    "run --seed -1": (["run", "--seed", "-1"], "Error: seed -1 is less than 0, the smallest allowed"),
    "run --seed 2**32": (["run", "--seed", str(2**32)], "Error: seed 4294967296 is more than 4,294,967,295, the largest allowed"),
    "backtest --from 9999-12-01": (["backtest", QUESTION, "--from", "9999-12-01"],
                                   "Error: --from date 9999-12-01 is in the future"),
    "backtest --to 9999-12-31": (["backtest", QUESTION, "--from", "2023-01-01", "--to", "9999-12-31"],
                                 "Error: --to date 9999-12-31 is in the future"),
    "backtest --from before 1900": (["backtest", QUESTION, "--from", "1899-01-01"],
                                    "Error: --from date 1899-01-01 is before 1900-01-01"),
    "backtest --seed -1": (["backtest", QUESTION, "--from", "2023-01-01", "--seed", "-1"], "Error: seed -1 is less than 0"),
}

# Row references past PostgreSQL's INTEGER keys (SQLite's go further): not found, asked of either database.
ROW_REFERENCE_CASES = {
    "retract S99999999999999999999": (["retract", "S99999999999999999999", "--reason", "r"],
                                      "Error: no evidence 'S99999999999999999999' in the store"),
    "retract the largest row id": (["retract", "S9223372036854775807", "--reason", "r"],
                                   "Error: no evidence 'S9223372036854775807'"),
    "retract one past PostgreSQL's largest INTEGER": (["retract", "O2147483648", "--reason", "r"],
                                                      "Error: no evidence 'O2147483648'"),
    "show --run 99999999999999999999": (["show", "--run", "99999999999999999999"],
                                        "Error: no forecast run 99999999999999999999"),
}


@pytest.mark.parametrize("case", list(EVIDENCE_CASES))
def test_hostile_evidence_is_refused_and_nothing_stored(run, seeded: Path, case: str) -> None:
    args, message = EVIDENCE_CASES[case]
    before = snapshot(seeded)
    assert_refused(run(*args, "--no-update") if args[0] == "log" else run(*args), message)
    assert snapshot(seeded) == before


@pytest.fixture
def no_fit(monkeypatch):
    """Building the model fails the test: every refusal must come before anything is compiled."""
    def compile_model(*_args, **_kwargs):
        raise AssertionError("the model was built before the input was checked")

    monkeypatch.setattr("forecast.runs.fitting.DateModel", compile_model)
    monkeypatch.setattr("forecast.scoring.backtest.DateModel", compile_model)


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_bad_run_inputs_are_refused_before_compiling(run, seeded: Path, no_fit, case: str) -> None:
    args, message = RUN_CASES[case]
    before = snapshot(seeded)
    assert_refused(run(*args), message)
    assert snapshot(seeded) == before


@pytest.mark.every_backend
@pytest.mark.parametrize("case", list(ROW_REFERENCE_CASES))
def test_row_references_beyond_the_integer_keys_are_not_found(run, seeded: Path, case: str) -> None:
    args, message = ROW_REFERENCE_CASES[case]
    before = snapshot(seeded)
    assert_refused(run(*args), message)
    assert snapshot(seeded) == before


def test_latin1_argument_from_a_real_shell_is_refused(seeded: Path) -> None:
    """The bytes a Latin-1 terminal sends arrive as a surrogate escape in the real executable."""
    exe = shutil.which("forecast")
    args = [exe, "--db", str(seeded), *log_args(quote="caf"), "--no-update"]
    args = [arg.encode() for arg in args]
    args[args.index(b"caf")] = b"caf\xe9"
    before = snapshot(seeded)
    done = subprocess.run(args, capture_output=True, env={**os.environ, "LC_ALL": "C.UTF-8"}, timeout=120)
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.decode().startswith("Error: quote is not valid UTF-8: byte 0xE9 at character 4")
    assert done.stderr.count(b"\n") == 1
    assert snapshot(seeded) == before


def test_windows_newlines_are_stored_as_newlines(run, seeded: Path) -> None:
    assert run(*log_args(quote="line one\r\nline two\tend"), "--no-update").exit_code == 0
    rows = json.loads(run("evidence", "list", "--expert", REPORTER, "--json").output)
    assert rows[-1]["quote"] == "line one\nline two\tend"


@pytest.mark.every_backend
def test_longest_allowed_text_is_accepted(run, seeded: Path) -> None:
    logged = run(*log_args(quote="q" * 10_000, source="s" * 2_000, claim="after 2025" + " " * 190), "--no-update")
    assert logged.exit_code == 0, logged.stderr


def test_expert_name_with_mathtext_is_stored_and_shown(run, seeded: Path) -> None:
    name = "Dr $\\frac{$ Evil"
    assert run("expert", "add", name, "--kind", "other").exit_code == 0
    assert run(*log_args(expert=name), "--no-update").exit_code == 0
    shown = json.loads(run("expert", "show", name, "--json").output)
    assert shown["name"] == name and len(shown["statements"]) == 1
    assert name in run("evidence", "list").output


def test_not_within_the_horizon_once_it_has_ended(run, tmp_path: Path) -> None:
    world = World(tmp_path)
    world.question("ended", start="2019-01", end="2021-12")
    world.question("running", start="2024-01", end="2099-12")
    db = tmp_path / "world.db"
    resolved = run("resolve", "ended", "--not-within-horizon", "--source", "archive", db=db)
    assert (resolved.exit_code, resolved.output) == (0, "ended resolved: not within the horizon.\n")
    assert_refused(run("resolve", "running", "--not-within-horizon", "--source", "s", db=db),
                   "Error: the horizon of 'running' runs to 2099-12: it can resolve 'not within the horizon' from 2100-01-01 on")
