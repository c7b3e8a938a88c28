"""Reminders: `forecast status` and the due columns of `question list` say which questions need attention."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from .conftest import EMPTY, assert_refused, store_exact_run
from .test_questions import question_file

TODAY = dt.date.today()
PAST = "ruritania-exit"  # horizon 2018-01 .. 2023-12: over


@pytest.fixture
def past(run, tmp_path: Path) -> str:
    """An empty store with one question whose horizon is over, nothing logged and never run."""
    assert run(*EMPTY).exit_code == 0
    assert run("question", "add", str(question_file(tmp_path))).exit_code == 0
    return run.db


def _checkpoints(first: int, last: int) -> str:
    return ", ".join(f"{year}-01-01" for year in range(first, last + 1))


def test_a_question_past_its_horizon_is_due_on_every_rule_that_applies(run, past: str) -> None:
    result = run("status")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"{PAST}: due",
        "  - never run",
        f"  - checkpoints {_checkpoints(2019, 2024)} passed without an observation that decides them "
        "(log event-not-yet or event)",
        f"  - the horizon ended with 2023-12 and the question is not resolved (forecast resolve {PAST})",
        "1 of 1 question due.",
    ]


def test_observations_a_run_and_a_resolution_clear_what_is_due(run, past: str) -> None:
    assert run("log", "observation", "--question", PAST, "--kind", "event-not-yet", "--date", "2023-06-30",
               "--source", "fixture, example.org", "--no-update").exit_code == 0
    store_exact_run(past)
    (row,) = json.loads(run("status", "--json").output)
    days = (TODAY - dt.date(2023, 6, 30)).days
    assert row["due"] == [f"no evidence for {days} days (since 2023-06-30; review every 90 days)",
                          "checkpoint 2024-01-01 passed without an observation that decides it (log event-not-yet or "
                          "event)",
                          f"the horizon ended with 2023-12 and the question is not resolved (forecast resolve {PAST})"]
    assert row["last_run"] == 1 and row["new_evidence"] == {"statements": 0, "observations": 0, "retractions": 0}
    assert row["undecided_checkpoints"] == ["2024-01-01"] and row["past_horizon"] is True
    assert run("retract", "O1", "--reason", "fixture: wrong day").exit_code == 0
    after = json.loads(run("status", "--json").output)[0]
    assert after["due"][0] == f"1 retraction since the last run ({TODAY.isoformat()})"
    assert run("resolve", PAST, "--not-within-horizon", "--source", "fixture, example.org").exit_code == 0
    cleared = run("status")
    assert (cleared.exit_code, cleared.output) == (0, "0 of 0 questions due.\n")  # resolved: nothing is due
    shown = run("status", "--question", PAST)
    assert (shown.exit_code, shown.output) == (0, f"{PAST}: nothing due\n0 of 1 question due.\n")


def test_a_checkpoint_passed_during_a_pending_notice_says_what_the_notice_does_and_does_not_settle(run, past) -> None:
    """A notice makes "not yet" likely but does not decide the checkpoint (a party may leave without waiting)."""
    assert run("log", "observation", "--question", PAST, "--kind", "event-not-yet", "--date", "2023-06-30",
               "--source", "fixture, example.org", "--no-update").exit_code == 0
    assert run("log", "observation", "--question", PAST, "--kind", "notice-given", "--date", "2023-07-15",
               "--source", "fixture, example.org", "--no-update").exit_code == 0
    (row,) = json.loads(run("status", "--json").output)
    assert "checkpoint 2024-01-01 passed without an observation that decides it: the notice of 2023-07-15 (O2) is " \
           "pending, so the event has most likely not happened yet, but only an observation settles it (log " \
           "event-not-yet, or event)" in row["due"]
    assert run("log", "observation", "--question", PAST, "--kind", "notice-revoked", "--date", "2023-09-01",
               "--source", "fixture, example.org", "--no-update").exit_code == 0
    (row,) = json.loads(run("status", "--json").output)  # revoked: no notice is pending any more
    assert "checkpoint 2024-01-01 passed without an observation that decides it (log event-not-yet or event)" in row["due"]


def test_evidence_since_the_last_run_is_counted_in_plain_words(run, tmp_path: Path) -> None:
    assert run(*EMPTY).exit_code == 0
    assert run("question", "add", str(question_file(tmp_path, start=f"{TODAY.year}-01",
                                                     end=f"{TODAY.year + 5}-12"))).exit_code == 0
    store_exact_run(run.db)
    quiet = run("status")
    assert (quiet.exit_code, quiet.output) == (0, f"{PAST}: nothing due\n0 of 1 question due.\n")
    for day in ("2026-01-05", "2026-02-05"):
        assert run("log", "observation", "--question", PAST, "--kind", "event-not-yet", "--date", day,
                   "--source", f"fixture {day}, example.org", "--no-update").exit_code == 0
    due = run("status")
    assert due.exit_code == 1
    assert due.output.splitlines()[1] == f"  - 2 observations since the last run ({TODAY.isoformat()})"


@pytest.mark.parametrize(("review_every", "due"), [(1, True), (3650, False)])
def test_no_evidence_for_longer_than_review_every_is_due(run, tmp_path: Path, review_every: int, due: bool) -> None:
    assert run(*EMPTY).exit_code == 0
    path = question_file(tmp_path, start=f"{TODAY.year}-01", end=f"{TODAY.year + 5}-12",
                         extra=f"review_every = {review_every}")
    assert run("question", "add", str(path)).exit_code == 0
    assert run("log", "observation", "--question", PAST, "--kind", "event-not-yet", "--date", f"{TODAY.year}-01-02",
               "--source", "fixture, example.org", "--no-update").exit_code == 0
    store_exact_run(run.db)
    days = (TODAY - dt.date(TODAY.year, 1, 2)).days
    (row,) = json.loads(run("status", "--json").output)
    assert row["review_every"] == review_every and row["days_without_evidence"] == days
    stale = (f"no evidence for {days} days (since {TODAY.year}-01-02; review every "
             f"{review_every} day{'s' if review_every > 1 else ''})")
    assert row["due"] == ([stale] if due and days > review_every else [])
    assert run("status").exit_code == (1 if row["due"] else 0)


@pytest.mark.parametrize(("value", "message"), [
    ("0", "review_every is a number of days from 1 to 3650, not 0"),
    ("3651", "review_every is a number of days from 1 to 3650, not 3651"),
    ('"monthly"', "review_every must be int"),
    ("true", "review_every must be int"),
])
def test_a_bad_review_every_is_refused(run, tmp_path: Path, value: str, message: str) -> None:
    assert run(*EMPTY).exit_code == 0
    result = run("question", "add", str(question_file(tmp_path, extra=f"review_every = {value}")))
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_review_every_can_be_edited_without_a_new_question(run, past: str) -> None:
    assert run("question", "edit", PAST, "--review-every", "30").exit_code == 0
    assert json.loads(run("status", "--json").output)[0]["review_every"] == 30


@pytest.mark.parametrize(("args", "message"), [
    (["--question", "ruritania-exi"], "Error: unknown question 'ruritania-exi'"),
    (["--tag", "tretay"], "Error: unknown tag 'tretay'"),
])
def test_status_refuses_bad_input_with_exit_2(run, past: str, args: list[str], message: str) -> None:
    assert_refused(run("status", *args), message)


def test_question_list_has_the_due_columns(run, past: str) -> None:
    (listed,) = json.loads(run("question", "list", "--json").output)
    (status,) = json.loads(run("status", "--json").output)
    assert listed["due"] == status["due"] and listed["past_horizon"] is True
    assert listed["undecided_checkpoints"] == status["undecided_checkpoints"]
    (row,) = csv.DictReader(io.StringIO(run("question", "list", "--csv").output))
    assert row["due"] == ";".join(status["due"]) and row["new_since_run"] == "0"
    assert row["days_without_evidence"] == "0" and row["past_horizon"] == "True"
    table = run("question", "list").output.splitlines()
    assert table[0].split()[-1] == "due" and table[2].split()[-1] == "3"
