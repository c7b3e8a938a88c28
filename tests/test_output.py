"""--csv and --json on every list and show command; `forecast draws`; `export --runs` round trips."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from forecast.runs.views import load_draws
from forecast.store import open_store
from forecast.store.tables import ForecastRun

from .conftest import QUESTION, copy_store, snapshot

COMMANDS = [
    (["question", "list"], "slug"), (["question", "show", QUESTION], "field"), (["expert", "list"], "name"),
    (["expert", "show", "Zak"], "ref"), (["evidence", "list"], "ref"), (["runs"], "id"), (["show"], "question"),
    (["score"], "run"),
]


@pytest.mark.parametrize(("args", "first_column"), COMMANDS, ids=[" ".join(a[:2]) for a, _ in COMMANDS])
def test_csv_and_json(run, fitted_db: Path, args: list[str], first_column: str) -> None:
    as_csv = run(*args, "--csv", db=fitted_db)
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert as_csv.output.split(",", 1)[0] == first_column
    assert rows or args == ["score"]  # nothing is scored before a checkpoint resolves
    as_json = run(*args, "--json", db=fitted_db)
    assert as_json.exit_code == 0 and json.loads(as_json.output)
    both = run(*args, "--json", "--csv", db=fitted_db)
    assert (both.exit_code, both.stderr) == (2, "Error: give --json or --csv, not both\n")


def test_show_csv_is_the_stored_distribution(run, fitted_db: Path) -> None:
    (record,) = [r for r in json.loads(run("show", "--json", db=fitted_db).output)["results"] if r["question"] == QUESTION]
    rows = [r for r in csv.DictReader(io.StringIO(run("show", "--csv", db=fitted_db).output)) if r["question"] == QUESTION]
    assert [r["month"] for r in rows] == record["months"]
    assert [float(r["forecast"]) for r in rows] == pytest.approx(record["monthly"])


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_draws_are_written_for_arviz(run, fitted_db: Path, tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"run-1{suffix}"
    result = run("draws", "1", "--out", str(target), db=fitted_db)
    assert result.exit_code == 0 and "(posterior, sample_stats, prior)" in result.output
    tree = xr.open_datatree(target, engine="h5netcdf" if suffix == ".nc" else "zarr")
    assert set(tree.children) == {"posterior", "sample_stats", "prior"}
    with open_store(str(fitted_db)).session() as session:
        stored = load_draws(session.get(ForecastRun, 1))
    assert np.array_equal(tree["posterior"]["hazard_level"].values, stored.posterior["hazard_level"])
    again = run("draws", "1", "--out", str(target), db=fitted_db)
    assert again.exit_code == 2 and "exists" in again.stderr


def test_draws_refuse_an_unknown_format(run, fitted_db: Path, tmp_path: Path) -> None:
    result = run("draws", "1", "--out", str(tmp_path / "run.txt"), db=fitted_db)
    assert (result.exit_code, result.stderr) == (2, f"Error: cannot tell the format of '{tmp_path / 'run.txt'}': "
                                                    "use a .nc or .zarr name\n")
    assert not (tmp_path / "run.txt").exists()


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_export_with_runs_round_trips(run, fitted_db: Path, tmp_path: Path, suffix: str) -> None:
    first = tmp_path / f"first.{suffix}"
    assert run("export", "--runs", str(first), db=fitted_db).exit_code == 0
    copy = tmp_path / "copy.db"
    imported = run("import", str(first), db=copy)
    assert imported.exit_code == 0 and "1 run(s), 2 result(s)" in imported.output, imported.output
    second = tmp_path / f"second.{suffix}"
    assert run("export", "--runs", str(second), db=copy).exit_code == 0
    assert second.read_bytes() == first.read_bytes()
    assert run("show", "--json", db=copy).output == run("show", "--json", db=fitted_db).output
    with open_store(str(copy)).session() as session:
        draws = load_draws(session.get(ForecastRun, 1))
    assert set(draws.prior) >= {"hazard_level", "reliability"} and "diverging" in draws.sample_stats


def test_runs_imported_twice_are_refused_whole(run, fitted_db: Path, tmp_path: Path) -> None:
    export = tmp_path / "runs.json"
    assert run("export", "--runs", str(export), db=fitted_db).exit_code == 0
    target = copy_store(fitted_db, tmp_path / "target.db")
    data = json.loads(export.read_text())
    only_runs = tmp_path / "only-runs.json"
    only_runs.write_text(json.dumps([r for r in data if r["record"] in ("run", "result")]))
    before = snapshot(target)
    result = run("import", str(only_runs), db=target)
    assert result.exit_code == 2 and "is already in the store as run 1" in result.stderr
    assert snapshot(target) == before


def test_plain_export_leaves_runs_out(run, fitted_db: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    assert run("export", str(plain), db=fitted_db).exit_code == 0
    header = plain.read_text().splitlines()[0].split(",")
    assert "posterior" not in header and {r["record"] for r in csv.DictReader(plain.open())} == {
        "question", "expert", "statement", "observation"}
