"""The model against an independent enumeration, observation semantics, and track-record learning."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecast.inference.exact import exact_posterior
from forecast.inference.model import DateModel, FitSettings

from .reference import (
    DEPENDENCE,
    WEIGHTS,
    affiliation_share,
    decay,
    reference_likelihood,
    reference_notice,
    reference_prior,
    restated,
)
from .worlds import World


@pytest.fixture(scope="module", params=[0.0, 0.3], ids=["acted-on", "lapse-0.3"])
def fixed_world(tmp_path_factory, request):
    """One question (2024-01..2028-12), four experts (two of one affiliation), six statements, two observations;
    with no lapse, and with 30% of the prior's mass on an announcement never acted on.

    Ann changes position (her first claim is superseded); Bob restates his claim; Bob and Cyd share an
    affiliation; Dee's claim is already falsified (a reliability-only term, so it does not move T).
    """
    lapse = request.param
    world = World(tmp_path_factory.mktemp("fixed"))
    world.question("q", hazard=0.2, hazard_sd=0.6, trend=0.1, trend_sd=0.3, compliance=0.8, lapse=lapse)
    for name, kind, affiliation in (("Ann", "analyst", ""), ("Bob", "journalist", "Daily"),
                                    ("Cyd", "official", "daily"), ("Dee", "other", "")):
        world.expert(name, kind, affiliation)
    world.say("q", "Ann", "after 2025", on="2024-01-01")
    world.say("q", "Bob", "by 2026", on="2024-02-01", strength="hedged")
    world.say("q", "Bob", "by 2026", on="2024-05-01", strength="hedged", tag="again")
    world.say("q", "Cyd", "between 2026 and 2027", on="2024-03-01", probability=0.7)
    world.say("q", "Ann", "by 2025-06", on="2024-04-01", probability=0.3)
    world.say("q", "Dee", "by 2024-03", on="2024-01-01")
    world.observe("q", "still-participating", "2024-06-15")
    world.observe("q", "no-formal-notice", "2024-03-01")
    as_of = "2024-07-01"
    r = {"Ann": 0.8, "Bob": 0.6, "Cyd": 0.7, "Dee": 0.3}
    k, pair = math.log(9.0), affiliation_share(2)
    statements = [
        (24, 60, WEIGHTS["firm"] * decay("2024-01-01", as_of) * DEPENDENCE["superseded"], r["Ann"]),
        (0, 35, restated([WEIGHTS["hedged"] * decay(d, as_of) for d in ("2024-02-01", "2024-05-01")]) * pair, r["Bob"]),
        (24, 47, WEIGHTS["firm"] * decay("2024-03-01", as_of) * math.log(0.7 / 0.3) / k * pair, r["Cyd"]),
        (18, 60, WEIGHTS["firm"] * decay("2024-04-01", as_of) * math.log(0.7 / 0.3) / k, r["Ann"]),  # complement of by 2025-06
    ]
    # still_from: the event is public, so as of 2024-07-01 it had not happened before July (bin 6).
    prior = reference_prior(60, 0.2, 0.6, 0.1, 0.3, lapse)
    reference = prior * reference_likelihood(prior, statements, still_from=6, notice_until=14, compliance=0.8)
    data = world.dataset(as_of)
    return world, data, np.array([r[e] for e in data.experts]), reference / reference.sum()


def test_exact_fast_path_matches_enumeration(fixed_world) -> None:
    world, data, r, reference = fixed_world
    exact = exact_posterior(data, world.priors, r)[0]
    assert np.abs(np.cumsum(exact) - np.cumsum(reference)).max() < 1e-4


@pytest.mark.parametrize("sampler", ["nutpie", "pymc"])
def test_sampled_posterior_matches_enumeration(fixed_world, sampler: str) -> None:
    world, data, r, reference = fixed_world
    idata = DateModel(data, world.priors, fixed_reliability=r).fit(FitSettings(sampler=sampler, seed=11))
    sampled = idata.posterior["p_T"].mean(("chain", "draw")).values[0]
    assert np.abs(np.cumsum(sampled) - np.cumsum(reference)).max() <= 0.01
    assert np.all(sampled[:6] == 0.0), "months before the as-of month of a public event carry no mass"


@pytest.mark.parametrize("lapse", [0.0, 0.3])
def test_sampled_posterior_with_a_revocable_notice_matches_enumeration(tmp_path, lapse: float) -> None:
    """A notice bound with probability 0.8, given 2024-03 (a year: first month 2025-03), and the event not yet
    happened by 2025-08, five months past the period; two statements; reliabilities fixed."""
    world = World(tmp_path)
    world.question("q", hazard=0.2, hazard_sd=0.6, trend=0.1, trend_sd=0.3, compliance=0.8, public=False, bind=0.8,
                   lapse=lapse)
    world.expert("Ann", "analyst")
    world.expert("Bob", "journalist")
    world.say("q", "Ann", "by 2025", on="2024-02-01")
    world.say("q", "Bob", "after 2026", on="2024-04-01")
    world.observe("q", "notice-given", "2024-03-10")
    world.observe("q", "still-participating", "2025-08-15")
    as_of, r = "2025-09-01", {"Ann": 0.7, "Bob": 0.65}
    statements = [(0, 23, WEIGHTS["firm"] * decay("2024-02-01", as_of), r["Ann"]),
                  (36, 60, WEIGHTS["firm"] * decay("2024-04-01", as_of), r["Bob"])]
    prior = reference_prior(60, 0.2, 0.6, 0.1, 0.3, lapse)
    reference = prior * reference_likelihood(prior, statements, still_from=19)
    reference *= reference_notice(prior, given=2, first=14, until=14, lag=6.0, compliance=0.8, bind=0.8)
    reference /= reference.sum()
    data = world.dataset(as_of)
    fixed = np.array([r[e] for e in data.experts])
    exact = exact_posterior(data, world.priors, fixed)[0]
    assert np.abs(np.cumsum(exact) - np.cumsum(reference)).max() < 1e-4
    idata = DateModel(data, world.priors, fixed_reliability=fixed).fit(FitSettings(seed=12))
    sampled = idata.posterior["p_T"].mean(("chain", "draw")).values[0]
    assert np.abs(np.cumsum(sampled) - np.cumsum(reference)).max() <= 0.01


MONTHS = 60


def _observation_world(tmp_path, kind: str, on: str, bind: float | None = None, seen: str | None = None):
    world = World(tmp_path)
    world.question("q", compliance=0.8, public=False, bind=bind)
    world.observe("q", kind, on)
    if seen:
        world.observe("q", "still-participating", seen)
    data = world.dataset("2028-12-31")
    post = exact_posterior(data, world.priors)[0]
    prior = exact_posterior(data, world.priors, with_evidence=False)[0]
    return data, np.append(post[:MONTHS], post[-1]), np.append(prior[:MONTHS], prior[-1])


@pytest.mark.parametrize("narrowness", [0.0, 0.5, 1.0])
def test_a_narrow_claim_gains_by_its_prior_mass(tmp_path, narrowness: float) -> None:
    """One firm statement "by 2025" (24 of 60 months), said on the as-of date, by an analyst of reliability 0.7:
    its interval's posterior odds are r / (1 - r) x (m / (1 - m))^(1 - narrowness), m its prior mass, so at 1 the
    interval holds exactly r, at 0 it moves the prior's odds by r / (1 - r)."""
    world = World(tmp_path)
    world.reliability_values(narrowness=narrowness)
    world.question("q", hazard=0.2, hazard_sd=0.6, trend=0.1, trend_sd=0.3, public=False, notice=False)
    world.expert("Ann", "analyst")
    world.say("q", "Ann", "by 2025", on="2024-03-01")
    posterior = exact_posterior(world.dataset("2024-03-01"), world.priors, np.array([0.7]))[0]
    mass = reference_prior(60, 0.2, 0.6, 0.1, 0.3)[:24].sum()
    odds = 0.7 / 0.3 * (mass / (1 - mass)) ** (1 - narrowness)
    assert posterior[:24].sum() == pytest.approx(odds / (1 + odds), abs=1e-4)


