"""The libraries' private entry points the compiled model uses: all present, bounded in pyproject.toml, and a
missing one refused in one line before any fit."""

from __future__ import annotations

import importlib
import tomllib
from importlib.metadata import version

import pytest
from packaging.requirements import Requirement

from forecast.errors import ForecastError
from forecast.inference import internals

from .conftest import INIT, PROJECT, assert_refused, invoke

PINNED = ("nutpie", "numba", "pytensor")


def test_every_entry_point_is_there() -> None:
    assert internals.problems(internals.SAMPLING) == []
    assert internals.problems(internals.TRACING) == []
    assert internals.problems(internals.LAYOUT) == []
    names = {(e.module, e.name) for e in internals.SAMPLING + internals.TRACING + internals.LAYOUT}
    assert {("nutpie.compile_pymc", "_make_functions"), ("numba.core.caching", "_CacheLocator"),
            ("nutpie.sample", "_add_arrow_data"), ("nutpie.compile_pymc", "_compute_shapes")} <= names


@pytest.mark.parametrize("library", PINNED)
def test_libraries_whose_internals_we_use_are_bounded_below_the_next_minor(library: str) -> None:
    dependencies = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["dependencies"]
    requirement = next(Requirement(d) for d in dependencies if Requirement(d).name == library)
    upper = [spec for spec in requirement.specifier if spec.operator == "<"]
    assert len(upper) == 1, f"{library} needs an upper bound"
    installed = version(library)
    assert installed in requirement.specifier
    major, minor = (int(part) for part in installed.split(".")[:2])
    assert upper[0].version == f"{major}.{minor + 1}", "the bound is the next minor release"


@pytest.mark.parametrize("module, name", [("nutpie.compile_pymc", "update_user_data"), ("nutpie.sample", "_add_arrow_data"),
                                          ("numba.core.caching", "_CacheLocator")])
def test_a_missing_entry_point_is_named(monkeypatch, module: str, name: str) -> None:
    monkeypatch.delattr(importlib.import_module(module), name)
    monkeypatch.setattr(internals, "_CHECKED", set())
    with pytest.raises(ForecastError, match=rf"incompatible .*{module}\.{name} is gone.*uv sync"):
        internals.require(internals.SAMPLING)


def test_a_changed_signature_is_named(monkeypatch) -> None:
    import nutpie

    monkeypatch.setattr(nutpie, "sample", lambda compiled_model, draws=None: None)
    assert internals.problems(internals.SAMPLING) == [
        "nutpie.sample no longer takes tune, chains, cores, seed, progress_bar, save_warmup, return_raw_trace, "
        "progress_callback, progress_rate"]


def test_forecast_run_refuses_in_one_line(monkeypatch, db_path) -> None:
    assert invoke(db_path, *INIT).exit_code == 0
    import nutpie.compile_pymc

    monkeypatch.delattr(nutpie.compile_pymc, "update_user_data")
    monkeypatch.setattr(internals, "_CHECKED", set())
    assert_refused(invoke(db_path, "run", "--draws", "10", "--tune", "10", "--chains", "1", "--quiet"),
                   "Error: an incompatible nutpie, numba, PyMC or PyTensor is installed")
