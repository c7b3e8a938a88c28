"""Shared fixtures: a real store per test, on SQLite and on PostgreSQL, and the real CLI through click's runner.

Which backend a store test runs on (a test uses a store through ``db``, ``run``, ``seeded``, ``make_db``
or ``fitted``):

- A test whose subject is the backend is marked ``every_backend`` (a test, or a whole module with
  ``pytestmark``) and runs twice: SQLite in a file, and PostgreSQL in its own database on a server the
  session starts (see ``tests/pg.py``). Its subject is the backend when it checks what the database
  does: migrations, types and JSON, triggers and append-only rules, constraints and transactions
  (nothing half-written), integrity and verify, concurrency, sorting and time zones, row-id ranges,
  and the CLI's write/read round trips, import/export and one run, report and score end to end.
- Every other store test runs on SQLite only: model statistics, claim parsing, rendering, input
  validation and refusals decided before the database is asked, fuzzing. Running those twice proves
  nothing more and doubled the suite's time.
- A test that opens the SQLite file itself asks for ``db_path`` and so runs on SQLite only, marked or not;
  ``postgres_only`` and ``sqlite_only`` pick one backend explicitly.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from forecast.cli import cli
from forecast.store import resolve_url

from .pg import start_server

QUESTION, PRECLUDER = "russia-iss-withdrawal", "iss-retirement"
PROJECT = Path(__file__).resolve().parent.parent
REPORTER, OFFICIAL = "Reporter X", "Official Y"  # the test seed's fictional experts: tests log invented words only as them
FICTIONAL_EXPERTS = f"""
[[expert]]
name = "{REPORTER}"
role = "Fictional reporter for the tests"
affiliation = "Fixture Outlet"
kind = "journalist"
notes = "Fixture: not a real person; every statement of it is invented."

[[expert]]
name = "{OFFICIAL}"
role = "Fictional official for the tests"
affiliation = "Fixture Agency"
kind = "official"
notes = "Fixture: not a real person; every statement of it is invented."
"""


def _article_seed(root: Path) -> list[str]:
    """`init` arguments for the source article's evidence alone (the ISS question, its experts, its 2022 rows),
    and two fictional experts without statements (:data:`REPORTER`, :data:`OFFICIAL`).

    The question that precludes it (iss-retirement) comes without evidence. Tests pin refs and counts to
    this fixed seed, so they do not move as evidence is added to observations/. The seed's experts are real
    people: a test that logs an invented statement logs it as a fictional expert, never as one of them.
    """
    priors, seed = root / "priors", root / "observations"
    (priors / "questions").mkdir(parents=True)
    seed.mkdir()
    shutil.copy(PROJECT / "priors" / "reliability.toml", priors)
    shutil.copy(PROJECT / "priors" / "recipes.toml", priors)
    for question in (QUESTION, PRECLUDER):
        shutil.copy(PROJECT / "priors" / "questions" / f"{question}.toml", priors / "questions")
    for name in ("experts.toml", f"{QUESTION}.toml"):
        shutil.copy(PROJECT / "observations" / name, seed)
    experts = seed / "experts.toml"
    experts.write_text(experts.read_text(encoding="utf-8") + FICTIONAL_EXPERTS, encoding="utf-8")
    return ["init", "--priors", str(priors), "--observations", str(seed)]


EMPTY = ("init", "--empty")  # a store for one's own questions: reliability priors only
INIT = _article_seed(Path(tempfile.mkdtemp(prefix="forecast-article-seed-")))


BACKENDS = ("sqlite", "postgres")
postgres_only = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _parametrized(metafunc, name: str) -> bool:
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if name in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return True
    return False


def pytest_generate_tests(metafunc) -> None:
    """Run store tests marked ``every_backend`` on both backends, all others on SQLite (see the module's docstring)."""
    on_every = metafunc.definition.get_closest_marker("every_backend") and "db_path" not in metafunc.fixturenames
    for name in ("backend", "fitted"):
        if name in metafunc.fixturenames and not _parametrized(metafunc, name):
            metafunc.parametrize(name, list(BACKENDS) if on_every else ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the session, started on first use."""
    server = start_server()
    yield server
    server.stop()


def new_db(backend: str, request, directory: Path, name: str) -> str:
    """A new, empty store: a file in ``directory`` (SQLite) or a database on the session's server, dropped
    when the requesting fixture or test ends."""
    if backend == "postgres":
        server = request.getfixturevalue("pg_server")
        url = server.create_database()
        request.addfinalizer(lambda: server.drop_database(url))
        return url
    return str(directory / name)


@pytest.fixture
def backend(request) -> str:
    return request.param


@pytest.fixture
def make_db(backend: str, request, tmp_path: Path):
    """A factory of new, empty stores on the test's backend; the first is the test's ``db``."""
    names = itertools.chain(["forecast.db"], (f"forecast-{i}.db" for i in itertools.count(2)))
    return lambda: new_db(backend, request, tmp_path, next(names))


@pytest.fixture
def db(make_db) -> str:
    """The test's store: a SQLite path or a ``postgresql://`` URL, as given to ``--db``."""
    return make_db()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The test's SQLite file (the same store as ``db``); asking for it keeps the test on SQLite."""
    return tmp_path / "forecast.db"


def invoke(db: Path | str, *args: str):
    """The CLI on the store ``db`` through click's runner; returns click's Result."""
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


@pytest.fixture
def run(db: str):
    """Invoke the CLI against the test's store (or another, with ``db=``); returns click's Result."""
    store = db

    def run_on(*args: str, db: Path | str | None = None):
        return invoke(db or store, *args)

    run_on.db = str(store)
    return run_on


@pytest.fixture
def seeded(run, db: str) -> str:
    result = run(*INIT)
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture(scope="session")
def fitted(request, tmp_path_factory):
    """A seeded store with one converged run, on the test's backend: one fit per backend for all read-only tests."""
    db = new_db(request.param, request, tmp_path_factory.mktemp("fitted"), "fitted.db")
    assert invoke(db, *INIT).exit_code == 0
    result = invoke(db, "run", QUESTION, "--draws", "1000", "--tune", "1000", "--chains", "4", "--seed", "5")
    assert result.exit_code == 0, result.output
    return db, result


def query(db: Path | str, statement: str) -> list[tuple]:
    """Run one SQL statement on a store directly, bypassing forecast (as a newer version or a tamperer would)."""
    engine = sa.create_engine(resolve_url(str(db)))
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def snapshot(db: Path | str) -> list[str]:
    """Every table and row as SQL text: equal snapshots mean an unchanged store (either backend)."""
    url = resolve_url(str(db))
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return list(conn.iterdump())
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    lines = []
    try:
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                lines.append(f'CREATE TABLE "{name}" ({", ".join(f"{c.name} {c.type}" for c in table.columns)})')
                rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns))
                lines += [f'INSERT INTO "{name}" VALUES{tuple(row)!r}' for row in rows]
    finally:
        engine.dispose()
    return lines


