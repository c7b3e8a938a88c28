"""Shared fixtures: a real SQLite file per test and the real CLI through click's runner."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.cli import cli

QUESTION = "russia-iss-withdrawal"
PROJECT = Path(__file__).resolve().parent.parent


def _article_seed(root: Path) -> list[str]:
    """`init` arguments for the source article's evidence alone (the ISS question, its experts, its 2022 rows).

    Tests pin refs and counts to this fixed seed, so they do not move as evidence is added to observations/.
    """
    priors, seed = root / "priors", root / "observations"
    (priors / "questions").mkdir(parents=True)
    seed.mkdir()
    shutil.copy(PROJECT / "priors" / "reliability.toml", priors)
    shutil.copy(PROJECT / "priors" / "recipes.toml", priors)
    shutil.copy(PROJECT / "priors" / "questions" / f"{QUESTION}.toml", priors / "questions")
    for name in ("experts.toml", f"{QUESTION}.toml"):
        shutil.copy(PROJECT / "observations" / name, seed)
    return ["init", "--priors", str(priors), "--observations", str(seed)]


INIT = _article_seed(Path(tempfile.mkdtemp(prefix="forecast-article-seed-")))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "forecast.db"


@pytest.fixture
def run(db_path: Path):
    """Invoke the CLI against the test's store; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str, db: Path | str | None = None):
        return runner.invoke(cli, ["--db", str(db or db_path), *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def seeded(run, db_path: Path) -> Path:
    result = run(*INIT)
    assert result.exit_code == 0, result.output
    return db_path


def snapshot(path: Path) -> list[str]:
    """Every row of every table, as SQL text: equal snapshots mean an unchanged store."""
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def log_args(**overrides: str) -> list[str]:
    """Arguments for a valid `log statement`, with overrides."""
    fields = {
        "question": QUESTION, "expert": "Zak", "date": "2023-04-01", "claim": "not before 2028",
        "quote": "Russia will stay until at least 2028.", "source": "https://example.org/zak",
    }
    fields.update(overrides)
    args = ["log", "statement"]
    for key, value in fields.items():
        args += [f"--{key}", value]
    return args


@pytest.fixture(scope="session")
def fitted_db(tmp_path_factory) -> Path:
    """The article's seed with one stored run (shared: copy it with :func:`copy_store` before writing)."""
    db = tmp_path_factory.mktemp("fitted") / "fitted.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), *INIT]).exit_code == 0
    result = runner.invoke(cli, ["--db", str(db), "run", "--draws", "300", "--tune", "300", "--chains", "2", "--seed", "4"])
    assert result.exit_code == 0, result.output
    return db


def copy_store(source: Path, target: Path) -> Path:
    """A copy of a SQLite store, including what is still in its write-ahead log."""
    with sqlite3.connect(source) as old, sqlite3.connect(target) as new:
        old.backup(new)
    return target
