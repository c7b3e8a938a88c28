"""Leave-one-out influence: the one-pass subtraction equals refitting the exact path without each item."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import select

from forecast.domain.questions import question_by_slug, store_priors
from forecast.inference.dataset import build_dataset
from forecast.inference.exact import exact_posterior, log_evidence
from forecast.inference.summary import on_grid
from forecast.report.influence import leave_one_out, statement_terms, summarise
from forecast.runs.views import fixed_reliability
from forecast.store import open_store
from forecast.store.tables import Observation, Statement

from .conftest import QUESTION


@pytest.fixture
def seed_data(seeded):
    store = open_store(str(seeded))
    with store.session() as session:
        priors = store_priors(session)
        data = build_dataset(session, priors, questions=[QUESTION])
        question = question_by_slug(session, QUESTION)
        observations = list(session.exec(select(Observation).where(Observation.question_id == question.id)))
        uids = [s.uid for s in session.exec(select(Statement))]
    yield store, priors, data, question, observations, uids


def test_statement_terms_add_up_to_the_statements_likelihood(seed_data) -> None:
    store, priors, data, *_, uids = seed_data
    with store.session() as session:
        without = build_dataset(session, priors, questions=[QUESTION], exclude=frozenset(uids), experts=data.experts)
    r = np.linspace(0.55, 0.95, len(data.experts))
    q = data.questions.index(QUESTION)  # the precluding question comes along (fitted jointly)
    valid = data.valid[q] & np.isfinite(data.obs_log[q])
    total = log_evidence(data, priors, r)[q][valid] - log_evidence(without, priors, r)[q][valid]
    assert np.allclose(statement_terms(data, priors, r)[data.stmt_question == q].sum(axis=0)[valid], total)
    assert np.ptp(total) > 0.3  # the statements move T (restatements and affiliations discounted by the dependence rules)


def test_one_pass_equals_refitting_without_each_item(seed_data) -> None:
    store, priors, data, question, observations, _ = seed_data
    r = fixed_reliability(data, priors, [{"expert": e, "mean": 0.3 + 0.02 * i} for i, e in enumerate(data.experts)])

    def rebuild(uid: str):
        with store.reader() as session:
            return build_dataset(session, priors, questions=[QUESTION], exclude=frozenset({uid}), experts=data.experts)

    base, without = leave_one_out(data, priors, r, question, observations, rebuild)
    q = data.questions.index(QUESTION)
    assert (~data.stmt_entangled[data.stmt_question == q]).sum() >= 3  # some statements take the one-pass path
    assert set(without) == {u for u, i in zip(data.stmt_uids, data.stmt_question) if i == q} | {o.uid for o in observations}
    n = int(data.n_months[q])
    with store.session() as session:
        for uid, fast in without.items():
            refit = build_dataset(session, priors, questions=[QUESTION], exclude=frozenset({uid}))
            monthly = on_grid(exact_posterior(refit, priors, fixed_reliability(refit, priors, [
                {"expert": e, "mean": float(r[data.experts.index(e)])} for e in refit.experts]))[q], n)
            (slow,) = summarise(monthly[None, :], n)
            assert fast.probability == pytest.approx(slow.probability, abs=1e-9), uid
            assert (fast.median, fast.low, fast.high) == (slow.median, slow.low, slow.high), uid
    full = on_grid(exact_posterior(data, priors, r)[q], n)
    (whole,) = summarise(full[None, :], n)
    assert (base.median, base.low, base.high) == (whole.median, whole.low, whole.high)
    assert base.probability == pytest.approx(whole.probability, abs=1e-12)
    assert any(abs(base.probability - w.probability) > 1e-3 for w in without.values())