def log_args(**overrides: str) -> list[str]:
    """Arguments for a valid `log statement` of the fictional :data:`REPORTER`, with overrides."""
    fields = {
        "question": QUESTION, "expert": REPORTER, "date": "2023-04-01", "claim": "not before 2028",
        "quote": "A fixture quote.", "source": "https://example.org/fixture",
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


def store_exact_run(db: Path | str, as_of=None, kind: str = "full", only: list[str] | None = None,
                    converged: bool = True) -> None:
    """Store a run whose numbers come from the exact fast path instead of sampling (for tests about the
    store, not the model): complete, converged (unless not ``converged``: then flagged as failing its
    diagnostics), with prior-centre reliabilities; optionally as of a past date, of another kind
    (``backtest``) and for some questions only."""
    import numpy as np

    from forecast.domain.questions import store_priors
    from forecast.inference.dataset import build_dataset
    from forecast.inference.exact import exact_posterior
    from forecast.inference.model import FitSettings
    from forecast.inference.parameters import PriorArrays
    from forecast.runs.fitting import BAND_QUANTILES, FitSummary, save_run
    from forecast.store import open_store

    store = open_store(str(db))
    with store.reader() as session:
        priors = store_priors(session)
        data = build_dataset(session, priors, as_of)
    monthly = exact_posterior(data, priors)
    centres = PriorArrays.from_priors(data, priors).prior_mean_reliability() if data.experts else []
    reliabilities = [{"expert": name, "kind": kind, "mean": float(r), "q05": float(r), "q95": float(r)}
                     for name, kind, r in zip(data.experts, data.expert_kinds, centres)]
    diagnostics = {"max_rhat": 1.0, "min_ess_bulk": 4000.0, "min_ess_tail": 4000.0, "divergences": 0, "ess_floor": 400,
                   "problems": [] if converged else ["fixture: flagged"]}
    summary = FitSummary(monthly=monthly, prior=exact_posterior(data, priors, with_evidence=False),
                         preempted=np.zeros(len(data.questions)),
                         cdf_bands={str(q): np.cumsum(monthly, axis=-1) for q in BAND_QUANTILES}, reliabilities=reliabilities,
                         diagnostics=diagnostics, posterior=b"no draws")
    with store.session() as session:
        save_run(session, data, "exact", FitSettings(), summary, 0.0, kind=kind, only=only, prior_set=priors.prior_set)


@pytest.fixture(scope="session")
def fitted_db(tmp_path_factory) -> Path:
    """A SQLite file of the article's seed with one quick stored run (shared: copy it with :func:`copy_store`
    before writing)."""
    db = tmp_path_factory.mktemp("fitted-sqlite") / "fitted.db"
    assert invoke(db, *INIT).exit_code == 0
    result = invoke(db, "run", "--draws", "300", "--tune", "300", "--chains", "2", "--seed", "4", "--quiet")
    assert result.exit_code in (0, 1), result.output  # 1: stored but flagged, as so few draws may be
    return db


def copy_store(source: Path, target: Path) -> Path:
    """A copy of a SQLite store, including what is still in its write-ahead log."""
    with sqlite3.connect(source) as old, sqlite3.connect(target) as new:
        old.backup(new)
    return target
