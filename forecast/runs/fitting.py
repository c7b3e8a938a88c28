"""Forecast runs: fit the model to a dataset, summarise the draws, store the run append-only.

The model never sees a session: a dataset is built in one transaction, the model is fitted
with no session open, and the summary is stored in another transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from sqlmodel import Session, select

from ..basics import validate
from ..basics.progress import SILENT, Progress
from ..basics.version import __version__
from ..domain.priors import Priors
from ..errors import ForecastError
from ..inference.dataset import Dataset
from ..inference.draws import Draws, pack
from ..inference.exact import exact_posterior
from ..inference.model import MODEL_VERSION, DateModel, FitSettings
from ..inference.summary import headline, on_grid
from ..store.tables import ForecastResult, ForecastRun, Question

PARAMETERS = ("hazard_level", "hazard_trend", "z", "logit_reliability", "kind_mean", "kind_spread", "reliability")
BAND_QUANTILES = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
RHAT_MAX = 1.01
AUTO_TUNE, RETRY_TUNE = 500, 1000  # adaptive tuning: 500 steps, and 1000 if that fails diagnostics


def fit_settings(draws: int = 1000, tune: int | None = None, chains: int = 4, seed: int = 20220726,
                 sampler: str = "nutpie") -> FitSettings:
    """Sampler settings as `run` and `backtest` take them, bounded (see :func:`validate.sampler_counts`);
    ``tune=None`` tunes adaptively (see AUTO_TUNE)."""
    draws, tuned, chains = validate.sampler_counts(draws, AUTO_TUNE if tune is None else tune, chains)
    return FitSettings(draws=draws, tune=tuned, chains=chains, seed=validate.seed(seed), sampler=sampler,
                       cores=min(chains, 2), retry_tune=RETRY_TUNE if tune is None else None)


@dataclass
class FitSummary:
    """What a fit produced, ready to store."""

    monthly: np.ndarray  # [Q, bins] Rao-Blackwellised posterior over T
    prior: np.ndarray  # [Q, bins]
    preempted: np.ndarray  # [Q] P(pre-empted), Rao-Blackwellised (0 for a question nothing precludes)
    cdf_bands: dict[str, np.ndarray]  # quantile -> [Q, bins] cumulative
    reliabilities: list[dict]
    diagnostics: dict
    posterior: bytes


def diagnostics(draws: Draws | Any, settings: FitSettings) -> dict:
    """Max R-hat, min bulk/tail ESS, divergences, and whether the run passes (draws or an ArviZ DataTree)."""
    from ..inference.diagnostics import summary

    draws = draws if isinstance(draws, Draws) else Draws.from_datatree(draws)
    result: dict[str, Any] = summary({n: draws.posterior[n] for n in PARAMETERS[:-1] if n in draws.posterior})
    divergences = int(draws.sample_stats["diverging"].sum())
    ess_floor = min(400, 100 * settings.chains)
    result |= {"divergences": divergences, "ess_floor": ess_floor}
    problems = []
    if not result["max_rhat"] <= RHAT_MAX:
        problems.append(f"R-hat {result['max_rhat']:.3f} > {RHAT_MAX}")
    if divergences:
        problems.append(f"{divergences} divergent transitions")
    if not min(result["min_ess_bulk"], result["min_ess_tail"]) >= ess_floor:
        problems.append(f"ESS {min(result['min_ess_bulk'], result['min_ess_tail']):.0f} < {ess_floor}")
    result["problems"] = problems
    return result


def summarise_fit(data: Dataset, priors: Priors, draws: Draws, settings: FitSettings) -> FitSummary:
    """Everything stored with a run, from the draws (no re-sampling needed later)."""
    p_t = draws.posterior["p_T"]  # (chain, draw, question, bin)
    flat = p_t.reshape(-1, *p_t.shape[2:])
    cdf = np.cumsum(flat, axis=-1)
    reliabilities = []
    if "reliability" in draws.posterior:
        samples = draws.posterior["reliability"].reshape(-1, len(data.experts))
        lows, highs = np.quantile(samples, [0.05, 0.95], axis=0)  # every expert in one call
        for i, name in enumerate(data.experts):
            reliabilities.append({"expert": name, "kind": data.expert_kinds[i], "mean": float(samples[:, i].mean()),
                                  "q05": float(lows[i]), "q95": float(highs[i])})
    return FitSummary(
        monthly=flat.mean(axis=0), prior=exact_posterior(data, priors, with_evidence=False),
        preempted=draws.posterior["p_preempted"].reshape(-1, len(data.questions)).mean(axis=0),
        cdf_bands=dict(zip(map(str, BAND_QUANTILES), np.quantile(cdf, BAND_QUANTILES, axis=0))),  # one partition
        reliabilities=reliabilities, diagnostics=diagnostics(draws, settings), posterior=pack(draws.only(PARAMETERS)),
    )


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 10) for v in values]


def save_run(session: Session, data: Dataset, config: str, settings: FitSettings, summary: FitSummary,
             elapsed: float, kind: str = "full", only: list[str] | None = None,
             prior_set: str = "hand-set") -> ForecastRun:
    """Store a run and its per-question results (only for the questions in ``only``, when given); its settings
    name the prior set it used."""
    stored = [q for q in data.questions if only is None or q in only]
    run = ForecastRun(
        kind=kind, as_of=data.as_of, known_at=data.known_at, questions=json.dumps(stored),
        seed=settings.seed, sampler=settings.sampler, settings=json.dumps(asdict(settings) | {"prior_set": prior_set}),
        code_version=__version__, model_version=MODEL_VERSION, config_hash=config,
        evidence_fingerprint=data.fingerprint, evidence=json.dumps(data.evidence_uids),
        diagnostics=json.dumps(summary.diagnostics), converged=not summary.diagnostics["problems"],
        elapsed_seconds=round(elapsed, 3), reliabilities=json.dumps(summary.reliabilities),
        posterior=summary.posterior,
    )
    session.add(run)
    session.flush()
    ids = {q.slug: q.id for q in session.exec(select(Question))}
    for q, slug in enumerate(data.questions):
        if slug not in stored:
            continue
        n, start = int(data.n_months[q]), int(data.starts[q])
        monthly = on_grid(summary.monthly[q], n)
        linked = data.precluded_by is not None and data.precluded_by[q] >= 0
        session.add(ForecastResult(
            run_id=run.id, question_id=ids[slug], monthly=json.dumps(_rounded(monthly)),
            prior_monthly=json.dumps(_rounded(on_grid(summary.prior[q], n))),
            cdf_bands=json.dumps({k: _rounded(on_grid(v[q], n)) for k, v in summary.cdf_bands.items()}),
            headline=json.dumps(headline(monthly, start, n, float(summary.preempted[q]) if linked else None)),
        ))
    session.flush()
    return run


def fit_checked(model: DateModel, data: Dataset, priors: Priors, settings: FitSettings,
                progress: Progress = SILENT) -> tuple[FitSummary, FitSettings]:
    """Fit and summarise; with ``settings.retry_tune``, a fit that fails its diagnostics is re-sampled once.

    Returns the summary and the settings it was made with.
    """
    summary = summarise_fit(data, priors, model.fit_draws(settings, data, progress), settings)
    if summary.diagnostics["problems"] and settings.retry_tune:
        first = f"{settings.tune} tuning steps: {'; '.join(summary.diagnostics['problems'])}"
        settings = replace(settings, tune=settings.retry_tune, retry_tune=None)
        progress.stage(f"re-sampling with {settings.tune} tuning steps")
        summary = summarise_fit(data, priors, model.fit_draws(settings, data, progress), settings)
        summary.diagnostics["retried_after"] = first
    return summary, settings


def fit_and_store(store, data: Dataset, priors: Priors, settings: FitSettings, kind: str = "full", model=None,
                  only: list[str] | None = None, progress: Progress = SILENT) -> int:
    """Fit (re-using ``model`` when given) and store (results for ``only``, when given); returns the run id."""
    if not data.questions:
        raise ForecastError("no open questions to forecast")
    model = model or DateModel(data, priors)
    started = time.perf_counter()
    summary, settings = fit_checked(model, data, priors, settings, progress)
    elapsed = time.perf_counter() - started
    with store.session() as session:
        return save_run(session, data, model.config_hash, settings, summary, elapsed, kind, only, priors.prior_set).id


def run_forecast(store, settings: FitSettings, question: str | None = None,
                 as_of: dt.date | None = None, known_at: dt.datetime | None = None,
                 allow_tampered: bool = False, warn: Callable[[str], None] | None = None,
                 progress: Progress = SILENT) -> int:
    """Verify the store, read its priors, build the dataset (all open questions, jointly), fit, and store the
    run; returns its id.

    The seed, ``as_of`` (a date up to today) and ``known_at`` (up to the end of today, UTC) are
    checked before anything is compiled. A store changed outside forecast raises
    :class:`~forecast.errors.TamperError`, unless ``allow_tampered``: then each problem goes to
    ``warn`` before the fit.
    """
    from ..domain.questions import question_by_slug, store_priors
    from ..domain.verify import require_intact
    from ..inference.dataset import build_dataset

    validate.seed(settings.seed)
    if as_of is not None:
        validate.past_date(as_of, "as-of date")
    if known_at is not None:
        validate.past_timestamp(known_at, "known-at time")
    with store.reader() as session:
        problems = require_intact(session, allow_tampered, "; `forecast run --allow-tampered` fits it anyway",
                                  fit_inputs_only=True).problems
        if question:
            question_by_slug(session, question)
        priors = store_priors(session)
        data = build_dataset(session, priors, as_of, known_at)
    for problem in problems if warn else ():
        warn(problem)
    return fit_and_store(store, data, priors, settings, progress=progress)
