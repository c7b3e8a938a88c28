"""Keeping score: every stored run and the baselines, on every resolved checkpoint and question.

"prior" is the hazard prior alone (with pre-emption), before any evidence: the report's prior column. The other
baselines use the same hard observations and hazard prior as the model (and the same pre-emption by a linked
question, without its statements), so they differ only in how they weigh the statements: "prior and
observations" ignores statements; "expert: NAME" uses that expert's statements alone, each trusted at
reliability 0.8; "linear pool" averages the experts' distributions with equal weight; "latest statement" uses
only the most recent statement, trusted at 0.8.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, select

from ..basics.months import parse_month
from ..domain.priors import Priors
from ..domain.questions import last_day_before_outcome
from ..inference.dataset import build_dataset
from ..inference.exact import exact_monthly
from ..store.tables import Expert, ForecastResult, ForecastRun, Question, Statement
from .resolution import checkpoint_outcomes, date_outcome
from .rules import bootstrap_difference, brier, log_score, rps, time_average

BASELINE_RELIABILITY = 0.8
MODEL, PRIOR, POOL, LATEST = "model", "prior", "linear pool", "latest statement"
OBSERVED = "prior and observations"  # the hazard prior with the hard observations, no statement: what the facts alone say
MIN_QUESTIONS_FOR_BOOTSTRAP = 10  # an interval over fewer questions than this is not reported


@dataclass(frozen=True)
class Forecasts:
    """One run's monthly distributions for one question, by forecaster."""

    run_id: int
    kind: str
    as_of: dt.date
    question: str
    monthly: dict[str, np.ndarray]
    headline: dict  # the model's stored headline (median, intervals, checkpoints) for this run and question
    converged: bool = True  # whether the run passed its diagnostics (a failed one is scored as stored, and flagged)


def _alone(session, priors, run, question, all_uids: list[str], keep: set[str]) -> np.ndarray:
    """The exact posterior using only the statements in ``keep`` (all observations), reliability 0.8."""
    data = build_dataset(session, priors, run.as_of, run.known_at, [question], exclude=frozenset(set(all_uids) - keep))
    r = np.full(len(data.experts), BASELINE_RELIABILITY)
    return exact_monthly(data, priors, question, r)


def run_forecasts(session: Session, priors: Priors, run: ForecastRun, result: ForecastResult, question: str,
                  baselines: bool = True, speakers: list[str] = ()) -> Forecasts:
    """The model's and every baseline's distribution for one run (only model and prior without ``baselines``).

    Every expert in ``speakers`` gets a forecast, so all are scored over the same checkpoints and periods as
    the model: before an expert's first statement it is the prior with the hard observations.
    """
    monthly = {MODEL: np.array(json.loads(result.monthly)), PRIOR: np.array(json.loads(result.prior_monthly))}
    head = json.loads(result.headline)
    if not baselines:
        return Forecasts(run.id, run.kind, run.as_of, question, monthly, head, run.converged)
    data = build_dataset(session, priors, run.as_of, run.known_at, [question])
    q = data.questions.index(question)  # a linked question's statements are left out of every baseline
    own = [uid for uid, i in zip(data.stmt_uids, data.stmt_question) if i == q]
    rows = {s.uid: s for s in session.exec(select(Statement).where(Statement.uid.in_(own)))}
    by_expert: dict[str, set[str]] = {}
    for uid, expert in zip(data.stmt_uids, (data.experts[i] for i in data.stmt_expert)):
        if uid in rows:
            by_expert.setdefault(expert, set()).add(uid)
    experts = {f"expert: {name}": _alone(session, priors, run, question, data.stmt_uids, by_expert.get(name, set()))
               for name in sorted(set(speakers) | set(by_expert))}
    monthly |= experts
    alone = _alone(session, priors, run, question, data.stmt_uids, set())
    monthly[OBSERVED] = alone
    spoken = [experts[f"expert: {name}"] for name in by_expert]
    monthly[POOL] = np.mean(spoken, axis=0) if spoken else alone
    if rows:
        latest = max(rows.values(), key=lambda s: (s.said_on, s.id))
        monthly[LATEST] = _alone(session, priors, run, question, data.stmt_uids, {latest.uid})
    else:
        monthly[LATEST] = alone
    return Forecasts(run.id, run.kind, run.as_of, question, monthly, head, run.converged)