def test_still_participating_rules_out_earlier_months(tmp_path) -> None:
    _, post, prior = _observation_world(tmp_path, "still-participating", "2025-03-10")
    assert np.all(post[:14] == 0) and post[14] > 0
    np.testing.assert_allclose(post[14:], prior[14:] / prior[14:].sum(), rtol=1e-9)


def test_withdrawn_puts_all_mass_on_its_month(tmp_path) -> None:
    _, post, _ = _observation_world(tmp_path, "withdrawn", "2026-05-20")
    assert post[28] == pytest.approx(1.0) and post.sum() - post[28] == 0


def test_a_notice_that_surely_binds_means_a_year_then_soon_after(tmp_path) -> None:
    """bind_probability = 1: the notice term as it was before notices could be revoked."""
    _, post, prior = _observation_world(tmp_path, "formal-notice", "2025-02-01", bind=1.0)
    assert np.all(post[:25] == 0) and post[25] > 0
    ratio = post[25:MONTHS] / prior[25:MONTHS]
    np.testing.assert_allclose(ratio[1:] / ratio[:-1], math.exp(-1 / 6), rtol=1e-9)


def test_a_revocable_notice_by_hand(tmp_path) -> None:
    """Three months and a nearly fixed hazard of 0.15 a year; a one-month notice given in month 0, bound with
    probability 0.75. Binds: months 1, 2, beyond weigh 1, e^(-1/6), e^(-2/6). Revoked: month 0 weighs
    1 - compliance = 0.2, the rest 1. Each branch divided by its prior mass."""
    world = World(tmp_path)
    world.question("q", start="2024-01", end="2024-03", hazard=0.15, hazard_sd=0.01, trend=0.0, trend_sd=0.01,
                   compliance=0.8, public=False, notice_months=1, bind=0.75)
    world.observe("q", "notice-given", "2024-01-15")
    post = exact_posterior(world.dataset("2024-01-31"), world.priors)[0]
    q = 1 - 0.85 ** (1 / 12)  # the monthly hazard
    prior = np.array([q, (1 - q) * q, (1 - q) ** 2 * q, (1 - q) ** 3])
    binds = np.array([0.0, 1.0, math.exp(-1 / 6), math.exp(-2 / 6)])
    revoked = np.array([0.2, 1.0, 1.0, 1.0])
    by_hand = prior * (0.75 * binds / (prior @ binds) + 0.25 * revoked / (prior @ revoked))
    np.testing.assert_allclose(post, by_hand, rtol=1e-4)
    # q = 0.013452, prior = 0.013452, 0.013271, 0.013093, 0.960184; prior @ binds = 0.712356, prior @ revoked = 0.989238.
    # Month 0 only if revoked and not compliant: 0.25 x 0.2 x 0.013452 / 0.989238 = 0.000680.
    # Beyond: 0.75 x 0.960184 x 0.716531 / 0.712356 + 0.25 x 0.960184 / 0.989238 = 0.72436 + 0.24266 = 0.96702.
    assert post[0] == pytest.approx(0.000680, abs=1e-6) and post[-1] == pytest.approx(0.96702, abs=1e-5)


