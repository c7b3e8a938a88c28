"""`forecast learn`: shared priors recovered from simulated resolved questions, stored as a versioned prior set
that later runs use, and never learned from the outcome of the question being backtested."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from sqlmodel import select

from forecast.domain.prior_sets import GROUPS, LEARNABLE, add_set, current_set
from forecast.domain.priors import DEFAULT_RECIPE, load_recipes
from forecast.domain.prior_sets import apply_values
from forecast.domain.questions import raw_files, store_priors
from forecast.errors import InputError
from forecast.inference.hazard import date_prior_marginal
from forecast.scoring.backtest import backtest
from forecast.scoring.learning import (
    case_log_score,
    learn,
    learn_and_store,
    learning_cases,
    mean_log_score,
    resolved_questions,
)
from forecast.store.tables import Question
from forecast.scoring.resolution import resolve

from .conftest import assert_refused, invoke
from .worlds import World

TRUE_HAZARD, TRUE_RELIABILITY = 0.45, 0.85  # the recipe's hand-set values are 0.2 and (analyst) 0.65
QUESTIONS, EXPERTS, MONTHS = 40, 4, 48  # horizons 2000-01 .. 2003-12
# The recipe's shape, with its hand-set share of announcements never acted on, at the true hazard.
RECIPE = {"annual_hazard": TRUE_HAZARD, "hazard_sd_logit": 1.2, "trend_per_year": -0.2, "trend_sd": 0.4,
          "lapse_probability": load_recipes()[DEFAULT_RECIPE]["date_prior"]["lapse_probability"]["value"]}


def _month(index: int) -> str:
    return f"{2000 + index // 12}-{index % 12 + 1:02d}"


def _claim(rng: np.random.Generator, outcome: int, right: bool) -> str:
    """A claim on one side of a cut month drawn independently of the outcome: the side holding the outcome when
    ``right``, the other otherwise, so that each claim is r against 1 - r as the model reads it. (Claims drawn
    around the outcome, as 12-month windows that contain it, would make a window at the horizon's end far more
    likely for "not within the horizon" than for any late month, which the model does not know.)"""
    cut = int(rng.integers(1, MONTHS))
    after = outcome >= cut
    return f"from {_month(cut)}" if after == right else f"before {_month(cut)}"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> World:
    """Resolved questions whose dates are drawn from the recipe at TRUE_HAZARD and whose statements contain the
    outcome with probability TRUE_RELIABILITY (firm, said at the horizon start, no recency decay)."""
    rng = np.random.default_rng(19)
    world = World(tmp_path_factory.mktemp("learn"))
    # The simulation has no recency decay, and draws each claim by r and 1 - r whatever its width.
    world.reliability_values(half_life_years=100.0, narrowness=0.0)
    p_outcome = np.exp(date_prior_marginal(RECIPE, MONTHS))
    for e in range(EXPERTS):
        world.expert(f"Analyst {e}", "analyst")
    for q in range(QUESTIONS):
        slug = f"sim-{q:02d}"
        world.question(slug, start=_month(0), end=_month(MONTHS - 1), notice=False, recipe=True)
        outcome = int(rng.choice(MONTHS + 1, p=p_outcome / p_outcome.sum()))
        for e in range(EXPERTS):
            world.say(slug, f"Analyst {e}", _claim(rng, outcome, bool(rng.random() < TRUE_RELIABILITY)),
                      on="2000-01-01", tag=f"({slug})")
        with world.store.session() as session:
            if outcome == MONTHS:
                resolve(session, slug, not_within_horizon=True, source="simulation")
            else:
                resolve(session, slug, month=_month(outcome), source="simulation")
    return world


@pytest.fixture(scope="module")
def learned(simulated) -> dict:
    """A prior set learned from every simulated question (learned once; tests put it back in force cheaply)."""
    return learn_and_store(simulated.store, every="year", groups=GROUPS)[0]


def _in_force(world: World, prior_set: dict) -> dict:
    with world.store.session() as session:
        return add_set(session, prior_set["values"], prior_set["provenance"])


def test_learning_recovers_the_simulated_hazard_and_reliability(simulated) -> None:
    """Tolerances: with 40 questions the hazard level is known to about +-0.3 on the logit scale (the per-question
    spread of 1.2 over sqrt(40)), i.e. 0.45 within 0.33 .. 0.6; 160 statements pin the reliability to +-0.03
    (binomial), so 0.85 within +-0.07 leaves room for the weak pull towards the hand-set 0.65."""
    with simulated.store.reader() as session:
        found = learn(session, every="year", names=["recipe.annual_hazard", "kinds.analyst.mean"])
    assert 0.33 <= found.values["recipe.annual_hazard"] <= 0.6, found.values
    assert abs(found.values["kinds.analyst.mean"] - TRUE_RELIABILITY) <= 0.07, found.values
    assert found.score_learned > found.score_hand_set
    assert len(found.questions) == QUESTIONS


@pytest.mark.parametrize(("name", "grid", "averaged_peak"), [
    ("annual_hazard", (0.3, 0.45, 0.6), 0.6),
    ("lapse_probability", (0.3, 0.5, 0.7), 0.3),
])
def test_the_objective_is_proper(tmp_path, name: str, grid: tuple[float, ...], averaged_peak: float) -> None:
    """In expectation over outcomes drawn from the recipe with the middle value of ``grid``, the objective is
    highest at that value: computed exactly, one resolved question (no statements) per outcome, weighted by the
    outcome's prior probability. Averaging each question's dates instead (they end when its outcome becomes
    known) peaks elsewhere: it rewards expecting exits sooner than they come."""
    months = 24
    world = World(tmp_path)
    for t in range(months + 1):
        world.question(f"t-{t:02d}", start=_month(0), end=_month(months - 1), notice=False, recipe=True)
        with world.store.session() as session:
            resolve(session, f"t-{t:02d}", source="enumeration", not_within_horizon=t == months,
                    month=None if t == months else _month(t))
    with world.store.reader() as session:
        base = store_priors(session, hand_set=True)
        raw = raw_files(list(session.exec(select(Question))))
        cases = learning_cases(session, base, resolved_questions(session), "quarter")
    recipe = {k: v["value"] for k, v in load_recipes()[DEFAULT_RECIPE]["date_prior"].items()}
    truth = np.exp(date_prior_marginal({**recipe, name: grid[1]}, months))
    proper, averaged = [], []
    for value in grid:
        priors = apply_values(base, raw, {f"recipe.{name}": value})
        per_question = mean_log_score(cases, priors)[1]
        proper.append(sum(truth[t] * per_question[f"t-{t:02d}"] for t in range(months + 1)))
        dates: dict[str, list[float]] = {}
        for case in cases:
            dates.setdefault(case.slug, []).append(case_log_score(case, priors))
        averaged.append(sum(truth[t] * np.mean(dates[f"t-{t:02d}"]) for t in range(months + 1)))
    assert grid[int(np.argmax(proper))] == grid[1], proper
    assert grid[int(np.argmax(averaged))] == averaged_peak, averaged


@pytest.mark.parametrize(("values", "learned_names"), [
    ((), ["recipe.annual_hazard", "recipe.lapse_probability", "recipe.trend_per_year"]),  # the default: the record's
    # hazard, hand-set statements
    (("--values", "kinds"), ["kinds.analyst.mean"]),
    (("--values", "weights", "--values", "recipe"),
     ["recipe.annual_hazard", "recipe.lapse_probability", "recipe.trend_per_year", "weights.firm",
      "weights.half_life_years", "weights.hedged"]),
])
def test_learn_fits_the_groups_it_is_given(simulated, values, learned_names) -> None:
    """The simulation has no notice rule, so "notice" has nothing to learn; the others stay hand-set."""
    result = invoke(simulated.store.url, "learn", "--every", "year", *values)
    assert result.exit_code == 0, result.output
    with simulated.store.reader() as session:
        stored = current_set(session)
    said = {(): "the recipe (hazard, lapse) and the notice rule (the statement weights and the kinds' reliabilities "
                "kept hand-set)",
            ("--values", "kinds"): "the kinds' reliabilities (the recipe (hazard, lapse), the notice rule and the "
                                   "statement weights kept hand-set)"}
    if values in said:
        assert f"dated forecasts): {said[values]}; mean log score" in result.output
    assert sorted(stored["values"]) == learned_names
    assert stored["provenance"]["groups"] == ([v for v in values if v != "--values"] or ["recipe", "notice"])


def test_every_learnable_prior_belongs_to_a_group() -> None:
    assert {name.split(".")[0] for name in LEARNABLE} == set(GROUPS)


def test_learn_refuses_a_group_the_record_has_nothing_on(simulated) -> None:
    assert_refused(invoke(simulated.store.url, "learn", "--values", "notice"),
                   "Error: the resolved questions bear on none of the priors in notice: nothing to learn")


def test_learned_set_is_stored_applied_and_refused_for_its_own_backtest(simulated, learned) -> None:
    store = simulated.store
    stored = _in_force(simulated, learned)
    assert stored["provenance"]["questions"] == [f"sim-{q:02d}" for q in range(QUESTIONS)]
    assert stored["provenance"]["code_version"] and stored["provenance"]["forecasts"] > QUESTIONS
    with store.reader() as session:
        priors = store_priors(session)
        hand = store_priors(session, hand_set=True)
    assert priors.prior_set == f"learned v{stored['version']}" and hand.prior_set == "hand-set"
    assert priors.questions["sim-00"].date_prior["annual_hazard"] == pytest.approx(stored["values"]["recipe.annual_hazard"])
    assert priors.reliability.weights["firm"] == pytest.approx(stored["values"]["weights.firm"]) != 1.0
    with pytest.raises(InputError, match="learned from the outcome of 'sim-03'"):
        backtest(store, priors, "sim-03", dt.date(2000, 1, 1), "year")
    result = invoke(store.url, "backtest", "sim-03", "--from", "2000-01-01")
    assert_refused(result, "Error: the prior set in force (learned v")
    left_out, _ = learn_and_store(store, every="year", leave_out=("sim-03",))
    assert "sim-03" not in left_out["provenance"]["questions"] and left_out["version"] == stored["version"] + 1
    with store.reader() as session:
        assert "sim-03" not in store_priors(session).learned_from


def test_question_file_values_win_over_the_learned_set(simulated, learned) -> None:
    simulated.question("own-prior", start="2030-01", end="2034-12", hazard=0.05, notice=False)
    _in_force(simulated, learned)
    with simulated.store.reader() as session:
        priors = store_priors(session)
    assert priors.questions["own-prior"].date_prior["annual_hazard"] == 0.05
    assert priors.questions["sim-01"].date_prior["annual_hazard"] != 0.2


@pytest.mark.parametrize(("values", "lapse"), [
    ({}, 0.2),  # back to hand-set: the recipe's share
    ({"recipe.annual_hazard": 0.3, "recipe.trend_per_year": 0.1}, 0.0),  # a set learned before the lapse existed
    ({"recipe.annual_hazard": 0.3, "recipe.lapse_probability": 0.1}, 0.1),
])
def test_a_stored_set_learned_without_a_lapse_applies_none(tmp_path, values, lapse) -> None:
    """A set's hazard was learned together with its lapse share, or with none if the set has no such value."""
    world = World(tmp_path)
    world.question("q", notice=False, recipe=True)
    with world.store.session() as session:
        add_set(session, values, {"questions": []})
    with world.store.reader() as session:
        assert store_priors(session).questions["q"].date_prior["lapse_probability"] == lapse


