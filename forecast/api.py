"""The Python API, for notebooks and scripts: a store's contents as pandas DataFrames, runs, and draws.

    import forecast

    fc = forecast.open_store("forecast.db")       # any path or SQLAlchemy URL, as --db takes
    fc.questions()                                 # DataFrame, one row per question
    run = fc.run("russia-iss-withdrawal")          # fit and store, as `forecast run` does
    tree = fc.draws(run.id)                        # ArviZ DataTree: posterior, sample_stats, prior

Every method opens its own transaction; errors are :class:`forecast.errors.ForecastError` subclasses. Each write
takes ``by`` (who makes it, as ``--by``; default ``$FORECAST_ANALYST``, else the login name). Months in headlines and
frames are typed: a ``datetime.date`` (the month's first day), or None for "not within the horizon" (with
``median_not_within_horizon`` True for a median).
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
BEYOND = "not within the horizon"  # as forecast.inference.summary.BEYOND labels the bin past the horizon (kept light)


@dataclass(frozen=True)
class RunSummary:
    """A stored run: its id and provenance, whether it passed its diagnostics, and each question's headline."""

    id: int
    kind: str
    as_of: dt.date
    converged: bool
    diagnostics: dict[str, Any]
    headlines: dict[str, dict[str, Any]] = field(default_factory=dict)  # question -> checkpoints, median, intervals


def month_date(label: str | None) -> dt.date | None:
    """A stored month label as a date: ``"2029-03"`` is 1 March 2029; "not within the horizon" (or None) is None."""
    from .basics.months import parse_month

    if label is None or label == BEYOND:
        return None
    year, index = divmod(parse_month(label), 12)
    return dt.date(year, index + 1, 1)


def typed_headline(head: dict[str, Any]) -> dict[str, Any]:
    """A stored headline with typed months: median and interval bounds as dates or None, and the median's flag."""
    return {**head, "median": month_date(head["median"]),
            "median_not_within_horizon": head["median"] == BEYOND,
            "intervals": {level: [month_date(b) for b in bounds] for level, bounds in head["intervals"].items()}}