def test_a_revocable_notice_matches_enumeration(tmp_path) -> None:
    """Bound with probability 0.9: nothing before the notice month, the revoked branch's 1 - compliance until
    the period ends, then the mixture (see tests/reference.py)."""
    data, post, _ = _observation_world(tmp_path, "formal-notice", "2025-02-01", bind=0.9)
    prior = reference_prior(MONTHS, 0.15, 0.5, 0.0, 0.2)
    reference = prior * reference_notice(prior, given=13, first=25, until=25, lag=6.0, compliance=0.8, bind=0.9)
    assert np.abs(np.cumsum(post) - np.cumsum(reference / reference.sum())).max() < 1e-4
    assert np.all(post[:13] == 0) and post[13] > 0, "a notice means the event had not happened before it"


def _bind_weight(post: np.ndarray, prior: np.ndarray, seen: int, first: int) -> float:
    """P(the notice binds | evidence), read off a posterior: past the period, post / prior = a e^(-(t - first)/6) + c
    (the bound branch and the revoked one), so a and c follow from two months."""
    decay = np.exp(-(np.arange(len(post)) - first) / 6.0)
    ratio = post / prior
    a = (ratio[seen] - ratio[seen + 1]) / (decay[seen] - decay[seen + 1])
    return float(a * (prior[seen:] * decay[seen:]).sum())


def test_not_yet_after_the_period_moves_the_notice_to_revoked(tmp_path) -> None:
    """The notice binds with probability 0.9 a priori; each month past its period without the event makes
    revocation likelier, with no revocation logged."""
    weights = []
    for months_past, seen in ((0, "2026-02-01"), (6, "2026-08-01"), (12, "2027-02-01"), (24, "2028-02-01")):
        _, post, prior = _observation_world(tmp_path / seen, "formal-notice", "2025-02-01", bind=0.9, seen=seen)
        at = 25 + months_past
        assert np.all(post[:at] == 0)
        weights.append(_bind_weight(post, prior, at, 25))
        reference = reference_prior(MONTHS, 0.15, 0.5, 0.0, 0.2)
        reference = reference * reference_notice(reference, 13, 25, 25, 6.0, 0.8, 0.9) * (np.arange(MONTHS + 1) >= at)
        assert np.abs(np.cumsum(post) - np.cumsum(reference / reference.sum())).max() < 1e-4
    # 0.903, 0.779, 0.587, 0.290: a little above 0.9 at first (the revoked branch has lost the months before the
    # period's end), then falling. What is left of the bound branch after two years is mostly its beyond bin.
    assert weights == sorted(weights, reverse=True) and abs(weights[0] - 0.9) < 0.01 and weights[-1] < 0.3, weights


def test_no_formal_notice_discounts_the_next_year_by_compliance(tmp_path) -> None:
    _, post, prior = _observation_world(tmp_path, "no-formal-notice", "2024-06-01")
    ratio = post / prior
    np.testing.assert_allclose(ratio[:17] / ratio[17], 1 - 0.8, rtol=1e-9)
    np.testing.assert_allclose(ratio[17:], ratio[17], rtol=1e-9)


def test_annulled_question_is_left_out(tmp_path) -> None:
    world = World(tmp_path / "annul")
    world.question("q")
    world.question("other")
    world.observe("q", "annulled", "2025-01-01")
    assert world.dataset("2026-01-01").questions == ["other"]
    assert world.dataset("2024-12-31").questions == ["other", "q"]


def test_the_bind_probability_is_part_of_the_config_hash(tmp_path) -> None:
    from dataclasses import replace

    from forecast.inference.model import config_hash

    world = World(tmp_path)
    world.question("q", bind=0.9)
    data, priors = world.dataset("2025-01-01"), world.priors
    spec = priors.questions["q"]
    other = replace(priors, questions={"q": replace(spec, notice={**spec.notice, "bind_probability": 0.8})})
    assert config_hash(data, priors) != config_hash(data, other)
    assert config_hash(data, priors) == config_hash(data, replace(priors, questions={"q": replace(spec)}))
