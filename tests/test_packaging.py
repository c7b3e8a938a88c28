"""Packaging: distribution metadata, licence, typing marker, shell completion and the type check (layers: test_layers.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import distribution

import pytest

from .conftest import PROJECT


def test_distribution_is_policy_forecast_with_the_forecast_command() -> None:
    dist = distribution("policy-forecast")
    assert dist.metadata["License-Expression"] == "MIT" or dist.metadata["License"] == "MIT"
    assert [(e.name, e.value) for e in dist.entry_points if e.group == "console_scripts"] == [("forecast", "forecast.cli:cli")]
    assert (PROJECT / "LICENSE").read_text().startswith("MIT License")
    assert (PROJECT / "forecast" / "py.typed").exists()
    version = subprocess.run([sys.executable, "-m", "forecast", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout == f"forecast, version {dist.version}\n"


def test_every_documentation_page_ships_in_the_wheel() -> None:
    """The pages are force-included one by one (so their screenshots stay out): a new page must be listed."""
    import tomllib

    listed = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"][
        "force-include"]
    pages = {f"docs/{page.name}" for page in (PROJECT / "docs").glob("*.md")}
    assert {source for source in listed if source.startswith("docs/")} == pages
    assert all(listed[page] == f"forecast/_data/{page}" for page in pages)


def _complete(shell_var: str, **extra: str) -> str:
    env = {**os.environ, "_FORECAST_COMPLETE": shell_var, **extra}
    return subprocess.run([sys.executable, "-m", "forecast"], capture_output=True, text=True, env=env, check=True).stdout


def test_shell_completion() -> None:
    assert "_forecast_completion()" in _complete("bash_source")
    assert "#compdef forecast" in _complete("zsh_source")
    words = _complete("bash_complete", COMP_WORDS="forecast ru", COMP_CWORD="1").split()
    assert words == ["plain,run", "plain,runs"]


@pytest.mark.slow  # type-checks the whole package: run by `bash scripts/test --all` and CI
def test_mypy_passes() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=PROJECT)
    assert done.returncode == 0, done.stdout
