"""Authorship: every write records who made it (--by, else $FORECAST_ANALYST, else the login name); it is in the
row's digest, in lists, exports and reports; rows from before migration 0009 are "unknown" and still verify."""

from __future__ import annotations

import csv
import getpass
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from forecast.store import open_store, resolve_url
from forecast.store.migrations import MIGRATIONS

from .conftest import PROJECT, QUESTION, assert_refused, log_args, postgres_only, query
from .test_store import FIRST_RELEASE_ROWS
from .test_questions import question_file

pytestmark = pytest.mark.every_backend  # where the author is stored and digested is the backend's business

OBSERVATION = ["log", "observation", "--question", QUESTION, "--kind", "event-not-yet", "--date", "2023-05-01",
               "--source", "fixture, example.org", "--no-update"]
# Each write command, and the SQL that reads the author it recorded.
WRITES = {
    "expert add": (["expert", "add", "Expert A", "--kind", "analyst"],
                   "SELECT author FROM expert WHERE name = 'Expert A'"),
    "log statement": ([*log_args(), "--no-update"], "SELECT author FROM statement ORDER BY id DESC LIMIT 1"),
    "log observation": (OBSERVATION, "SELECT author FROM observation ORDER BY id DESC LIMIT 1"),
    "retract": (["retract", "S3", "--reason", "fixture"], "SELECT retracted_by FROM statement WHERE id = 3"),
    "supersede": ([*log_args(supersedes="S4"), "--no-update"], "SELECT retracted_by FROM statement WHERE id = 4"),
    "question edit": (["question", "edit", QUESTION, "--tag", "fixture"],
                      "SELECT author FROM question_version ORDER BY id DESC LIMIT 1"),
    "resolve": (["resolve", QUESTION, "--annul", "--source", "fixture, example.org"],
                "SELECT resolved_by FROM question WHERE slug = 'russia-iss-withdrawal'"),
    "expert rename": (["expert", "rename", "Borisov", "Yury I. Borisov"], "SELECT author FROM expert_change"),
    "expert merge": (["expert", "merge", "Gatens", "Joel Montalbano"], "SELECT author FROM expert_change"),
}


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize(("by", "env", "expected"), [
    ("Analyst B", "Analyst C", "Analyst B"),  # --by wins
    (None, "Analyst C", "Analyst C"),  # then $FORECAST_ANALYST
    (None, None, "login"),  # then the login name
])
def test_every_write_records_its_author(run, seeded: str, monkeypatch, write: str, by, env, expected: str) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "login")
    monkeypatch.delenv("FORECAST_ANALYST", raising=False)
    if env:
        monkeypatch.setenv("FORECAST_ANALYST", env)
    args, sql = WRITES[write]
    result = run(*args, *(["--by", by] if by else []))
    assert result.exit_code == 0, result.output
    assert query(seeded, sql) == [(expected,)]
    assert run("verify").exit_code == 0


def test_question_add_records_its_author(run, tmp_path: Path) -> None:
    assert run("init", "--empty").exit_code == 0
    assert run("question", "add", str(question_file(tmp_path)), "--by", "Analyst B").exit_code == 0
    versions = json.loads(run("question", "show", "ruritania-exit", "--json").output)["versions"]
    assert [v["author"] for v in versions] == ["Analyst B"]


@pytest.mark.parametrize(("by", "message"), [
    ("  ", "Error: an author needs a name"),
    ("Ann\x1b[31m", "Error: author contains control character U+001B"),
])
def test_a_bad_author_is_refused(run, seeded: str, by: str, message: str) -> None:
    assert_refused(run(*log_args(), "--by", by), message)


def test_the_login_name_falls_back_to_unknown(run, seeded: str, monkeypatch) -> None:
    def no_user() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    monkeypatch.delenv("FORECAST_ANALYST", raising=False)
    assert run(*log_args(), "--no-update").exit_code == 0
    assert query(seeded, "SELECT author FROM statement ORDER BY id DESC LIMIT 1") == [("unknown",)]


