"""Plain arrays for the model, built from the store for a set of questions as of a date.

The grid: question q has ``n_months[q]`` monthly bins from its horizon start, padded to a
common width, and a last column (index ``bins - 1``) for "not within the horizon".
Only evidence said or observed on or before ``as_of`` and logged (and not yet retracted)
by ``known_at`` is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np
from sqlmodel import Session, select

from ..basics.months import date_month, known_on, parse_month, utc_now
from ..domain.experts import Identities, identities
from ..domain.priors import Priors
from ..errors import InputError, PriorError
from ..store.tables import Expert, Observation, Question, Statement
from .dependence import StatementFacts, affiliation_group, dependence_weights, entangled
from .observed import NEG_INF, observation_terms

# A stated probability counts as at most 99% (at least 1%), as forecasting sites bound their forecasts: a factor
# of at most 2.09, not the 6.3 of a clamp at 1e-6, which let one "certain" outweigh a whole record.
STATED_RANGE = (0.01, 0.99)


@dataclass
class Dataset:
    """Everything the model needs, as numpy arrays; no database handles."""

    questions: list[str]
    starts: np.ndarray  # month ordinal of each question's first bin
    n_months: np.ndarray  # bins within each horizon
    obs_log: np.ndarray  # [Q, bins] log-likelihood of the observations (0 / -inf / decay)
    notice_threshold: np.ndarray  # [Q] bin from which a compliant Russia could still be in (-1: none)
    experts: list[str]
    expert_kinds: list[str]
    stmt_question: np.ndarray
    stmt_expert: np.ndarray
    stmt_weight: np.ndarray  # [S] weight in the date likelihood while the claim is open
    stmt_in: np.ndarray  # [S, bins] bool: the statement's interval on its question's grid
    stmt_refs: list[str]
    as_of: dt.date
    known_at: dt.datetime
    fingerprint: str
    evidence_uids: list[str] = field(default_factory=list)
    stmt_uids: list[str] = field(default_factory=list)
    stmt_record_weight: np.ndarray | None = None  # [S] weight in the track record once decided (None: stmt_weight)
    precluded_by: np.ndarray | None = None  # [Q] index of the precluding question, -1 for none (None: no links)
    stmt_entangled: np.ndarray | None = None  # [S] leaving it out may change other weights (see dependence.entangled)
    stmt_facts: list[StatementFacts] | None = None  # [S] what the dependence rules weighed (for leave-one-out)

    @property
    def bins(self) -> int:
        """Months of the longest horizon, and the beyond bin (just that bin when there is no question)."""
        return int(self.n_months.max(initial=0)) + 1

    @property
    def valid(self) -> np.ndarray:
        """[Q, bins] True for real months and the beyond bin, False for padding."""
        return valid_bins(self.n_months, self.bins)

    @property
    def feasible(self) -> np.ndarray:
        """[Q, bins] True for the bins the hard observations still allow."""
        return np.isfinite(self.obs_log) & self.valid

    @property
    def decided(self) -> np.ndarray:
        """[S] +1 for a claim the observations have borne out, -1 for one they falsified, 0 while open."""
        return decided_claims(self.stmt_in, self.feasible[self.stmt_question])

    def sufficient_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Weighted counts [E, Q, bins] of open statements whose interval contains / excludes each bin."""
        shape = (len(self.experts), len(self.questions), self.bins)
        w_in, w_out = np.zeros(shape), np.zeros(shape)
        weights = np.where(self.decided == 0, self.stmt_weight, 0.0)[:, None]
        np.add.at(w_in, (self.stmt_expert, self.stmt_question), weights * self.stmt_in)
        np.add.at(w_out, (self.stmt_expert, self.stmt_question), weights * ~self.stmt_in)
        return w_in, w_out

    def track_record(self) -> tuple[np.ndarray, np.ndarray]:
        """[E] weights of each expert's decided claims borne out and falsified (the reliability-only term)."""
        decided = self.decided
        weights = self.stmt_weight if self.stmt_record_weight is None else self.stmt_record_weight
        right = np.bincount(self.stmt_expert, np.where(decided > 0, weights, 0.0), len(self.experts))
        wrong = np.bincount(self.stmt_expert, np.where(decided < 0, weights, 0.0), len(self.experts))
        return right.astype(float), wrong.astype(float)

    def expert_weights(self) -> np.ndarray:
        """[E] each expert's total statement weight, open claims and track record together."""
        open_total = np.bincount(self.stmt_expert, np.where(self.decided == 0, self.stmt_weight, 0.0), len(self.experts))
        right, wrong = self.track_record()
        return open_total + right + wrong


