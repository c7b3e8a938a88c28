"""Everything a report shows, gathered from the store into plain dicts (no rendering here)."""

from __future__ import annotations

import json

import numpy as np
from sqlmodel import Session, select

from ..basics.months import parse_month
from ..domain.evidence import ref_of
from ..domain.experts import identities
from ..domain.priors import Priors
from ..domain.questions import question_by_slug
from ..inference.dataset import build_dataset, statement_parts
from ..inference.explain import statement_weights
from ..inference.summary import PlainHeadline, percent, plain_headline, yearly
from ..runs.views import fixed_reliability, run_view
from ..scoring.resolution import checkpoint_outcomes
from ..scoring.scorecard import scorecard
from ..store.tables import ForecastResult, ForecastRun, Observation, Statement
from .influence import effect, leave_one_out


def _month_index(label: str, months: list[str]) -> int | None:
    return months.index(label) if label in months else None


def _percent_band(result: dict, index: int) -> str:
    band = result["cdf_bands"]
    return f"{percent(band['0.1'][index])} to {percent(band['0.9'][index])}"


def plain_words(result: dict, event: str, precluder_event: str | None = None) -> PlainHeadline:
    """The run's headline for this question in plain words (horizon end: the last month of the grid)."""
    return plain_headline(event, result["headline"], result["months"][-2], precluder_event)


def open_checkpoints(plain: PlainHeadline, outcomes: dict[str, bool | None]) -> list[str]:
    """The checkpoints whose outcome is not known yet."""
    return [date for date in plain.checkpoints if outcomes.get(date) is None]


def resolved_line(outcomes: dict[str, bool | None]) -> str:
    """One line for the resolved checkpoints (empty if none)."""
    resolved = [(date, outcome) for date, outcome in outcomes.items() if outcome is not None]
    if not resolved:
        return ""
    verdicts = {"YES" if o else "NO" for _, o in resolved}
    dates = ", ".join(d for d, _ in resolved)
    verdict = f"all {verdicts.pop()}" if len(verdicts) == 1 else ", ".join(f"{d}: {'YES' if o else 'NO'}" for d, o in resolved)
    return f"Resolved checkpoints (before {dates}): {verdict}."


def draw_spread(result: dict, event: str, outcomes: dict[str, bool | None]) -> list[dict]:
    """The lead's and each open checkpoint's probability with the range of the middle 80% of the draws' values."""
    plain, months = plain_words(result, event), result["months"]
    rows = [{"what": plain.lead.what, "value": plain.lead.value, "band": _percent_band(result, len(months) - 2)}]
    for date, line in plain.checkpoints.items():
        index = _month_index(f"{int(date[:4]) - 1}-12", months)
        if outcomes.get(date) is None and index is not None:
            rows.append({"what": line.what, "value": line.value, "band": _percent_band(result, index)})
    return rows


def resolved_checkpoints(session: Session, question: str, as_of) -> dict[str, bool | None]:
    """Each checkpoint's outcome as known now, for checkpoints on or before the run's as-of date."""
    outcomes = checkpoint_outcomes(session, question_by_slug(session, question))
    return {c.isoformat(): (o if c <= as_of else None) for c, o in outcomes.items()}


def evidence_rows(session: Session, priors: Priors, run: ForecastRun, run_record: dict, question: str) -> list[dict]:
    """Every statement and observation the run used for this question, with weight, status and influence.

    Influence is leave-one-out on the exact path (reliabilities fixed at the run's means), the statements in one
    pass; rows are sorted by it, largest first.
    """
    data = build_dataset(session, priors, run.as_of, run.known_at, [question])

    def rebuild(uid: str):
        return build_dataset(session, priors, run.as_of, run.known_at, [question], exclude=frozenset({uid}),
                             experts=data.experts)

    q = question_by_slug(session, question)
    used = set(json.loads(run.evidence))
    statements = [r for r in session.exec(select(Statement).where(Statement.question_id == q.id)) if r.uid in used]
    observations = [r for r in session.exec(select(Observation).where(Observation.question_id == q.id))
                    if r.uid in used]
    reliability = fixed_reliability(data, priors, run_record["reliabilities"], identities(session))
    base, without = leave_one_out(data, priors, reliability, q, observations, rebuild)
    index = data.questions.index(question)
    start, n = int(data.starts[index]), int(data.n_months[index])
    explained = statement_weights(data, priors.reliability.dependence)
    status = {ref: w.status for ref, w in explained.items()}
    weights = {uid: explained[ref].weight for uid, ref in zip(data.stmt_uids, data.stmt_refs)}
    names = identities(session).current
    rows = [_evidence_row(row, names, priors, run, status, weights,
                          effect(base, without[row.uid], start, n) if row.uid in without else None)
            for row in [*statements, *observations]]
    return sorted(rows, key=lambda r: (tuple(-x for x in r["order"]), r["date"], r["ref"]))


def _evidence_row(row, names, priors, run, status, weights, moved: dict | None) -> dict:
    common = {"ref": ref_of(row), "source": row.source, "author": row.author,
              **(moved or {"delta_pp": None, "median_shift": "", "low_shift": "", "high_shift": "",
                           "median_without": "", "negligible": True, "order": (0, 0)})}
    if isinstance(row, Statement):
        flipped = statement_parts(row, run.as_of, priors)[2]
        weight = float(weights.get(row.uid, 0.0))
        return {**common, "type": "statement", "date": row.said_on.isoformat(), "who": names[row.expert_id],
                "text": row.quote, "quote_kind": row.quote_kind, "claim": row.claim_text, "interval": f"{row.claim_start or 'open'} .. {row.claim_end or 'open'}",
                "strength": row.strength, "weight": weight, "complement": flipped, "status": status.get(ref_of(row), "active")}
    return {**common, "type": "observation", "date": row.observed_on.isoformat(), "who": row.kind, "text": row.note,
            "quote_kind": "", "claim": "", "interval": "", "strength": "", "weight": None, "complement": False, "status": ""}


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
    event, precluder = (spec.event if spec else "The event happens"), _precluder_event(priors, spec)
    outcomes = resolved_checkpoints(session, question, run.as_of)
    plain = plain_words(result, event, precluder)
    return {
        "question": question_by_slug(session, question), "run": record, "result": result,
        "horizon_end": result["months"][-2], "plain": plain, "open_checkpoints": open_checkpoints(plain, outcomes),
        "resolved": resolved_line(outcomes), "spread": draw_spread(result, event, outcomes),
        "years": yearly(np.array(result["monthly"]), first, n),
        "prior_years": yearly(np.array(result["prior_monthly"]), first, n),
        "evidence": evidence, "experts": expert_rows(record, evidence, priors),
        "history": history(session, question, run),
        "scores": scorecard(session, priors, question, baselines=False),
    }
