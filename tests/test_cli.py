"""Every command through click's runner, and the real executable as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import INIT, OFFICIAL, QUESTION, REPORTER, assert_refused, log_args, postgres_only, query, snapshot


@pytest.mark.every_backend
def test_init_loads_seed_once(run, db: str) -> None:
    first = run(*INIT)
    assert first.exit_code == 0
    assert first.output.endswith("added 2 question(s), 10 expert(s), 8 statement(s), 9 observation(s).\n")
    before = snapshot(db)
    second = run(*INIT)
    assert second.output.endswith("added 0 question(s), 0 expert(s), 0 statement(s), 0 observation(s).\n")
    assert snapshot(db) == before


@pytest.mark.every_backend
def test_question_list_and_show(run, seeded) -> None:
    listed = json.loads(run("question", "list", "--json").output)
    assert [q["slug"] for q in listed] == ["iss-retirement", QUESTION]
    assert listed[0]["horizon_start"] == "2022-07" and listed[0]["horizon_end"] == "2032-12"
    shown = run("question", "show", QUESTION)
    assert "title              When will Russia withdraw from the International Space Station?" in shown.output
    assert json.loads(run("question", "show", QUESTION, "--json").output)["status"] == "open"
    assert "russia-iss-withdrawal  open" in run("question", "list").output


@pytest.mark.every_backend
def test_expert_commands(run, seeded) -> None:
    added = run("expert", "add", "Jeff Foust", "--kind", "journalist", "--affiliation", "SpaceNews", "--alias", "Foust")
    assert added.exit_code == 0 and added.output == "Added expert Jeff Foust (journalist).\n"
    names = [e["name"] for e in json.loads(run("expert", "list", "--json").output)]
    assert "Jeff Foust" in names and len(names) == 11
    journalists = json.loads(run("expert", "list", "--kind", "journalist", "--json").output)
    assert [e["name"] for e in journalists] == ["Anatoly Zak", "Jeff Foust", REPORTER]
    shown = json.loads(run("expert", "show", "borisov", "--json").output)
    assert shown["name"] == "Yury Borisov"
    assert [(s["claim"], s["interval"]) for s in shown["statements"]] == [("after 2024", ["2025-01", None])]
    assert "after 2024" in run("expert", "show", "Yuri Borisov").output


@pytest.mark.every_backend
def test_log_statement_and_observation(run, seeded) -> None:
    logged = run(*log_args(probability="0.8", strength="hedged"))
    assert logged.exit_code == 0
    assert logged.output.splitlines()[0] == f"Logged S9: {REPORTER} on 2023-04-01, 'not before 2028' -> 2028-01 .. open."
    assert logged.output.splitlines()[1] == "Reads: Russia does not withdraw before 2028-01 (p = 0.8); hedged."
    assert logged.output.splitlines()[2].startswith(
        "Updated headline (exact, reliabilities fixed at prior centres): Russia withdraws by 2032-12: ")
    assert logged.output.splitlines()[3].startswith("Why: S9 counts ")
    against = run(*log_args(expert=OFFICIAL, probability="20%", claim="by 2027", date="2023-04-02"), "--no-update")
    assert against.output.splitlines()[1] == ("Reads: Russia withdraws by 2027-12 (p = 0.2); below 50%, it counts as "
                                              "evidence that this does not happen.")
    observed = run("log", "observation", "--question", QUESTION, "--kind", "no-formal-notice",  # the old name is an alias
                   "--date", "2024-01-15", "--source", "NASA briefing")
    assert observed.exit_code == 0 and observed.output.startswith("Logged O10: no-notice-as-of on 2024-01-15.\nUpdated headline")
    rows = json.loads(run("evidence", "list", "--question", QUESTION, "--since", "2023-06-01", "--until", "2024-02-01",
                          "--json").output)
    assert [(r["ref"], r["date"]) for r in rows] == [("O6", "2023-09-15"), ("O10", "2024-01-15")]
    rows = json.loads(run("evidence", "list", "--expert", REPORTER, "--json").output)
    assert [(r["ref"], r["date"]) for r in rows] == [("S9", "2023-04-01")]
    assert (rows[0]["probability"], rows[0]["strength"], rows[0]["expert"]) == (0.8, "hedged", REPORTER)


@pytest.mark.every_backend
def test_evidence_list_filters(run, seeded) -> None:
    everything = json.loads(run("evidence", "list", "--json").output)
    assert len(everything) == 17
    zak = json.loads(run("evidence", "list", "--expert", "Zak", "--json").output)
    assert [r["ref"] for r in zak] == ["S3"]
    early = json.loads(run("evidence", "list", "--until", "2022-07-26", "--json").output)
    assert {r["date"] for r in early} == {"2022-02-24", "2022-07-26"}
    table = run("evidence", "list").output
    assert table.splitlines()[0].split() == ["ref", "date", "who", "says", "weight", "by", "status", "source"]


@pytest.mark.parametrize(("columns", "cut"), [("80", True), ("1000", False)])
def test_a_table_in_a_pipe_says_when_it_cut_cells(run, seeded, monkeypatch, columns, cut) -> None:
    """The last column keeps every character (it is never padded); a cell cut to fit gets a note on stderr."""
    monkeypatch.setenv("COLUMNS", columns)
    result = run("evidence", "list")
    sources = {r["ref"]: r["source"] for r in json.loads(run("evidence", "list", "--json").output)}
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    assert all(lines[ref].endswith(source) for ref, source in sources.items())
    note = "cut to fit 80 columns (set $COLUMNS); --json or --csv gives every character.\n"
    assert result.stderr.endswith(note) if cut else result.stderr == ""
    assert ("…" in result.stdout) == cut


@pytest.mark.every_backend
def test_retract_and_supersede_keep_rows(run, seeded) -> None:
    assert run("retract", "S2", "--reason", "paraphrase, not Logsdon's words", "--no-update").output == "Retracted S2.\n"
    corrected = run(*log_args(claim="by 2025", supersedes="S3"))
    assert corrected.exit_code == 0
    active = [r["ref"] for r in json.loads(run("evidence", "list", "--json").output)]
    assert "S2" not in active and "S3" not in active and "S9" in active
    all_rows = {r["ref"]: r for r in json.loads(run("evidence", "list", "--all", "--json").output)}
    assert all_rows["S2"]["status"] == "retracted"
    assert all_rows["S3"]["status"] == "superseded by S9"
    assert len(all_rows) == 18


@pytest.mark.every_backend
def test_export_import_commands(run, seeded, make_db, tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    assert run("export", str(out)).output == f"Exported 29 rows to {out}.\n"
    empty = make_db()
    imported = run("import", str(out), db=empty)
    assert imported.exit_code == 0
    assert imported.output == f"Imported 2 question(s), 10 expert(s), 8 statement(s), 9 observation(s) from {out}.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (log_args(date="2022-13-01"), "Error: Invalid value for '--date': malformed date '2022-13-01': month must be in 1..12"),
        (log_args(date="26/07/2022"), "Error: Invalid value for '--date': malformed date '26/07/2022': expected YYYY-MM-DD"),
        (log_args(date="2099-01-01"), "Error: date 2099-01-01 is in the future"),
        (log_args(expert="Nobody"), "Error: unknown expert 'Nobody'; known: Anatoly Zak, Bill Nelson, Casey Dreier"),  # no alias
        (log_args(question="mars-landing"), "Error: unknown question 'mars-landing'; known: iss-retirement, russia-iss-withdrawal"),
        (log_args(question="russia-iss-withdrawl"), "Error: unknown question 'russia-iss-withdrawl' (did you mean 'russia-iss-withdrawal'?)"),
        (log_args(expert="Borisof"), "Error: unknown expert 'Borisof' (did you mean 'Borisov', another name of 'Yury Borisov'?)"),
        (log_args(claim="sometime soon"), "Error: could not parse claim 'sometime soon': unknown phrase at 'sometime'"),
        (log_args(claim="before 2021"), "Error: claim 'before 2021' (open .. 2020-12) lies outside the horizon 2022-07 to 2032-12"),
        (log_args(claim="after 2040"), "Error: claim 'after 2040' (2041-01 .. open) lies outside the horizon"),
        (log_args(probability="150"), "Error: stated probability 150 is not between 0 and 1 (or 0% and 100%)"),
        (log_args(claim="likely by 2029", probability="0.2"), "Error: claim 'likely by 2029' says likely (0.83) but the "
         "stated probability is 0.2: keep one (drop 'likely' from the claim, or the probability)"),
        (log_args(probability="٠.٨"), "Error: probability '٠.٨' contains the digit '٠' (U+0660 ARABIC-INDIC DIGIT ZERO)"),
        (log_args(supersedes="S99"), "Error: no evidence 'S99' in the store"),
        (log_args(supersedes="O1"), "Error: O1 is not the same type of evidence as the new row"),
        (["log", "observation", "--question", QUESTION, "--kind", "rumour", "--date", "2023-01-01", "--source", "x"],
         "Error: unknown observation kind 'rumour'; known: annulled, event, "),
        (["retract", "X1", "--reason", "r"], "Error: malformed evidence reference 'X1': expected S<number> or O<number>"),
        (["retract", "S1", "--reason", " "], "Error: a retraction needs a reason"),
        (["expert", "add", "Zak", "--kind", "journalist"], "Error: expert 'Zak' already exists (as 'Anatoly Zak')"),
        (["question", "show", "nope"], "Error: unknown question 'nope'"),
        (["expert", "show", "nobody"], "Error: unknown expert 'nobody'"),
        (["evidence", "list", "--since", "2022-02-30"], "Error: Invalid value for '--since': malformed date '2022-02-30'"),
        (["export", "out.xlsx"], "Error: cannot tell the format of 'out.xlsx'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(run, seeded, args, message) -> None:
    before = snapshot(seeded)
    assert_refused(run(*args), message)
    assert snapshot(seeded) == before


@pytest.mark.every_backend
def test_duplicate_statement_is_refused(run, seeded) -> None:
    assert run(*log_args()).exit_code == 0
    before = snapshot(seeded)
    again = run(*log_args())
    assert (again.exit_code, again.stderr) == (2, "Error: this statement is already in the store as S9\n")
    assert snapshot(seeded) == before


@pytest.mark.every_backend
def test_newer_store_is_refused_by_the_cli(run, seeded) -> None:
    query(seeded, "INSERT INTO schema_migration VALUES ('0999_future', '2030-01-01 00:00:00')")
    before = snapshot(seeded)
    result = run("evidence", "list")
    assert result.exit_code == 2
    assert result.stderr == ("Error: the store was written by a newer version of forecast (unknown schema "
                             "migration '0999_future'); upgrade forecast to open it\n")
    assert snapshot(seeded) == before


def test_db_resolved_from_environment(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from forecast.cli import cli

    monkeypatch.setenv("FORECAST_DB", str(tmp_path / "env.db"))
    result = CliRunner().invoke(cli, INIT)
    assert result.exit_code == 0 and (tmp_path / "env.db").exists()
    assert f"Store sqlite:///{tmp_path / 'env.db'}" in result.output


@pytest.mark.every_backend
def test_experts_sort_bytewise_on_every_backend(run, seeded) -> None:
    """As SQLite does, whatever the PostgreSQL server's locale (the test server sorts like en-US)."""
    for name in ("anna Ek", "Bob Li", "b-c Ode", "bb Oz", "Émile Roux"):
        assert run("expert", "add", name, "--kind", "analyst").exit_code == 0
    names = [e["name"] for e in json.loads(run("expert", "list", "--json").output)]
    assert names == sorted(names) and names[-1] == "Émile Roux"


