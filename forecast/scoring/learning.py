"""Learning the shared hyperparameters from resolved questions (`forecast learn`).

The objective is the predictive log score the forecasts would have had: for each resolved question and each
as-of date from its horizon start to the day before its outcome became known (quarterly, as the casebook
backtests), the log of the probability the exact path (reliabilities at their kinds' means; see
:mod:`forecast.inference.exact`) gave the outcome period (its month, or "not within the horizon"), with only
the evidence said or observed by then. Summed over questions (each of a question's dates weighted by one over
the number of dates its whole horizon has, so a long horizon does not outweigh a short one and the weight does not
depend on the outcome: :func:`mean_log_score`) and maximised over the learnable priors of
:mod:`forecast.domain.prior_sets`, with a weak Gaussian pull towards the hand-set values on the scaled-logit
scale (``PULL_SD``) so that what the record cannot tell apart stays where it was set.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
from sqlmodel import Session, select

from ..basics.months import parse_month
from ..domain.prior_sets import DEFAULT_GROUPS, LEARNABLE, apply_values, hand_set_values
from ..domain.priors import DEFAULT_RECIPE, Priors, load_recipes
from ..domain.questions import last_day_before_outcome, raw_files, store_priors
from ..domain.split import half as split_half
from ..errors import InputError
from ..inference.dataset import EvidenceRows, dataset_from_rows, read_rows
from ..inference.exact import exact_posterior
from ..store.tables import NOT_WITHIN_HORIZON, Question
from .backtest import as_of_dates

PULL_SD = 1.5  # scaled-logit units: a kind mean of 0.6 may move to 0.17-0.92 within one sd at no real cost
FLOOR = 1e-9  # a probability floor: an outcome the priors rule out costs log(1e-9), not -inf


@dataclass(frozen=True)
class Case:
    """One resolved question's forecast as of one date: the rows known then and the outcome's bin."""

    slug: str
    as_of: dt.date
    outcome: int  # month index from the horizon start; n_months for "not within the horizon"
    rows: EvidenceRows
    horizon_dates: int  # as-of dates in the question's whole horizon: each of its dates weighs one over this


@dataclass
class Learned:
    """What `learn` found: the values, the hand-set ones, and how well each scores."""

    values: dict[str, float]
    hand_set: dict[str, float]
    questions: list[str]
    cases: int
    score_hand_set: float  # mean over questions of their log scores (mean_log_score)
    score_learned: float
    per_question: dict[str, tuple[float, float]] = field(default_factory=dict)  # slug -> (hand-set, learned)


def resolved_questions(session: Session, tag: str | None = None, half: str | None = None,
                       leave_out: tuple[str, ...] = ()) -> list[Question]:
    """The resolved date questions to learn from (with ``tag``, in ``half``), without those in ``leave_out``."""
    rows = session.exec(select(Question).where(Question.status == "resolved").order_by(Question.slug))
    return [q for q in rows if q.kind == "date" and q.slug not in leave_out and (half is None or split_half(q.slug) == half)
            and (tag is None or tag in json.loads(q.tags))]


def _outcome(question: Question) -> int:
    """The outcome's bin: the month's index from the horizon start, or the last bin for "not within the horizon"."""
    start, resolution = parse_month(question.horizon_start), question.resolution
    if resolution is None:
        raise ValueError(f"{question.slug!r} is resolved without a resolution")
    if resolution == NOT_WITHIN_HORIZON:
        return parse_month(question.horizon_end) - start + 1
    return parse_month(resolution) - start


def learning_cases(session: Session, priors: Priors, questions: list[Question], every: str = "quarter") -> list[Case]:
    """Every question's as-of dates from its horizon start to the day before its outcome became known."""
    cases = []
    for q in questions:
        year, month = divmod(parse_month(q.horizon_start), 12)
        start, end = dt.date(year, month + 1, 1), last_day_before_outcome(session, q)
        year, month = divmod(parse_month(q.horizon_end) + 1, 12)
        horizon_dates = len(as_of_dates(start, dt.date(year, month + 1, 1) - dt.timedelta(days=1), every))
        for day in as_of_dates(start, end, every) if end >= start else []:
            cases.append(Case(q.slug, day, _outcome(q), read_rows(session, priors, day, questions=[q.slug]),
                              horizon_dates))
    return cases


