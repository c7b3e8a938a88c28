"""Dependence between statements (P1-P4): repeating a position does not multiply it.

With every claim about one interval A and reliabilities fixed, the posterior odds of A are the prior
odds times (r / (1 - r) x ((1 - m) / m) ** g) ** W, m the prior mass of A and g the narrowness, so W, the
evidence's total weight, is read off the forecast exactly: "counts as" below is W divided by the weight of one
statement.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from forecast.inference.exact import exact_posterior
from forecast.inference.model import DateModel, FitSettings

from .worlds import World

AS_OF = "2025-12-01"
CLAIM, INSIDE = "by 2026", slice(0, 36)  # the claim's months on the 2024-01..2030-12 grid
R = 0.7


def _dates(k: int) -> list[str]:
    """k monthly dates ending on the first of the as-of month, newest first."""
    day = dt.date.fromisoformat(AS_OF)
    out = []
    for i in range(k):
        month = day.year * 12 + day.month - 1 - i
        out.append(dt.date(month // 12, month % 12 + 1, 1).isoformat())
    return out


def _world(tmp_path, speakers: list[tuple[str, str, list[str]]], independent: bool = False) -> World:
    """One question; each speaker (name, affiliation, dates) says CLAIM on each date."""
    world = World(tmp_path)
    if independent:  # the same world under the old rule: every statement independent
        world.reliability_values(restatement_correlation=0, superseded=1, affiliation_correlation=0, affiliation_correlation_sd=0)
    world.question("q", start="2024-01", end="2030-12", public=False)
    for name, affiliation, dates in speakers:
        world.expert(name, "analyst", affiliation)
        for n, on in enumerate(dates):
            world.say("q", name, CLAIM, on=on, tag=str(n))
    return world


def counts_as(world: World) -> float:
    """The total weight of the evidence, in statements: log posterior odds of the claim over log prior odds."""
    data = world.dataset(AS_OF)
    post = exact_posterior(data, world.priors, np.full(len(data.experts), R))[0]
    prior = exact_posterior(data, world.priors, with_evidence=False)[0]
    outside = np.ones(len(prior), dtype=bool)
    outside[INSIDE] = False
    odds = lambda p: math.log(p[INSIDE].sum() / p[outside].sum())  # noqa: E731  (not 1 - inside: 20 claims leave ~1e-11)
    return (odds(post) - odds(prior)) / (math.log(R / (1 - R)) - world.priors.reliability.weights["narrowness"] * odds(prior))


def test_p1_restatements_by_one_expert_count_about_once(tmp_path) -> None:
    one = counts_as(_world(tmp_path / "1", [("Ann", "", _dates(1))]))
    twenty = counts_as(_world(tmp_path / "20", [("Ann", "", _dates(20))]))
    independent = counts_as(_world(tmp_path / "old", [("Ann", "", _dates(20))], independent=True))
    assert one == pytest.approx(1.0, abs=1e-6)
    assert twenty < 1.15 * one, "20 restatements count as at most 1.15 statements"
    assert independent > 12, "the same restatements as independent evidence would count many times"


@pytest.mark.parametrize("k", [2, 5, 10, 20])
def test_p2_p3_one_affiliation_saturates_independent_experts_accumulate(tmp_path, k: int) -> None:
    same = counts_as(_world(tmp_path / "same", [(f"E{i}", "Agency", _dates(1)) for i in range(k)]))
    apart = counts_as(_world(tmp_path / "apart", [(f"E{i}", f"Org {i}", _dates(1)) for i in range(k)]))
    assert apart == pytest.approx(k, rel=1e-6), "P3: experts of distinct affiliations accumulate"
    assert same < 0.75 * k, "P2: one affiliation counts for less than k independent experts"
    assert same < 2.62, "P2: and saturates below E[1 / rho] = 2.6 for rho ~ Beta(mean 0.5, sd 0.2)"


def test_p2_saturation_in_k(tmp_path) -> None:
    counts = [counts_as(_world(tmp_path / str(k), [(f"E{i}", "Agency", _dates(1)) for i in range(k)]))
              for k in (1, 5, 10, 20, 40)]
    gains = np.diff(counts)
    assert np.all(gains > 0) and np.all(np.diff(gains / np.diff([1, 5, 10, 20, 40])) < 0), counts
    assert counts[-1] - counts[-2] < 0.2, counts


@pytest.fixture(scope="module")
def changed_mind(tmp_path_factory):
    """Ann says 'by 2025' (2024-01) and 'in 2025' (2024-03), then 'after 2027' (2024-06); by 2026-02 the first two are falsified.

    ``alone`` is the same world in which Ann only ever said 'after 2027'.
    """
    worlds = []
    for name, claims in (("mind", ("by 2025", "in 2025", "after 2027")), ("alone", ("after 2027",))):
        world = World(tmp_path_factory.mktemp(name))
        world.question("q", start="2024-01", end="2030-12", public=False)
        world.expert("Ann", "journalist")
        for claim, on in zip(claims, ("2024-01-01", "2024-03-01", "2024-06-01")[-len(claims):]):
            world.say("q", "Ann", claim, on=on)
        world.observe("q", "still-participating", "2026-02-01")
        worlds.append(world)
    return worlds


def test_p4_a_changed_position_is_forecast_from_the_new_one(changed_mind) -> None:
    changed, alone = changed_mind
    r = np.array([0.8])
    np.testing.assert_allclose(exact_posterior(changed.dataset("2024-07-01"), changed.priors, r),
                               exact_posterior(alone.dataset("2024-07-01"), alone.priors, r), atol=1e-12)


def test_p4_the_old_claims_still_count_for_the_track_record(changed_mind) -> None:
    changed, alone = changed_mind
    data = changed.dataset("2026-03-01")
    assert data.track_record()[1][0] == pytest.approx(2.0), "both superseded claims, falsified, count in full"
    settings = FitSettings(draws=1000, tune=1000, chains=2, seed=1)
    r_changed = float(DateModel(data, changed.priors).fit(settings).posterior["reliability"].mean())
    r_alone = float(DateModel(alone.dataset("2026-03-01"), alone.priors).fit(settings).posterior["reliability"].mean())
    assert r_changed < r_alone - 0.08, (r_alone, r_changed)
