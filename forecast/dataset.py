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

from .consistency import pending_notice
from .months import date_month, parse_month, utc_now
from .priors import Priors
from .store.tables import NOT_WITHIN_HORIZON, Expert, Observation, Question, Statement

NEG_INF = -np.inf


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
    stmt_weight: np.ndarray
    stmt_in: np.ndarray  # [S, bins] bool: the statement's interval on its question's grid
    stmt_refs: list[str]
    as_of: dt.date
    known_at: dt.datetime
    fingerprint: str
    evidence_uids: list[str] = field(default_factory=list)
    stmt_uids: list[str] = field(default_factory=list)

    @property
    def bins(self) -> int:
        return int(self.n_months.max()) + 1

    @property
    def valid(self) -> np.ndarray:
        """[Q, bins] True for real months and the beyond bin, False for padding."""
        grid = np.arange(self.bins)[None, :]
        return (grid < self.n_months[:, None]) | (grid == self.bins - 1)

    def sufficient_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Weighted counts [E, Q, bins] of statements whose interval contains / excludes each bin."""
        shape = (len(self.experts), len(self.questions), self.bins)
        w_in, w_out = np.zeros(shape), np.zeros(shape)
        weights = self.stmt_weight[:, None]
        np.add.at(w_in, (self.stmt_expert, self.stmt_question), weights * self.stmt_in)
        np.add.at(w_out, (self.stmt_expert, self.stmt_question), weights * ~self.stmt_in)
        return w_in, w_out


def _in_force(rows, known_at: dt.datetime):
    """Rows logged by ``known_at`` and not retracted (or superseded) by then."""
    return [r for r in rows if r.logged_at <= known_at and (r.retracted_at is None or r.retracted_at > known_at)]


def statement_weight(row: Statement, as_of: dt.date, priors: Priors) -> tuple[float, bool]:
    """(weight, flip) for a statement; flip means the claim is about the interval's complement.

    Weight = strength weight x recency decay x stated-probability factor, where a stated
    probability p counts |logit p| / logit(0.9) (0.9 is taken as what a firm unqualified claim
    conveys) and p < 0.5 turns the claim into one about the complement.
    """
    weights = priors.reliability.weights
    weight = weights[row.strength]
    age_years = max((as_of - row.said_on).days, 0) / 365.25
    weight *= 0.5 ** (age_years / weights["half_life_years"])
    flip = False
    if row.probability is not None:
        p = min(max(row.probability, 1e-6), 1 - 1e-6)
        flip = p < 0.5
        weight *= abs(math.log(p / (1 - p))) / math.log(9.0)
    return weight, flip


def interval_mask(start: str | None, end: str | None, q_start: int, n: int, bins: int) -> np.ndarray:
    """Bins of one question's grid covered by a claim interval; the beyond bin counts when the claim runs past the horizon."""
    mask = np.zeros(bins, dtype=bool)
    low = parse_month(start) - q_start if start else 0
    high = parse_month(end) - q_start if end else n
    mask[max(low, 0): min(high, n - 1) + 1] = True
    if high >= n:
        mask[bins - 1] = True
    return mask


def known_on(day: dt.date, precision: str) -> dt.date:
    """When a dated row became knowable: its day, or the last day of its month or year for coarser precision."""
    if precision == "year":
        return dt.date(day.year, 12, 31)
    if precision == "month":
        following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)
    return day


def _notice_terms(rows: list[Observation], notice: dict, q_start: int) -> tuple[int | None, int]:
    """(first month a pending notice lets the event take effect, or None; the no-notice threshold month, or -1)."""
    months = int(notice["months"])
    threshold = parse_month(notice["earliest"]) + months - q_start if notice.get("earliest") else -1
    pending = pending_notice(rows)
    for row in rows:
        if row.kind in ("no-notice-as-of", "notice-revoked"):
            threshold = max(threshold, date_month(row.observed_on) + months - q_start)
    if pending is None:
        return None, threshold
    first = date_month(pending.effective_on or pending.observed_on) - q_start + (0 if pending.effective_on else months)
    for row in rows:
        if row.kind == "notice-extended" and row.observed_on >= pending.observed_on:
            first = max(first, date_month(row.effective_on) - q_start)
    return first, threshold


def _observation_log(rows: list[Observation], q_start: int, n: int, bins: int, notice: dict | None) -> tuple[np.ndarray, int]:
    """Log-likelihood of one question's observations over its bins, and the no-notice threshold bin."""
    log = np.zeros(bins)
    log[n:bins - 1] = NEG_INF  # padding
    months = np.append(np.arange(n), n).astype(float)  # beyond bin sits just past the horizon
    cols = np.append(np.arange(n), bins - 1)
    for row in rows:
        month = date_month(row.observed_on) - q_start
        if row.kind == "event-not-yet":
            log[cols[months < month]] = NEG_INF
        elif row.kind == "event":
            log[cols[months != min(month, n)]] = NEG_INF
    if notice is None:
        return log, -1
    first, threshold = _notice_terms(sorted(rows, key=lambda r: (r.observed_on, r.id or 0)), notice, q_start)
    if first is not None:
        log[cols[months < first]] = NEG_INF
        after = months >= first
        log[cols[after]] -= (months[after] - first) / notice["lag_after_notice_months"]
        threshold = -1
    return log, threshold


