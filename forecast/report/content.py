"""Everything a report shows, gathered from the store into plain dicts (no rendering here)."""

from __future__ import annotations

import json

import numpy as np
from sqlmodel import Session, select

from ..dataset import build_dataset, statement_parts
from ..evidence import question_by_slug, ref_of
from ..exact import exact_headline
from ..months import parse_month
from ..priors import Priors
from ..run_views import fixed_reliability, run_view
from ..scorecard import scorecard
from ..store.tables import Expert, ForecastResult, ForecastRun, Observation, Statement
from ..summary import BEYOND, yearly
from ..track import statuses


def _month_index(label: str, months: list[str]) -> int | None:
    return months.index(label) if label in months else None


def headline_sentences(result: dict, event: str, precluder_event: str | None = None) -> list[str]:
    """Plain-words checkpoint probabilities with their 80% credible intervals across draws (and P(pre-empted))."""
    cdf = result["cdf_bands"]
    out = []
    for date, p in result["headline"]["checkpoints"].items():
        index = _month_index(f"{int(date[:4]) - 1}-12", result["months"])
        band = f" (80% interval {100 * cdf['0.1'][index]:.0f}%-{100 * cdf['0.9'][index]:.0f}%)" if index is not None else ""
        out.append(f"{event} before {date}: {100 * p:.0f}%{band}")
    out.append(f"{event} not within the horizon (by {result['months'][-2]}): "
               f"{100 * result['headline']['not_within_horizon']:.0f}%")
    if "pre_empted" in result["headline"]:
        out.append(f"Pre-empted ({precluder_event or 'the precluding event'} first, within the horizon): "
                   f"{100 * result['headline']['pre_empted']:.0f}%")
    return out


def _exact_headline(session, priors, run, run_record, question, exclude=frozenset()) -> dict:
    """The exact fast path's headline at the run's as-of and known-at, reliabilities fixed at the run's means."""
    data = build_dataset(session, priors, run.as_of, run.known_at, [question], exclude=exclude)
    return exact_headline(data, priors, question, fixed_reliability(data, priors, run_record["reliabilities"]))


def evidence_rows(session: Session, priors: Priors, run: ForecastRun, run_record: dict, question: str) -> list[dict]:
    """Every statement and observation the run used for this question, with weight, status and influence."""
    data = build_dataset(session, priors, run.as_of, run.known_at, [question])
    base = _exact_headline(session, priors, run, run_record, question)
    status = statuses(data)
    record = data.stmt_weight if data.stmt_record_weight is None else data.stmt_record_weight
    weights = dict(zip(data.stmt_uids, np.where(data.decided == 0, data.stmt_weight, record)))
    names = {e.id: e.name for e in session.exec(select(Expert))}
    qid = question_by_slug(session, question).id
    used = set(json.loads(run.evidence))
    rows = []
    for table in (Statement, Observation):
        for row in session.exec(select(table).where(table.question_id == qid)):
            if row.uid not in used:
                continue
            without = _exact_headline(session, priors, run, run_record, question, exclude=frozenset({row.uid}))
            rows.append(_evidence_row(row, names, priors, run, base, without, status, weights))
    return sorted(rows, key=lambda r: (r["date"], r["ref"]))


def _evidence_row(row, names, priors, run, base, without, status, weights) -> dict:
    common = {"ref": ref_of(row), "source": row.source,
              "delta_beyond": base["not_within_horizon"] - without["not_within_horizon"],
              "median_without": without["median"]}
    if isinstance(row, Statement):
        flipped = statement_parts(row, run.as_of, priors)[2]
        weight = float(weights.get(row.uid, 0.0))
        return {**common, "type": "statement", "date": row.said_on.isoformat(), "who": names[row.expert_id],
                "text": row.quote, "claim": row.claim_text, "interval": f"{row.claim_start or 'open'} .. {row.claim_end or 'open'}",
                "strength": row.strength, "weight": weight, "complement": flipped, "status": status.get(ref_of(row), "open")}
    return {**common, "type": "observation", "date": row.observed_on.isoformat(), "who": row.kind, "text": row.note,
            "claim": "", "interval": "", "strength": "", "weight": None, "complement": False, "status": ""}