def _logged_ref(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output.split()[1].rstrip(":")  # "Logged S9: ..."


def test_lists_and_exports_show_the_author(run, seeded: str, make_db, tmp_path: Path) -> None:
    ref = _logged_ref(run(*log_args(), "--no-update", "--by", "Analyst B"))
    assert run("retract", "S3", "--reason", "fixture", "--by", "Analyst C").exit_code == 0
    table = run("evidence", "list", "--question", QUESTION, "--since", "2023-04-01").output.splitlines()
    (logged,) = [line for line in table if line.startswith(f"{ref} ")]
    assert table[0].split()[5] == "by" and " Analyst B " in logged
    rows = {r["ref"]: r for r in json.loads(run("evidence", "list", "--all", "--json").output)}
    assert rows["S3"]["retracted_by"] == "Analyst C" and rows[ref]["author"] == "Analyst B"
    export = tmp_path / "export.csv"
    assert run("export", str(export)).exit_code == 0
    exported = {(r["record"], r["uid"] or r["slug"] or r["name"]): r for r in csv.DictReader(export.open())}
    assert {r["author"] for k, r in exported.items() if k[0] == "statement"} >= {"Analyst B"}
    other = make_db()
    assert run("import", str(export), db=other).exit_code == 0
    assert run("verify", db=other).exit_code == 0
    for sql in ("SELECT uid, author, retracted_by FROM statement ORDER BY id", "SELECT name, author FROM expert ORDER BY id"):
        assert query(other, sql) == query(seeded, sql)


def test_an_export_from_before_authorship_imports_as_unknown(run) -> None:
    assert run("import", str(PROJECT / "tests" / "exports" / "release-2026-11-24.csv")).exit_code == 0
    assert run("verify").exit_code == 0
    assert {a for (a,) in query(run.db, "SELECT DISTINCT author FROM statement")} == {"unknown"}
    retracted = query(run.db, "SELECT DISTINCT retracted_by FROM statement WHERE retracted_at IS NOT NULL")
    assert retracted in ([], [("unknown",)])


def _store_before_authorship(db: str) -> None:
    """A store as the release before 0009 left it: rows of the first release, a retraction and an annulment, then
    sealed by 0005 and 0007."""
    engine = sa.create_engine(resolve_url(db))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE schema_migration (name VARCHAR PRIMARY KEY, "
                             "applied_at TIMESTAMP WITH TIME ZONE NOT NULL)"))
        for index, (name, apply) in enumerate(MIGRATIONS[:7]):
            apply(conn)
            conn.execute(sa.text("INSERT INTO schema_migration VALUES (:name, '2026-01-01 00:00:00')"), {"name": name})
            if index == 0:  # the first release wrote these; 0004 renames the observation kind and its uid
                for row in FIRST_RELEASE_ROWS:
                    conn.execute(sa.text(row))
                conn.execute(sa.text("UPDATE statement SET retracted_at = '2026-01-02 00:00:00', "
                                     "retraction_reason = 'fixture' WHERE id = 1"))
                conn.execute(sa.text("UPDATE question SET status = 'annulled', resolved_at = '2026-01-03 00:00:00'"))
    engine.dispose()


def test_rows_from_before_authorship_migrate_as_unknown_and_still_verify(run, db: str) -> None:
    _store_before_authorship(db)
    store = open_store(db)
    assert store.schema_version()[-1] == MIGRATIONS[-1][0]
    assert run("verify").exit_code == 0, run("verify").output
    assert query(db, "SELECT author, retracted_by FROM statement") == [("unknown", "unknown")]
    assert query(db, "SELECT author, retracted_by FROM observation") == [("unknown", None)]
    assert query(db, "SELECT author FROM expert") == [("unknown",)]
    assert query(db, "SELECT resolved_by FROM question") == [("unknown",)]
    (row,) = json.loads(run("evidence", "list", "--all", "--json", "--question", "q").output)[:1]
    assert row["author"] == "unknown"


@postgres_only  # on SQLite a trigger refuses the edit: tests/test_integrity.py drops it and puts it back
def test_a_changed_author_is_caught_by_verify(run, seeded: str) -> None:
    ref = _logged_ref(run(*log_args(), "--no-update", "--by", "Analyst B"))
    query(seeded, f"UPDATE statement SET author = 'unknown' WHERE id = {ref[1:]}")
    result = run("verify")
    assert result.exit_code == 2 and result.stdout.splitlines() == [f"{ref} was changed outside forecast"]