def case_log_score(case: Case, priors: Priors) -> float:
    """log P(outcome) of one case's exact forecast under ``priors``."""
    data = dataset_from_rows(case.rows, priors)
    q = data.questions.index(case.slug)
    column = case.outcome if case.outcome < int(data.n_months[q]) else data.bins - 1
    return float(np.log(max(exact_posterior(data, priors)[q, column], FLOOR)))


def mean_log_score(cases: list[Case], priors: Priors) -> tuple[float, dict[str, float]]:
    """The mean over questions of each question's log score, and each question's: the sum over its dates of
    their log scores over the number of dates its whole horizon has.

    Not the mean over the dates it had: those end when the outcome became known, so an exit in the first year
    would weigh each of its dates up to 24 times as much as a question that ran its horizon out, and the best
    priors would be those that expect exits sooner than they come (an improper score). With a weight that does
    not depend on the outcome, each date's term is a proper score and true priors score best, as long as each
    date's forecast knows the outcome is not yet known (a public event, logged when it happened: every casebook
    question); for an event that is not public, whether a date is scored still depends on the outcome.
    """
    by_question: dict[str, float] = {}
    for case in cases:
        by_question[case.slug] = by_question.get(case.slug, 0.0) + case_log_score(case, priors) / case.horizon_dates
    return float(np.mean(list(by_question.values()))), by_question


def _to_free(name: str, value: float) -> float:
    low, high = LEARNABLE[name]
    share = min(max((value - low) / (high - low), 1e-6), 1 - 1e-6)
    return float(np.log(share / (1 - share)))


def _from_free(name: str, x: float) -> float:
    low, high = LEARNABLE[name]
    return float(low + (high - low) / (1 + np.exp(-x)))


def learnable_names(priors: Priors, cases: list[Case], groups: tuple[str, ...] = DEFAULT_GROUPS) -> list[str]:
    """The priors of ``groups`` the cases bear on: each kind with statements, the notice rule if a question has one."""
    kinds = {case.rows.experts_by_id[s.expert_id].kind for case in cases for s in case.rows.statements}
    names = ["weights.firm", "weights.hedged", "weights.half_life_years", "recipe.annual_hazard",
             "recipe.trend_per_year", "recipe.lapse_probability"]
    if any(priors.questions[c.slug].notice is not None for c in cases):
        names += ["notice.compliance_mean", "notice.lag_after_notice_months", "notice.bind_probability"]
    return [n for n in names + [f"kinds.{k}.mean" for k in sorted(kinds)] if n.split(".")[0] in groups]


def fit_values(cases: list[Case], base: Priors, raw: dict[str, dict | None], names: list[str],
               hand: dict[str, float], start: dict[str, float] | None = None) -> dict[str, float]:
    """The values of ``names`` that maximise the cases' mean log score (times the number of questions) less the
    pull towards ``hand``; the search starts from ``start`` (default: the hand-set values)."""
    from scipy.optimize import minimize

    questions = len({case.slug for case in cases})
    centre = np.array([_to_free(n, hand[n]) for n in names])
    first = np.array([_to_free(n, (start or hand)[n]) for n in names])

    def loss(x: np.ndarray) -> float:
        priors = apply_values(base, raw, {n: _from_free(n, v) for n, v in zip(names, x)})
        return -mean_log_score(cases, priors)[0] * questions + 0.5 * float(np.sum(((x - centre) / PULL_SD) ** 2))

    found = minimize(loss, first, method="L-BFGS-B", options={"maxiter": 60, "eps": 1e-4})
    return {n: round(_from_free(n, v), 6) for n, v in zip(names, found.x)}


