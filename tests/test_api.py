"""The Python API: the notebook session of docs/api.md runs as written; DataFrames, runs and draws match the store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import forecast
from forecast.errors import NotFoundError, TamperError, TamperWarning

from .conftest import PROJECT, QUESTION, store_exact_run
from .docs_examples import blocks


def docs_session() -> str:
    """Every Python block of docs/api.md, in order, exactly as printed (tests/test_docs.py leaves them to this)."""
    return "".join(b.text for b in blocks(PROJECT / "docs" / "api.md") if b.language == "python")


def test_docs_notebook_session_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {}
    exec(compile(docs_session(), "docs/api.md", "exec"), namespace)  # noqa: S102  (the page's own example)
    run, history, tree = namespace["run"], namespace["history"], namespace["tree"]
    assert (tmp_path / "notebook.db").exists()
    assert list(history["run"]) == [run.id] and history["median"].iloc[0] == run.headlines[QUESTION]["median"]
    assert set(tree.children) == {"posterior", "sample_stats", "prior"}
    assert "plot" in namespace and namespace["plot"] is not None


def test_import_forecast_stays_light() -> None:
    code = "import forecast, sys; print(sorted(m for m in ('pandas', 'pymc', 'sqlmodel', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert forecast.open_store is forecast.api.open_store


def test_frames_match_the_store(fitted_db: Path) -> None:
    fc = forecast.open_store(str(fitted_db))
    questions = fc.questions()
    assert QUESTION in set(questions["slug"]) and {"status", "headline", "evidence", "tags"} <= set(questions.columns)
    evidence = fc.evidence(QUESTION)
    assert len(evidence) == 17 and set(evidence["type"]) == {"statement", "observation"}
    forecasts = fc.forecasts(QUESTION)
    assert list(forecasts["run"]) == [1] and {"median", "not_within_horizon", "low_80", "before_2029-01-01"} <= set(
        forecasts.columns)
    monthly = fc.monthly(QUESTION)
    assert monthly["forecast"].sum() == pytest.approx(1.0, abs=1e-6) and monthly["month"].iloc[-1] == "not within the horizon"
    assert isinstance(fc.scores(), pd.DataFrame) and fc.scores().empty  # nothing resolved after a forecast yet
    assert list(fc.runs()["id"]) == [1]


def test_run_summary_and_draws(fitted_db: Path) -> None:
    fc = forecast.open_store(str(fitted_db))
    summary = fc.get_run(1)
    assert summary.id == 1 and summary.kind == "full" and QUESTION in summary.headlines
    tree = fc.draws(1)
    assert set(tree.children) == {"posterior", "sample_stats", "prior"}
    assert tree["posterior"]["reliability"].shape[:2] == (2, 300)
    assert bool(tree["sample_stats"]["diverging"].sum() == summary.diagnostics["divergences"])
    with pytest.raises(NotFoundError, match="no forecast run 99"):
        fc.draws(99)


def test_run_refuses_a_tampered_store_unless_allowed(seeded: str, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_exact_run(seeded)
    conn = sqlite3.connect(db_path, isolation_level=None)  # a hostile edit, made without forecast
    conn.execute("DROP TRIGGER statement_immutable")
    conn.execute("UPDATE statement SET quote = 'forged' WHERE id = 3")
    conn.close()
    fits: list[int] = []

    def fit_and_store(*_args: object, **_kwargs: object) -> int:
        fits.append(1)
        return 1  # the exact run stored above stands in for the fit
    monkeypatch.setattr("forecast.runs.fitting.fit_and_store", fit_and_store)
    fc = forecast.open_store(seeded)
    with pytest.raises(TamperError, match=r"changed outside forecast .*`forecast run --allow-tampered` fits it anyway"):
        fc.run(draws=10, tune=10, chains=1)
    assert fits == []
    with pytest.warns(TamperWarning) as caught:
        summary = fc.run(draws=10, tune=10, chains=1, allow_tampered=True)
    assert [str(w.message) for w in caught] == [
        "fitted anyway (allow_tampered): trigger statement_immutable is missing (dropped outside forecast): "
        "the store no longer refuses edits it should",
        "fitted anyway (allow_tampered): S3 was changed outside forecast",
        "fitted anyway (allow_tampered): S3: its uid does not match its content "
        "(question, expert, said_on, claim_text, quote, source)"]
    assert {w.filename for w in caught} == {__file__}  # reported at the caller's line
    assert fits == [1] and summary.id == 1 and QUESTION in summary.headlines


@pytest.fixture
def api_store(tmp_path: Path):
    """The article's seed through the CLI, opened with the API."""
    from .conftest import INIT, invoke

    db = tmp_path / "api.db"
    assert invoke(db, *INIT).exit_code == 0
    return forecast.open_store(str(db))


def _question_tables(slug: str, start: str, end: str) -> dict:
    return {"question": {"slug": slug, "title": "When will Ruritania leave?", "kind": "date", "horizon_start": start,
                         "horizon_end": end, "criteria": "Fixture: resolves to the month Ruritania leaves.",
                         "review_every": 30}}


