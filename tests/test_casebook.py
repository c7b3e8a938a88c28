"""The casebook: every file loads and validates, every question resolves, the split is fixed; one yearly backtest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from forecast.claims import parse_claim
from forecast.io.casebook import DEVELOPMENT, TEST, backtest_span, casebook_files, half, load
from forecast.store import open_store

FILES = casebook_files()


@pytest.fixture(scope="module")
def casebook_store(tmp_path_factory):
    store = open_store(str(tmp_path_factory.mktemp("casebook") / "c.db"))
    with store.session() as session:
        report = load(session, FILES)
    return store, report


@pytest.mark.slow  # loads the whole casebook: run by `bash scripts/test --all` and CI
def test_the_whole_casebook_loads_and_every_question_resolves(casebook_store) -> None:
    store, report = casebook_store
    assert len(FILES) >= 20 and len(report.questions) == len(FILES)
    from forecast.domain.views import portfolio

    with store.session() as session:
        rows = portfolio(session, "casebook")
    assert len(rows) == len(FILES) and {r["status"] for r in rows} == {"resolved"}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_row_is_sourced_and_marked_verbatim_or_paraphrase(path: Path) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    question = data["question"]
    start, end = question["horizon_start"], question["horizon_end"]
    months = (int(end[:4]) * 12 + int(end[5:])) - (int(start[:4]) * 12 + int(start[5:]))
    assert months == 71, "horizon_end is horizon_start + 71 months (casebook/README.md)"
    assert "casebook" in question["tags"] and data["resolution"]["source"].strip()
    for row in data.get("statement", []):
        assert row["source"].strip() and row["quote_kind"] in ("verbatim", "paraphrase")
        assert row["said_on"] <= _resolved_day(data), f"{row['expert']} on {row['said_on']} speaks after the event month"
        parse_claim(row["claim"])
    for row in data.get("observation", []):
        assert row["source"].strip()


def _resolved_day(data: dict) -> str:
    outcome = data["resolution"]["outcome"]
    return "9999-12-31" if outcome == "not-within-horizon" else f"{outcome}-31"  # the event month, any day


def test_the_split_is_the_declared_rule() -> None:
    halves = {p.stem: half(p.stem) for p in FILES}
    for slug, name in halves.items():
        even = int(hashlib.sha256(slug.encode()).hexdigest()[0], 16) % 2 == 0
        assert name == (DEVELOPMENT if even else TEST)
    assert set(halves.values()) == {DEVELOPMENT, TEST}


def test_backtest_span() -> None:
    assert backtest_span("2018-12", "2019-01", "2024-11") == (dt.date(2018, 12, 1), dt.date(2019, 1, 31))
    assert backtest_span("2016-10", "not-within-horizon", "2022-09") == (dt.date(2016, 10, 1), dt.date(2022, 9, 30))


def test_one_question_backtested_yearly_and_scored(tmp_path) -> None:
    from forecast.domain.questions import store_priors
    from forecast.inference.model import FitSettings
    from forecast.scoring.backtest import backtest
    from forecast.scoring.scorecard import scorecard

    store = open_store(str(tmp_path / "one.db"))
    path = next(p for p in FILES if p.stem == "us-inf-treaty-withdrawal")
    with store.session() as session:
        load(session, [path])
        priors = store_priors(session)
    ids = backtest(store, priors, path.stem, dt.date(2018, 10, 1), "year", dt.date(2019, 8, 31),
                   FitSettings(draws=200, tune=200, chains=2, seed=5))
    with store.session() as session:
        card = scorecard(session, priors, path.stem)
    assert len(ids) == 1 and card["date_scores"] and card["checkpoint_scores"]
    outcomes = {r["checkpoint"]: r["outcome"] for r in card["checkpoint_scores"]}
    assert outcomes["2019-01-01"] == 0 and outcomes["2020-01-01"] == 1  # the exit took effect in 2019-08
    from .conftest import invoke

    tagged = json.loads(invoke(store.url, "score", "--tag", "casebook", "--json").output)
    assert {r["question"] for r in tagged["checkpoint_scores"]} == {path.stem}
    unknown = invoke(store.url, "score", "--tag", "space", "--json")  # no question here carries it
    assert unknown.exit_code == 2 and unknown.stderr.startswith("Error: unknown tag 'space'; known: ")
    reported = invoke(store.url, "report", "--tag", "casebook", "--out", str(tmp_path / "r"))
    assert reported.exit_code == 0 and f"{path.stem}-2018-10-01.html" in reported.output


@pytest.mark.filterwarnings("error")
def test_a_revoked_withdrawal_scores_without_a_nan_log_score(tmp_path) -> None:
    """The input that made the log score warn "invalid value encountered in log": The Gambia's ICC withdrawal,
    revoked in 2017, forecast as of 2017-01-01. Under model version 2 Barrow's statements alone put
    P(before 2021-01-01) at 1 + 2^-52, so 1 - p was negative for an outcome of NO (model version 3 gives the
    revocable notice mass, so that input is now kept in `test_probability_before_stays_within_0_and_1`)."""
    from forecast.domain.questions import store_priors
    from forecast.scoring.calibration import MODEL
    from forecast.scoring.scorecard import scorecard

    from .conftest import store_exact_run

    store = open_store(str(tmp_path / "gambia.db"))
    slug = "gambia-icc-withdrawal"
    with store.session() as session:
        load(session, [next(p for p in FILES if p.stem == slug)])
    store_exact_run(store.url, as_of=dt.date(2017, 1, 1), kind="backtest", only=[slug])
    with store.reader() as session:
        card = scorecard(session, store_priors(session), slug)
    barrow = [r for r in card["checkpoint_scores"] if r["forecaster"] == "expert: Adama Barrow"]
    assert barrow and all(0 <= r["p"] <= 1 and r["outcome"] == 0 for r in barrow)
    late = next(r for r in barrow if r["checkpoint"] == "2021-01-01")
    assert late["p"] > 0.7 and late["brier"] == pytest.approx(late["p"] ** 2)  # all but certain, and wrong
    assert all(r["log"] == r["log"] for r in card["checkpoint_scores"])  # no NaN
    assert any(r["forecaster"] == MODEL for r in card["checkpoint_scores"])


def test_probability_before_stays_within_0_and_1() -> None:
    """Rounded and exact distributions sum to 1 only to rounding: the share before a checkpoint is clamped."""
    from types import SimpleNamespace

    from forecast.scoring.calibration import probability_before
    from forecast.scoring.rules import log_score

    question = SimpleNamespace(horizon_start="2020-01")
    certain = np.array([0.25, 0.75, 2**-54, -(2**-52), 0.0])  # all the mass before 2020-03, a rounding below 0 after
    p = probability_before(certain, question, dt.date(2020, 3, 1))
    assert p == 1.0 and np.isinf(log_score(np.array([p]), np.array([0])))[0]
    assert probability_before(np.zeros(5), question, dt.date(2020, 3, 1)) == 0.0
