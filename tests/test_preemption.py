"""Pre-emption: a question fitted jointly with the question that precludes it, against a brute-force enumeration."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.errors import PriorError
from forecast.inference.exact import exact_joint
from forecast.inference.model import DateModel, FitSettings

from .reference import decay, reference_likelihood, reference_prior
from .worlds import World

N_A, N_B, SHIFT = 60, 78, 6  # a: 2024-01..2028-12; b: 2023-07..2029-12, so b's month i is a's month i - 6
R = {"Ann": 0.8, "Bob": 0.65, "Cyd": 0.7}


def pair_reference(statements_a, statements_b, still_a: int, still_b: int,
                   lapse: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, np.ndarray, float]:
    """(P(outcome of a), P(T_b), P(pre-empted)) by summing P(T_a = s) P(T_b = i) over every pair (s, i).

    a happens in month s only if s < T_b (on a's grid); otherwise its outcome is "not within the horizon".
    ``lapse``: each question's share of announcements never acted on (in its beyond bin).
    """
    prior_a = reference_prior(N_A, 0.3, 0.6, 0.1, 0.3, lapse[0])
    prior_b = reference_prior(N_B, 0.1, 0.5, 0.5, 0.2, lapse[1])
    like_a = reference_likelihood(prior_a, statements_a, still_from=still_a)
    like_b = reference_likelihood(prior_b, statements_b, still_from=still_b)
    outcome, date_b, preempted = np.zeros(N_A + 1), np.zeros(N_B + 1), 0.0
    for i in range(N_B + 1):
        ends = i - SHIFT if i < N_B else np.inf  # T_b on a's grid; b's beyond bin never pre-empts
        for s in range(N_A + 1):
            seen = s if s < N_A and s < ends else N_A
            p = prior_a[s] * prior_b[i] * like_b[i] * like_a[seen]
            outcome[seen] += p
            date_b[i] += p
            if seen == N_A and ends < N_A:
                preempted += p
    total = outcome.sum()
    return outcome / total, date_b / total, preempted / total


@pytest.fixture(scope="module", params=[(0.0, 0.0), (0.2, 0.3)], ids=["acted-on", "lapses"])
def pair_world(tmp_path_factory, request):
    """a precluded by b (different horizons), statements on both, a claim that b comes first, public events; with
    no lapse, and with shares of 0.2 (a) and 0.3 (b) never acted on (a b that lapses never pre-empts a)."""
    lapse = request.param
    world = World(tmp_path_factory.mktemp("pair"))
    world.question("a", start="2024-01", end="2028-12", hazard=0.3, hazard_sd=0.6, trend=0.1, trend_sd=0.3,
                   precluded_by="b", lapse=lapse[0])
    world.question("b", start="2023-07", end="2029-12", hazard=0.1, hazard_sd=0.5, trend=0.5, trend_sd=0.2,
                   lapse=lapse[1])
    for name in R:
        world.expert(name)
    world.say("a", "Ann", "by 2026", on="2024-06-01")
    world.say("a", "Cyd", "not within the horizon", on="2024-06-01")
    world.say("b", "Bob", "between 2025 and 2026", on="2024-06-01")
    world.say("b", "Cyd", "after 2027", on="2024-06-01")
    as_of = "2024-07-01"
    w = decay("2024-06-01", as_of)
    statements_a = [(0, 35, w, R["Ann"]), (N_A, N_A, w, R["Cyd"])]
    statements_b = [(18, 41, w, R["Bob"]), (54, N_B, w, R["Cyd"])]
    reference = pair_reference(statements_a, statements_b, still_a=6, still_b=12, lapse=lapse)
    data = world.dataset(as_of)
    return world, data, np.array([R[e] for e in data.experts]), reference


def _on_grid(row: np.ndarray, n: int) -> np.ndarray:
    return np.append(row[:n], row[-1])


def test_exact_path_matches_enumeration_of_both_dates(pair_world) -> None:
    world, data, r, (outcome_a, date_b, preempted) = pair_world
    posterior, pre = exact_joint(data, world.priors, r)
    a, b = data.questions.index("a"), data.questions.index("b")
    assert np.abs(np.cumsum(_on_grid(posterior[a], N_A)) - np.cumsum(outcome_a)).max() < 1e-4
    assert np.abs(np.cumsum(_on_grid(posterior[b], N_B)) - np.cumsum(date_b)).max() < 1e-4
    assert pre[a] == pytest.approx(preempted, abs=1e-4) and pre[b] == 0
    assert 0.05 < preempted < outcome_a[-1], "the check needs real pre-emption mass"


def test_sampled_posterior_matches_enumeration_of_both_dates(pair_world) -> None:
    world, data, r, (outcome_a, date_b, preempted) = pair_world
    idata = DateModel(data, world.priors, fixed_reliability=r).fit(FitSettings(seed=5))
    sampled = idata.posterior["p_T"].mean(("chain", "draw")).values
    a, b = data.questions.index("a"), data.questions.index("b")
    assert np.abs(np.cumsum(_on_grid(sampled[a], N_A)) - np.cumsum(outcome_a)).max() <= 0.01
    assert np.abs(np.cumsum(_on_grid(sampled[b], N_B)) - np.cumsum(date_b)).max() <= 0.01
    assert float(idata.posterior["p_preempted"].mean(("chain", "draw"))[a]) == pytest.approx(preempted, abs=0.01)


def test_precluding_event_ends_the_question(tmp_path) -> None:
    """Once b's event is observed, a cannot happen in or after that month, and a's event means b came later."""
    world = World(tmp_path)
    world.question("a", precluded_by="b")
    world.question("b")
    world.observe("b", "event", "2026-03-10")
    data = world.dataset("2026-06-01")
    posterior, pre = exact_joint(data, world.priors)
    a = data.questions.index("a")
    assert np.all(posterior[a][26:60] == 0) and posterior[a][:26].sum() == 0  # public: not before the as-of month
    assert posterior[a][-1] == pytest.approx(1.0) and pre[a] == pytest.approx(1.0)

    other = World(tmp_path / "other")
    other.question("a", precluded_by="b")
    other.question("b", public=False)
    other.observe("a", "event", "2025-05-10")
    data = other.dataset("2025-06-01")
    posterior, _ = exact_joint(data, other.priors)
    assert posterior[data.questions.index("b")][:17].sum() == 0 and posterior[data.questions.index("b")][17] > 0


def test_naming_either_question_brings_the_other(pair_world) -> None:
    world = pair_world[0]
    assert world.dataset("2024-07-01", questions=["a"]).questions == ["a", "b"]
    assert world.dataset("2024-07-01", questions=["b"]).questions == ["a", "b"]


@pytest.mark.parametrize(("setup", "message"), [
    (lambda w: w.question("a", precluded_by="missing"), "'a' is precluded by 'missing', which is not in the store"),
    (lambda w: (w.question("a", precluded_by="b"), w.question("b", precluded_by="c"), w.question("c")),
     "which is itself precluded: chains are not supported"),
    (lambda w: (w.question("a", precluded_by="b"), w.question("b", end="2027-12")), "whose horizon ends before"),
])
def test_impossible_preclusions_are_refused(tmp_path, setup, message: str) -> None:
    world = World(tmp_path)
    setup(world)
    with pytest.raises(PriorError, match=message):
        world.dataset("2024-07-01")


def test_a_question_cannot_preclude_itself(tmp_path) -> None:
    with pytest.raises(PriorError, match=r"\[question\] precluded_by names the question itself"):
        World(tmp_path).question("a", precluded_by="a")
