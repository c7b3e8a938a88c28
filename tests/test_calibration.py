"""Calibration tracking: a synthetic world with known truth, backtested and scored; the commands."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import numpy as np
import pytest
import scoringrules as sr
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import SQLModel, select

from forecast.cli import cli
from forecast.errors import InputError
from forecast.inference.model import FitSettings
from forecast.scoring.backtest import as_of_dates, backtest
from forecast.scoring.calibration import LATEST, MODEL, OBSERVED, PRIOR, probability_before, run_forecasts
from forecast.scoring.resolution import checkpoint_outcomes, date_outcome
from forecast.scoring.rules import log_score, pit_coverage
from forecast.scoring.scorecard import scorecard
from forecast.store import open_store
from forecast.store.tables import Question

from .conftest import INIT, invoke
from .worlds import World

SETTINGS = FitSettings(draws=500, tune=500, chains=2, seed=1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Truth: the event happens in 2025-06. Good says true things, Bad false ones; observations arrive over time."""
    w = World(tmp_path_factory.mktemp("truth"))
    w.question("q", start="2024-01", end="2027-12", hazard=0.2, hazard_sd=0.5)
    w.expert("Good", "analyst")
    w.expert("Bad", "journalist")
    w.say("q", "Good", "in 2025", on="2024-01-10")
    w.say("q", "Good", "after 2024", on="2024-03-01")
    w.say("q", "Bad", "by 2024", on="2024-01-10")
    w.say("q", "Bad", "after 2026", on="2024-03-01")
    w.observe("q", "still-participating", "2024-06-01")
    w.observe("q", "still-participating", "2024-12-01")
    w.observe("q", "withdrawn", "2025-06-15")
    ids = backtest(w.store, w.priors, "q", dt.date(2024, 2, 1), "quarter", dt.date(2025, 9, 1), SETTINGS)
    return w, ids


def test_the_prior_baseline_knows_nothing_and_the_observed_one_knows_the_facts(world) -> None:
    """"prior" is the hazard prior before any evidence (the report's prior column); "prior and observations" adds
    the hard observations and no statement: as of 2025-02-01 it holds no mass before 2024-12, the prior does."""
    from forecast.store.tables import ForecastResult, ForecastRun

    w, ids = world
    with w.store.reader() as session:
        run = next(r for r in (session.get(ForecastRun, i) for i in ids) if r.as_of == dt.date(2025, 2, 1))
        result = session.exec(select(ForecastResult).where(ForecastResult.run_id == run.id)).one()
        monthly = run_forecasts(session, w.priors, run, result, "q").monthly
    ruled_out = slice(0, 11)  # 2024-01 .. 2024-11: still participating on 2024-12-01
    assert monthly[OBSERVED][ruled_out].sum() == 0 and monthly[PRIOR][ruled_out].sum() > 0.1
    assert monthly[OBSERVED].sum() == pytest.approx(1) and monthly[LATEST][ruled_out].sum() == 0


def test_as_of_dates() -> None:
    assert as_of_dates(dt.date(2024, 2, 1), dt.date(2025, 1, 1), "quarter") == [
        dt.date(2024, 2, 1), dt.date(2024, 5, 1), dt.date(2024, 8, 1), dt.date(2024, 11, 1)]
    assert as_of_dates(dt.date(2024, 1, 31), dt.date(2024, 3, 31), "month")[-1] == dt.date(2024, 3, 28)
    with pytest.raises(InputError, match="is after --to"):
        as_of_dates(dt.date(2025, 1, 1), dt.date(2024, 1, 1), "year")


def test_backtest_stores_runs_with_only_the_evidence_of_each_date(world) -> None:
    w, ids = world
    assert len(ids) == 7
    from forecast.runs.views import list_runs

    with w.store.session() as session:
        runs = list_runs(session)
    assert [r["kind"] for r in runs] == ["backtest"] * 7
    assert [r["as_of"] for r in runs][:2] == ["2024-02-01", "2024-05-01"]
    with w.store.session() as session:
        from forecast.store.tables import ForecastRun

        evidence = [len(json.loads(session.get(ForecastRun, i).evidence)) for i in ids]
    assert evidence == [2, 4, 5, 5, 6, 6, 7]  # statements said, then observations as they arrive


