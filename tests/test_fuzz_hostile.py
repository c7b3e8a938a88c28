"""Fuzzing with the inputs that once got through: Unicode digits, huge integers, paths that are not regular
files, and imported runs that later commands must still be able to show.

Every case goes through `tests.test_fuzz.check`: exit 0 or 2 (2 with one ``Error:`` line), and the store
unchanged or holding exactly the command's one change. Here the first three kinds must be refused (exit 2).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.cli import cli

from .conftest import QUESTION, store_exact_run
from .test_fuzz import EXPERT, FUZZ, _copies, _rows, check, template  # noqa: F401  (the module's seeded-store fixture)

# The zero of a few Unicode decimal digit sets: Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali,
# Thai, fullwidth, mathematical bold.
ZEROS = [0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0xFF10, 0x1D7CE]


@st.composite
def foreign_digits(draw, valid: str) -> str:
    """``valid`` with at least one of its ASCII digits written in another script."""
    places = [i for i, c in enumerate(valid) if c.isdigit()]
    chosen = draw(st.lists(st.sampled_from(places), min_size=1, unique=True))
    zero = draw(st.sampled_from(ZEROS))
    return "".join(chr(zero + int(c)) if i in chosen else c for i, c in enumerate(valid))


# (command with a {} where the value goes, a valid value to corrupt)
DIGIT_FIELDS = [
    (["log", "statement", "--no-update", "--question", QUESTION, "--expert", EXPERT, "--claim", "after 2024",
      "--quote", "Expert A (fixture): invented.", "--source", "s", "--date", "{}"], "2023-04-01"),
    (["log", "statement", "--no-update", "--question", QUESTION, "--expert", EXPERT, "--date", "2023-04-01",
      "--quote", "Expert A (fixture): invented.", "--source", "s", "--claim", "{}"], "after 2028"),
    (["log", "statement", "--no-update", "--question", QUESTION, "--expert", EXPERT, "--date", "2023-04-01",
      "--claim", "after 2024", "--quote", "Expert A (fixture): invented.", "--source", "s", "--probability", "{}"], "0.75"),
    (["log", "observation", "--no-update", "--question", QUESTION, "--kind", "event-not-yet", "--source", "s",
      "--date", "{}"], "2025-06-01"),
    (["retract", "{}", "--reason", "r"], "S12"),
    (["resolve", QUESTION, "--source", "s", "--date", "{}"], "2025-01"),
    (["run", "--quiet", "--draws", "{}"], "20"),
    (["run", "--quiet", "--draws", "20", "--tune", "20", "--chains", "1", "--seed", "{}"], "7"),
    (["evidence", "list", "--since", "{}"], "2024-01-01"),
]


@pytest.mark.parametrize(("args", "valid"), DIGIT_FIELDS, ids=[" ".join(a[:2]) + ":" + a[-2] for a, _ in DIGIT_FIELDS])
@given(data=st.data())
@settings(FUZZ, max_examples=12)
def test_digits_of_other_scripts_are_refused(template: Path, args: list[str], valid: str, data) -> None:  # noqa: F811
    value = data.draw(foreign_digits(valid))
    stderr = check(template, [value if a == "{}" else a for a in args], set())
    assert "digit" in stderr, stderr


HUGE = st.one_of(st.integers(2**32, 10**40), st.integers(10**40, 10**400)).map(str)  # past every bound (seed: 2**32 - 1)
COUNTS = [["run", "--quiet", "--draws", "{}"], ["run", "--quiet", "--draws", "20", "--tune", "{}"],
          ["run", "--quiet", "--draws", "20", "--chains", "{}"], ["run", "--quiet", "--draws", "20", "--seed", "{}"],
          ["backtest", QUESTION, "--from", "2024-01-01", "--draws", "{}"], ["retract", "S{}", "--reason", "r"],
          ["show", "--run", "{}"], ["draws", "{}", "--out", "x.nc"]]


@pytest.mark.parametrize("args", COUNTS, ids=lambda a: " ".join(a[:1] + a[-2:]))
@given(number=HUGE)
@settings(FUZZ, max_examples=8)
def test_huge_integers_are_refused_before_any_work(template: Path, args: list[str], number: str) -> None:  # noqa: F811
    check(template, [a.replace("{}", number) for a in args], set())


def _node(kind: str, path: Path) -> None:
    """A path that is not a plain file: made in the test's own folder (never in the machine's /dev)."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "dangling link":
        path.symlink_to(path.with_name(path.name + ".missing"))
    elif kind == "link to a file":
        path.with_name(path.name + ".target").write_text("keep me")
        path.symlink_to(path.with_name(path.name + ".target"))
    else:  # a character device with /dev/null's numbers, which only root may make
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))


