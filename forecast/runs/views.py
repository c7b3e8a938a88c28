"""Stored runs read back: a run by id or the latest, its draws, plain dicts, and the instant headline."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
from sqlmodel import Session, select

from ..basics import validate
from ..basics.months import month_label, parse_month
from ..domain.experts import Identities, identities
from ..domain.priors import Priors
from ..domain.questions import require_scope, stored_spec
from ..domain.views import run_results, shown_run
from ..errors import ForecastError, NotFoundError
from ..inference.dataset import build_dataset
from ..inference.draws import Draws, unpack
from ..inference.exact import exact_headline
from ..inference.model import MODEL_VERSION
from ..inference.summary import BEYOND
from ..store.tables import ForecastResult, ForecastRun, Question


def load_posterior(run: ForecastRun):
    """The stored draws as an ArviZ DataTree (posterior, and for newer runs sample_stats and prior).

    Draws written by another model version are refused.
    """
    return load_draws(run).to_datatree()


def load_draws(run: ForecastRun) -> Draws:
    """The stored draws as arrays; refuses draws written by another model version."""
    if run.model_version != MODEL_VERSION:
        raise ForecastError(
            f"run {run.id} was made by model version {run.model_version}, this is {MODEL_VERSION}: re-run it"
        )
    return unpack(run.posterior)


def latest_run(session: Session, question: str | None = None, run_id: int | None = None,
               as_of: dt.date | None = None) -> ForecastRun:
    """A run by id, or the latest full run including ``question`` (with ``as_of``, or when the question has only
    backtest runs: the latest run of any kind); for a resolved question, its last run made before the outcome
    became known (`forecast.domain.views.shown_run`)."""
    if question is not None:
        require_scope(session, question)
    if run_id is not None:
        run = session.get(ForecastRun, run_id) if validate.row_id(run_id) else None
        if run is None:
            raise NotFoundError(f"no forecast run {run_id}")
        return run
    stored = session.exec(select(Question).where(Question.slug == question)).first() if question else None
    if stored is not None:
        found = shown_run(session, stored, as_of)
        if found is not None:
            return found[0]
        if stored.status == "resolved":
            raise NotFoundError(f"no forecast run of {question!r} was made before its outcome became known"
                                + (f" and as of {as_of}" if as_of else "") + ": try `forecast backtest`")
    any_kind = select(ForecastRun)
    query = any_kind.where(ForecastRun.kind == "full") if as_of is None else any_kind.where(ForecastRun.as_of <= as_of)
    found = _newest_including(session, query, question)
    if found is None and as_of is None and question is not None:  # a question only ever backtested
        found = _newest_including(session, any_kind, question)
    if found is not None:
        return found
    scope = (f" for {question!r}" if question else "") + (f" as of {as_of}" if as_of else "")
    raise NotFoundError(f"no forecast run yet{scope}: run `forecast run` first")


def _newest_including(session: Session, query, question: str | None) -> ForecastRun | None:
    """The newest run (by as-of date, then id) of ``query`` that includes ``question`` (any, when None)."""
    for run in session.exec(query.order_by(ForecastRun.as_of.desc(), ForecastRun.id.desc())):
        if question is None or question in json.loads(run.questions):
            return run
    return None


_JSON_FIELDS = ("questions", "settings", "evidence", "diagnostics", "reliabilities")


def _result_view(result: ForecastResult, question: Question, precluder: Question | None) -> dict:
    start = parse_month(question.horizon_start)
    labels = [month_label(start + i) for i in range(parse_month(question.horizon_end) - start + 1)] + [BEYOND]
    return {
        "question": question.slug, "title": question.title, "event": question.event,
        "precluder_event": precluder.event if precluder else None, "months": labels,
        "monthly": json.loads(result.monthly), "prior_monthly": json.loads(result.prior_monthly),
        "cdf_bands": json.loads(result.cdf_bands), "headline": json.loads(result.headline),
    }


def _precluder(question: Question, by_slug: dict[str, Question]) -> Question | None:
    """The question whose event would pre-empt this one, if any (for the pre-empted line of the headline)."""
    try:
        slug = stored_spec(question).precluded_by
    except ForecastError:  # a definition that cannot be read is reported where the run is made, not here
        return None
    return by_slug.get(slug) if slug else None


def run_view(session: Session, run: ForecastRun, question: str | None = None) -> dict:
    """The whole stored run (draws excepted) with its per-question results."""
    record = {k: getattr(run, k) for k in ForecastRun.model_fields if k != "posterior"}
    for key in _JSON_FIELDS:
        record[key] = json.loads(record[key])
    record["as_of"], record["known_at"] = run.as_of.isoformat(), run.known_at.isoformat()
    record["created_at"] = run.created_at.isoformat()
    questions = {q.id: q for q in session.exec(select(Question))}
    results = session.exec(select(ForecastResult).where(ForecastResult.run_id == run.id).order_by(ForecastResult.id))
    by_slug = {q.slug: q for q in questions.values()}
    record["results"] = [_result_view(r, questions[r.question_id], _precluder(questions[r.question_id], by_slug))
                         for r in results if question is None or questions[r.question_id].slug == question]
    record["posterior_bytes"] = len(run.posterior)
    return record


def list_runs(session: Session, question: str | None = None) -> list[dict]:
    """One summary line per stored run, oldest first, with the median and P(not within the horizon) of
    ``question`` (default: the run's first question), named in ``shown``."""
    require_scope(session, question)
    rows = []
    for run in session.exec(select(ForecastRun).order_by(ForecastRun.id)):
        slugs = json.loads(run.questions)
        if question and question not in slugs:
            continue
        shown = question or (slugs[0] if slugs else None)
        results = (select(ForecastResult).where(ForecastResult.run_id == run.id)
                   .join(Question, Question.id == ForecastResult.question_id).where(Question.slug == shown))
        first = session.exec(results).first()
        head = json.loads(first.headline) if first else {}
        rows.append({
            "id": run.id, "created_at": run.created_at.isoformat(timespec="seconds"), "kind": run.kind,
            "as_of": run.as_of.isoformat(), "questions": ",".join(slugs), "sampler": run.sampler,
            "draws": json.loads(run.settings)["draws"], "seed": run.seed, "converged": run.converged,
            "shown": shown if first else None, "median": head.get("median"),
            "not_within_horizon": head.get("not_within_horizon"),
            "fingerprint": run.evidence_fingerprint,
        })
    return rows


MONTHLY_COLUMNS = ["question", "month", "forecast", "prior", "cdf_0.025", "cdf_0.1", "cdf_0.25", "cdf_0.5", "cdf_0.75",
                   "cdf_0.9", "cdf_0.975"]


def monthly_rows(record: dict) -> list[dict]:
    """A run view's distributions as rows: question, month, forecast, prior and quantiles of the cumulative bands."""
    rows = []
    for result in record["results"]:
        bands = result["cdf_bands"]
        for i, month in enumerate(result["months"]):
            rows.append({"question": result["question"], "month": month, "forecast": result["monthly"][i],
                         "prior": result["prior_monthly"][i],
                         **{f"cdf_{q}": values[i] for q, values in bands.items()}})
    return rows


def forecast_rows(session: Session, question: str) -> list[dict]:
    """One row per stored run of ``question``, oldest first: checkpoints, P(not within the horizon), median, intervals."""
    rows = []
    for run, result in session.exec(run_results(question)):
        head = json.loads(result.headline)
        intervals = {f"{which}_{level[:-1]}": bounds[i] for level, bounds in head["intervals"].items()
                     for i, which in enumerate(("low", "high"))}
        rows.append({"run": run.id, "kind": run.kind, "as_of": run.as_of, "created_at": run.created_at,
                     "converged": run.converged, "median": head["median"],
                     "not_within_horizon": head["not_within_horizon"], **intervals,
                     **{f"before_{d}": p for d, p in head["checkpoints"].items()}})
    return rows


def fixed_reliability(data, priors: Priors, learned: list[dict], ids: Identities | None = None) -> np.ndarray | None:
    """Reliabilities for the exact path: a run's posterior means by expert name (with ``ids``, the names the run
    recorded followed through later renames and merges), else prior centres."""
    if not data.experts:
        return None
    from ..inference.parameters import PriorArrays

    means = {name: r["mean"] for name, r in (ids.by_current_name(learned) if ids else
                                              {r["expert"]: r for r in learned}).items()}
    centres = PriorArrays.from_priors(data, priors).prior_mean_reliability()
    return np.array([means.get(e, c) for e, c in zip(data.experts, centres)])


def fast_headline(session: Session, priors: Priors, question: str, known_at: dt.datetime | None = None,
                  data=None) -> dict:
    """The exact posterior with reliabilities fixed at the latest run's means (or prior centres), from the
    evidence as known at ``known_at`` (default: now), or from ``data`` built for the question already."""
    data = data or build_dataset(session, priors, known_at=known_at, questions=[question])
    if question not in data.questions:
        raise NotFoundError(f"question {question!r} is not open")
    source = "prior centres"
    reliability = None
    try:
        run = latest_run(session, question)
    except NotFoundError:
        run = None
    if run is not None and data.experts:
        reliability = fixed_reliability(data, priors, json.loads(run.reliabilities), identities(session))
        source = f"run {run.id} means"
    q = session.exec(select(Question).where(Question.slug == question)).one()
    return {"question": question, "event": q.event, "horizon_end": q.horizon_end, "reliabilities_from": source,
            "headline": exact_headline(data, priors, question, reliability), "run_said": _run_said(session, run, q)}


def _run_said(session: Session, run: ForecastRun | None, question: Question) -> dict | None:
    """The run's own P(event by the horizon's end) for the question: what the instant headline stands in for."""
    result = None if run is None else session.exec(select(ForecastResult).where(
        ForecastResult.run_id == run.id, ForecastResult.question_id == question.id)).first()
    if result is None:
        return None
    return {"run": run.id, "as_of": run.as_of.isoformat(), "p": 1.0 - json.loads(result.headline)["not_within_horizon"]}


RUN_GAP = 0.02  # an instant headline this far from the run it stands in for says so


def run_gap_note(fast: dict, before: dict) -> str | None:
    """When the instant headline ``before`` a change differs from the run's own (by RUN_GAP or more): a sentence
    saying what the run said and why the two differ, else None."""
    said = fast.get("run_said")
    if said is None or abs(said["p"] - (1.0 - before["not_within_horizon"])) < RUN_GAP:
        return None
    return (f"run {said['run']} (as of {said['as_of']}) itself said {100 * said['p']:.0f}%; the two differ by any "
            f"evidence logged since that run and because a full run also weighs how uncertain each reliability is")


def fast_headline_line(fast: dict) -> str:
    """The instant headline (:func:`fast_headline`) as the plain-words sentence the CLI prints after a log."""
    from ..inference.summary import plain_headline

    return plain_headline(fast["event"], fast["headline"], fast["horizon_end"]).sentence