def test_resolutions_follow_the_truth(world) -> None:
    w, _ = world
    with w.store.session() as session:
        q = session.exec(select(Question)).first()
        outcomes = checkpoint_outcomes(session, q)
        assert {c.isoformat(): v for c, v in outcomes.items()} == {
            "2025-01-01": False, "2026-01-01": True, "2027-01-01": True, "2028-01-01": True}
        assert date_outcome(session, q) == 17  # 2025-06 on a grid from 2024-01


def test_scores_are_what_the_stored_forecasts_and_truth_imply(world) -> None:
    w, ids = world
    with w.store.session() as session:
        card = scorecard(session, w.priors)
    rows = [r for r in card["checkpoint_scores"] if r["forecaster"] == MODEL]
    # Checkpoints forecast before they resolved: before 2025-01-01 by the 4 runs as of 2024, later ones by the
    # 6 runs made before the event (2025-06-15) was known; the run as of 2025-08-01 is not scored.
    assert len(rows) == 4 + 6 + 6 + 6
    p, y = np.array([r["p"] for r in rows]), np.array([r["outcome"] for r in rows])
    np.testing.assert_allclose([r["brier"] for r in rows], sr.brier_score(y, p), atol=1e-12)
    np.testing.assert_allclose([r["log"] for r in rows], sr.log_score(y, p), atol=1e-9)
    dates = [r for r in card["date_scores"] if r["forecaster"] == MODEL]
    assert len(dates) == 6
    from forecast.runs.views import latest_run, run_view

    with w.store.session() as session:
        monthly = np.array(run_view(session, latest_run(session, run_id=ids[0]))["results"][0]["monthly"])
    onehot = np.eye(monthly.size)[17]
    assert dates[0]["rps"] == pytest.approx(float(sr.rps_score(onehot, monthly, onehot=True)), abs=1e-9)
    assert dates[0]["pit"] == pytest.approx(monthly[:17].sum() + monthly[17] / 2)
    assert dates[0]["pit_range"] == pytest.approx([monthly[:17].sum(), monthly[:18].sum()])
    assert sum(card["pit_histogram"]) == pytest.approx(6)
    ranges = np.array([d["pit_range"] for d in dates])
    assert card["pit_coverage"]["50%"] == pytest.approx(float(np.mean(pit_coverage(ranges, 0.5))))


@pytest.mark.filterwarnings("error")
def test_a_rounded_distribution_gives_a_probability_and_a_log_score() -> None:
    """Stored distributions are rounded to 10 places; six months at 1/6 then sum to 1.0000000002, and a plain
    sum made P(before) exceed 1, so the log score of an outcome of NO warned and came out NaN."""
    monthly = np.array([round(1 / 6, 10)] * 6 + [0.0])
    assert monthly.sum() > 1
    question = Question(slug="q", title="", criteria="", horizon_start="2020-01", horizon_end="2020-06")
    p = probability_before(monthly, question, dt.date(2021, 1, 1))
    assert p == 1.0 and log_score(p, 0) == np.inf and log_score(p, 1) == 0.0
    assert probability_before(monthly, question, dt.date(2020, 4, 1)) == pytest.approx(0.5, abs=1e-12)


