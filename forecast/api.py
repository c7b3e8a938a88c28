"""The Python API, for notebooks and scripts: a store's contents as pandas DataFrames, runs, and draws.

    import forecast

    fc = forecast.open_store("forecast.db")       # any path or SQLAlchemy URL, as --db takes
    fc.questions()                                 # DataFrame, one row per question
    run = fc.run("russia-iss-withdrawal")          # fit and store, as `forecast run` does
    tree = fc.draws(run.id)                        # ArviZ DataTree: posterior, sample_stats, prior

Every method opens its own transaction; errors are :class:`forecast.errors.ForecastError` subclasses.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .basics.months import parse_datetime, parse_day_or_month

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from .store import Store

DateLike = str | dt.date


@dataclass(frozen=True)
class RunSummary:
    """A stored run: its id and provenance, whether it passed its diagnostics, and each question's headline."""

    id: int
    kind: str
    as_of: dt.date
    converged: bool
    diagnostics: dict[str, Any]
    headlines: dict[str, dict[str, Any]] = field(default_factory=dict)  # question -> checkpoints, median, intervals


def _day(value: DateLike | None, month_end: bool = False) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return parse_day_or_month(value, month_end=month_end)[0]


def _frame(rows: list[dict[str, Any]], columns: list[str] | None = None) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


