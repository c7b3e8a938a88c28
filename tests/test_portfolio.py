"""Several questions in one store: per-question isolation of backtests, runs, reports and scores; late experts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from forecast.cli import cli
from forecast.inference.dataset import build_dataset
from forecast.inference.model import FitSettings
from forecast.scoring.backtest import backtest
from forecast.scoring.calibration import MODEL
from forecast.scoring.scorecard import scorecard

from .worlds import World

TINY = FitSettings(draws=100, tune=100, chains=2, seed=3)


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """Three questions: a 12-month and a 24-month notice rule and none; experts who speak late or on one only."""
    w = World(tmp_path_factory.mktemp("three"))
    w.question("alpha", start="2018-01", end="2023-12")
    w.question("beta", start="2018-01", end="2023-12", notice_months=24)
    w.question("gamma", start="2019-01", end="2024-12", notice=False)
    for name in ("Early", "Late", "Solo"):
        w.expert(name)
    w.say("alpha", "Early", "by 2021", on="2018-02-01")
    w.say("beta", "Early", "not before 2022", on="2018-03-01")
    w.say("alpha", "Late", "in 2021", on="2020-06-01")  # speaks only after two checkpoints resolved
    w.say("gamma", "Solo", "after 2020", on="2019-02-01")
    w.observe("alpha", "notice-given", "2020-02-10")
    w.observe("alpha", "event", "2021-02-15")
    w.observe("beta", "event-not-yet", "2024-01-05")
    w.observe("gamma", "event", "2021-06-01")
    ids = {slug: backtest(w.store, w.priors, slug, dt.date(2018, 1, 15), "year", dt.date(2021, 12, 31), TINY)
           for slug in ("alpha", "beta", "gamma")}
    return w, ids


def test_a_backtest_stores_results_for_its_question_only(three) -> None:
    w, ids = three
    runner = CliRunner()
    for slug, run_ids in ids.items():
        listed = json.loads(runner.invoke(cli, ["--db", w.store.url, "runs", "--question", slug, "--json"]).output)
        assert [r["id"] for r in listed] == run_ids and {r["questions"] for r in listed} == {slug}
    priors = w.priors
    with w.store.session() as session:
        card = scorecard(session, priors, "gamma")
    scored = {r["run"] for r in card["checkpoint_scores"]}
    assert scored and scored <= set(ids["gamma"])
    assert min(r["as_of"] for r in card["checkpoint_scores"]) >= "2019-01-01"  # the 2018 run predates gamma's horizon


def test_late_and_silent_experts_are_scored_over_the_model_s_checkpoints(three) -> None:
    w, _ = three
    priors = w.priors
    with w.store.session() as session:
        card = scorecard(session, priors, "alpha")
    averaged = card["time_averaged"]
    assert set(averaged) >= {MODEL, "expert: Early", "expert: Late"} and "expert: Solo" not in averaged
    assert set(averaged["expert: Late"]["checkpoints"]) == set(averaged[MODEL]["checkpoints"])
    prior_like = averaged["expert: Late"]["checkpoints"]["alpha before 2019-01-01"]
    assert prior_like == pytest.approx(averaged["linear pool"]["checkpoints"]["alpha before 2019-01-01"], abs=0.5)
    assert {row["baseline"] for row in card["comparison"]} >= {"expert: Early", "expert: Late", "prior"}
    assert [e["expert"] for e in card["experts"]] == ["Early", "Late"]
    runs = [r for r in card["checkpoint_scores"] if r["forecaster"] == MODEL]
    assert max(r["as_of"] for r in runs) < "2021-02-28"  # runs after the event was known are not scored


def test_month_precision_resolution_is_known_at_the_end_of_its_month(tmp_path) -> None:
    w = World(tmp_path)
    w.question("q", start="2019-01", end="2021-12", public=False)
    from forecast.scoring.resolution import resolve

    with w.store.session() as session:
        resolve(session, "q", month="2020-01", source="archive")
    priors = w.priors
    with w.store.session() as session:
        mid = build_dataset(session, priors, dt.date(2020, 1, 15))
        end = build_dataset(session, priors, dt.date(2020, 1, 31))
    assert mid.evidence_uids == [] and len(end.evidence_uids) == 1


def test_score_with_an_expert_who_first_speaks_late_does_not_crash(three, tmp_path) -> None:
    """Through the CLI: Late first speaks on alpha after two of its checkpoints resolved."""
    w, _ = three
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--db", w.store.url, *args])

    for extra in (["--csv"], [], ["--json"]):
        scored = run("score", "alpha", *extra)
        assert scored.exit_code == 0, scored.output
    card = json.loads(scored.output)
    late = card["time_averaged"]["expert: Late"]["checkpoints"]
    assert set(late) == set(card["time_averaged"][MODEL]["checkpoints"])
    assert run("calibration", "--out", str(tmp_path / "c.svg")).exit_code == 0
    reported = run("report", "alpha", "--as-of", "2020-01-15", "--out", str(tmp_path / "r"))
    assert reported.exit_code == 0 and "alpha-2020-01-15.html" in reported.output  # a backtest run


def test_reports_show_only_their_question_s_evidence_and_experts(three, tmp_path) -> None:
    w, ids = three
    from forecast.report.content import report_content
    from forecast.runs.views import latest_run

    priors = w.priors
    with w.store.session() as session:
        content = report_content(session, priors, latest_run(session, run_id=ids["gamma"][-1]), "gamma")
    assert {e["who"] for e in content["evidence"] if e["type"] == "statement"} == {"Solo"}
    assert [e["expert"] for e in content["experts"]] == ["Solo"]
    assert {r["id"] for r in content["history"]} <= set(ids["gamma"])
