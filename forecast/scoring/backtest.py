"""Backtests: the forecast re-run as of each past date, with only the evidence said or observed by then."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..basics import validate
from ..basics.progress import SILENT, Progress
from ..domain.priors import Priors
from ..domain.questions import last_day_before_outcome, question_by_slug
from ..domain.verify import require_intact
from ..errors import InputError
from ..inference.dataset import build_dataset
from ..inference.model import DateModel, FitSettings
from ..runs.fitting import fit_and_store

STEPS = {"month": 1, "quarter": 3, "year": 12}


def as_of_dates(start: dt.date, end: dt.date, every: str) -> list[dt.date]:
    """``start``, then every month / quarter / year after it, up to ``end``."""
    if every not in STEPS:
        raise InputError(f"unknown step {every!r} (expected one of: {', '.join(STEPS)})")
    if end < start:
        raise InputError(f"--from {start} is after --to {end}")
    dates: list[dt.date] = []
    k = 0
    while True:
        months = start.month - 1 + k * STEPS[every]
        day = dt.date(start.year + months // 12, months % 12 + 1, min(start.day, 28))
        if day > end:
            return dates
        dates.append(day)
        k += 1


def default_end(store, question: str, today: dt.date | None = None) -> tuple[dt.date, str]:
    """A backtest's last as-of date when none is given, and why: today, or the last day before the question's
    outcome became known when that is earlier (later forecasts would know it, and are never scored)."""
    today = today or dt.date.today()
    with store.reader() as session:
        before = last_day_before_outcome(session, question_by_slug(session, question))
    if before < today:
        return before, f"the day before the outcome of {question!r} became known"
    return today, "today"


def backtest(store, priors: Priors, question: str, start: dt.date, every: str, end: dt.date | None = None,
             settings: FitSettings = FitSettings(), on_run: Callable[[dt.date, int], None] | None = None,
             progress: Progress = SILENT) -> list[int]:
    """Fit and store one `backtest` run of ``question`` per as-of date, re-using one compiled model; returns run ids.

    Every question is fitted jointly (track records carry across questions), but only ``question``'s
    results are stored, so the runs count for it alone. The seed and the dates (1900-01-01 to today)
    are checked before anything is compiled. ``on_run(date, run_id)`` follows each stored run.
    Without ``end``: the earlier of today and the last day before the outcome became known (`default_end`).
    """
    validate.seed(settings.seed)
    if question in priors.learned_from:
        raise InputError(f"the prior set in force ({priors.prior_set}) was learned from the outcome of {question!r}, "
                         f"so its backtest would be scored on what it was taught: run `forecast learn --leave-out "
                         f"{question}` (or `forecast learn --hand-set`) first")
    start = validate.past_date(start, "--from date")
    if end is None:
        end, why = default_end(store, question)
        if end < start:
            raise InputError(f"--from {start} is after the default --to {end} ({why}); give --to")
    dates = as_of_dates(start, validate.past_date(end, "--to date"), every)
    progress.stage("building the datasets")
    with store.reader() as session:
        require_intact(session, fit_inputs_only=True)
        final = build_dataset(session, priors, dates[-1])
        datasets = [build_dataset(session, priors, day, experts=final.experts) for day in dates]
    model = DateModel(final, priors)
    ids: list[int] = []
    progress.steps("backtest", len(dates))
    for k, (day, data) in enumerate(zip(dates, datasets), start=1):
        progress.step(f"date {k} of {len(dates)} (as of {day})")
        ids.append(fit_and_store(store, data, priors, settings, kind="backtest", model=model, only=[question],
                                 progress=progress))
        if on_run:
            on_run(day, ids[-1])
    return ids