def test_model_beats_the_prior_and_learns_who_is_right(world) -> None:
    w, _ = world
    with w.store.session() as session:
        card = scorecard(session, w.priors)
    averaged = card["time_averaged"]
    # One question cannot show the model beats the prior (here it does not: the observations that the event was
    # still to come lowered every forecaster's P(before 2026) in a world where it happened in 2025-06); it does
    # show the model weighs a proven expert above a disproven one and the latest statement alone.
    assert averaged[MODEL]["mean"] < min(averaged["expert: Bad"]["mean"], averaged[LATEST]["mean"])
    versus_prior = next(c for c in card["comparison"] if c["baseline"] == PRIOR)
    # Four checkpoints of one question: an interval over questions needs MIN_QUESTIONS_FOR_BOOTSTRAP of them.
    assert (versus_prior["checkpoints"], versus_prior["questions"], versus_prior["interval"]) == (4, 1, None)
    assert averaged["expert: Good"]["mean"] < averaged["expert: Bad"]["mean"]
    records = {e["expert"]: e for e in card["experts"]}
    assert (records["Good"]["borne_out"], records["Good"]["falsified"]) == (2, 0)
    assert (records["Bad"]["borne_out"], records["Bad"]["falsified"], records["Bad"]["hit_rate"]) == (0, 2, 0.0)
    good = [r[2] for r in records["Good"]["reliability_over_time"]]
    bad = [r[2] for r in records["Bad"]["reliability_over_time"]]
    assert good[-1] > bad[-1] and good[-1] > good[0] and bad[-1] < bad[0]
    # Coverage counts the 6 scored runs; the run as of 2025-08-01, made once the event was known, is left out.
    assert [sum(card["coverage"][level].values()) for level in ("50%", "80%")] == [6, 6]
    assert card["coverage"]["80%"]["undetermined"] == 0


def test_score_and_calibration_commands(world, tmp_path) -> None:
    w, _ = world
    runner = CliRunner()
    db = ["--db", w.store.url]
    priors: list[str] = []
    table = runner.invoke(cli, [*db, "score", *priors])
    assert table.exit_code == 0, table.output
    assert "Model versus baselines (time-averaged Brier, paired over checkpoints; 90% interval resampling questions):" \
        in table.output
    card = json.loads(runner.invoke(cli, [*db, "score", "--json"]).output)
    header, *lines = table.output.splitlines()[1:]
    assert header.split() == ["forecaster", "n", "mean", "Brier", "mean", "log", "time-averaged", "Brier", "dates",
                              "mean", "RPS"]
    model = next(r for r in card["by_forecaster"] if r["forecaster"] == MODEL)
    rps = np.mean([d["rps"] for d in card["date_scores"] if d["forecaster"] == MODEL])
    assert model["dates"] == 6 and model["rps"] == pytest.approx(rps)
    assert any(line.split()[0] == MODEL and line.split()[-2:] == ["6", f"{rps:.3f}"] for line in lines)
    m = card["murphy"]
    assert (f"Brier {m['brier']:.4f} = reliability {m['reliability']:.4f} - resolution {m['resolution']:.4f} + "
            f"uncertainty {m['uncertainty']:.4f} + within-bin variance {m['within_bin_variance']:.4f} - within-bin "
            f"covariance {m['within_bin_covariance']:.4f} (10 probability bins") in table.output
    cov = card["coverage"]["50%"]
    assert (f"Interval coverage (scored runs): 50%: {cov['contained']} contained, {cov['missed']} missed, 0 undetermined"
            in table.output)
    as_json = json.loads(runner.invoke(cli, [*db, "score", "q", "--json", *priors]).output)
    assert {r["forecaster"] for r in as_json["by_forecaster"]} >= {MODEL, PRIOR, OBSERVED, "linear pool", "latest statement"}
    rows = list(csv.DictReader(io.StringIO(runner.invoke(cli, [*db, "score", "--csv", *priors]).output)))
    assert len(rows) == len(as_json["checkpoint_scores"]) and rows[0]["forecaster"]
    for suffix in ("svg", "png"):
        out = tmp_path / f"cal.{suffix}"
        result = runner.invoke(cli, [*db, "calibration", "--out", str(out), *priors])
        assert result.exit_code == 0 and out.stat().st_size > 1000
    assert (tmp_path / "cal.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "cal.svg").read_text().startswith("<svg")
    assert "PIT of resolved dates (model, 5 bins from 0 to 1, each forecast spread over its outcome's step): " in result.output
    assert f"coverage by PIT (a calibrated forecaster's is the level itself): 50% {as_json['pit_coverage']['50%']:.2f}" in table.output
    bad = runner.invoke(cli, [*db, "calibration", "--out", str(tmp_path / "cal.gif"), *priors])
    assert (bad.exit_code, bad.stderr) == (2, "Error: --out must end in .svg or .png, not 'cal.gif'\n")
    assert "No resolved checkpoint" not in result.output and "0.0-0.1" in result.output  # the table itself


def test_calibration_of_a_store_with_nothing_resolved_says_how_it_fills(run, tmp_path) -> None:
    db = str(tmp_path / "empty.db")
    assert run("init", "--empty", db=db).exit_code == 0
    result = run("calibration", "--out", str(tmp_path / "cal.svg"), db=db)
    assert result.exit_code == 0 and result.output.startswith(
        "No resolved checkpoint has a stored forecast yet: the table fills as questions resolve")
    assert "(none)" not in result.output
    scored = run("score", db=db)  # a traceback (no question: no bins) before
    assert scored.exit_code == 0 and scored.output.startswith("No resolved checkpoint was forecast before it resolved")


def _copy_store(source, target) -> None:
    """Every row of every table, ids kept, from one open store into another (on any backend)."""
    with source.engine.connect() as read, target.engine.begin() as write:
        for table in SQLModel.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in read.execute(sa.select(table).order_by(*table.primary_key))]
            if rows and table.name != "schema_migration":
                write.execute(table.insert(), rows)