def test_show_prints_learned_beside_hand_set_and_verify_passes(simulated, learned) -> None:
    _in_force(simulated, learned)
    result = invoke(simulated.store.url, "learn", "--show")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Prior set in force: learned v")
    line = next(row for row in result.output.splitlines() if row.startswith("kinds.analyst.mean"))
    assert line.split()[1] == "0.65" and line.split()[-1] == "yes"
    assert invoke(simulated.store.url, "verify").exit_code == 0
    hand = invoke(simulated.store.url, "learn", "--hand-set")
    assert "the hand-set priors, in force from now on" in hand.output
    with simulated.store.reader() as session:
        assert store_priors(session).prior_set.startswith("hand-set v")
    assert invoke(simulated.store.url, "verify").exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["--tag", "nosuch"], "Error: unknown tag 'nosuch'"),
    (["--leave-out", "sim-999"], "Error: unknown question 'sim-999'"),
])
def test_learn_refuses_unknown_scope(simulated, args, message) -> None:
    assert_refused(invoke(simulated.store.url, "learn", *args), message)


def test_learn_with_nothing_resolved_is_refused(tmp_path) -> None:
    world = World(tmp_path)
    world.question("open-one", notice=False, recipe=True)
    assert_refused(invoke(world.store.url, "learn"), "Error: no resolved question to learn from")