def test_writes_match_the_cli_and_record_their_author(api_store, tmp_path: Path) -> None:
    fc = api_store
    assert fc.add_question(_question_tables("ruritania-exit", "2018-01", "2023-12"), by="Analyst B") == "added"
    assert fc.add_question(_question_tables("ruritania-exit", "2018-01", "2023-12")) == "unchanged"
    assert fc.add_expert("Expert A", "analyst", affiliation="Fixture Institute", by="Analyst B") == "Expert A"
    ref = fc.log_statement("ruritania-exit", "Expert A", "2019-03", "after 2020", "Fixture quote.", "fixture, example.org",
                           by="Analyst C")
    assert fc.retract(ref, "fixture: misattributed", by="Analyst D") == ref
    assert fc.resolve("ruritania-exit", not_within_horizon=True, source="fixture, example.org",
                      by="Analyst E") == "ruritania-exit resolved: not within the horizon"
    evidence = fc.evidence("ruritania-exit", include_inactive=True)
    assert list(evidence[["ref", "author", "retracted_by"]].itertuples(index=False, name=None)) == [
        (ref, "Analyst C", "Analyst D")]
    assert fc.experts().set_index("name").loc["Expert A", "author"] == "Analyst B"
    with pytest.raises(NotFoundError, match="unknown question 'ruritania-exi'"):
        fc.resolve("ruritania-exi", annul=True, source="fixture")
    assert fc.status("ruritania-exit")[0]["due"] == []  # resolved: nothing due


def test_experts_are_renamed_and_merged_as_on_the_cli(api_store) -> None:
    fc = api_store
    fc.add_expert("Expert A", "analyst")
    fc.add_expert("Expert Aa", "analyst")
    assert fc.rename_expert("Expert A", "Expert B", note="fixture: misspelt") == "Expert B"
    assert fc.merge_experts("Expert Aa", "Expert A") == "Expert B"  # the old name still answers
    names = set(fc.experts()["name"])
    assert "Expert B" in names and "Expert A" not in names
    with pytest.raises(NotFoundError, match="unknown expert"):
        fc.rename_expert("Expert Zz", "Expert C")


def test_status_says_what_is_due(api_store) -> None:
    rows = {row["slug"]: row for row in api_store.status()}
    assert rows[QUESTION]["due"][0].startswith("never run (") and rows[QUESTION]["last_run"] is None
    store_exact_run(api_store.url)
    assert api_store.status(QUESTION)[0]["last_run"] == 1


def test_medians_and_interval_bounds_are_typed(api_store) -> None:
    import datetime as dt

    import json

    from .conftest import invoke

    store_exact_run(api_store.url)
    head = api_store.get_run(1).headlines[QUESTION]
    stored = json.loads(invoke(api_store.url, "show", QUESTION, "--json").output)["results"][0]["headline"]

    def typed(label: str):  # the stored label as the API must type it
        return None if label == "not within the horizon" else dt.date(int(label[:4]), int(label[5:7]), 1)

    assert head["median"] == typed(stored["median"]) and head["median_not_within_horizon"] is (head["median"] is None)
    assert head["intervals"] == {level: [typed(b) for b in bounds] for level, bounds in stored["intervals"].items()}
    assert any(isinstance(b, dt.date) for bounds in head["intervals"].values() for b in bounds)
    assert not any(isinstance(b, str) for bounds in head["intervals"].values() for b in bounds)
    frame = api_store.forecasts(QUESTION)
    assert frame["median"].iloc[0] == head["median"] and frame["low_80"].iloc[0] == head["intervals"]["80%"][0]
    assert api_store.runs(QUESTION)["median"].iloc[0] == head["median"]
    assert forecast.api.BEYOND == __import__("forecast.inference.summary", fromlist=["BEYOND"]).BEYOND


@pytest.mark.parametrize(("label", "expected"), [("2029-03", (2029, 3, 1)), ("not within the horizon", None), (None, None)])
def test_month_labels_become_dates_or_none(label, expected) -> None:
    import datetime as dt

    typed = forecast.api.typed_headline({"median": label or "not within the horizon", "intervals": {}})
    assert forecast.api.month_date(label) == (None if expected is None else dt.date(*expected))
    assert typed["median_not_within_horizon"] is (expected is None)


def test_report_and_score_match_the_cli(api_store, tmp_path: Path) -> None:
    store_exact_run(api_store.url)
    out = tmp_path / "out"
    out.mkdir()
    ((html, md),) = api_store.report(QUESTION, out)
    assert html.parent == out and html.suffix == ".html" and md.suffix == ".md" and "logged by" in md.read_text()
    with pytest.raises(forecast.errors.OutputError, match="its parent folder does not exist"):
        api_store.report(QUESTION, tmp_path / "missing" / "deeper")
    card = api_store.score(QUESTION)
    assert card["checkpoint_scores"] == [] and {"by_forecaster", "coverage", "experts"} <= set(card)


def test_backtest_stores_and_returns_its_runs(api_store) -> None:
    runs = api_store.backtest(QUESTION, "2026-10-01", "2026-10-31", "month", draws=100, tune=100, chains=1)
    assert [(r.kind, r.as_of.isoformat()) for r in runs] == [("backtest", "2026-10-01")]
    assert list(api_store.runs(QUESTION)["kind"]) == ["backtest"]
