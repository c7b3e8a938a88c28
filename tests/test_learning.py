"""Track-record learning falls out of the joint model; no mirror mode with many experts."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.inference.model import DateModel, FitSettings
from forecast.runs.fitting import diagnostics

from .worlds import World

SETTINGS = FitSettings(draws=1000, tune=1000, chains=4, seed=3)


def _mean(idata, name: str) -> np.ndarray:
    return idata.posterior[name].mean(("chain", "draw")).values


@pytest.fixture(scope="module")
def two_question_world(tmp_path_factory):
    """'past' resolved (withdrawn 2025-06) with Good right and Bad wrong eight times; 'next' still open."""
    world = World(tmp_path_factory.mktemp("track"))
    world.question("past", start="2024-01", end="2028-12")
    world.question("next", start="2024-01", end="2030-12")
    world.expert("Good", "analyst")
    world.expert("Bad", "analyst")
    for claim in ("in 2025", "after 2024", "by 2026", "between 2025-03 and 2025-09", "2025-06", "before 2026",
                  "from 2025-05", "between 2024 and 2025"):
        world.say("past", "Good", claim)
    for claim in ("after 2027", "by 2024", "in 2027", "not before 2026", "2026-06", "before 2025",
                  "from 2025-07", "between 2027 and 2028"):
        world.say("past", "Bad", claim)
    world.say("next", "Good", "by 2026")
    world.say("next", "Bad", "after 2027")
    world.observe("past", "withdrawn", "2025-06-10")
    return world


def test_track_record_separates_reliable_from_unreliable(two_question_world) -> None:
    data = two_question_world.dataset("2025-07-01")
    idata = DateModel(data, two_question_world.priors).fit(SETTINGS)
    r = idata.posterior["reliability"].values.reshape(-1, 2)
    good, bad = data.experts.index("Good"), data.experts.index("Bad")
    assert np.mean(r[:, good] > r[:, bad]) > 0.95
    assert r[:, good].mean() > 0.75 and r[:, bad].mean() < 0.55


def test_track_record_on_one_question_moves_another(two_question_world) -> None:
    """'next' with the record on 'past' against without it: past's statements left out, so no track record
    (the same arrays' shapes, so the compiled model of the first fit serves both)."""
    with_record = two_question_world.dataset("2025-07-01")
    past, nxt = with_record.questions.index("past"), with_record.questions.index("next")
    record = frozenset(uid for uid, q in zip(with_record.stmt_uids, with_record.stmt_question) if q == past)
    alone = two_question_world.dataset("2025-07-01", exclude=record)
    assert alone.track_record()[0].sum() == alone.track_record()[1].sum() == 0
    priors = two_question_world.priors
    p_with = _mean(DateModel(with_record, priors).fit(SETTINGS), "p_T")[nxt]
    p_alone = _mean(DateModel(alone, priors).fit(SETTINGS), "p_T")[nxt]
    by_2026 = slice(0, 36)  # 2024-01 .. 2026-12, Good's claim
    assert p_with[by_2026].sum() > p_alone[by_2026].sum() + 0.1


def test_falsified_claims_lower_reliability_and_kind(tmp_path) -> None:
    world = World(tmp_path)
    world.question("q", start="2024-01", end="2030-12")
    world.expert("Fal", "journalist")
    world.expert("Other", "journalist")
    for n, claim in enumerate(("by 2025", "in 2025", "before 2025-09")):
        world.say("q", "Fal", claim, on="2024-01-01", tag=str(n))
    world.say("q", "Other", "after 2024", on="2024-01-01")
    world.observe("q", "still-participating", "2026-02-01")
    before = world.dataset("2024-06-01")
    after = world.dataset("2026-03-01")
    model = DateModel(before, world.priors)
    fit_before = model.fit(SETTINGS)
    fit_after = model.fit(SETTINGS, after)  # the compiled model re-used with new evidence
    fal = before.experts.index("Fal")
    assert _mean(fit_after, "reliability")[fal] < _mean(fit_before, "reliability")[fal] - 0.05
    assert _mean(fit_after, "kind_mean")[0] < _mean(fit_before, "kind_mean")[0]
    # A falsified claim weighs 1 - r on every remaining month: it no longer moves the date.
    p_after = _mean(fit_after, "p_T")[0]
    assert np.all(p_after[:25] == 0)


@pytest.mark.slow
def test_many_experts_converge_across_seeds(tmp_path) -> None:
    """60 experts in three kinds, claims generated from known reliabilities: no mirror mode."""
    rng = np.random.default_rng(5)
    world = World(tmp_path)
    world.reliability_values(narrowness=0.0)  # each claim is drawn by r and 1 - r at a random cut, whatever its width
    world.question("a", start="2024-01", end="2032-12")
    world.question("b", start="2024-01", end="2032-12")
    truth = {"a": 30, "b": 70}  # true months since 2024-01
    kinds = ("analyst", "journalist", "official")
    for e in range(60):
        name, r = f"E{e:02d}", 1 / (1 + np.exp(-rng.normal(1.0, 0.6)))
        world.expert(name, kinds[e % 3])
        for q, t in truth.items():
            for s in range(3):
                cut = int(rng.integers(1, 108))
                right = rng.random() < r
                after = (t >= cut) == right
                year, month = divmod(24288 + cut, 12)
                period = f"{year}-{month + 1:02d}"
                world.say(q, name, f"not before {period}" if after else f"before {period}", tag=f"{s}")
    data = world.dataset("2024-01-01")
    model = DateModel(data, world.priors)
    for seed in (1, 2, 3):
        idata = model.fit(FitSettings(seed=seed))
        diag = diagnostics(idata, FitSettings())
        assert diag["max_rhat"] <= 1.01, (seed, diag)
        assert diag["min_ess_bulk"] >= 400, (seed, diag)
        p = _mean(idata, "p_T")
        for i, q in enumerate(data.questions):
            assert abs(int(np.argmax(np.cumsum(p[i]) >= 0.5)) - truth[q]) <= 12, (seed, q)


@pytest.fixture(scope="module")
def old_record(tmp_path_factory):
    """Fal made three different claims in 2020-2021 that the record falsified by 2026-02; Con restated the
    consensus 'after 2025' ten times (borne out by then) and One said it once. Three kinds, so no pooling across them."""
    world = World(tmp_path_factory.mktemp("record"))
    world.question("q", start="2024-01", end="2032-12", public=False)
    world.expert("Fal", "analyst")
    world.expert("Con", "journalist")
    world.expert("One", "advocate")
    for claim, on in (("by 2024", "2020-03-01"), ("in 2025", "2020-09-01"), ("before 2025-06", "2021-03-01")):
        world.say("q", "Fal", claim, on=on)
    for month in range(1, 11):
        world.say("q", "Con", "after 2025", on=f"2021-{month:02d}-01")
    world.say("q", "One", "after 2025", on="2021-10-01")
    world.observe("q", "still-participating", "2026-02-01")
    return world


def test_decided_claims_do_not_fade(old_record) -> None:
    """The track-record term is the same at any later as-of date: recency decay applies only while a claim is open."""
    soon, later = old_record.dataset("2026-03-01"), old_record.dataset("2032-01-01")
    for a, b in zip(soon.track_record(), later.track_record()):
        np.testing.assert_array_equal(a, b)
    right, wrong = soon.track_record()
    fal, con = soon.experts.index("Fal"), soon.experts.index("Con")
    assert wrong[fal] == pytest.approx(3.0), "three firm falsified claims count in full, five years on"
    assert right[con] < 1.1, "ten restatements of one borne-out claim count as about one"


def test_falsified_record_ends_well_below_prior_and_restating_gains_little(old_record) -> None:
    from forecast.report.content import kind_prior_interval

    data = old_record.dataset("2026-03-01")
    idata = DateModel(data, old_record.priors).fit(SETTINGS)
    r = dict(zip(data.experts, _mean(idata, "reliability")))
    prior = {e: kind_prior_interval(old_record.priors, k, e)[0] for e, k in zip(data.experts, data.expert_kinds)}
    assert r["Fal"] < prior["Fal"] - 0.15, (r["Fal"], prior["Fal"])
    assert r["Con"] - prior["Con"] < r["One"] - prior["One"] + 0.02, (r, prior)
    assert r["Con"] - prior["Con"] < 0.06, (r["Con"], prior["Con"])