def kind_prior_interval(priors: Priors, kind: str, expert: str, draws: int = 20_000) -> tuple[float, float, float]:
    """Mean and 90% interval of a reliability under its prior (Monte Carlo, fixed seed)."""
    rng = np.random.default_rng(0)
    own = priors.reliability.experts.get(expert)
    if own:
        logit = rng.normal(np.log(own["mean"] / (1 - own["mean"])), own["sd_logit"], draws)
    else:
        spec = priors.reliability.kinds[kind]
        mu = rng.normal(np.log(spec["mean"] / (1 - spec["mean"])), spec["mean_sd_logit"], draws * 3)
        mu = mu[mu > 0][:draws]
        logit = mu + np.abs(rng.normal(0, spec["spread_logit"], mu.size)) * rng.normal(size=mu.size)
    r = 1 / (1 + np.exp(-logit))
    low, high = np.quantile(r, [0.05, 0.95])
    return float(r.mean()), float(low), float(high)


def expert_rows(run_record: dict, evidence: list[dict], priors: Priors) -> list[dict]:
    """Each expert's learned reliability beside its prior, with the claims borne out or falsified."""
    rows = []
    speakers = {e["who"] for e in evidence if e["type"] == "statement"}
    for rel in run_record["reliabilities"]:
        if rel["expert"] not in speakers:
            continue
        claims = [e for e in evidence if e["type"] == "statement" and e["who"] == rel["expert"]]
        prior_mean, prior_low, prior_high = kind_prior_interval(priors, rel["kind"], rel["expert"])
        rows.append({**rel, "prior_mean": prior_mean, "prior_q05": prior_low, "prior_q95": prior_high,
                     "claims": [(c["ref"], c["claim"], c["status"]) for c in claims]})
    return rows


def history(session: Session, question: str, upto: ForecastRun) -> list[dict]:
    """Every stored run of this question up to this one, with the evidence that arrived before it."""
    qid = question_by_slug(session, question).id
    refs = {r.uid: ref_of(r) for table in (Statement, Observation)
            for r in session.exec(select(table).where(table.question_id == qid))}
    rows, seen = [], set()
    runs = session.exec(select(ForecastRun).where(ForecastRun.id <= upto.id).order_by(ForecastRun.as_of, ForecastRun.id))
    for run in runs:
        result = session.exec(select(ForecastResult).where(ForecastResult.run_id == run.id,
                                                           ForecastResult.question_id == qid)).first()
        if result is None:
            continue
        evidence = set(json.loads(run.evidence))
        head = json.loads(result.headline)
        rows.append({"id": run.id, "kind": run.kind, "as_of": run.as_of.isoformat(), "converged": run.converged,
                     "checkpoints": head["checkpoints"], "not_within_horizon": head["not_within_horizon"],
                     "median": head["median"], "new_evidence": sorted(refs[u] for u in evidence - seen if u in refs)})
        seen |= evidence
    return rows


def _precluder_event(priors: Priors, spec) -> str | None:
    """The event sentence of the question that precludes this one, if any."""
    other = priors.questions.get(spec.precluded_by) if spec and spec.precluded_by else None
    return other.event if other else None


def report_content(session: Session, priors: Priors, run: ForecastRun, question: str) -> dict:
    """All sections of one question's report."""
    record = run_view(session, run, question)
    (result,) = record["results"]
    spec = priors.questions.get(question)
    evidence = evidence_rows(session, priors, run, record, question)
    first, n = parse_month(result["months"][0]), len(result["months"]) - 1
    return {
        "question": question_by_slug(session, question), "run": record, "result": result,
        "sentences": headline_sentences(result, spec.event if spec else "The event happens", _precluder_event(priors, spec)),
        "years": yearly(np.array(result["monthly"]), first, n),
        "prior_years": yearly(np.array(result["prior_monthly"]), first, n),
        "evidence": evidence, "experts": expert_rows(record, evidence, priors),
        "history": history(session, question, run), "beyond_label": BEYOND,
        "scores": scorecard(session, priors, question, baselines=False),
    }
