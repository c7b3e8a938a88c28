"""The model against an independent enumeration, observation semantics, and track-record learning."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecast.inference.exact import exact_posterior
from forecast.inference.model import DateModel, FitSettings

from .reference import DEPENDENCE, WEIGHTS, affiliation_share, decay, reference_likelihood, reference_prior, restated
from .worlds import World


@pytest.fixture(scope="module")
def fixed_world(tmp_path_factory):
    """One question (2024-01..2028-12), four experts (two of one affiliation), six statements, two observations.

    Ann changes position (her first claim is superseded); Bob restates his claim; Bob and Cyd share an
    affiliation; Dee's claim is already falsified (a reliability-only term, so it does not move T).
    """
    world = World(tmp_path_factory.mktemp("fixed"))
    world.question("q", hazard=0.2, hazard_sd=0.6, trend=0.1, trend_sd=0.3, compliance=0.8)
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
    prior = reference_prior(60, 0.2, 0.6, 0.1, 0.3)
    reference = prior * reference_likelihood(60, statements, still_from=6, notice_until=14, compliance=0.8)
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


MONTHS = 60


def _observation_world(tmp_path, kind: str, on: str):
    world = World(tmp_path)
    world.question("q", compliance=0.8, public=False)
    world.observe("q", kind, on)
    data = world.dataset("2028-12-31")
    post = exact_posterior(data, world.priors)[0]
    prior = exact_posterior(data, world.priors, with_evidence=False)[0]
    return data, np.append(post[:MONTHS], post[-1]), np.append(prior[:MONTHS], prior[-1])


def test_still_participating_rules_out_earlier_months(tmp_path) -> None:
    _, post, prior = _observation_world(tmp_path, "still-participating", "2025-03-10")
    assert np.all(post[:14] == 0) and post[14] > 0
    np.testing.assert_allclose(post[14:], prior[14:] / prior[14:].sum(), rtol=1e-9)


def test_withdrawn_puts_all_mass_on_its_month(tmp_path) -> None:
    _, post, _ = _observation_world(tmp_path, "withdrawn", "2026-05-20")
    assert post[28] == pytest.approx(1.0) and post.sum() - post[28] == 0


def test_formal_notice_means_a_year_then_soon_after(tmp_path) -> None:
    _, post, prior = _observation_world(tmp_path, "formal-notice", "2025-02-01")
    assert np.all(post[:25] == 0) and post[25] > 0
    ratio = post[25:MONTHS] / prior[25:MONTHS]
    np.testing.assert_allclose(ratio[1:] / ratio[:-1], math.exp(-1 / 6), rtol=1e-9)


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