def test_scores_and_runs_are_the_same_on_postgres(world, pg_server, tmp_path) -> None:
    """The world's backtest runs, moved to PostgreSQL (jsonb, bytea), score and list identically."""
    w, _ = world
    shared = pg_server.create_database()
    _copy_store(w.store, open_store(shared))
    priors: list[str] = []
    for args in (["score", "--json", *priors], ["calibration", "--json", "--out", str(tmp_path / "c.svg"), *priors],
                 ["runs", "--json"], ["show", "--run", "3", "--json"]):
        on_sqlite, on_postgres = invoke(w.store.url, *args), invoke(shared, *args)
        assert (on_sqlite.exit_code, on_postgres.exit_code) == (0, 0), on_postgres.output
        assert json.loads(on_postgres.output) == json.loads(on_sqlite.output), args
    assert invoke(shared, "score", "--csv", *priors).output == invoke(w.store.url, "score", "--csv", *priors).output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--date", "2026-11"], "russia-iss-withdrawal resolved: 2026-11."),
        (["--annul"], "russia-iss-withdrawal was annulled."),
    ],
)
def test_resolve_command(run, seeded, args, expected) -> None:
    result = run("resolve", "russia-iss-withdrawal", *args, "--source", "test")
    assert (result.exit_code, result.output) == (0, expected + "\n")
    again = run("resolve", "russia-iss-withdrawal", *args, "--source", "test")
    assert again.exit_code == 2 and "is already" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2040-01"], "Error: 2040-01 is outside the horizon 2022-07 to 2032-12; use --not-within-horizon\n"),
        (["--date", "2020-01"], "Error: 2020-01 is before the horizon starts (2022-07): a question's event falls "
                                "within its horizon or after it; check the month\n"),
        (["--date", "2025-06", "--annul"], "Error: give exactly one of --date YYYY-MM, --not-within-horizon or --annul\n"),
        (["--date", "June"], "Error: malformed month 'June': expected YYYY-MM\n"),
        (["--date", "2025-06"], "Error: the event cannot happen in 2025-06: O3 (event-not-yet on 2026-11-23) says it had "
                                "not happened\n"),
    ],
)
def test_resolve_errors(run, seeded, args, message) -> None:
    from .conftest import snapshot

    before = snapshot(seeded)
    result = run("resolve", "russia-iss-withdrawal", *args, "--source", "test")
    assert (result.exit_code, result.stderr) == (2, message)
    assert snapshot(seeded) == before


def test_backtest_command(tmp_path) -> None:
    runner = CliRunner()
    db = ["--db", str(tmp_path / "b.db")]
    assert runner.invoke(cli, [*db, *INIT]).exit_code == 0
    result = runner.invoke(cli, [*db, "backtest", "russia-iss-withdrawal", "--from", "2023-01-01", "--to", "2023-12-31",
                                 "--every", "year", "--draws", "300", "--tune", "300", "--chains", "2"])
    lines = result.output.splitlines()
    assert result.exit_code == (1 if lines[0].endswith("(failed diagnostics)") else 0), result.output  # a small fit
    assert lines[0].startswith("as of 2023-01-01: run 1, P(not within the horizon) ")
    assert "Stored 1 backtest run (1). Scores: forecast score russia-iss-withdrawal" in lines


