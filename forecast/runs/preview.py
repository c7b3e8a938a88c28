"""A claim read on a question before anything is stored: its interval, what it says in words, its weight, and
the instant headline now and as it would be with the statement logged."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from ..basics import validate
from ..basics.months import parse_month
from ..claims import Claim, check_informative, check_within_horizon, describe_claim, parse_claim
from ..domain.evidence import evidence_by_ref, expert_by_name
from ..domain.priors import Priors
from ..domain.questions import question_by_slug
from ..inference.dataset import (Dataset, counted_probability, dataset_from_rows, decided_claims, interval_mask,
                                 read_rows, statement_parts)
from ..store.tables import STRENGTHS, Question, Statement
from .views import fast_headline


def read_claim(session: Session, question: str, text: str) -> tuple[Question, Claim]:
    """The question and the claim ``text`` parsed on its horizon (a ClaimError, as `log statement` gives, if not)."""
    q = question_by_slug(session, question)
    text = validate.text(text, "claim")
    claim = parse_claim(text)
    check_within_horizon(claim, parse_month(q.horizon_start), parse_month(q.horizon_end), text)
    check_informative(claim, parse_month(q.horizon_start), parse_month(q.horizon_end), text)
    return q, claim


def preview_claim(session: Session, priors: Priors, question: str, text: str, strength: str = "firm",
                  probability: object = None, said_on: dt.date | None = None, expert: str | None = None,
                  supersedes: str | None = None) -> dict:
    """What ``text`` would be if logged on ``question``: the reading, the interval as stored, whether the model reads
    it as a claim about the complement, the weight the model's rules give it as of today (before the
    dependence rules, which weigh it against the expert's other statements and colleagues when a run is made),
    and the instant headline now and with the statement (by ``expert``, correcting ``supersedes``) as `log
    statement` would report it. Nothing is stored."""
    if strength not in STRENGTHS:
        raise validate.unknown("strength", strength, list(STRENGTHS))
    today = dt.date.today()
    said_on = validate.past_date(said_on or today, today=today)
    q, claim = read_claim(session, question, text)
    claim = claim.with_stated(validate.probability(probability), text)
    start, end = claim.bounds(parse_month(q.horizon_end))
    who = expert_by_name(session, expert) if expert and expert.strip() else None
    row = Statement(uid="", question_id=q.id or 0, expert_id=(who.id or 0) if who else 0, quote="", source="",
                    said_on=said_on, strength=strength, probability=claim.probability, claim_text=text.strip(),
                    claim_start=start, claim_end=end)
    base, recency, complement = statement_parts(row, today, priors)
    now = dataset_from_rows(read_rows(session, priors, questions=[q.slug]), priors)  # the evidence in force
    decided = _decided_now(now, q, start, end, complement)
    return {"question": q.slug, "claim": text.strip(), "reading": describe_claim(claim, q.event),
            "interval": [start, end], "beyond_horizon": claim.beyond_horizon, "approximate": claim.approximate,
            "strength": strength, "strength_weight": priors.reliability.weights[strength],
            "probability": claim.probability, "likelihood": claim.likelihood, "complement": complement,
            "probability_counted": None if claim.probability is None else counted_probability(claim.probability),
            "said_on": said_on.isoformat(), "recency": recency, "weight": base * recency,
            "expert": who.name if who else None, "decided": decided,
            "headline": would_be_headline(session, priors, q, row if who else None, supersedes, now)}


def _decided_now(data: Dataset, q: Question, start: str | None, end: str | None, complement: bool) -> str | None:
    """"falsified" or "borne out" when the observations in force (``data``) already settle the claim, else None."""
    if q.slug not in data.questions:
        return None
    i = data.questions.index(q.slug)
    mask = interval_mask(start, end, int(data.starts[i]), int(data.n_months[i]), data.bins)
    decided = int(decided_claims((~mask if complement else mask)[None, :], data.feasible[i][None, :])[0])
    return {1: "borne out", -1: "falsified"}.get(decided)


def would_be_headline(session: Session, priors: Priors, q: Question, row: Statement | None,
                      supersedes: str | None = None, now: Dataset | None = None) -> dict | None:
    """The exact instant headline of ``q`` now (``now``: its dataset, if built already) and with the unsaved ``row``
    added (and ``supersedes`` out of force), from the same dataset and exact path `log statement` reports its
    headline change with; ``with`` is None without a row. None for a question the model leaves out (annulled)."""
    now = now if now is not None else dataset_from_rows(read_rows(session, priors, questions=[q.slug]), priors)
    if q.slug not in now.questions:
        return None
    current = fast_headline(session, priors, q.slug, data=now)
    out = {"event": q.event, "horizon_end": q.horizon_end, "reliabilities_from": current["reliabilities_from"],
           "now": current["headline"], "with": None}
    if row is not None:
        gone = frozenset({evidence_by_ref(session, supersedes).uid}) if supersedes else frozenset()
        rows = read_rows(session, priors, questions=[q.slug], exclude=gone, extra=(row,))
        out["with"] = fast_headline(session, priors, q.slug, data=dataset_from_rows(rows, priors))["headline"]
    return out
