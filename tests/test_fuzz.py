"""Fuzzing that stays: every CLI write command, and import, with arbitrary text, dates and numbers.

After any input the command exits 0 or 2 (2 with exactly one ``Error:`` line on stderr), and the
store is unchanged, or holds exactly the one change that command makes. Each example runs on a
fresh copy of the seeded store; 400 examples in all, in well under a minute.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from forecast.cli import cli
from forecast.io.transfer import COLUMNS, FIELDS
from forecast.store.vocab import EXPERT_KINDS, OBSERVATION_KINDS

from .conftest import QUESTION

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TABLES = ("question", "expert", "statement", "observation", "forecast_run")
HOSTILE = "\x00\x01\x07\t\n\r\x1b\x7f\x85\u202e\udce9\ud800 a9$\\{}é'\"<>&|=+-@/."

text = st.one_of(
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40),  # mostly accepted
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(HOSTILE), max_size=12),
    st.sampled_from(["", " ", "x" * 200, "x" * 201, "x" * 2_000, "x" * 2_001, "x" * 10_000, "x" * 10_001]),
)
dates = st.one_of(
    st.dates().map(dt.date.isoformat),
    st.sampled_from(["0001-01-01", "1899-12-31", "1900-01-01", "2022-06-30", "2099-01-01", "9999-12-31", "2022-02-30"]),
    text,
)
numbers = st.one_of(st.floats().map(repr), st.integers(-3, 3).map(str), st.sampled_from(["0.5", "nan", "1e309"]), text)
refs = st.one_of(st.sampled_from(["S1", "s3", "O1", "S9", "O0", "S99999999999999999999"]),
                 st.from_regex(r"\A[SOX][0-9]{1,22}\Z"), text)
claims = st.one_of(st.sampled_from(["after 2024", "by 2030", "between 2025 and 2027", "before 1900", "after 9999"]),
                   text)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A seeded store, checkpointed so that its file can be copied."""
    path = tmp_path_factory.mktemp("fuzz") / "template.db"
    assert CliRunner().invoke(cli, ["--db", str(path), "init"]).exit_code == 0
    assert CliRunner().invoke(cli, ["--db", str(path), *ADD_EXPERT]).exit_code == 0
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


_copies = itertools.count()


def _rows(path: Path) -> dict[str, dict[int, tuple]]:
    with sqlite3.connect(path) as conn:
        return {t: {row[0]: row for row in conn.execute(f"SELECT * FROM {t}")} for t in TABLES}


def _delta(before: dict, after: dict) -> tuple[int, int, int]:
    """(rows added, rows changed, rows removed) across the tables."""
    added = sum(len(after[t].keys() - before[t].keys()) for t in TABLES)
    removed = sum(len(before[t].keys() - after[t].keys()) for t in TABLES)
    changed = sum(before[t][i] != after[t][i] for t in TABLES for i in before[t].keys() & after[t].keys())
    return added, changed, removed


def check(template: Path, args: list[str], allowed: set[tuple[int, int]]) -> str:
    """Run one command on a fresh copy of the store and check the outcome; returns its stderr."""
    db = template.with_name(f"copy{next(_copies)}.db")
    shutil.copy(template, db)
    before = _rows(db)
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    added, changed, removed = _delta(before, _rows(db))
    assert result.exit_code in (0, 2), (args, result.output)
    event(f"exit {result.exit_code}")
    assert removed == 0
    if result.exit_code == 2:
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
        assert (added, changed) == (0, 0), args
    else:
        assert result.stderr == ""
        assert (added, changed) in allowed, (args, added, changed)
    return result.stderr


@st.composite
def command(draw, head: list[str], valid: dict[str, str], hostile: dict | None = None, optional: dict | None = None):
    """``head`` and then each argument of ``valid`` (``--option`` or positional), up to two of them
    replaced by hostile values; each of ``optional`` is added one time in four, with a drawn value."""
    hostile = hostile or {}
    broken = draw(st.lists(st.sampled_from(list(valid)), max_size=2, unique=True))
    args = list(head)
    for name, value in valid.items():
        value = draw(hostile.get(name, text)) if name in broken else value
        args += [name, value] if name.startswith("--") else [value]
    for name, values in (optional or {}).items():
        if draw(st.integers(0, 3)) == 0:
            args += [name] if values is None else [name, draw(values)]
    return args


EXPERT = "Expert A"  # fictional: the generated statements are invented, so no real person says them
ADD_EXPERT = ["expert", "add", EXPERT, "--kind", "analyst", "--affiliation", "Fixture Institute"]
statements = command(
    ["log", "statement", "--no-update"],
    {"--question": QUESTION, "--expert": EXPERT, "--date": "2023-04-01", "--claim": "after 2024",
     "--quote": "Expert A (fixture): an invented quote.",
     "--source": "https://example.org", "--rationale": "", "--probability": "0.5"},
    {"--date": dates, "--claim": claims, "--probability": numbers}, {"--supersedes": refs})
