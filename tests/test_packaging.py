"""Packaging: distribution metadata, licence, typing marker, shell completion, the type check and layering."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

from .conftest import PROJECT


def test_distribution_is_policy_forecast_with_the_forecast_command() -> None:
    dist = distribution("policy-forecast")
    assert dist.metadata["License-Expression"] == "MIT" or dist.metadata["License"] == "MIT"
    assert [(e.name, e.value) for e in dist.entry_points if e.group == "console_scripts"] == [("forecast", "forecast.cli:cli")]
    assert (PROJECT / "LICENSE").read_text().startswith("MIT License")
    assert (PROJECT / "forecast" / "py.typed").exists()
    version = subprocess.run([sys.executable, "-m", "forecast", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout == f"forecast, version {dist.version}\n"


def _complete(shell_var: str, **extra: str) -> str:
    env = {**os.environ, "_FORECAST_COMPLETE": shell_var, **extra}
    return subprocess.run([sys.executable, "-m", "forecast"], capture_output=True, text=True, env=env, check=True).stdout


def test_shell_completion() -> None:
    assert "_forecast_completion()" in _complete("bash_source")
    assert "#compdef forecast" in _complete("zsh_source")
    words = _complete("bash_complete", COMP_WORDS="forecast ru", COMP_CWORD="1").split()
    assert words == ["plain,run", "plain,runs"]


def test_mypy_passes() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], capture_output=True, text=True, cwd=PROJECT)
    assert done.returncode == 0, done.stdout


BELOW_SCORING = ["store/*.py", "dataset.py", "exact.py", "model.py", "density/*.py", "preemption.py", "compiled.py", "draws.py", "runs.py", "run_views.py"]


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules a source file imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PROJECT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.update([module, *(f"{module}.{alias.name}" for alias in node.names)])
    return names


def test_nothing_below_the_scoring_package_imports_it() -> None:
    paths = [path for pattern in BELOW_SCORING for path in (PROJECT / "forecast").glob(pattern)]
    assert len(paths) > len(BELOW_SCORING)
    upward = {str(path.relative_to(PROJECT)): sorted(name for name in _imported_modules(path)
                                                     if name.startswith(("forecast.scoring", "forecast.report", "forecast.cli")))
              for path in paths}
    assert {path: names for path, names in upward.items() if names} == {}
    assert "forecast.scoring.resolution" in _imported_modules(PROJECT / "forecast" / "report" / "content.py")
