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

    invoke.db = str(db_path)
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


def assert_refused(result, message: str) -> None:
    """The CLI refused: exit 2, nothing on stdout, one line on stderr starting with ``message``."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def store_exact_run(db: Path) -> None:
    """Store a run whose numbers come from the exact fast path instead of sampling (for tests about the
    store, not the model): complete, converged, with prior-centre reliabilities."""
    import numpy as np

    from forecast.dataset import build_dataset
    from forecast.exact import exact_posterior
    from forecast.model import FitSettings
    from forecast.priors import load_priors
    from forecast.runs import BAND_QUANTILES, FitSummary, save_run
    from forecast.seed import PROJECT_ROOT
    from forecast.store import open_store

    store, priors = open_store(str(db)), load_priors(PROJECT_ROOT / "priors")
    with store.reader() as session:
        data = build_dataset(session, priors)
    monthly = exact_posterior(data, priors)
    diagnostics = {"max_rhat": 1.0, "min_ess_bulk": 4000.0, "min_ess_tail": 4000.0, "divergences": 0, "ess_floor": 400,
                   "problems": []}
    summary = FitSummary(monthly=monthly, prior=exact_posterior(data, priors, with_evidence=False),
                         cdf_bands={str(q): np.cumsum(monthly, axis=-1) for q in BAND_QUANTILES}, reliabilities=[],
                         diagnostics=diagnostics, posterior=b"no draws")
    with store.session() as session:
        save_run(session, data, "exact", FitSettings(), summary, 0.0)