def valid_bins(n_months: np.ndarray, bins: int) -> np.ndarray:
    """[Q, bins] True for each question's months and the beyond bin, False for padding."""
    grid = np.arange(bins)[None, :]
    return (grid < n_months[:, None]) | (grid == bins - 1)


def decided_claims(stmt_in: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """+1 where every feasible bin is inside the claim (borne out), -1 where none is (falsified), else 0."""
    inside = (stmt_in & feasible).sum(axis=1)
    return np.where(inside == 0, -1, np.where(inside == feasible.sum(axis=1), 1, 0))


def _in_force(rows, known_at: dt.datetime):
    """Rows logged by ``known_at`` and not retracted (or superseded) by then."""
    return [r for r in rows if r.logged_at <= known_at and (r.retracted_at is None or r.retracted_at > known_at)]


def counted_probability(stated: float) -> float:
    """A stated probability as the model counts it: within STATED_RANGE (a speaker's "certainly" is not proof)."""
    return min(max(stated, STATED_RANGE[0]), STATED_RANGE[1])


def statement_parts(row: Statement, as_of: dt.date, priors: Priors) -> tuple[float, float, bool]:
    """(base weight, recency decay, flip) for a statement; flip means the claim is about the interval's complement.

    Base weight = strength weight x stated-probability factor, where a stated probability p counts
    |logit p| / logit(0.9) (0.9 is taken as what a firm unqualified claim conveys), p taken within
    STATED_RANGE, and p < 0.5 turns the claim into one about the complement. Recency decay = 0.5 ** (age / half-life).
    """
    weights = priors.reliability.weights
    base = weights[row.strength]
    age_years = max((as_of - row.said_on).days, 0) / 365.25
    recency = 0.5 ** (age_years / weights["half_life_years"])
    flip = False
    if row.probability is not None:
        p = counted_probability(row.probability)
        flip = p < 0.5
        base *= abs(math.log(p / (1 - p))) / math.log(9.0)
    return base, recency, flip


def interval_mask(start: str | None, end: str | None, q_start: int, n: int, bins: int) -> np.ndarray:
    """Bins of one question's grid covered by a claim interval; the beyond bin counts when the claim runs past the horizon."""
    mask = np.zeros(bins, dtype=bool)
    low = parse_month(start) - q_start if start else 0
    high = parse_month(end) - q_start if end else n
    mask[max(low, 0): min(high, n - 1) + 1] = True
    if high >= n:
        mask[bins - 1] = True
    return mask


def evidence_fingerprint(uids: list[str]) -> str:
    """A short hash of the evidence rows used."""
    return hashlib.sha256(json.dumps(sorted(uids)).encode()).hexdigest()[:16]


def _questions(session: Session, priors: Priors, slugs: list[str] | None) -> list[Question]:
    """The non-annulled questions (or the named ones and those they preclude or are precluded by), by slug."""
    query = select(Question).where(Question.status != "annulled").order_by(Question.slug)
    found = list(session.exec(query))
    if slugs:
        linked = {(slug, spec.precluded_by) for slug, spec in priors.questions.items() if spec.precluded_by}
        wanted = set(slugs) | {b for a, b in linked if a in slugs} | {a for a, b in linked if b in slugs}
        found = [q for q in found if q.slug in wanted]
    return found


def _expert_ids(statements: list[Statement], ids: Identities, fixed: list[str] | None) -> list[int]:
    """The ids of the experts in a dataset (a merged expert counts as the one it was merged into), by current name
    (or in the order of a fixed superset of names)."""
    used = sorted({ids.target[s.expert_id] for s in statements}, key=lambda i: ids.current[i])
    if fixed is not None:
        by_name = {ids.current[i]: i for i in ids.names}
        missing = {ids.current[i] for i in used} - set(fixed)
        if missing:
            raise ValueError(f"fixed expert list lacks {sorted(missing)}")
        used = [by_name[name] for name in fixed]
    return used


def precluders(stored: dict[str, Question], priors: Priors, chosen: list[Question]) -> np.ndarray:
    """[Q] the index of each question's precluding question among ``chosen`` (-1: none, or it was annulled);
    ``stored``: every stored question by slug."""
    index = {q.slug: i for i, q in enumerate(chosen)}
    out = np.full(len(chosen), -1)
    for i, q in enumerate(chosen):
        other = priors.questions[q.slug].precluded_by
        if other is None:
            continue
        if other == q.slug or other not in stored:
            raise PriorError(f"{q.slug!r} is precluded by {other!r}, which is not "
                             + ("another question" if other == q.slug else "in the store: add it with `forecast question add`"))
        if priors.questions[other].precluded_by is not None:
            raise PriorError(f"{q.slug!r} is precluded by {other!r}, which is itself precluded: chains are not supported")
        if parse_month(stored[other].horizon_end) < parse_month(q.horizon_end):
            raise PriorError(f"{q.slug!r} is precluded by {other!r}, whose horizon ends before {q.slug!r}'s: "
                             "the precluding question must cover the whole horizon")
        out[i] = index.get(other, -1)
    return out


def _event_month(rows: list[Observation]) -> int | None:
    """The month ordinal of the event, if an observation reports it."""
    months = [date_month(r.observed_on) for r in rows if r.kind == "event"]
    return min(months) if months else None


def _implied_by_preclusion(obs_log, precluded_by, starts, n_months, rows_by_q: list[list[Observation]]) -> None:
    """What pre-emption makes certain: no event at or after the precluding event; the precluding event after the event."""
    for a, b in enumerate(precluded_by):
        if b < 0:
            continue
        ended, happened = _event_month(rows_by_q[b]), _event_month(rows_by_q[a])
        if ended is not None:
            obs_log[a, max(ended - int(starts[a]), 0):int(n_months[a])] = NEG_INF
        if happened is not None:
            obs_log[b, :min(max(happened - int(starts[b]) + 1, 0), int(n_months[b]))] = NEG_INF


def _observations(priors: Priors, chosen: list[Question], rows_by_id: dict, as_of: dt.date):
    """(obs_log, notice thresholds, starts, n_months, uids) for the chosen questions."""
    starts = np.array([parse_month(q.horizon_start) for q in chosen], dtype=int)
    n_months = np.array([parse_month(q.horizon_end) - parse_month(q.horizon_start) + 1 for q in chosen], dtype=int)
    bins = int(n_months.max()) + 1 if len(chosen) else 1
    obs_log, thresholds, uids = np.zeros((len(chosen), bins)), np.full(len(chosen), -1), []
    for i, q in enumerate(chosen):
        rows = rows_by_id.get(q.id, [])
        uids += [r.uid for r in rows]
        obs_log[i], thresholds[i] = observation_terms(q, rows, priors.questions[q.slug], bins, as_of)
    return obs_log, thresholds, starts, n_months, uids


def _without_vacuous(parts: list[tuple[float, float, bool]], stmt_in: np.ndarray, valid: np.ndarray) -> list:
    """``parts`` with no weight for a claim that covers every bin of its question, or none (its complement):
    true or false whatever happens, it tells nothing about the date nor about its expert's record. `log`
    refuses such claims; a row stored before that counts for nothing."""
    inside = (stmt_in & valid).sum(axis=1)
    vacuous = (inside == 0) | (inside == valid.sum(axis=1))
    return [(0.0, recency, flip) if v else (base, recency, flip) for (base, recency, flip), v in zip(parts, vacuous)]


def _statement_facts(statements, experts_by_id, e_index, q_index, stmt_in, parts, feasible) -> list[StatementFacts]:
    """What the dependence rules need to know about each statement (``e_index`` and ``experts_by_id`` by the id
    each statement's expert counts as)."""
    decided = decided_claims(stmt_in, feasible[np.array([q_index[s.question_id] for s in statements], dtype=int)])
    return [StatementFacts(expert=e_index[s.expert_id], question=q_index[s.question_id], said_on=s.said_on,
                           claim=mask.tobytes(), base=base, recency=recency, decided=bool(d),
                           group=affiliation_group(experts_by_id[s.expert_id].affiliation))
            for s, mask, (base, recency, _), d in zip(statements, stmt_in, parts, decided)]


@dataclass
class EvidenceRows:
    """The store rows a dataset is built from (read once; :func:`dataset_from_rows` may re-weigh them under other
    priors without the store)."""

    chosen: list[Question]
    observations_by_q: dict[int, list[Observation]]
    statements: list[Statement]
    used: list[int]
    experts_by_id: dict
    e_index: dict[int, int]  # each expert id's position among ``used`` (a merged expert: its target's)
    expert_names: list[str]  # of ``used``, by their current names
    expert_kinds: list[str]
    stored: dict[str, Question]
    as_of: dt.date
    known_at: dt.datetime


def read_rows(session: Session, priors: Priors, as_of: dt.date | None = None, known_at: dt.datetime | None = None,
              questions: list[str] | None = None, exclude: frozenset[str] = frozenset(),
              experts: list[str] | None = None, extra: tuple[Statement, ...] = ()) -> EvidenceRows:
    """The rows :func:`build_dataset` uses (its arguments as there), with the unsaved statements ``extra`` as if
    they were in the store (a preview of what logging them would do)."""
    as_of = as_of or dt.date.today()
    known_at = known_at or utc_now()
    observations_by_q: dict[int, list[Observation]] = {}
    observed = session.exec(select(Observation).where(Observation.observed_on <= as_of))
    observed = [o for o in observed
                if o.uid not in exclude and known_on(o.observed_on, o.date_precision, o.logged_at) <= as_of]
    for row in _in_force(observed, known_at):
        observations_by_q.setdefault(row.question_id, []).append(row)
    chosen = [q for q in _questions(session, priors, questions)
              if not any(o.kind == "annulled" for o in observations_by_q.get(q.id, []))]
    q_ids = {q.id for q in chosen}
    said = session.exec(select(Statement).where(Statement.said_on <= as_of))
    statements = [s for s in _in_force(said, known_at) if s.question_id in q_ids and s.uid not in exclude]
    statements += [s for s in extra if s.question_id in q_ids and s.said_on <= as_of]
    ids = identities(session)
    used = _expert_ids(statements, ids, experts)
    stored_experts = {e.id: e for e in session.exec(select(Expert))}
    experts_by_id = {i: stored_experts[t] for i, t in ids.target.items()}  # each id's expert as it counts
    position = {t: k for k, t in enumerate(used)}
    e_index = {i: position[t] for i, t in ids.target.items() if t in position}
    stored = {q.slug: q for q in session.exec(select(Question))}
    return EvidenceRows(chosen, observations_by_q, statements, used, experts_by_id, e_index,
                        [ids.current[i] for i in used], [stored_experts[i].kind for i in used], stored, as_of, known_at)


def build_dataset(
    session: Session, priors: Priors, as_of: dt.date | None = None, known_at: dt.datetime | None = None,
    questions: list[str] | None = None, exclude: frozenset[str] = frozenset(), experts: list[str] | None = None,
) -> Dataset:
    """The arrays for all (or the named) non-annulled questions, as of ``as_of`` and ``known_at``.

    Named questions bring the questions they preclude or are precluded by (fitted jointly). ``exclude`` leaves out evidence rows by uid
    (for leave-one-out influence); ``experts`` fixes the expert list (a superset of those with
    statements), so that datasets at different dates share a shape.
    """
    return dataset_from_rows(read_rows(session, priors, as_of, known_at, questions, exclude, experts), priors)


def dataset_from_rows(rows: EvidenceRows, priors: Priors) -> Dataset:
    """The arrays of :func:`build_dataset` from rows already read, weighed under ``priors``."""
    chosen, observations_by_q, as_of = rows.chosen, rows.observations_by_q, rows.as_of
    obs_log, thresholds, starts, n_months, uids = _observations(priors, chosen, observations_by_q, as_of)
    precluded_by = precluders(rows.stored, priors, chosen)
    _implied_by_preclusion(obs_log, precluded_by, starts, n_months, [observations_by_q.get(q.id, []) for q in chosen])
    for i, q in enumerate(chosen):
        if not np.isfinite(obs_log[i]).any():
            raise InputError(f"the observations of {q.slug!r} as of {as_of} leave no possible month; "
                             "retract or supersede the contradicting row")
    q_index = {q.id: i for i, q in enumerate(chosen)}
    bins = obs_log.shape[1]
    statements, used, experts_by_id, e_index = rows.statements, rows.used, rows.experts_by_id, rows.e_index
    parts = [statement_parts(s, as_of, priors) for s in statements]
    masks = [interval_mask(s.claim_start, s.claim_end, starts[q_index[s.question_id]], n_months[q_index[s.question_id]], bins)
             for s in statements]
    stmt_in = np.array([~m if flip else m for m, (_, _, flip) in zip(masks, parts)], dtype=bool).reshape(-1, bins)
    parts = _without_vacuous(parts, stmt_in, valid_bins(n_months, bins)[[q_index[s.question_id] for s in statements]])
    feasible = np.isfinite(obs_log) & valid_bins(n_months, bins)
    facts = _statement_facts(statements, experts_by_id, e_index, q_index, stmt_in, parts, feasible)
    open_w, record_w = dependence_weights(facts, priors.reliability.dependence)
    uids += [s.uid for s in statements]
    return Dataset(
        questions=[q.slug for q in chosen], starts=starts, n_months=n_months, obs_log=obs_log,
        notice_threshold=thresholds, experts=rows.expert_names, expert_kinds=rows.expert_kinds,
        stmt_question=np.array([f.question for f in facts], dtype=int),
        stmt_expert=np.array([f.expert for f in facts], dtype=int),
        stmt_weight=open_w, stmt_record_weight=record_w, stmt_entangled=entangled(facts), stmt_facts=facts,
        stmt_in=stmt_in,
        stmt_refs=[f"S{s.id}" for s in statements], stmt_uids=[s.uid for s in statements], as_of=as_of,
        known_at=rows.known_at, fingerprint=evidence_fingerprint(uids), evidence_uids=sorted(uids),
        precluded_by=precluded_by,
    )