def learn(session: Session, tag: str | None = None, half: str | None = None, leave_out: tuple[str, ...] = (),
          every: str = "quarter", names: list[str] | None = None, groups: tuple[str, ...] = DEFAULT_GROUPS) -> Learned:
    """Fit the shared priors of ``groups`` (or just ``names``) to the store's resolved questions (see the module
    docstring)."""
    base = store_priors(session, hand_set=True)
    raw = raw_files(list(session.exec(select(Question))))
    questions = resolved_questions(session, tag, half, leave_out)
    cases = learning_cases(session, base, questions, every)
    if not cases:
        raise InputError("no resolved question to learn from" + (f" with tag {tag!r}" if tag else "")
                         + (f" in the {half} half" if half else "") + ": resolve some first")
    hand = hand_set_values(base, load_recipes()[DEFAULT_RECIPE])
    names = names or learnable_names(base, cases, groups)
    if not names:
        raise InputError(f"the resolved questions bear on none of the priors in {', '.join(groups)}: nothing to learn")
    values = fit_values(cases, base, raw, names, hand)
    before, per_before = mean_log_score(cases, apply_values(base, raw, {}))
    after, per_after = mean_log_score(cases, apply_values(base, raw, values))
    return Learned(values=values, hand_set={n: hand[n] for n in names}, questions=[q.slug for q in questions],
                   cases=len(cases), score_hand_set=before, score_learned=after,
                   per_question={s: (per_before[s], per_after[s]) for s in per_before})


def provenance(learned: Learned, tag: str | None, half: str | None, leave_out: tuple[str, ...], every: str,
               groups: tuple[str, ...] = DEFAULT_GROUPS) -> dict:
    """Where a learned set came from: which questions, as of when, by which code, and how it scored."""
    from ..basics.version import __version__
    from ..inference.model import MODEL_VERSION

    return {"questions": learned.questions, "as_of": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "code_version": __version__, "model_version": MODEL_VERSION, "tag": tag, "half": half,
            "left_out": list(leave_out), "every": every, "groups": list(groups), "forecasts": learned.cases,
            "mean_log_score": {"hand_set": round(learned.score_hand_set, 6), "learned": round(learned.score_learned, 6)},
            "method": "maximum predictive log score, exact path, weak pull to the hand-set values"}


def learn_and_store(store, tag: str | None = None, half: str | None = None, leave_out: tuple[str, ...] = (),
                    every: str = "quarter", hand_set: bool = False,
                    groups: tuple[str, ...] = DEFAULT_GROUPS) -> tuple[dict, Learned | None]:
    """Learn a prior set (or, with ``hand_set``, put the hand-set priors back) and store it in force; returns
    the stored set and what was learned. The store is verified first."""
    from ..domain.prior_sets import add_set
    from ..domain.questions import require_scope
    from ..domain.verify import require_intact

    with store.reader() as session:
        require_intact(session, False, "", fit_inputs_only=True)
        require_scope(session, tag=tag)
        for slug in leave_out:
            require_scope(session, question=slug)
        learned = None if hand_set else learn(session, tag, half, leave_out, every, groups=groups)
    with store.session() as session:
        if learned is None:
            return add_set(session, {}, {"questions": [], "method": "hand-set"}), None
        return add_set(session, learned.values, provenance(learned, tag, half, leave_out, every, groups)), learned


def prior_set_rows(session: Session) -> tuple[str, list[dict]]:
    """The prior set in force and each learnable prior: hand-set value and value in force."""
    from ..domain.prior_sets import current_set, label

    base = store_priors(session, hand_set=True)
    hand = hand_set_values(base, load_recipes()[DEFAULT_RECIPE])
    current = current_set(session)
    values = current["values"] if current else {}
    return label(current), [{"prior": name, "hand-set": round(hand[name], 4),
                             "in force": round(values.get(name, hand[name]), 4),
                             "learned": "yes" if name in values else ""} for name in LEARNABLE]