@postgres_only
def test_password_in_the_url_is_not_printed(run, db: str) -> None:
    with_password = db.replace("postgres@", "postgres:s3cret@")
    result = run("init", db=with_password)
    assert result.exit_code == 0 and "s3cret" not in result.output
    assert result.output.startswith("Store postgresql+psycopg://postgres:***@/")


_WITHOUT_PSYCOPG = textwrap.dedent("""
    import sys

    class NotInstalled:  # imports of psycopg fail exactly as when it is not installed
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] == "psycopg":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, NotInstalled())
    from forecast.cli import cli
    cli.main(["--db", "postgresql://team:pw@db.example/forecast", "question", "list"])
""")


def test_missing_postgres_driver_names_the_extra() -> None:
    result = subprocess.run([sys.executable, "-c", _WITHOUT_PSYCOPG], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("Error: no database driver for postgresql+psycopg://team:***@db.example/forecast "
                             "(No module named 'psycopg'); for PostgreSQL, install forecast with the postgres extra "
                             "(pip install 'policy-forecast[postgres]') and use a postgresql:// URL\n")


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from forecast.cli import cli

    url = f"postgresql://team:pw@/forecast?host={tmp_path}"  # no server listens there
    result = CliRunner().invoke(cli, ["--db", url, "question", "list"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("Error: cannot open store postgresql+psycopg://team:***@/forecast?host=")
    assert result.stderr.count("\n") == 1 and "pw" not in result.stderr


@pytest.mark.slow  # whole processes: run by `bash scripts/test --all` and CI
@pytest.mark.every_backend
def test_real_executable_as_subprocess(db: str) -> None:
    exe = shutil.which("forecast")
    assert exe, "the forecast console script is installed with the project"
    env = {**os.environ, "FORECAST_DB": db}

    def call(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=120)

    assert call(*INIT).returncode == 0
    logged = call(*log_args(claim="between 2027 and 2028"))
    assert logged.returncode == 0
    assert logged.stdout.startswith(f"Logged S9: {REPORTER} on 2023-04-01, 'between 2027 and 2028' -> 2027-01 .. 2028-12.\n"
                                    "Reads: Russia withdraws between 2027-01 and 2028-12.\n")
    bad = call(*log_args(claim="whenever"))
    assert bad.returncode == 2 and bad.stderr.startswith("Error: could not parse claim 'whenever'") and bad.stdout == ""
    listed = json.loads(call("evidence", "list", "--json").stdout)
    assert len(listed) == 18


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('record,slug\n"question,q\n', "Error: broken CSV in"),
        (None, "Error: row 14: duplicate import: this statement is already in the store as S1"),
    ],
)
def test_import_errors_through_cli(run, seeded, tmp_path, content, message) -> None:
    path = tmp_path / "in.csv"
    if content is None:
        run("export", str(path))
        run(*log_args())
    else:
        path.write_text(content)
    before = snapshot(seeded)
    result = run("import", str(path))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(message), result.stderr
    assert snapshot(seeded) == before