def observation_terms(q: Question, rows: list[Observation], spec, bins: int, as_of: dt.date) -> tuple[np.ndarray, int]:
    """One question's observation log-likelihood over its bins, and its no-notice threshold bin, from its rows."""
    start = parse_month(q.horizon_start)
    n = parse_month(q.horizon_end) - start + 1
    log, threshold = _observation_log(rows, start, n, bins, spec.notice)
    if spec.public_event and not any(r.kind == "event" for r in rows):
        # A public event that no observation reports had not happened by the as-of month.
        log[: max(min(date_month(as_of) - start, n), 0)] = NEG_INF
    if q.resolution == NOT_WITHIN_HORIZON and q.resolved_at is not None and q.resolved_at.date() <= as_of:
        log[:-1] = NEG_INF
    return log, threshold


def evidence_fingerprint(uids: list[str]) -> str:
    """A short hash of the evidence rows used."""
    return hashlib.sha256(json.dumps(sorted(uids)).encode()).hexdigest()[:16]


def _questions(session: Session, slugs: list[str] | None) -> list[Question]:
    query = select(Question).where(Question.status != "annulled").order_by(Question.slug)
    found = list(session.exec(query))
    if slugs:
        found = [q for q in found if q.slug in slugs]
    return found


def _expert_ids(session: Session, statements: list[Statement], fixed: list[str] | None) -> tuple[list[int], dict]:
    """The ids of the experts in a dataset, by name (or in the order of a fixed superset of names)."""
    experts_by_id = {e.id: e for e in session.exec(select(Expert))}
    used = sorted({s.expert_id for s in statements}, key=lambda i: experts_by_id[i].name)
    if fixed is not None:
        by_name = {e.name: i for i, e in experts_by_id.items()}
        missing = {experts_by_id[i].name for i in used} - set(fixed)
        if missing:
            raise ValueError(f"fixed expert list lacks {sorted(missing)}")
        used = [by_name[name] for name in fixed]
    return used, experts_by_id


def build_dataset(
    session: Session, priors: Priors, as_of: dt.date | None = None, known_at: dt.datetime | None = None,
    questions: list[str] | None = None, exclude: frozenset[str] = frozenset(), experts: list[str] | None = None,
) -> Dataset:
    """The arrays for all (or the named) non-annulled questions, as of ``as_of`` and ``known_at``.

    ``exclude`` leaves out evidence rows by uid (for leave-one-out influence); ``experts`` fixes the
    expert list (a superset of those with statements), so that datasets at different dates share a shape.
    """
    as_of = as_of or dt.date.today()
    known_at = known_at or utc_now()
    observations_by_q: dict[int, list[Observation]] = {}
    observed = session.exec(select(Observation).where(Observation.observed_on <= as_of))
    observed = [o for o in observed if o.uid not in exclude and known_on(o.observed_on, o.date_precision) <= as_of]
    for row in _in_force(observed, known_at):
        observations_by_q.setdefault(row.question_id, []).append(row)
    chosen = [q for q in _questions(session, questions)
              if not any(o.kind == "annulled" for o in observations_by_q.get(q.id, []))]
    starts = np.array([parse_month(q.horizon_start) for q in chosen], dtype=int)
    n_months = np.array([parse_month(q.horizon_end) - parse_month(q.horizon_start) + 1 for q in chosen], dtype=int)
    bins = int(n_months.max()) + 1 if len(chosen) else 1
    obs_log, thresholds, uids = np.zeros((len(chosen), bins)), np.full(len(chosen), -1), []
    for i, q in enumerate(chosen):
        rows = observations_by_q.get(q.id, [])
        uids += [r.uid for r in rows]
        obs_log[i], thresholds[i] = observation_terms(q, rows, priors.questions[q.slug], bins, as_of)
    q_index = {q.id: i for i, q in enumerate(chosen)}
    said = session.exec(select(Statement).where(Statement.said_on <= as_of))
    statements = [s for s in _in_force(said, known_at) if s.question_id in q_index and s.uid not in exclude]
    used, experts_by_id = _expert_ids(session, statements, experts)
    e_index = {eid: i for i, eid in enumerate(used)}
    weighted = [statement_weight(s, as_of, priors) for s in statements]
    masks = [interval_mask(s.claim_start, s.claim_end, starts[q_index[s.question_id]], n_months[q_index[s.question_id]], bins)
             for s in statements]
    uids += [s.uid for s in statements]
    return Dataset(
        questions=[q.slug for q in chosen], starts=starts, n_months=n_months, obs_log=obs_log,
        notice_threshold=thresholds, experts=[experts_by_id[i].name for i in used],
        expert_kinds=[experts_by_id[i].kind for i in used],
        stmt_question=np.array([q_index[s.question_id] for s in statements], dtype=int),
        stmt_expert=np.array([e_index[s.expert_id] for s in statements], dtype=int),
        stmt_weight=np.array([w for w, _ in weighted], dtype=float),
        stmt_in=np.array([~m if flip else m for m, (_, flip) in zip(masks, weighted)], dtype=bool).reshape(len(statements), bins),
        stmt_refs=[f"S{s.id}" for s in statements], stmt_uids=[s.uid for s in statements], as_of=as_of,
        known_at=known_at, fingerprint=evidence_fingerprint(uids), evidence_uids=sorted(uids),
    )
