"""The built wheel, installed into a fresh virtual environment, works outside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from forecast.io.casebook import casebook_files

from .conftest import PROJECT, QUESTION
from .docs_examples import run_page

pytestmark = [pytest.mark.slow,  # run by `bash scripts/test --all` and CI
              pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv (scripts/test installs it)")]


def _sh(*args: str, cwd: Path, env: dict | None = None, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode in ok, f"{args}: {result.stdout[-2000:]} {result.stderr[-2000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtual environment with the wheel and its locked dependencies; returns its bin directory."""
    root = tmp_path_factory.mktemp("install")
    _sh("uv", "build", "--wheel", "--out-dir", str(root / "dist"), cwd=PROJECT)
    (wheel,) = (root / "dist").glob("*.whl")
    assert wheel.name.startswith("policy_forecast-")  # the distribution name; the package and command stay "forecast"
    _sh("uv", "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "-o", str(root / "req.txt"),
        cwd=PROJECT)
    _sh("uv", "venv", "--python", "3.12", str(root / "venv"), cwd=root)
    python = str(root / "venv" / "bin" / "python")
    _sh("uv", "pip", "install", "--python", python, "-r", str(root / "req.txt"), str(wheel), cwd=root)
    return root / "venv" / "bin"


def test_installed_tool_inits_logs_runs_and_reports_outside_the_repository(installed: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "FORECAST_"))}
    work = tmp_path / "elsewhere"
    work.mkdir()

    def forecast(*args: str, db: str = "my.db", ok: tuple[int, ...] = (0,)) -> str:
        return _sh(str(installed / "forecast"), "--db", db, *args, cwd=work, env=env, ok=ok).stdout

    assert forecast("--version") == "forecast, version 0.1.0\n"  # read from the policy-forecast metadata
    assert "added 2 question(s)" in forecast("init")
    # The bundled casebook in a store of its own: fitting its questions would compile a model no other test uses.
    assert f"added {2 + len(casebook_files())} question(s)" in forecast("init", "--casebook", db="casebook.db")
    forecast("expert", "add", "Analyst T", "--kind", "analyst")  # a made-up expert: the words below are the test's own
    logged = forecast("log", "statement", "--question", QUESTION, "--expert", "Analyst T", "--date", "2026-01",
                      "--claim", "not before 2028", "--quote", "A test statement.", "--paraphrase", "--source", "test")
    assert logged.startswith("Logged S") and "Reads: Russia does not withdraw before 2028-01" in logged
    forecast("run", QUESTION, "--draws", "100", "--tune", "100", "--chains", "2", ok=(0, 1))  # 1: flagged (few draws)
    assert "Wrote " in forecast("report", QUESTION, "--out", "out")
    assert list((work / "out").glob(f"{QUESTION}-*.html")) and not (work / "priors").exists()
    # A question of one's own from the template the installed package writes (its recipe read from forecast/_data).
    assert forecast("question", "new", "ruritania-exit").startswith("Wrote ruritania-exit.toml")
    template = work / "ruritania-exit.toml"
    text = template.read_text(encoding="utf-8")
    assert 'annual_hazard = { value = 0.2, why = "' in text
    template.write_text(text.replace("TODO: ", ""), encoding="utf-8")
    assert forecast("question", "add", str(template)) == "Added question ruritania-exit (version 1).\n"
    # The docs ship in the wheel: a help text's "More: forecast docs entry" works without the repository.
    assert "  entry" in forecast("docs") and forecast("docs", "entry").startswith("# Logging evidence")


def test_the_readme_walk_through_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "own-question"
    work.mkdir()
    assert run_page(PROJECT / "README.md", work, bin_dir=installed) >= 12
    assert list((work / "reports").glob("ruritania-treaty-exit-*.html")) and (work / "forecast.db").exists()