def test_a_backtest_run_that_fails_its_diagnostics_exits_1_and_is_flagged_where_it_is_scored(tmp_path) -> None:
    """20 draws cannot reach the ESS floor: the run is stored, the backtest says so and exits 1 (as `run` does),
    and `score` scores it as stored but names it, in the text, the JSON and each CSV row."""
    w = _truth_world(tmp_path)
    result = invoke(w.store.url, "backtest", "q", "--from", "2024-02-01", "--to", "2024-02-01", "--draws", "10",
                    "--tune", "10", "--chains", "2")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0].endswith("(failed diagnostics)")
    assert result.stdout.splitlines()[-1] == "Stored 1 backtest run (1). Scores: forecast score q"
    assert result.stderr == ("Note: run 1 failed its diagnostics and is scored as stored (`forecast show --run N` says "
                             "what failed). Re-run with more tuning, e.g. forecast backtest q --from 2024-02-01 --to "
                             "2024-02-01 --every quarter --tune 2000 --draws 2000 --seed 20220727\n")
    assert invoke(w.store.url, "resolve", "q", "--date", "2025-06", "--source", "test").exit_code == 0
    text = invoke(w.store.url, "score", "q").output
    assert "\nNote: run 1 failed its diagnostics and is scored as stored" in text
    card = json.loads(invoke(w.store.url, "score", "q", "--json").output)
    assert card["unconverged_runs"] == [1]
    assert {row["converged"] for row in card["checkpoint_scores"]} == {False}
    rows = list(csv.DictReader(io.StringIO(invoke(w.store.url, "score", "q", "--csv").output)))
    assert rows and {row["converged"] for row in rows} == {"False"}


def _truth_world(root):
    """The module's world again (same shape, so the same compiled model), with its question still open."""
    w = World(root)
    w.question("q", start="2024-01", end="2027-12", hazard=0.2, hazard_sd=0.5)
    w.expert("Good", "analyst")
    w.expert("Bad", "journalist")
    for expert, claim, on in [("Good", "in 2025", "2024-01-10"), ("Good", "after 2024", "2024-03-01"),
                              ("Bad", "by 2024", "2024-01-10"), ("Bad", "after 2026", "2024-03-01")]:
        w.say("q", expert, claim, on=on)
    w.observe("q", "still-participating", "2024-06-01")
    w.observe("q", "still-participating", "2024-12-01")
    w.observe("q", "withdrawn", "2025-06-15")
    return w


@pytest.mark.parametrize(("day", "precision", "logged", "known"), [
    (dt.date(2025, 6, 15), "day", None, dt.date(2025, 6, 15)),
    (dt.date(2025, 6, 1), "month", None, dt.date(2025, 6, 30)),
    (dt.date(2025, 1, 1), "year", None, dt.date(2025, 12, 31)),
    (dt.date(2025, 6, 1), "month", dt.datetime(2026, 1, 5, tzinfo=dt.UTC), dt.date(2025, 6, 30)),  # logged later
    (dt.date(2025, 6, 1), "month", dt.datetime(2025, 6, 3, 15, tzinfo=dt.UTC), dt.date(2025, 6, 4)),  # within it
    (dt.date(2025, 6, 15), "day", dt.datetime(2025, 6, 10, tzinfo=dt.UTC), dt.date(2025, 6, 15)),  # never before its day
])
def test_a_row_is_known_by_the_end_of_its_period_or_the_day_after_it_was_logged(day, precision, logged, known) -> None:
    from forecast.basics.months import known_on

    assert known_on(day, precision, logged) == known


