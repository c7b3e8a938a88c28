"""Tamper evidence: `forecast verify` names every row changed outside forecast; triggers refuse the
obvious edits; `init` and `run` refuse a tampered store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from forecast.errors import ForecastError

from .conftest import log_args, postgres_only, snapshot, store_exact_run

_STATEMENT_COLUMNS = ("id, uid, question_id, expert_id, said_on, date_precision, quote, source, claim_text, claim_start, "
                      "claim_end, probability, strength, rationale, logged_at, retracted_at, retraction_reason, "
                      "superseded_by_id")

UID_PARTS = " (question, expert, said_on, claim_text, quote, source)"


@pytest.fixture
def kept(run, seeded: str, db_path: Path) -> str:  # hostile edits go through sqlite3: SQLite only
    """A store written only by forecast: seed, a retraction, a supersession, a hedged statement and a run."""
    assert run("retract", "S2", "--reason", "paraphrase").exit_code == 0
    assert run(*log_args(claim="after 2026", supersedes="S4", probability="0.7")).exit_code == 0
    store_exact_run(seeded)
    return seeded


def _sql(db: Path, *statements: str) -> None:
    """Edit the store as a careful hostile editor would, with the sqlite3 library and no forecast code: triggers
    dropped for the edit are put back after it (dropped triggers are seen by themselves: test_hostile_store)."""
    conn = sqlite3.connect(db, isolation_level=None)
    triggers = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    for statement in statements:
        conn.execute(statement)
    present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for name in sorted(set(triggers) - present):
        conn.execute(triggers[name])
    conn.close()


def test_a_store_written_by_forecast_verifies(run, kept: Path) -> None:
    result = run("verify", db=kept)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("Verified 10 expert(s), 0 expert change(s), 0 resolution change(s), 9 statement(s), 9 observation(s), 2 question version(s), "
                        "1 forecast run(s), 2 forecast result(s): all as forecast wrote them.")
    assert lines[1].startswith("Chain head ") and len(lines[1].split()[-1]) == 64
    assert run("verify", db=kept).output == result.output  # reading changes nothing
    assert run(*log_args(quote="One more.")).exit_code == 0
    after = run("verify", db=kept)
    assert after.exit_code == 0 and after.output.splitlines()[1] != lines[1]


TAMPERING = {
    "quote updated, triggers dropped": (
        ["DROP TRIGGER statement_immutable", "UPDATE statement SET quote = 'forged' WHERE id = 3"],
        ["S3 was changed outside forecast", "S3: its uid does not match its content" + UID_PARTS]),
    "INSERT OR REPLACE of a statement": (
        [f"INSERT OR REPLACE INTO statement ({_STATEMENT_COLUMNS}) SELECT {_STATEMENT_COLUMNS.replace('quote', "'forged'")} "
         "FROM statement WHERE id = 3"],
        ["S3 was changed outside forecast", "S3: its uid does not match its content" + UID_PARTS]),
    "expert deleted with foreign keys off": (
        ["PRAGMA foreign_keys = OFF", "DELETE FROM expert WHERE id = (SELECT expert_id FROM statement WHERE id = 3)"],
        ["expert #{expert} was deleted outside forecast", "S3 refers to expert #{expert}, which does not exist"]),
    "a field outside the uid changed": (
        ["DROP TRIGGER statement_immutable", "UPDATE statement SET probability = 0.99 WHERE id = 9"],
        ["S9 was changed outside forecast"]),
    "a retraction undone": (
        ["DROP TRIGGER statement_immutable",
         "UPDATE statement SET retracted_at = NULL, retraction_reason = NULL WHERE id = 2"],
        ["S2: its retraction was changed outside forecast"]),
    "a statement inserted": (
        [f"INSERT INTO statement ({_STATEMENT_COLUMNS}) SELECT 10, 'feedfacefeedface', question_id, expert_id, said_on, "
         "date_precision, quote, 'elsewhere', claim_text, claim_start, claim_end, probability, strength, rationale, "
         "logged_at, NULL, NULL, NULL FROM statement WHERE id = 3"],
        ["S10 was added outside forecast", "S10: its uid does not match its content" + UID_PARTS]),
    "an observation deleted, triggers dropped": (
        ["DROP TRIGGER observation_append_only", "DELETE FROM observation WHERE id = 9"],
        ["O9 was deleted outside forecast"]),
    "a question version edited": (
        ["DROP TRIGGER question_version_immutable", "UPDATE question_version SET note = 'rewritten' WHERE id = 1"],
        ["question version #1 was changed outside forecast"]),
    "a stored run's result edited": (
        ["DROP TRIGGER forecast_result_immutable", "UPDATE forecast_result SET headline = '{}' WHERE id = 1"],
        ["run result #1 was changed outside forecast"]),
    "an author rewritten as unknown": (
        ["DROP TRIGGER statement_immutable", "UPDATE statement SET author = 'unknown' WHERE id = 3"],
        ["S3 was changed outside forecast"]),
    "who retracted rewritten": (
        ["DROP TRIGGER statement_immutable", "UPDATE statement SET retracted_by = 'Analyst Z' WHERE id = 2"],
        ["S2: its retraction was changed outside forecast"]),
    "an expert's author rewritten": (
        ["UPDATE expert SET author = 'Analyst Z' WHERE id = 1"], ["expert #1 was changed outside forecast"]),
    "who resolved rewritten": (
        ["UPDATE question SET resolved_by = 'Analyst Z' WHERE id = 1"],
        ["question 'iss-retirement' (#1) was changed outside forecast"]),
    "an integrity record rewritten": (
        ["UPDATE integrity_row SET content = (SELECT content FROM integrity_row WHERE tbl = 'statement' AND row_id = 4) "
         "WHERE tbl = 'statement' AND row_id = 3"],
        ["S3 was changed outside forecast", "the integrity records of statement were edited outside forecast (its hash chain is broken)"]),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_names_every_change_made_outside_forecast(run, kept: Path, case: str) -> None:
    with sqlite3.connect(kept) as conn:
        (expert,) = conn.execute("SELECT expert_id FROM statement WHERE id = 3").fetchone()
    statements, expected = TAMPERING[case]
    expected = [line.format(expert=expert) for line in expected]
    _sql(kept, *statements)
    result = run("verify", db=kept)
    assert result.exit_code == 2
    assert result.stdout.splitlines() == expected
    assert result.stderr == (f"Error: the store was changed outside forecast ({len(expected)} problem(s), first: "
                             f"{expected[0]}); `forecast verify` lists them all\n")


REFUSED_UPDATES = [
    "UPDATE statement SET quote = 'forged' WHERE id = 3",
    "UPDATE statement SET logged_at = '2020-01-01 00:00:00' WHERE id = 3",
    "UPDATE statement SET retraction_reason = 'rewritten' WHERE id = 2",
    "UPDATE statement SET retracted_at = NULL WHERE id = 2",
    "UPDATE observation SET note = 'forged' WHERE id = 1",
    "UPDATE forecast_run SET seed = 1 WHERE id = 1",
    "UPDATE forecast_result SET monthly = '[]' WHERE id = 1",
    "UPDATE question_version SET definition = '{}' WHERE id = 1",
    "UPDATE statement SET author = 'Analyst Z' WHERE id = 3",
    "UPDATE statement SET retracted_by = 'Analyst Z' WHERE id = 2",
    "UPDATE observation SET author = 'Analyst Z' WHERE id = 1",
    "UPDATE question_version SET author = 'Analyst Z' WHERE id = 1",
]


@pytest.mark.parametrize("statement", REFUSED_UPDATES)
def test_triggers_refuse_updates_of_fields_that_never_change(kept: Path, statement: str) -> None:
    before = snapshot(kept)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        _sql(kept, statement)
    assert snapshot(kept) == before


def test_init_refuses_a_tampered_store(run, kept: Path) -> None:
    _sql(kept, "DROP TRIGGER statement_immutable", "UPDATE statement SET quote = 'forged' WHERE id = 3")
    before = snapshot(kept)
    result = run("init", db=kept)
    assert result.exit_code == 2 and result.stderr.startswith("Error: the store was changed outside forecast (2 problem")
    assert snapshot(kept) == before


def test_run_refuses_a_tampered_store_unless_allowed(run, kept: Path, monkeypatch) -> None:
    _sql(kept, "DROP TRIGGER statement_immutable", "UPDATE statement SET quote = 'forged' WHERE id = 3")
    refused = run("run", "--draws", "10", "--tune", "10", "--chains", "1", db=kept)
    assert refused.exit_code == 2
    assert refused.stderr.endswith("lists them all; `forecast run --allow-tampered` fits it anyway\n")

    def fit_and_store(*_args, **_kwargs):
        raise ForecastError("the fit was reached")
    monkeypatch.setattr("forecast.runs.fitting.fit_and_store", fit_and_store)
    allowed = run("run", "--allow-tampered", db=kept)
    assert allowed.stderr.splitlines() == [
        "Warning (fitted anyway, --allow-tampered): S3 was changed outside forecast",
        "Warning (fitted anyway, --allow-tampered): S3: its uid does not match its content" + UID_PARTS,
        "Error: the fit was reached"]


@pytest.mark.parametrize(("edit", "refused"), [
    (["DROP TRIGGER forecast_result_immutable", "UPDATE forecast_result SET headline = '{}' WHERE id = 1"], False),
    (["DROP TRIGGER observation_immutable", "UPDATE observation SET note = 'forged' WHERE id = 2"], True),
], ids=["a stored run's result", "an observation"])
def test_the_check_before_a_fit_covers_what_the_fit_reads(run, kept: Path, monkeypatch, edit, refused) -> None:
    """A fit reads evidence, experts, questions and settings, never the stored runs: an edited run does not stop
    it (verify still names the run); an edited input does. Checking the runs cost ~6 ms per stored run."""
    _sql(kept, *edit)
    monkeypatch.setattr("forecast.runs.fitting.fit_and_store",
                        lambda *_args, **_kwargs: (_ for _ in ()).throw(ForecastError("the fit was reached")))
    fitted = run("run", db=kept)
    assert fitted.exit_code == 2
    assert fitted.stderr.startswith("Error: the store was changed outside forecast" if refused
                                    else "Error: the fit was reached"), fitted.stderr
    verified = run("verify", db=kept)
    assert verified.exit_code == 2 and verified.stdout.splitlines()[0] == (
        "O2 was changed outside forecast" if refused else "run result #1 was changed outside forecast")


def test_backtest_refuses_a_tampered_store(run, kept: Path) -> None:
    _sql(kept, "DROP TRIGGER observation_immutable", "UPDATE observation SET note = 'forged' WHERE id = 2")
    before = snapshot(kept)
    result = run("backtest", "russia-iss-withdrawal", "--from", "2023-01", "--to", "2023-03", "--draws", "10",
                 "--tune", "10", "--chains", "1", db=kept)
    assert result.exit_code == 2 and result.stderr.startswith(
        "Error: the store was changed outside forecast (2 problem(s), first: O2 was changed outside forecast)")
    assert snapshot(kept) == before


def test_an_import_into_an_empty_store_verifies(run, kept: Path, tmp_path: Path) -> None:
    assert run("export", str(tmp_path / "all.json"), db=kept).exit_code == 0
    copy = tmp_path / "copy.db"
    assert run("import", str(tmp_path / "all.json"), db=copy).exit_code == 0
    assert run("verify", db=copy).exit_code == 0
    assert run("retract", "S1", "--reason", "checked", db=copy).exit_code == 0
    assert run("verify", db=copy).exit_code == 0


def test_a_write_to_a_store_without_integrity_records_is_refused(run, kept: Path) -> None:
    _sql(kept, "DELETE FROM integrity_chain WHERE name = 'statement'")
    before = snapshot(kept)
    result = run(*log_args(quote="Written after the records were cut."))
    assert result.exit_code == 2
    assert result.stderr == ("Error: the store's integrity records were changed outside forecast; `forecast verify` "
                             "lists what else was\n")
    assert snapshot(kept) == before
    assert run("verify", db=kept).stdout == "the integrity records of statement are missing (deleted outside forecast)\n"


@postgres_only
def test_postgres_indexes_are_checked_with_amcheck_where_installed(run, seeded: str, monkeypatch) -> None:
    """With amcheck installed, verify and the check before a fit run bt_index_check on the store's indexes (the
    fit's check on every index but the stored runs')."""
    import sqlalchemy as sa

    from forecast.domain import verify
    from forecast.store import open_store, resolve_url

    engine = sa.create_engine(resolve_url(seeded))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION amcheck"))
    engine.dispose()
    checked: list[str] = []
    original = sa.Connection.execute

    def spy(self, statement, parameters=None, *args, **kwargs):
        if "bt_index_check" in str(statement):
            checked.append(parameters["name"])
        return original(self, statement, parameters, *args, **kwargs)

    monkeypatch.setattr(sa.Connection, "execute", spy)
    assert run("verify").exit_code == 0
    everything, checked[:] = list(checked), []
    with open_store(seeded).reader() as session:
        assert verify.verify_store(session, fit_inputs_only=True).problems == []
    assert "statement_pkey" in checked and "forecast_run_pkey" in everything
    assert set(checked) < set(everything) and not any(name.startswith("forecast_r") for name in checked)