class ForecastStore:
    """One store, read and written through the same domain functions as the command line."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def url(self) -> str:
        """The store's SQLAlchemy URL."""
        return self.store.url

    def init(self, casebook: bool = False) -> dict[str, int]:
        """Load the bundled questions, priors and seed evidence (and the casebook); safe to repeat."""
        from .io.seed import initialise

        with self.store.session() as session:
            report = initialise(session, casebook=casebook)
        return {"questions": len(report.questions), "experts": len(report.experts),
                "statements": report.statements, "observations": report.observations}

    def questions(self, tag: str | None = None) -> pd.DataFrame:
        """Every question: status, current headline, last change, evidence count, tags."""
        from .domain.views import portfolio

        with self.store.reader() as session:
            return _frame(portfolio(session, tag))

    def experts(self) -> pd.DataFrame:
        """Every expert: name, kind, role, affiliation, aliases."""
        from .domain.views import list_experts

        with self.store.reader() as session:
            return _frame(list_experts(session))

    def evidence(self, question: str | None = None, include_inactive: bool = False) -> pd.DataFrame:
        """Statements and observations by date (active only, unless ``include_inactive``)."""
        from .domain.views import list_evidence

        with self.store.reader() as session:
            return _frame(list_evidence(session, question, include_inactive=include_inactive))

    def forecasts(self, question: str) -> pd.DataFrame:
        """One row per stored run of ``question``: headline probabilities, median and intervals, oldest first."""
        from .runs.views import forecast_rows

        with self.store.reader() as session:
            return _frame(forecast_rows(session, question))

    def monthly(self, question: str, run_id: int | None = None) -> pd.DataFrame:
        """A run's distribution over months (default: the latest run), beside the prior."""
        from .runs.views import latest_run, run_view

        with self.store.reader() as session:
            (result,) = run_view(session, latest_run(session, question, run_id), question)["results"]
        return _frame([{"month": m, "forecast": p, "prior": q}
                       for m, p, q in zip(result["months"], result["monthly"], result["prior_monthly"])])

    def runs(self, question: str | None = None) -> pd.DataFrame:
        """Every stored run, oldest first."""
        from .runs.views import list_runs

        with self.store.reader() as session:
            return _frame(list_runs(session, question))

    def scores(self, question: str | None = None, tag: str | None = None) -> pd.DataFrame:
        """Every scored forecast of a resolved checkpoint: model, prior and baselines (as `forecast score --csv`)."""
        from .domain.questions import store_priors
        from .scoring.scorecard import scorecard

        with self.store.reader() as session:
            card = scorecard(session, store_priors(session), question, tag=tag)
        return _frame(card["checkpoint_scores"])

    def log_statement(self, question: str, expert: str, date: DateLike, claim: str, quote: str, source: str,
                      **fields: Any) -> str:
        """Log what an expert said (fields as `forecast log statement` takes them); returns its reference, e.g. S67."""
        from .domain.evidence import log_statement, ref_of

        said_on, precision = (date, "day") if isinstance(date, dt.date) else parse_day_or_month(date)
        fields.setdefault("date_precision", precision)
        with self.store.session() as session:
            row = log_statement(session, question=question, expert=expert, said_on=said_on, claim=claim,
                                quote=quote, source=source, **fields)
            return ref_of(row)

    def log_observation(self, question: str, kind: str, date: DateLike, source: str, **fields: Any) -> str:
        """Log a hard observation (event-not-yet, event, notice-given, ...); returns its reference, e.g. O30."""
        from .domain.evidence import log_observation, ref_of

        observed_on, precision = (date, "day") if isinstance(date, dt.date) else parse_day_or_month(date)
        fields.setdefault("date_precision", precision)
        with self.store.session() as session:
            row = log_observation(session, question=question, kind=kind, observed_on=observed_on, source=source,
                                  **fields)
            return ref_of(row)

    def run(self, question: str | None = None, *, as_of: DateLike | None = None, known_at: str | None = None,
            draws: int = 1000, tune: int | None = None, chains: int = 4, seed: int = 20220726,
            sampler: str = "nutpie", allow_tampered: bool = False) -> RunSummary:
        """Fit every open question jointly and store the run, as `forecast run` does; returns it.

        ``tune=None`` tunes adaptively: 500 steps, re-sampled once with 1000 if the fit fails its diagnostics.
        A store changed outside forecast raises :class:`~forecast.errors.TamperError`; with ``allow_tampered``
        (as ``forecast run --allow-tampered``) it is fitted anyway, each problem issued as a
        :class:`~forecast.errors.TamperWarning`.
        """
        from .runs.fitting import fit_settings, run_forecast

        settings = fit_settings(draws, tune, chains, seed, sampler)
        run_id = run_forecast(self.store, settings, question, _day(as_of, month_end=True),
                              parse_datetime(known_at) if known_at else None, allow_tampered, warn=_warn_tampered)
        return self.get_run(run_id)

    def get_run(self, run_id: int) -> RunSummary:
        """A stored run by id."""
        from .runs.views import latest_run

        with self.store.reader() as session:
            run = latest_run(session, run_id=run_id)
            return _summary(session, run)

    def draws(self, run_id: int) -> xr.DataTree:
        """The run's draws as an ArviZ DataTree: posterior, sample_stats and prior (older runs: posterior only)."""
        from .runs.views import latest_run, load_posterior

        with self.store.reader() as session:
            return load_posterior(latest_run(session, run_id=run_id))

    def save_draws(self, run_id: int, path: str | Path) -> Path:
        """Write the run's draws to ``path``: NetCDF (``.nc``) or Zarr (``.zarr``)."""
        from .inference.draws import write_datatree

        return write_datatree(self.draws(run_id), Path(path))


def _warn_tampered(problem: str) -> None:
    from .errors import TamperWarning

    # stacklevel 4: this function, run_forecast, ForecastStore.run, then the caller's line
    warnings.warn(f"fitted anyway (allow_tampered): {problem}", TamperWarning, stacklevel=4)


def _summary(session: Any, run: Any) -> RunSummary:
    from sqlmodel import select

    from .store.tables import ForecastResult, Question

    slugs = {q.id: q.slug for q in session.exec(select(Question))}
    results = session.exec(select(ForecastResult).where(ForecastResult.run_id == run.id))
    return RunSummary(id=run.id, kind=run.kind, as_of=run.as_of, converged=run.converged,
                      diagnostics=json.loads(run.diagnostics),
                      headlines={slugs[r.question_id]: json.loads(r.headline) for r in results})


def open_store(url: str | None = None) -> ForecastStore:
    """Open (creating and upgrading if needed) the store at ``url``: a SQLite path or SQLAlchemy URL.

    Without ``url``: ``$FORECAST_DB``, else ``./forecast.db``, as on the command line.
    """
    from .store import open_store as open_raw

    return ForecastStore(open_raw(url))