def _typed_rows(rows: list[dict[str, Any]], months: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows whose month columns are typed; a ``median`` column gets its ``median_not_within_horizon`` flag."""
    typed = []
    for row in rows:
        flag = {"median_not_within_horizon": row["median"] == BEYOND} if "median" in row else {}
        typed.append({**{k: month_date(v) if k in months else v for k, v in row.items()}, **flag})
    return typed


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
            rows = forecast_rows(session, question)
        months = ("median", *(k for row in rows[:1] for k in row if k.startswith(("low_", "high_"))))
        return _frame(_typed_rows(rows, months))

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
            return _frame(_typed_rows(list_runs(session, question), ("median",)))

    def scores(self, question: str | None = None, tag: str | None = None) -> pd.DataFrame:
        """Every scored forecast of a resolved checkpoint: model, prior and baselines (as `forecast score --csv`)."""
        from .domain.questions import store_priors
        from .scoring.scorecard import scorecard

        with self.store.reader() as session:
            card = scorecard(session, store_priors(session), question, tag=tag)
        return _frame(card["checkpoint_scores"])

    def status(self, question: str | None = None, tag: str | None = None) -> list[dict[str, Any]]:
        """What is due on each open question, as `forecast status --json`; a question is due when ``due`` is not empty."""
        from .domain.reminders import status

        with self.store.reader() as session:
            return status(session, question, tag)

    def log_statement(self, question: str, expert: str, date: DateLike, claim: str, quote: str, source: str,
                      by: str | None = None, **fields: Any) -> str:
        """Log what an expert said, as `forecast log statement` (fields as it takes them); returns its ref, e.g. S67."""
        from .domain.evidence import log_statement, ref_of

        said_on, precision = (date, "day") if isinstance(date, dt.date) else parse_day_or_month(date)
        fields.setdefault("date_precision", precision)
        with self.store.session() as session:
            row = log_statement(session, question=question, expert=expert, said_on=said_on, claim=claim,
                                quote=quote, source=source, author=by, **fields)
            return ref_of(row)

    def log_observation(self, question: str, kind: str, date: DateLike, source: str, by: str | None = None,
                        **fields: Any) -> str:
        """Log a hard observation, as `forecast log observation`; returns its reference, e.g. O30."""
        from .domain.evidence import log_observation, ref_of

        observed_on, precision = (date, "day") if isinstance(date, dt.date) else parse_day_or_month(date)
        fields.setdefault("date_precision", precision)
        with self.store.session() as session:
            row = log_observation(session, question=question, kind=kind, observed_on=observed_on, source=source,
                                  author=by, **fields)
            return ref_of(row)

    def add_question(self, definition: str | Path | dict[str, Any], note: str = "", by: str | None = None) -> str:
        """Add a question (or a new wording) from a question file's path or its tables as a dict, as
        `forecast question add`; returns what happened: added, defined, updated or unchanged."""
        from .domain.priors import read_toml
        from .domain.questions import add_question

        where = "question definition" if isinstance(definition, dict) else str(definition)
        raw = definition if isinstance(definition, dict) else read_toml(Path(definition))
        with self.store.session() as session:
            return add_question(session, raw, where, note, author=by)[1]

    def add_expert(self, name: str, kind: str, role: str = "", affiliation: str = "",
                   aliases: list[str] | tuple[str, ...] = (), notes: str = "", by: str | None = None) -> str:
        """Add an expert, as `forecast expert add`; returns the stored name."""
        from .domain.evidence import add_expert

        with self.store.session() as session:
            return add_expert(session, name, kind, role, affiliation, list(aliases), notes, author=by).name

    def rename_expert(self, old: str, new: str, note: str = "", by: str | None = None) -> str:
        """Give an expert a new name, as `forecast expert rename` (the old name keeps answering); returns it."""
        from .domain.experts import rename_expert

        with self.store.session() as session:
            return rename_expert(session, old, new, note, author=by).name

    def merge_experts(self, source: str, into: str, note: str = "", by: str | None = None) -> str:
        """Make ``source`` count as ``into`` from now on, as `forecast expert merge`; returns the kept name."""
        from .domain.experts import merge_experts

        with self.store.session() as session:
            return merge_experts(session, source, into, note, author=by).name

    def retract(self, ref: str, reason: str, by: str | None = None) -> str:
        """Retract a statement or observation, as `forecast retract`; returns its reference."""
        from .domain.evidence import ref_of, retract

        with self.store.session() as session:
            return ref_of(retract(session, ref, reason, author=by))

    def resolve(self, question: str, *, date: str | None = None, not_within_horizon: bool = False,
                annul: bool = False, source: str = "", by: str | None = None) -> str:
        """Resolve a question (``date`` is the month, YYYY-MM), as `forecast resolve`; returns how it stands."""
        from .scoring.resolution import describe, resolve

        with self.store.session() as session:
            return describe(resolve(session, question, month=date, not_within_horizon=not_within_horizon,
                                    annul=annul, source=source, author=by))

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

    def backtest(self, question: str, start: DateLike, end: DateLike | None = None, every: str = "quarter", *,
                 draws: int = 1000, tune: int | None = None, chains: int = 4, seed: int = 20220726) -> list[RunSummary]:
        """Fit and store a backtest run of ``question`` as of each date from ``start``, as `forecast backtest`."""
        from .domain.questions import store_priors
        from .runs.fitting import fit_settings
        from .scoring.backtest import backtest

        with self.store.reader() as session:
            priors = store_priors(session)
        first = start if isinstance(start, dt.date) else parse_day_or_month(start)[0]
        ids = backtest(self.store, priors, question, first, every, _day(end, month_end=True),
                       fit_settings(draws, tune, chains, seed))
        return [self.get_run(run_id) for run_id in ids]

    def score(self, question: str | None = None, tag: str | None = None) -> dict[str, Any]:
        """The whole scorecard, as `forecast score --json` (see :meth:`scores` for its forecasts as a frame)."""
        from .domain.questions import store_priors
        from .scoring.scorecard import scorecard

        with self.store.reader() as session:
            return scorecard(session, store_priors(session), question, tag=tag)

    def learn(self, tag: str | None = None, half: str | None = None, leave_out: tuple[str, ...] | list[str] = (),
              every: str = "quarter", hand_set: bool = False, groups: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
        """Learn the shared priors from the store's resolved questions and put them in force, as `forecast learn`;
        returns the stored prior set: its ``version``, ``values`` and ``provenance`` (questions, scores, code
        version). ``groups`` are `--values` (default: recipe and notice); ``hand_set`` puts the hand-set priors
        back in force instead."""
        from .domain.prior_sets import DEFAULT_GROUPS
        from .scoring.learning import learn_and_store

        chosen = tuple(groups) or DEFAULT_GROUPS
        return learn_and_store(self.store, tag, half, tuple(leave_out), every, hand_set, chosen)[0]

    def priors(self) -> tuple[str, pd.DataFrame]:
        """The prior set in force and each learnable prior, hand-set beside in force, as `forecast learn --show`."""
        from .scoring.learning import prior_set_rows

        with self.store.reader() as session:
            name, rows = prior_set_rows(session)
        return name, _frame(rows)

    def report(self, question: str | None = None, out: str | Path = "reports", *, run_id: int | None = None,
               as_of: DateLike | None = None, tag: str | None = None) -> list[tuple[Path, Path]]:
        """Write HTML and Markdown reports into the folder ``out``, as `forecast report`; returns (html, md) paths."""
        from .domain.questions import store_priors
        from .report import gather_reports, report_folder, write_report

        out_dir = report_folder(Path(out), create=False)
        with self.store.reader() as session:
            contents = gather_reports(session, store_priors(session), question, run_id,
                                      _day(as_of, month_end=True), tag)
        return [write_report(content, out_dir) for content in contents]

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
                      headlines={slugs[r.question_id]: typed_headline(json.loads(r.headline)) for r in results})


def open_store(url: str | None = None) -> ForecastStore:
    """Open (creating and upgrading if needed) the store at ``url``: a SQLite path or SQLAlchemy URL.

    Without ``url``: ``$FORECAST_DB``, else ``./forecast.db``, as on the command line.
    """
    from .store import open_store as open_raw

    return ForecastStore(open_raw(url))