observations = command(
    ["log", "observation", "--no-update"],
    {"--question": QUESTION, "--kind": "still-participating", "--date": "2025-06-01", "--source": "crew rotation", "--note": ""},
    {"--kind": st.one_of(st.sampled_from(OBSERVATION_KINDS), text), "--date": dates}, {"--supersedes": refs})
experts = command(
    ["expert", "add"],
    {"name": "Expert J", "--kind": "journalist", "--role": "", "--affiliation": "Fixture News", "--alias": "J.", "--notes": ""},
    {"--kind": st.one_of(st.sampled_from(EXPERT_KINDS), text)}, {"--alias": text})
retractions = command(["retract"], {"reference": "S1", "--reason": "misquoted"}, {"reference": refs})
resolutions = command(
    ["resolve"], {"question": QUESTION, "--source": "Roscosmos statement", "--date": "2025-01"},
    {"--date": st.one_of(dates, st.sampled_from(["2022-06", "2040-01", "2025-13"]))},
    {"--not-within-horizon": None, "--annul": None})


@given(args=statements)
@FUZZ
def test_log_statement(template: Path, args: list[str]) -> None:
    check(template, args, {(1, 1) if "--supersedes" in args else (1, 0)})


@given(args=observations)
@FUZZ
def test_log_observation(template: Path, args: list[str]) -> None:
    check(template, args, {(1, 1) if "--supersedes" in args else (1, 0)})


@given(args=experts)
@FUZZ
def test_expert_add(template: Path, args: list[str]) -> None:
    check(template, args, {(1, 0)})


@given(args=retractions)
@FUZZ
def test_retract(template: Path, args: list[str]) -> None:
    check(template, args, {(0, 1)})


@given(args=resolutions)
@FUZZ
def test_resolve(template: Path, args: list[str]) -> None:
    check(template, args, {(1, 1)})  # the question changes and a `withdrawn` or `annulled` observation is logged


@pytest.fixture(scope="module")
def import_rows(template: Path) -> list[dict]:
    """Rows the template store does not hold yet (logged after it): an expert, a statement, an observation."""
    source, export = template.with_name("source.db"), template.with_name("source.json")
    runner = CliRunner()
    for args in (["init"], ["expert", "add", "Expert J", "--kind", "journalist", "--alias", "J."],
                 ["log", "statement", "--no-update", "--question", QUESTION, "--expert", "Expert J", "--date", "2024-05-01",
                  "--claim", "after 2027", "--quote", "Expert J (fixture): invented.", "--source", "fixture news", "--probability", "0.7"],
                 ["log", "observation", "--no-update", "--question", QUESTION, "--kind", "still-participating",
                  "--date", "2025-10-01", "--source", "crew"], ["export", str(export)]):
        assert runner.invoke(cli, ["--db", str(source), *args]).exit_code == 0
    rows = json.loads(export.read_text())
    return [r for r in rows if r["record"] == "question" or r.get("name") == "Expert J"
            or r.get("source") in ("fixture news", "crew")]


def _mutated(rows: list[dict], values) -> st.SearchStrategy[dict]:
    @st.composite
    def mutate(draw):
        row = dict(draw(st.sampled_from(rows)))
        for field in draw(st.lists(st.sampled_from(["record", *FIELDS[row["record"]]]), max_size=3, unique=True)):
            row[field] = draw(values)
        return row
    return mutate()


def _import(template: Path, row: dict, suffix: str) -> None:
    path = template.with_name(f"row{next(_copies)}.{suffix}")
    if suffix == "csv":
        with path.open("w", newline="", encoding="utf-8", errors="surrogatepass") as out:
            writer = csv.DictWriter(out, COLUMNS)
            writer.writeheader()
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in COLUMNS})
    else:
        path.write_text(json.dumps([row]))
    check(template, ["import", str(path)], {(1, 0), (0, 0)})  # a known question or expert is skipped


json_values = st.one_of(text, dates, st.none(), st.booleans(), st.integers(), st.floats(), st.lists(text, max_size=2))


@given(data=st.data())
@FUZZ
def test_import_json(template: Path, import_rows: list[dict], data) -> None:
    _import(template, data.draw(_mutated(import_rows, json_values)), "json")


@given(data=st.data())
@FUZZ
def test_import_csv(template: Path, import_rows: list[dict], data) -> None:
    _import(template, data.draw(_mutated(import_rows, st.one_of(text, dates, st.none()))), "csv")


@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
       suffix=st.sampled_from(["csv", "json"]))
@FUZZ
def test_import_arbitrary_file(template: Path, content: bytes, suffix: str) -> None:
    path = template.with_name(f"file{next(_copies)}.{suffix}")
    path.write_bytes(content)
    check(template, ["import", str(path)], {(0, 0), (1, 0)})
