"""The scorecard: scores by forecaster, model versus baselines, calibration, coverage and expert records."""

from __future__ import annotations

import json

import numpy as np
from sqlmodel import Session, select

from ..basics.months import date_month, parse_month
from ..domain.experts import identities
from ..domain.priors import Priors
from ..domain.questions import require_scope
from ..domain.views import expert_record
from ..inference.dataset import build_dataset
from ..store.tables import ForecastRun, Observation, Question
from .calibration import MODEL, Forecasts, all_forecasts, checkpoint_scores, comparison, date_scores, time_averaged
from .resolution import date_outcome
from .rules import murphy, pit_coverage, pit_histogram, reliability_diagram
from .track import BORNE_OUT, FALSIFIED, OPEN, statuses

CALIBRATION_BINS = 10  # the reliability diagram's bins, and the Murphy decomposition's


def _by_forecaster(rows: list[dict], dates: list[dict]) -> list[dict]:
    """Per forecaster: checkpoint forecasts scored, mean Brier and log score; resolved dates scored and mean RPS."""
    out = []
    for name in sorted({r["forecaster"] for r in rows} | {d["forecaster"] for d in dates}):
        mine = [r for r in rows if r["forecaster"] == name]
        ranked = [d["rps"] for d in dates if d["forecaster"] == name]
        out.append({"forecaster": name, "n": len(mine),
                    "brier": float(np.mean([r["brier"] for r in mine])) if mine else None,
                    "log": float(np.mean([r["log"] for r in mine])) if mine else None,
                    "dates": len(ranked), "rps": float(np.mean(ranked)) if ranked else None})
    return out


def coverage(session: Session, forecasts: list[Forecasts]) -> dict[str, dict[str, int]]:
    """How often the model's 50% and 80% intervals contained the date, or were consistent with what is known.

    Only the scored runs count (``forecasts``: those within each question's scored window, see
    `scored_window`), not runs made after the outcome was known.
    """
    counts = {level: {"contained": 0, "missed": 0, "undetermined": 0} for level in ("50%", "80%")}
    questions = {q.slug: q for q in session.exec(select(Question))}
    known: dict[str, tuple[int | None, int | None]] = {}
    for f in forecasts:
        q = questions[f.question]
        start, n = parse_month(q.horizon_start), parse_month(q.horizon_end) - parse_month(q.horizon_start) + 1
        if f.question not in known:
            still = [date_month(o.observed_on) - start for o in session.exec(select(Observation).where(
                Observation.question_id == q.id, Observation.kind == "event-not-yet",
                Observation.retracted_at.is_(None)))]
            known[f.question] = (date_outcome(session, q), max(still, default=None))
        truth, known_after = known[f.question]
        for level, (low, high) in f.headline["intervals"].items():
            if level not in counts:
                continue
            low_i = n if not low[0].isdigit() else parse_month(low) - start
            high_i = n if not high[0].isdigit() else parse_month(high) - start
            if truth is not None:
                counts[level]["contained" if low_i <= truth <= high_i else "missed"] += 1
            elif known_after is not None and high_i < known_after:
                counts[level]["missed"] += 1
            else:
                counts[level]["undetermined"] += 1
    return counts


def expert_records(session: Session, priors: Priors, slugs: set[str] | None = None) -> list[dict]:
    """Per expert: claims borne out, falsified and open now (on the given questions), hit rate, learned reliability."""
    data = build_dataset(session, priors, questions=sorted(slugs) if slugs is not None else None)
    status = statuses(data)
    ids = identities(session)
    history: dict[str, list[list]] = {}
    for run in session.exec(select(ForecastRun).order_by(ForecastRun.as_of, ForecastRun.id)):
        for name, rel in ids.by_current_name(json.loads(run.reliabilities)).items():  # renames and merges followed
            history.setdefault(name, []).append([run.as_of.isoformat(), run.id, rel["mean"]])
    rows = []
    for e, name in enumerate(data.experts):
        mine = [status[ref] for ref, who, q in zip(data.stmt_refs, data.stmt_expert, data.stmt_question)
                if who == e and (slugs is None or data.questions[q] in slugs)]
        if not mine:
            continue
        right, wrong = mine.count(BORNE_OUT), mine.count(FALSIFIED)
        rows.append({"expert": name, "kind": data.expert_kinds[e], "borne_out": right, "falsified": wrong,
                     "open": mine.count(OPEN), "hit_rate": right / (right + wrong) if right + wrong else None,
                     "reliability_over_time": history.get(name, [])})
    return rows


def expert_profile(session: Session, priors: Priors, name: str) -> dict:
    """`expert show`: the expert (by any name) with its renames and merges, every statement logged under any of
    its names, and its track record (:func:`expert_records`' row, or None before it has a statement in the model)."""
    from ..runs.explain import evidence_listing

    record = expert_record(session, name)
    record["statements"] = evidence_listing(session, expert=record["name"], include_inactive=True)
    record["track_record"] = next((r for r in expert_records(session, priors) if r["expert"] == record["name"]), None)
    return record


def scorecard(session: Session, priors: Priors, question: str | None = None, baselines: bool = True,
              tag: str | None = None) -> dict:
    """Everything `forecast score` and `forecast calibration` report (without ``baselines``: model and prior only)."""
    require_scope(session, question, tag)
    forecasts = all_forecasts(session, priors, question, baselines, tag)
    slugs = None if question is None and tag is None else {
        q.slug for q in session.exec(select(Question))
        if (question is None or q.slug == question) and (tag is None or tag in json.loads(q.tags))}
    rows = checkpoint_scores(session, forecasts)
    per_checkpoint = time_averaged(rows)
    model_rows = [r for r in rows if r["forecaster"] == MODEL]
    p, y = np.array([r["p"] for r in model_rows]), np.array([r["outcome"] for r in model_rows])
    dates = date_scores(session, forecasts)
    pits = np.array([d["pit_range"] for d in dates if d["forecaster"] == MODEL]).reshape(-1, 2)
    return {
        "checkpoint_scores": rows,
        "by_forecaster": _by_forecaster(rows, dates),
        "time_averaged": {name: {"mean": float(np.mean(list(v.values()))), "checkpoints": v}
                          for name, v in per_checkpoint.items()},
        "comparison": comparison(per_checkpoint),
        "reliability_diagram": reliability_diagram(p, y, bins=CALIBRATION_BINS) if len(p) else [],
        "murphy": murphy(p, y, bins=CALIBRATION_BINS) if len(p) else None,
        "date_scores": dates,
        "pit_histogram": pit_histogram(pits, bins=5).round(6).tolist(),
        "coverage": coverage(session, forecasts),
        "pit_coverage": {f"{level:.0%}": float(pit_coverage(pits, level).mean()) if len(pits) else None
                         for level in (0.5, 0.8)},
        "unconverged_runs": sorted({f.run_id for f in forecasts if not f.converged}),
        "experts": expert_records(session, priors, slugs),
    }
