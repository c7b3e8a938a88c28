"""Undoing a mistaken resolution (`forecast reopen`): the old resolution is kept, append-only and hash-chained,
with who reopened it and why; the observation `resolve` logged is retracted; export and import carry it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.cli import cli
from forecast.io.transfer import export_store, import_store
from forecast.store import open_store

from .conftest import QUESTION, assert_refused, query, snapshot

RESOLVE = ["resolve", QUESTION, "--date", "2026-12", "--source", "fixture, example.org", "--by", "Analyst A"]


def observations(run) -> list[dict]:
    return [row for row in json.loads(run("evidence", "list", "--json", "--all").output) if row["type"] == "observation"]


@pytest.mark.every_backend
def test_a_reopened_resolution_is_kept_and_the_question_resolves_again(run, seeded) -> None:
    assert run(*RESOLVE).exit_code == 0
    (logged,) = [row for row in observations(run) if row["kind"] == "event"]
    reopened = run("reopen", QUESTION, "--reason", "the source dated the notice, not the exit", "--by", "Analyst B")
    assert reopened.exit_code == 0, reopened.output
    assert reopened.output.startswith(f"Reopened {QUESTION}: it was resolved 2026-12 (by Analyst A on ")
    (retracted,) = [row for row in observations(run) if row["ref"] == logged["ref"]]
    assert (retracted["status"], retracted["retraction_reason"], retracted["retracted_by"]) == (
        "retracted", "its resolution was reopened: the source dated the notice, not the exit", "Analyst B")
    shown = json.loads(run("question", "show", QUESTION, "--json").output)
    assert (shown["status"], shown["resolution"], shown["resolved_by"]) == ("open", None, None)
    assert [(r["was"], r["source"], r["resolved_by"], r["reason"], r["reopened_by"]) for r in shown["reopened"]] == [
        ("resolved 2026-12", "fixture, example.org", "Analyst A", "the source dated the notice, not the exit",
         "Analyst B")]
    assert "1 resolution change(s)" in run("verify").output
    assert run("resolve", QUESTION, "--not-within-horizon", "--source", "x").exit_code == 2  # horizon not over
    again = run("resolve", QUESTION, "--date", "2026-11", "--source", "fixture, example.org")
    assert again.exit_code == 0, again.output
    shown = json.loads(run("question", "show", QUESTION, "--json").output)
    assert (shown["status"], shown["resolution"], len(shown["reopened"])) == ("resolved", "2026-11", 1)
    assert [row["date"] for row in observations(run) if row["kind"] == "event" and row["status"] == "active"] == [
        "2026-11-01"]

@pytest.mark.parametrize(("args", "message"), [
    (["reopen", QUESTION, "--reason", "wrong"], f"Error: question '{QUESTION}' is open: there is no resolution to reopen"),
    (["reopen", QUESTION, "--reason", " "], "Error: reopening a resolution needs a --reason"),
    (["reopen", QUESTION], "Error: Missing option '--reason'. Example: forecast reopen russia-iss-withdrawal --reason "
                           "\"the source dated the notice, not the exit\""),  # the command's own example
    (["reopen", "no-such-question", "--reason", "wrong"], "Error: unknown question 'no-such-question'"),
])
def test_reopen_refusals_store_nothing(run, seeded, args, message) -> None:
    before = snapshot(run.db)
    assert_refused(run(*args), message)
    assert snapshot(run.db) == before


@pytest.mark.parametrize("notice", [True, False])
def test_a_resolution_before_a_pending_notice_could_take_effect_gets_a_note(run, seeded, notice) -> None:
    """Notice on 2026-11-15 under a 12-month rule: an exit in 2026-12 is stored (a party may leave without waiting),
    with a note on the likelier typo; without the notice, no note."""
    if notice:
        assert run("log", "observation", "--question", QUESTION, "--kind", "notice-given", "--date", "2026-11-15",
                   "--source", "fixture, example.org", "--no-update").exit_code == 0
    result = run("resolve", QUESTION, "--date", "2026-12", "--source", "fixture, example.org")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{QUESTION} resolved: 2026-12."
    if notice:
        assert re.fullmatch(r"Note: the notice O\d+ of 2026-11-15 could take effect from 2027-11 at the earliest, so an "
                            r"exit in 2026-12 means leaving without waiting; if the month is a typo, `forecast reopen "
                            rf"{QUESTION} --reason \.\.\.` and resolve it again\.", lines[1]), lines
    else:
        assert lines == [f"{QUESTION} resolved: 2026-12."]


def test_resolving_a_resolved_question_points_at_reopen(run, seeded) -> None:
    assert run(*RESOLVE).exit_code == 0
    assert_refused(run(*RESOLVE), f"Error: question '{QUESTION}' is already resolved (2026-12); if that was a mistake, "
                                  f"`forecast reopen {QUESTION} --reason ...` first")


def test_an_event_logged_by_hand_is_named_not_retracted(run, seeded) -> None:
    logged = run("log", "observation", "--question", QUESTION, "--kind", "event", "--date", "2026-12-01",
                 "--source", "fixture, example.org", "--no-update")
    assert logged.exit_code == 0, logged.output
    ref = logged.output.split()[1].rstrip(":")
    assert run(*RESOLVE).exit_code == 0  # the event is logged already: resolve logs no second one
    reopened = run("reopen", QUESTION, "--reason", "wrong month")
    assert f"{ref} still date the event or annul the question: retract or edit it before resolving again." in \
        reopened.output
    assert [row["status"] for row in observations(run) if row["ref"] == ref] == ["active"]


def test_verify_catches_a_reopened_resolution_changed_outside_forecast(run, seeded) -> None:
    assert run(*RESOLVE).exit_code == 0 and run("reopen", QUESTION, "--reason", "wrong").exit_code == 0
    query(run.db, "UPDATE resolution_change SET reason = 'something else'")
    result = run("verify")
    assert result.exit_code == 2 and "resolution change #1" in result.output, result.output


@pytest.mark.every_backend
@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_reopened_resolutions_travel_with_an_export(run, seeded, make_db, tmp_path: Path, suffix: str) -> None:
    assert run(*RESOLVE).exit_code == 0 and run("reopen", QUESTION, "--reason", "wrong, with \"quotes\"").exit_code == 0
    with open_store(seeded).session() as session:
        export_store(session, tmp_path / f"first.{suffix}")
    copy = make_db()
    for _ in range(2):  # the second import finds the change there already
        CliRunner().invoke(cli, ["--db", copy, "import", str(tmp_path / f"first.{suffix}")])
    with open_store(copy).session() as session:
        export_store(session, tmp_path / f"second.{suffix}")
    assert (tmp_path / f"second.{suffix}").read_bytes() == (tmp_path / f"first.{suffix}").read_bytes()
    shown = json.loads(run("question", "show", QUESTION, "--json", db=copy).output)
    assert [r["reason"] for r in shown["reopened"]] == ['wrong, with "quotes"']
    assert "all as forecast wrote them" in run("verify", db=copy).output