NODES = ["fifo", "folder", "dangling link", "link to a file", "device"]
PATH_COMMANDS = [["import", "{}"], ["question", "add", "{}"], ["export", "{}"], ["export", "{}", "--runs"],
                 ["calibration", "--out", "{}"], ["draws", "1", "--out", "{}"]]


@pytest.mark.parametrize("args", PATH_COMMANDS, ids=lambda a: " ".join(a))
@given(kind=st.sampled_from(NODES), suffix=st.sampled_from(["json", "csv", "toml", "svg", "png", "nc"]))
@settings(FUZZ, max_examples=10)
def test_paths_that_are_not_regular_files_are_refused_and_kept(template: Path, args: list[str], kind: str,
                                                              suffix: str) -> None:  # noqa: F811
    if kind == "device" and os.geteuid() != 0:
        kind = "fifo"  # os.mknod of a device needs root (CI runs as root)
    path = template.parent / f"node{next(_copies)}.{suffix}"
    _node(kind, path)
    before = os.lstat(path)
    check(template, [str(path) if a == "{}" else a for a in args], set())
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    if kind == "link to a file":
        assert path.with_name(path.name + ".target").read_text() == "keep me"


@pytest.fixture(scope="module")
def run_rows(template: Path) -> list[dict]:  # noqa: F811
    """The run and result rows of an export with runs, from a copy of the seeded store with an exact run."""
    source, export = template.with_name("runs-source.db"), template.with_name("runs.json")
    source.write_bytes(template.read_bytes())
    store_exact_run(source)
    assert CliRunner().invoke(cli, ["--db", str(source), "export", str(export), "--runs"]).exit_code == 0
    return [row for row in json.loads(export.read_text()) if row["record"] in ("run", "result")]


RUN_VALUES = st.one_of(
    st.sampled_from(["", "{}", "[]", "null", '"text"', "[1.0]", "-1", "2099-01-01T00:00:00", "2099-01-01", "AAAA",
                     "not base64!", '{"checkpoints": {}}', "1e309", "NaN"]),
    st.text(max_size=20), st.integers(-2, 10**6).map(str))


@given(data=st.data())
@settings(FUZZ, max_examples=30)
def test_an_imported_run_is_refused_or_shown(template: Path, run_rows: list[dict], data) -> None:  # noqa: F811
    """Import accepts a run only if `show`, `runs`, `question list` and `report` can use it afterwards."""
    rows = [dict(row) for row in run_rows]
    for _ in range(data.draw(st.integers(1, 3))):
        row = data.draw(st.sampled_from(rows))
        field = data.draw(st.sampled_from([k for k in row if k not in ("record", "run")]))
        row[field] = data.draw(RUN_VALUES)
    path = template.with_name(f"runs{next(_copies)}.json")
    path.write_text(json.dumps(rows))
    db = template.with_name(f"copy{next(_copies)}.db")
    db.write_bytes(template.read_bytes())
    before = _rows(db)
    runner = CliRunner()
    imported = runner.invoke(cli, ["--db", str(db), "import", str(path)], catch_exceptions=False)
    assert imported.exit_code in (0, 2), imported.output
    if imported.exit_code == 2:
        assert imported.stderr.startswith("Error: ") and imported.stderr.count("\n") == 1
        assert _rows(db) == before
        return
    for args in (["show", QUESTION], ["runs"], ["question", "list"],
                 ["report", QUESTION, "--out", str(db.with_suffix(".reports"))]):
        shown = runner.invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
        assert shown.exit_code == 0, (args, shown.output, shown.stderr)
