"""forecast run / show / runs: what is stored, as-of and known-at semantics, flagged runs."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import sqlalchemy as sa

from forecast import __version__
from forecast.domain.evidence import log_statement, retract
from forecast.domain.questions import store_priors
from forecast.errors import ForecastError
from forecast.inference.model import MODEL_VERSION
from forecast.runs.views import load_posterior
from forecast.store import open_store
from forecast.store.tables import ForecastRun

from .conftest import QUESTION, REPORTER, invoke, query, sqlite_only


@pytest.mark.every_backend
def test_run_prints_headline_reliabilities_and_diagnostics(fitted) -> None:
    _, result = fitted
    lines = result.output.splitlines()
    assert lines[0].startswith("Run 1 (full), as of ") and "nutpie 4x1000 draws, seed 5, evidence " in lines[0]
    assert f"{QUESTION}: When will Russia withdraw from the International Space Station?" in lines
    lead = lines.index(f"{QUESTION}: When will Russia withdraw from the International Space Station?") + 1
    assert lines[lead].startswith("  Russia withdraws by 2032-12: ") and "Median date: " in lines[lead]  # plain words first
    assert any(line.startswith("    Russia withdraws before 2029-01-01: ") for line in lines)
    assert any(line.startswith("    Not by 2032-12: ") for line in lines)
    assert any(line.startswith("    Pre-empted (The ISS is retired first, by 2032-12): ") for line in lines)
    assert any(line.startswith("    80% interval: ") for line in lines)
    assert "not within the horizon" not in result.output
    assert "  year      forecast  prior" in lines  # plain per-year table when not a terminal
    beyond = next(line for line in lines if line.startswith("  beyond"))
    assert beyond.count("#") == round(40 * float(beyond.split()[1].rstrip("%")) / 100)
    assert any(line.startswith("Yury Borisov     official") for line in lines)
    assert lines[-1].startswith("Diagnostics: max R-hat ")


@pytest.mark.every_backend
def test_stored_run_is_complete_and_consistent(fitted) -> None:
    db, _ = fitted
    record = json.loads(invoke(db, "show", QUESTION, "--json").output)
    assert (record["seed"], record["sampler"], record["code_version"]) == (5, "nutpie", __version__)
    assert record["model_version"] == MODEL_VERSION and len(record["config_hash"]) == 16
    assert record["settings"]["draws"] == 1000 and record["settings"]["chains"] == 4
    assert len(record["evidence"]) == 17 and len(record["evidence_fingerprint"]) == 16
    assert set(record["diagnostics"]) >= {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences"}
    (result,) = record["results"]
    monthly = np.array(result["monthly"])
    assert len(monthly) == len(result["months"]) == 127 and result["months"][-1] == "not within the horizon"
    assert monthly.sum() == pytest.approx(1.0, abs=1e-8)
    cdf = np.cumsum(monthly)
    assert result["headline"]["checkpoints"]["2029-01-01"] == pytest.approx(cdf[77], abs=1e-9)  # 2022-07 + 78 months
    assert result["headline"]["not_within_horizon"] == pytest.approx(monthly[-1])
    assert 0.05 < result["headline"]["pre_empted"] < result["headline"]["not_within_horizon"]
    assert np.all(monthly[:52] == 0), "still participating on 2026-11-23 rules out earlier months"
    prior = np.array(result["prior_monthly"])
    assert prior.sum() == pytest.approx(1.0) and prior[0] > 0
    bands = result["cdf_bands"]
    assert np.all(np.array(bands["0.1"]) <= np.array(bands["0.9"]) + 1e-12)
    assert {r["expert"] for r in record["reliabilities"]} == {
        "Yury Borisov", "Dmitry Rogozin", "Bill Nelson", "John Logsdon", "Anatoly Zak", "Casey Dreier",
        "Robyn Gatens", "Joel Montalbano"}


@pytest.mark.every_backend
def test_stored_draws_reload_and_refuse_another_model_version(fitted) -> None:
    db, _ = fitted
    store = open_store(db)
    with store.session() as session:
        stored = session.get(ForecastRun, 1)
        tree = load_posterior(stored)
        assert tree.posterior["reliability"].shape == (4, 1000, 8)
        means = {r["expert"]: r["mean"] for r in json.loads(stored.reliabilities)}
        borisov = float(tree.posterior["reliability"].sel(expert="Yury Borisov").mean())
        assert borisov == pytest.approx(means["Yury Borisov"])
        stored.model_version = "0"
        with pytest.raises(ForecastError, match="made by model version 0, this is"):
            load_posterior(stored)
        session.rollback()


@pytest.mark.every_backend
def test_runs_lists_and_show_defaults_to_latest(fitted) -> None:
    db, _ = fitted
    rows = json.loads(invoke(db, "runs", "--json").output)
    assert [(r["id"], r["kind"], r["seed"]) for r in rows] == [(1, "full", 5)]
    table = invoke(db, "runs").output.splitlines()
    assert table[0].split()[:4] == ["id", "created_at", "kind", "as_of"]
    assert invoke(db, "show").output.splitlines()[0].startswith("Run 1 (full)")
    for question in (None, QUESTION):  # the median shown is the named question's, and says whose it is
        listed = json.loads(invoke(db, "runs", *(["--question", question] if question else []), "--json").output)[0]
        shown = listed["shown"]
        assert shown == (question or json.loads(invoke(db, "show", "--json").output)["questions"][0])
        result = next(r for r in json.loads(invoke(db, "show", shown, "--json").output)["results"]
                      if r["question"] == shown)
        assert listed["median"] == result["headline"]["median"]


@pytest.mark.every_backend
@pytest.mark.parametrize("table", ["forecast_run", "forecast_result"])
def test_runs_are_append_only(fitted, table: str) -> None:
    db, _ = fitted
    before = query(db, f"SELECT count(*) FROM {table}")
    with pytest.raises(sa.exc.IntegrityError, match="forecast runs are append-only"):
        query(db, f"DELETE FROM {table}")
    assert query(db, f"SELECT count(*) FROM {table}") == before != [(0,)]


@pytest.mark.parametrize(("args", "scope"), [((), ""), ((QUESTION,), f" for {QUESTION!r}")])
def test_show_without_runs_is_a_clear_error(run, seeded, args, scope) -> None:
    result = run("show", *args)
    assert result.exit_code == 2 and result.stderr == f"Error: no forecast run yet{scope}: run `forecast run` first\n"


@sqlite_only  # a second fit per backend costs more than it tests: PostgreSQL runs are `fitted`'s
def test_unconverged_run_is_stored_but_flagged(run, seeded) -> None:
    """Stored, flagged, exit 1 (a script notices), and `status` says the question needs another run."""
    result = run("run", "--draws", "10", "--tune", "10", "--chains", "2", "--seed", "1")
    assert result.exit_code == 1
    assert result.output.startswith("WARNING: run 1 failed diagnostics (")
    assert "forecast run --tune 2000 --draws 2000 --seed 2" in result.output.splitlines()[0]
    assert result.output.rstrip().endswith("FAILED")
    assert query(seeded, "SELECT converged FROM forecast_run") == [(False,)]
    status = run("status", "--json")
    assert status.exit_code == 1
    due = {q["slug"]: q["due"] for q in json.loads(status.output)}
    assert all("its last run (1) failed its diagnostics: run it again with more tuning and draws "
               "(forecast run --tune 2000 --draws 2000 --seed 2)" in items for items in due.values()), due


def _dataset(db, **kwargs):
    from forecast.inference.dataset import build_dataset

    with open_store(db).session() as session:
        return build_dataset(session, store_priors(session), **kwargs)


def test_as_of_uses_evidence_said_by_then_however_late_logged(seeded) -> None:
    early = _dataset(seeded, as_of=dt.date(2022, 7, 26))
    assert sorted(early.stmt_refs) == ["S1", "S3", "S4", "S5", "S7", "S8"]
    assert early.obs_log[0].max() == 0 and np.isfinite(early.obs_log[0][:127]).all()
    assert _dataset(seeded, as_of=dt.date(2022, 7, 27)).fingerprint != early.fingerprint


@pytest.mark.every_backend
def test_known_at_uses_only_what_was_logged_and_in_force_then(seeded) -> None:
    store = open_store(seeded)
    then = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # after the seed rows were logged
    with store.session() as session:
        log_statement(session, question=QUESTION, expert=REPORTER, said_on=dt.date(2023, 3, 1), claim="after 2027",
                      quote="q", source="s", logged_at=then)
        retract(session, "S1", "test", at=then + dt.timedelta(days=30))
    before_log = _dataset(seeded, known_at=then - dt.timedelta(minutes=1))
    assert "S9" not in before_log.stmt_refs and "S1" in before_log.stmt_refs
    between = _dataset(seeded, known_at=then + dt.timedelta(days=1))
    assert "S9" in between.stmt_refs and "S1" in between.stmt_refs
    later = _dataset(seeded, known_at=then + dt.timedelta(days=31))
    assert "S9" in later.stmt_refs and "S1" not in later.stmt_refs


def test_adaptive_tuning_re_samples_a_failed_fit_once(seeded) -> None:
    from forecast.inference.dataset import build_dataset
    from forecast.inference.model import FitSettings
    from forecast.runs.fitting import fit_and_store, fit_settings

    assert (fit_settings().tune, fit_settings().retry_tune) == (500, 1000)
    assert fit_settings(tune=1000).retry_tune is None  # an explicit --tune is kept as given
    store = open_store(str(seeded))
    with store.session() as session:
        priors = store_priors(session)
        data = build_dataset(session, priors)
    run_id = fit_and_store(store, data, priors, FitSettings(draws=20, tune=10, chains=2, retry_tune=30))
    with store.session() as session:
        stored = session.get(ForecastRun, run_id)
        settings, diag = json.loads(stored.settings), json.loads(stored.diagnostics)
    assert (settings["tune"], settings["retry_tune"]) == (30, None)
    assert diag["retried_after"].startswith("10 tuning steps: ") and not stored.converged


@pytest.mark.every_backend
def test_stored_draws_reload_bit_for_bit_and_earlier_deflated_archives_still_load(fitted) -> None:
    import io
    import zipfile

    from forecast.inference.draws import GROUPS, pack, unpack
    from forecast.runs.views import load_draws

    db, _ = fitted
    with open_store(db).session() as session:
        stored = session.get(ForecastRun, 1)
        draws = load_draws(stored)
        blob = stored.posterior
    assert {i.compress_type for i in zipfile.ZipFile(io.BytesIO(blob)).infolist()} == {zipfile.ZIP_STORED}
    deflated = io.BytesIO()  # as runs were stored before: every member deflated
    with zipfile.ZipFile(io.BytesIO(blob)) as plain, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as out:
        for member in plain.infolist():
            out.writestr(member.filename, plain.read(member))
    for again in (unpack(pack(draws)), unpack(deflated.getvalue())):
        for group in GROUPS:
            assert set(getattr(again, group)) == set(getattr(draws, group))
            for name, values in getattr(draws, group).items():
                assert np.array_equal(getattr(again, group)[name], values) and getattr(again, group)[name].dtype == values.dtype
        assert (again.dims, again.coords) == (draws.dims, draws.coords)