def test_runs_record_the_prior_set(simulated, learned) -> None:
    """A stored run's settings name the prior set in force (the exact path, no sampling)."""
    from .conftest import query, store_exact_run

    simulated.question("own-prior", start="2030-01", end="2034-12", hazard=0.05, notice=False)
    stored = _in_force(simulated, learned)
    store_exact_run(simulated.store.url, as_of=dt.date(2031, 1, 1), kind="backtest", only=["own-prior"])
    settings = json.loads(query(simulated.store.url, "select settings from forecast_run order by id desc")[0][0])
    assert settings["prior_set"] == f"learned v{stored['version']}"


def test_a_prior_set_changed_outside_forecast_is_seen_by_verify(tmp_path, simulated, learned) -> None:
    import sqlite3

    _in_force(simulated, learned)
    copy = tmp_path / "copy.db"
    with sqlite3.connect(simulated.store.url.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("UPDATE store_setting SET value = replace(value, '\"weights.firm\": ', '\"weights.firm\": 9') "
                       "WHERE key = 'prior_sets'")
    source.close()
    target.close()
    verified = invoke(copy, "verify")
    assert verified.exit_code == 2 and "setting 'prior_sets' was changed outside forecast" in verified.output + verified.stderr


def test_init_puts_the_shipped_set_in_force_once(tmp_path) -> None:
    """`forecast init` stores the set shipped in the package (learned from the whole casebook once the test half
    was scored, so its provenance names every casebook question); a later init never replaces the store's own
    choice."""
    from forecast.io.casebook import casebook_files

    db = tmp_path / "init.db"
    assert invoke(db, "init", "--empty").exit_code == 0
    assert invoke(db, "learn", "--show").output.startswith("Prior set in force: learned v1.")
    from forecast.store import open_store

    with open_store(str(db)).reader() as session:
        learned_from = store_priors(session).learned_from
    assert sorted(learned_from) == sorted(path.stem for path in casebook_files())
    assert invoke(db, "learn", "--hand-set").exit_code == 0
    assert invoke(db, "init", "--empty").exit_code == 0
    assert invoke(db, "learn", "--show").output.startswith("Prior set in force: hand-set v2.")


def test_the_api_learns_and_shows_as_the_cli_does(simulated) -> None:
    """`ForecastStore.learn` stores the set the CLI would, leaving out what it is told; `priors` is `learn --show`."""
    from forecast.api import ForecastStore

    fc = ForecastStore(simulated.store)
    stored = fc.learn(every="year", leave_out=["sim-05"])
    assert "sim-05" not in stored["provenance"]["questions"] and len(stored["provenance"]["questions"]) == QUESTIONS - 1
    name, frame = fc.priors()
    assert name == f"learned v{stored['version']}"
    shown = invoke(simulated.store.url, "learn", "--show").output
    assert shown.startswith(f"Prior set in force: {name}.")
    for row in frame.to_dict("records"):
        assert row["learned"] == ("yes" if row["prior"] in stored["values"] else "")
        assert row["in force"] == pytest.approx(round(stored["values"].get(row["prior"], row["hand-set"]), 4))
    assert fc.learn(hand_set=True)["provenance"]["method"] == "hand-set"
    assert fc.priors()[0].startswith("hand-set v")