def test_a_resolution_in_the_current_month_decides_the_claims_from_the_next_day(run, seeded) -> None:
    """Resolving "this month" on the 3rd: claims are decided, and track records count them, from the 4th, not from
    the month's end; a run of the day of the log (before or after it) is still one made before the outcome."""
    from forecast.domain.questions import last_day_before_outcome
    from forecast.inference.dataset import build_dataset

    month = dt.date.today().strftime("%Y-%m")
    assert run("resolve", "russia-iss-withdrawal", "--date", month, "--source", "fixture, example.org").exit_code == 0
    store = open_store(run.db)
    with store.reader() as session:
        q = session.exec(select(Question).where(Question.slug == "russia-iss-withdrawal")).one()
        assert last_day_before_outcome(session, q) == dt.date.today()
        from forecast.domain.questions import store_priors

        priors = store_priors(session)
        today = build_dataset(session, priors, questions=["russia-iss-withdrawal"])
        tomorrow = build_dataset(session, priors, as_of=dt.date.today() + dt.timedelta(days=1),
                                 questions=["russia-iss-withdrawal"])
    own = tomorrow.stmt_question == tomorrow.questions.index("russia-iss-withdrawal")
    assert own.any() and (today.decided[own] == 0).any() and (tomorrow.decided[own] != 0).all()


def test_backtests_stop_at_the_outcome_and_show_the_last_run_before_it(tmp_path) -> None:
    """The event (2025-06-15) is logged before `resolve`: a backtest without --to stops the day before it; after
    `resolve`, `show` and `question list` show the last run made before it, and say so, not a later run."""
    w = _truth_world(tmp_path)
    fit = ["--every", "quarter", "--draws", "100", "--tune", "100", "--chains", "2"]
    result = invoke(w.store.url, "backtest", "q", "--from", "2024-02-01", *fit)
    assert result.exit_code in (0, 1), result.output  # stored (1: so few draws fail the diagnostics)
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:-1]] == [
        "as of 2024-02-01", "as of 2024-05-01", "as of 2024-08-01", "as of 2024-11-01", "as of 2025-02-01",
        "as of 2025-05-01"]
    listed = json.loads(invoke(w.store.url, "question", "list", "--json").output)
    assert listed[0]["run"] == 6 and re.fullmatch(r".+ by \d{4}-\d{2}: .+%", listed[0]["headline"])  # backtests only: not "no run yet"
    late = invoke(w.store.url, "backtest", "q", "--from", "2025-08-01", "--to", "2025-08-31", *fit)
    assert late.output.startswith("as of 2025-08-01: run 7,")  # an explicit --to may pass the outcome
    refused = invoke(w.store.url, "backtest", "q", "--from", "2025-07-01", *fit)
    assert (refused.exit_code, refused.stderr) == (2, "Error: --from 2025-07-01 is after the default --to 2025-06-14 "
                                                      "(the day before the outcome of 'q' became known); give --to\n")
    assert "\nRun 7 (backtest), as of 2025-08-01" in "\n" + invoke(w.store.url, "show", "q").output  # still open
    assert invoke(w.store.url, "resolve", "q", "--date", "2025-06", "--source", "test").exit_code == 0
    shown = invoke(w.store.url, "show", "q").output  # a WARNING line may follow if the short fit failed diagnostics
    assert shown.startswith("q resolved (2025-06, known from 2025-06-15): run 6, as of 2025-05-01, is its last run "
                            "made before the outcome was known.\n")
    assert "\nRun 6 (backtest), as of 2025-05-01" in shown and "Run 7" not in shown
    assert json.loads(invoke(w.store.url, "show", "q", "--json").output)["id"] == 6
    assert json.loads(invoke(w.store.url, "show", "q", "--run", "7", "--json").output)["id"] == 7
    listed = json.loads(invoke(w.store.url, "question", "list", "--json").output)
    assert listed[0]["run"] == 6
    assert listed[0]["headline"].endswith("% (run 6 as of 2025-05-01, the last before the outcome)")
    rows = list(csv.DictReader(io.StringIO(invoke(w.store.url, "question", "list", "--csv").output)))
    assert rows[0]["run"] == "6" and rows[0]["headline"] == listed[0]["headline"]