def probability_before(monthly: np.ndarray, question: Question, checkpoint: dt.date) -> float:
    """P(event before the checkpoint) from a distribution on the question's grid, always within [0, 1].

    The mass before the checkpoint over the whole mass: stored distributions are rounded to 10 places and
    exact ones sum to 1 only to rounding, so a plain sum can exceed 1 (1 + 1e-10 for a forecast all but
    certain of an event that never came), and the log score of its complement was then NaN.
    """
    months_before = checkpoint.year * 12 + checkpoint.month - 1 - parse_month(question.horizon_start)
    k = min(max(months_before, 0), len(monthly) - 1)  # never the beyond bin
    head, tail = float(np.sum(monthly[:k])), float(np.sum(monthly[k:]))
    return min(max(head / (head + tail), 0.0), 1.0) if head + tail > 0 else 0.0


def scored_window(session: Session, question: Question) -> tuple[dt.date, dt.date]:
    """The as-of dates whose forecasts count for a question: from its horizon start until its outcome is known."""
    year, index = divmod(parse_month(question.horizon_start), 12)
    return dt.date(year, index + 1, 1), last_day_before_outcome(session, question)


def _speakers(session: Session, question: Question) -> list[str]:
    query = (select(Expert.name).join(Statement, Statement.expert_id == Expert.id)
             .where(Statement.question_id == question.id, Statement.retracted_at.is_(None)))
    return sorted(set(session.exec(query)))


def all_forecasts(session: Session, priors: Priors, question: str | None = None, baselines: bool = True,
                  tag: str | None = None) -> list[Forecasts]:
    """Forecasts of every stored run (full and backtest) for every (or one, or tagged) non-annulled question,
    within each question's scored window."""
    questions = {q.id: q for q in session.exec(select(Question).where(Question.status != "annulled"))
                 if (question is None or q.slug == question) and (tag is None or tag in json.loads(q.tags))
                 and q.slug in priors.questions}
    windows = {qid: scored_window(session, q) for qid, q in questions.items()}
    speakers = {qid: _speakers(session, q) for qid, q in questions.items()}
    out = []
    for run in session.exec(select(ForecastRun).order_by(ForecastRun.as_of, ForecastRun.id)):
        for result in session.exec(select(ForecastResult).where(ForecastResult.run_id == run.id)):
            q = questions.get(result.question_id)
            if q is not None and windows[q.id][0] <= run.as_of <= windows[q.id][1]:
                out.append(run_forecasts(session, priors, run, result, q.slug, baselines, speakers[q.id]))
    return out


def checkpoint_scores(session: Session, forecasts: list[Forecasts]) -> list[dict]:
    """One row per run, forecaster and resolved checkpoint that the run forecast before it resolved."""
    rows = []
    questions = {q.slug: q for q in session.exec(select(Question))}
    outcomes = {slug: checkpoint_outcomes(session, q) for slug, q in questions.items()}
    known = {f.question: scored_window(session, questions[f.question])[1] + dt.timedelta(days=1) for f in forecasts}
    for f in forecasts:
        q = questions[f.question]
        for checkpoint, outcome in outcomes[f.question].items():
            if outcome is None or f.as_of >= checkpoint:
                continue
            for name, monthly in f.monthly.items():
                p = probability_before(monthly, q, checkpoint)
                rows.append({"run": f.run_id, "kind": f.kind, "as_of": f.as_of.isoformat(), "question": f.question,
                             "checkpoint": checkpoint.isoformat(), "until": min(checkpoint, known[f.question]).isoformat(),
                             "forecaster": name, "p": p, "outcome": int(outcome), "converged": f.converged,
                             "brier": float(brier(p, outcome)), "log": float(log_score(p, outcome))})
    return rows


def date_scores(session: Session, forecasts: list[Forecasts]) -> list[dict]:
    """RPS of the monthly distribution (not-within-horizon bin last) for fully resolved questions."""
    questions = {q.slug: q for q in session.exec(select(Question))}
    rows = []
    for f in forecasts:
        outcome = date_outcome(session, questions[f.question])
        if outcome is None:
            continue
        rows += [{"run": f.run_id, "as_of": f.as_of.isoformat(), "question": f.question, "forecaster": name,
                  "rps": float(rps(monthly, outcome)), "pit": mid_pit(monthly, outcome),
                  "pit_range": pit_range(monthly, outcome)}
                 for name, monthly in f.monthly.items()]
    return rows


def mid_pit(monthly: np.ndarray, outcome: int) -> float:
    """Probability integral transform of a discrete outcome, at the middle of its step: F(t-1) + p(t)/2."""
    return float(np.sum(monthly[:outcome]) + monthly[outcome] / 2)


def pit_range(monthly: np.ndarray, outcome: int) -> list[float]:
    """[F(t-1), F(t)]: the forecast's cumulative probability just before and at the outcome's month (or bin)."""
    below = float(np.sum(monthly[:outcome]))
    return [below, below + float(monthly[outcome])]


def time_averaged(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per forecaster: the Brier score time-averaged over each checkpoint's open period, then averaged
    over checkpoints (a forecast counts from its as-of date until the next run's, or until the checkpoint or the
    day the outcome became known, whichever is first)."""
    series: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        series.setdefault((row["forecaster"], row["question"], row["checkpoint"]), []).append(row)
    per: dict[str, dict[str, float]] = {}
    for (name, question, checkpoint), items in series.items():
        latest: dict[str, dict] = {}
        for item in sorted(items, key=lambda r: (r["as_of"], r["run"])):
            latest[item["as_of"]] = item
        ordered = sorted(latest.values(), key=lambda r: r["as_of"])
        starts = [dt.date.fromisoformat(r["as_of"]) for r in ordered]
        value = time_average(starts, [r["brier"] for r in ordered], dt.date.fromisoformat(ordered[0]["until"]))
        per.setdefault(name, {})[f"{question} before {checkpoint}"] = value
    return per


def question_of(key: str) -> str:
    """The question of a ``time_averaged`` key ("SLUG before YYYY-MM-DD"; slugs hold no spaces)."""
    return key.split(" before ", 1)[0]


def comparison(per_checkpoint: dict[str, dict[str, float]]) -> list[dict]:
    """Model versus each baseline on the time-averaged Brier score, paired over checkpoints.

    The 90% interval is a cluster bootstrap that resamples questions, each with all its checkpoints (they are
    forecast by the same runs and move together); it is given from MIN_QUESTIONS_FOR_BOOTSTRAP questions on.
    """
    model = per_checkpoint.get(MODEL, {})
    keys = sorted(model)
    out = []
    for name, scores in sorted(per_checkpoint.items()):
        shared = [k for k in keys if k in scores]
        if name == MODEL or not shared:
            continue
        a, b = np.array([model[k] for k in shared]), np.array([scores[k] for k in shared])
        questions = [question_of(k) for k in shared]
        row = {"baseline": name, "checkpoints": len(shared), "questions": len(set(questions)),
               "model": float(a.mean()), "baseline_score": float(b.mean()), "difference": float((a - b).mean()),
               "model_better": bool(a.mean() < b.mean()), "interval": None}
        if row["questions"] >= MIN_QUESTIONS_FOR_BOOTSTRAP:
            _, low, high = bootstrap_difference(a, b, clusters=questions)
            row["interval"] = [low, high]
        out.append(row)
    return out
