"""Entry: prompts for missing fields on a terminal (through a pseudo-terminal with the real binary), one error for
all of them in a pipe, claim check, question new, and help that points to commands and docs, not repository paths."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import sys
from pathlib import Path

import click
import pexpect
import pytest

from forecast.cli import cli
from forecast.store.vocab import OBSERVATION_KINDS

from .conftest import EMPTY, PROJECT, QUESTION, assert_refused, log_args, snapshot

FORECAST = Path(sys.executable).parent / "forecast"  # the worktree's installed entry point
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def spawn(db: str, *args: str, cwd: Path | None = None) -> pexpect.spawn:
    """The real `forecast` on a pseudo-terminal (so stdin and stdout are ttys), 40 rows by 160 columns."""
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "160", "NO_COLOR": "1"}
    return pexpect.spawn(str(FORECAST), ["--db", db, *args], cwd=str(cwd) if cwd else None, env=env,
                         encoding="utf-8", timeout=60, dimensions=(40, 160), preexec_fn=_as_from_a_shell)


def _as_from_a_shell() -> None:
    """Ctrl-C interrupts, as in a shell: the test process may ignore or block SIGINT (children inherit both)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def finish(child: pexpect.spawn) -> tuple[int, str]:
    """Wait for the end; the exit status and everything printed after the last expected prompt, without escapes."""
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, ANSI.sub("", child.before)


# --- in a pipe: every missing field named in one line ---------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["log", "statement", "--question", QUESTION],
     "Error: missing --expert, --date, --claim, --quote and --source (on a terminal, forecast log statement asks for each)"),
    (["log", "observation", "--kind", "event"],
     "Error: missing --question, --date and --source (on a terminal, forecast log observation asks for each)"),
    (["expert", "add", "--role", "Minister"], "Error: missing NAME and --kind (on a terminal, forecast expert add asks for each)"),
    (["log", "statement", *log_args()[2:-2]], "Error: missing --source (on a terminal"),
])
def test_a_pipe_gets_one_error_naming_every_missing_field(run, seeded, db_path: Path, args, message) -> None:
    before = snapshot(db_path)
    assert_refused(run(*args), message)
    assert snapshot(db_path) == before


def test_help_is_not_a_missing_field(run, seeded) -> None:
    shown = run("log", "statement", "--help")
    assert shown.exit_code == 0 and "Log what an expert said" in shown.output


# --- on a terminal: asked for, checked, asked again --------------------------------------------------------------

def test_log_statement_prompts_for_each_missing_field(run, seeded, db_path: Path) -> None:
    flag_error = run(*log_args(date="2024-13-01")).stderr.strip()  # what the flag gets for the same bad value
    assert flag_error.startswith("Error: Invalid value for '--date': ")
    assert run("expert", "add", "Expert A", "--kind", "analyst").exit_code == 0  # fictional, for the fixture quote
    child = spawn(seeded, "log", "statement", "--no-update")
    child.expect_exact("--question - Question slug [iss-retirement, russia-iss-withdrawal]: ")
    child.sendline("russia-iss-withdrawl")
    child.expect_exact("Error: unknown question 'russia-iss-withdrawl' (did you mean 'russia-iss-withdrawal'?)")
    child.expect_exact("--question")
    child.sendline(QUESTION)
    child.expect_exact("--expert - Expert name or alias [")  # more than eight known: Tab completes them
    child.sendline("Zek")
    child.expect_exact(run(*log_args(expert="Zek")).stderr.strip())  # the flag's message, did-you-mean and all
    child.expect_exact("--expert")
    child.send("expert \t")  # completed whatever the case
    child.expect_exact("Expert A")
    child.sendline("")
    child.expect_exact("--date YYYY-MM-DD|YYYY-MM - When it was said")
    child.sendline("2024-13-01")
    child.expect_exact(flag_error)
    child.expect_exact("--date")
    child.sendline("2024-01-05")
    child.expect_exact("--claim")
    child.sendline("until 2028")
    child.expect_exact("Error: 'until 2028' is ambiguous")
    child.expect_exact("--claim")
    child.sendline("after 2040")
    child.expect_exact("lies outside the horizon 2022-07 to 2032-12")  # read on the question's horizon
    child.expect_exact("--claim")
    child.sendline("likely after 2028")
    child.expect_exact("--quote")
    child.sendline("Fixture quote: Expert A would say this.")
    child.expect_exact("--source")
    child.sendline("fixture, example.org")
    status, output = finish(child)
    assert status == 0, output
    assert "Logged S9: Expert A on 2024-01-05, 'likely after 2028' -> 2029-01 .. open." in output
    rows = json.loads(run("expert", "show", "Expert A", "--json").output)["statements"]
    assert [(r["date"], r["claim"], r["quote"]) for r in rows if r["ref"] == "S9"] == [
        ("2024-01-05", "likely after 2028", "Fixture quote: Expert A would say this.")]
    assert run("verify").exit_code == 0


def test_log_observation_and_expert_add_prompt_with_their_choices(run, seeded) -> None:
    child = spawn(seeded, "log", "observation", "--question", QUESTION, "--no-update")
    child.expect_exact("--kind - What was observed")
    child.expect_exact("[" + ", ".join(OBSERVATION_KINDS) + "]: ")  # the kinds are offered (not the old names)
    child.sendline("evnt-not-yet")
    child.expect_exact("Error: unknown observation kind 'evnt-not-yet' (did you mean 'event-not-yet'?); known: ")
    child.expect_exact("--kind")
    child.sendline("event-not-yet")
    child.expect_exact("--date")
    child.sendline("2026-11-01")
    child.expect_exact("--source")
    child.sendline("fixture, example.org")
    status, output = finish(child)
    assert status == 0 and "Logged O10: event-not-yet on 2026-11-01." in output, output

    typo = run("expert", "add", "Expert Q", "--kind", "oficial").stderr.strip()
    assert typo.startswith("Error: unknown expert kind 'oficial' (did you mean 'official'?); known: advocate, ")
    child = spawn(seeded, "expert", "add", "--affiliation", "Ruritanian Ministry")
    child.expect_exact("NAME: ")
    child.sendline("Expert A")
    child.expect_exact("--kind - Kind of source (sets the reliability prior) [official, agency, analyst, journalist, "
                       "advocate, other]: ")
    child.sendline("oficial")
    child.expect_exact(typo)  # the flag's own line, then asked again
    child.expect_exact("--kind")
    child.sendline("official")
    status, output = finish(child)
    assert status == 0 and "Added expert Expert A (official)." in output, output
    assert json.loads(run("expert", "show", "Expert A", "--json").output)["affiliation"] == "Ruritanian Ministry"
    assert run("verify").exit_code == 0


def test_a_bad_flag_is_refused_before_anything_is_asked(seeded) -> None:
    status, output = finish(spawn(seeded, "log", "statement", "--question", "russia-iss-withdrwal"))
    assert status == 2 and output.startswith("Error: unknown question 'russia-iss-withdrwal' (did you mean"), output
    assert "--expert" not in output


def test_ctrl_c_at_a_prompt_stores_nothing(seeded, db_path: Path) -> None:
    before = snapshot(db_path)
    child = spawn(seeded, "log", "statement", "--question", QUESTION)
    child.expect_exact("Tab completes]: ")
    for _ in range(3):  # a Ctrl-C typed while the prompt still sets up the terminal can be lost: type it again
        child.sendintr()
        if child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=5) == 0:
            break
    child.close()
    status, output = child.exitstatus, ANSI.sub("", child.before)
    assert status == 1 and "Error: aborted" in output and "Traceback" not in output
    assert snapshot(db_path) == before


# --- claim check ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("claim", "extra", "expected"), [
    ("likely after 2028", [], [
        "'likely after 2028' on russia-iss-withdrawal reads: Russia does not withdraw before 2029-01 (likely, p = 0.83).",
        "Interval of the event's month: 2029-01 .. open",
        "Strength: firm (weight 1); stated probability 0.83 (from 'likely').",
        "Complement: no.",
        "Weight it would get: 0.72 (said today, so no decay with age)"]),
    ("by 2027", ["--probability", "20%", "--strength", "hedged"], [
        "'by 2027' on russia-iss-withdrawal reads: Russia withdraws by 2027-12 (p = 0.2).",
        "Interval of the event's month: open .. 2027-12",
        "Strength: hedged (weight 0.5); stated probability 0.2.",
        "Complement: yes: a probability below 50% makes it a claim that the event falls outside this interval.",
        "Weight it would get: 0.32 (said today"]),  # 0.5 x |logit 0.2| / logit 0.9 = 0.5 x 1.386 / 2.197
    ("never", ["--date", "2022-07-26"], [
        "'never' on russia-iss-withdrawal reads: Russia does not withdraw within the horizon.",
        "Interval of the event's month: 2033-01 .. open (the bin after the horizon: not within it)",
        "Strength: firm (weight 1).",
        "Complement: no.",
        "Weight it would get: 0.47 (x 0.47 for its age: said 2022-07-26)"]),  # half-life 4 years
    ("by 2030", ["--probability", "1"], [
        "'by 2030' on russia-iss-withdrawal reads: Russia withdraws by 2030-12 (p = 1).",
        "Interval of the event's month: open .. 2030-12",
        "Strength: firm (weight 1); stated probability 1, counted as 0.99 (a speaker's certainty is not proof).",
        "Complement: no.",
        "Weight it would get: 2.09 (said today"]),  # |logit 0.99| / logit 0.9 = 4.595 / 2.197, not 6.3 (p = 1 - 1e-6)
    ("before 2026-06", [], [  # the seed's event-not-yet of 2026-11-23 already rules it out
        "'before 2026-06' on russia-iss-withdrawal reads: Russia withdraws by 2026-05.",
        "Interval of the event's month: open .. 2026-05",
        "Strength: firm (weight 1).",
        "Complement: no.",
        "Already decided: falsified by the observations in force, so it would count only for the expert's track "
        "record (and, as their newest claim, replace their earlier ones): check its dates.",
        "Weight it would get: 1.00 in the track record (said today"]),
    ("by 2030", ["--probability", "0%"], [
        "'by 2030' on russia-iss-withdrawal reads: Russia withdraws by 2030-12 (p = 0).",
        "Interval of the event's month: open .. 2030-12",
        "Strength: firm (weight 1); stated probability 0, counted as 0.01 (a speaker's certainty is not proof).",
        "Complement: yes: a probability below 50% makes it a claim that the event falls outside this interval.",
        "Weight it would get: 2.09 (said today"]),
])
def test_claim_check_reads_a_claim_without_storing_it(run, seeded, db_path: Path, claim, extra, expected) -> None:
    before = snapshot(db_path)
    result = run("claim", "check", claim, "--question", QUESTION, *extra)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line[: len(want)] for line, want in zip(lines, expected)] == expected
    assert lines[-1] == "Nothing was stored."
    assert snapshot(db_path) == before


PREVIEWED = re.compile(r"^Headline now: (?P<event>.+?): (?P<before>\S+), median date (?P<was>.+?)(?: \(pre-empted \S+\))?; "
                       r"with this statement: (?P<after>\S+), median date (?P<median>.+?)(?: \(pre-empted (?P<pre>\S+)\))? "
                       r"\(exact, reliabilities fixed at (?P<source>.+)\)\.$")
UPDATED = re.compile(r"^Updated headline \(exact, reliabilities fixed at (?P<source>.+?)\): (?P<event>.+?): (?P<before>\S+) "
                     r"-> (?P<after>\S+)\. Median date: (?P<was>.+?) -> (?P<median>.+?)(?: \(pre-empted (?P<pre>\S+)\))?\.$")


def headline_of(result, pattern: re.Pattern) -> dict:
    """The headline numbers of a claim check (``PREVIEWED``) or a log (``UPDATED``) as a dict."""
    (found,) = [m for m in map(pattern.match, result.output.splitlines()) if m]
    return found.groupdict()


FIXTURE = {"quote": "Expert A (fixture): an invented statement.", "source": "fixture, example.org"}


@pytest.mark.parametrize(("earlier", "checked"), [
    ([], {"expert": "Expert A", "claim": "likely after 2028"}),
    ([{"claim": "by 2030", "date": "2024-03-01"}], {"expert": "Expert A", "claim": "after 2030", "date": "2025-06-01",
                                                    "strength": "hedged"}),  # replaces Expert A's older claim
    ([{"claim": "not before 2029", "date": "2024-03-01"}],  # a restatement, by the merged name
     {"expert": "Expert B", "claim": "not before 2029", "date": "2024-03-01"}),
])
def test_claim_check_shows_the_headline_log_then_reports(run, seeded, db_path: Path, earlier, checked) -> None:
    for name in ("Expert A", "Expert B"):
        assert run("expert", "add", name, "--kind", "analyst", "--affiliation", "Fixture Institute", "--new").exit_code == 0
    assert run("expert", "merge", "Expert B", "Expert A").exit_code == 0
    for fields in earlier:
        assert run(*log_args(expert="Expert A", **fields, **FIXTURE), "--no-update").exit_code == 0
    fields = {"date": dt.date.today().isoformat(), **checked}
    before = snapshot(db_path)
    options = [arg for key, value in fields.items() if key != "claim" for arg in (f"--{key}", value)]
    checked_out = run("claim", "check", fields["claim"], "--question", QUESTION, *options)
    assert checked_out.exit_code == 0, checked_out.output
    assert snapshot(db_path) == before and run("verify").exit_code == 0
    logged = run(*log_args(**fields, **{**FIXTURE, "quote": "Expert A (fixture): invented, said again."}),
                 "--restatement")
    assert logged.exit_code == 0, logged.output
    preview, update = headline_of(checked_out, PREVIEWED), headline_of(logged, UPDATED)
    assert preview == update and preview["before"] != preview["after"], (preview, update)


@pytest.mark.parametrize("row", [
    ["log", "statement", "--question", QUESTION, "--expert", "Expert A", "--date", "2025-06-01", "--claim",
     "after 2030", "--quote", FIXTURE["quote"], "--source", FIXTURE["source"]],
    ["log", "observation", "--question", QUESTION, "--kind", "notice-given", "--date", "2026-11-01", "--effective",
     "2027-11-01", "--source", FIXTURE["source"]],
], ids=["statement", "observation"])
def test_dry_run_shows_the_whole_row_and_its_headline_and_stores_nothing(run, seeded, db_path: Path, row) -> None:
    assert run("expert", "add", "Expert A", "--kind", "analyst", "--new").exit_code == 0
    before = snapshot(db_path)
    tried = run(*row, "--dry-run")
    assert tried.exit_code == 0, tried.output
    assert tried.output.startswith("Would log ") and tried.output.endswith("Dry run: nothing was stored.\n")
    assert snapshot(db_path) == before and run("verify").exit_code == 0
    logged = run(*row)
    assert logged.exit_code == 0, logged.output
    shown, stored = (next(line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith(start))
                     for result, start in ((tried, "Headline if stored"), (logged, "Updated headline")))
    assert shown == stored and " -> " in shown
    assert tried.output.split(":", 1)[1].splitlines()[0] == logged.output.split(":", 1)[1].splitlines()[0]
    if "statement" in row:  # a claim the parser cannot read: refused as by log itself
        assert_refused(run(*[("sometime soon" if arg == "after 2030" else arg) for arg in row], "--dry-run"),
                       "Error: could not parse claim")


def test_claim_check_without_an_expert_shows_the_headline_now(run, seeded) -> None:
    result = run("claim", "check", "after 2030", "--question", QUESTION)
    (line,) = [line for line in result.output.splitlines() if line.startswith("Headline now: ")]
    assert "; with this statement: needs the expert's name (exact, reliabilities fixed at prior centres)." in line
    assert json.loads(run("claim", "check", "after 2030", "--question", QUESTION, "--json").output)["headline"]["with"] is None
    assert_refused(run("claim", "check", "after 2030", "--question", QUESTION, "--expert", "Nobody"),
                   "Error: unknown expert 'Nobody'")


@pytest.mark.parametrize("claim", ["until 2028", "sometime soon", "after 2040"])
def test_claim_check_refuses_as_log_statement_would(run, seeded, claim) -> None:
    logged = run(*log_args(claim=claim))
    assert logged.exit_code == 2
    assert_refused(run("claim", "check", claim, "--question", QUESTION), logged.stderr.strip())


# --- question new --------------------------------------------------------------------------------------------

FILLED = {'title = "TODO: When will ...?"': 'title = "When will Ruritania leave the Treaty of Zenda?"',
          'event = "TODO: Ruritania leaves the treaty"': 'event = "Ruritania leaves the treaty"',
          'criteria = """TODO: Resolves': 'criteria = """Resolves'}
BINARY = {f'title = "TODO: Will ... before {dt.date.today().year + 11}?"': 'title = "Will Ruritania leave the treaty?"',
          'event = "TODO: Ruritania leaves the treaty"': 'event = "Ruritania leaves the treaty"',
          'criteria = """TODO: Resolves yes': 'criteria = """Resolves yes'}  # a yes/no question's words
NOTICE = {"# [notice]": "[notice]", '# months = { value = 12, why = "TODO: the article': 'months = { value = 12, why = "Article 9',
          "# compliance_mean = ": "compliance_mean = "}


@pytest.mark.parametrize(("kind", "fills"), [("date", FILLED), ("binary", BINARY), ("date", {**FILLED, **NOTICE})])
def test_question_new_writes_a_template_question_add_accepts(run, tmp_path: Path, kind, fills) -> None:
    assert run(*EMPTY).exit_code == 0
    path = tmp_path / "ruritania.toml"
    written = run("question", "new", "ruritania-exit", "--kind", kind, "-o", str(path))
    assert written.output == f"Wrote {path}: replace each TODO, then: forecast question add {path}\n"
    text = path.read_text(encoding="utf-8")
    assert '# annual_hazard = { value = 0.2, why = "Roughly even odds' in text  # the recipe's numbers, commented out
    assert text.count("# annual_hazard: ") == 1 and text.count("# bind_probability: ") == 1  # a comment on each
    shipped = json.loads((PROJECT / "priors" / "learned.json").read_text())["values"]
    assert f"learned from the casebook: {shipped['recipe.annual_hazard']:.3g}" in text
    for old, new in fills.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    added = run("question", "add", str(path))
    assert added.output == "Added question ruritania-exit (version 1).\n", added.output
    shown = json.loads(run("question", "show", "ruritania-exit", "--json").output)
    assert shown["kind"] == kind and shown["date_prior"] == {  # what the casebook taught, where it taught anything
        "annual_hazard": shipped["recipe.annual_hazard"], "hazard_sd_logit": 1.2,
        "trend_per_year": shipped["recipe.trend_per_year"], "trend_sd": 0.4,
        "lapse_probability": shipped["recipe.lapse_probability"]}
    assert (shown["notice"] is None) == ("[notice]" not in fills.values())




def test_a_number_uncommented_in_the_template_overrides_only_itself(run, tmp_path: Path) -> None:
    """The store's prior set supplies what the file leaves to the recipe; a number set in the file wins."""
    assert run(*EMPTY).exit_code == 0
    path = tmp_path / "ruritania.toml"
    assert run("question", "new", "ruritania-exit", "-o", str(path)).exit_code == 0
    text = path.read_text(encoding="utf-8")
    for old, new in FILLED.items():
        text = text.replace(old, new)
    path.write_text(text.replace("# trend_per_year = { value = -0.2,", "trend_per_year = { value = -0.2,"), encoding="utf-8")
    assert run("question", "add", str(path)).exit_code == 0
    shipped = json.loads((PROJECT / "priors" / "learned.json").read_text())["values"]
    shown = json.loads(run("question", "show", "ruritania-exit", "--json").output)["date_prior"]
    assert shown["trend_per_year"] == -0.2 and shown["annual_hazard"] == shipped["recipe.annual_hazard"] != 0.2

@pytest.mark.parametrize("field", ["title", "event", "criteria"])
def test_an_unedited_template_is_refused(run, tmp_path: Path, field: str) -> None:
    """A placeholder left in any text field: one line naming it, nothing added (a question cannot be deleted)."""
    assert run(*EMPTY).exit_code == 0
    path = tmp_path / "ruritania.toml"
    assert run("question", "new", "ruritania-exit", "-o", str(path)).exit_code == 0
    text = path.read_text(encoding="utf-8")
    for old, new in FILLED.items():
        if not old.startswith(f"{field} = "):
            text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    assert_refused(run("question", "add", str(path)),
                   f"Error: {path}: the {field} still starts with 'TODO:', the template's placeholder: write the "
                   f"question's own {field} first (nothing was added)")
    assert "ruritania-exit" not in run("question", "list").output


def test_an_untouched_template_names_every_placeholder(run, tmp_path: Path) -> None:
    assert run(*EMPTY).exit_code == 0
    path = tmp_path / "ruritania.toml"
    assert run("question", "new", "ruritania-exit", "-o", str(path)).exit_code == 0
    assert_refused(run("question", "add", str(path)),
                   f"Error: {path}: the title, event and criteria still start with 'TODO:', the template's placeholder: "
                   f"write the question's own title, event and criteria first (nothing was added)")


def test_question_new_refuses_a_slug_the_store_holds(run, tmp_path: Path) -> None:
    """Adding that file would re-word the stored question: `question new` says so and writes nothing."""
    assert run("init").exit_code == 0
    path = tmp_path / "iss.toml"
    assert_refused(run("question", "new", "russia-iss-withdrawal", "-o", str(path)),
                   "Error: question 'russia-iss-withdrawal' is already in the store (`forecast question show "
                   "russia-iss-withdrawal`): to re-word it, `forecast question edit russia-iss-withdrawal`; for a new "
                   "question choose another slug")
    assert not path.exists()


def test_question_new_never_overwrites(run, tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("mine\n")
    assert_refused(run("question", "new", "mine", "-o", str(path)), f"Error: {str(path)!r} exists; choose another name")
    assert path.read_text() == "mine\n"
    assert_refused(run("question", "new", "Not A Slug", "-o", str(tmp_path / "x.toml")), "Error: malformed slug")
    assert not (tmp_path / "x.toml").exists()


def test_question_new_defaults_to_slug_toml_in_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["question", "new", "summit-held"])  # needs no store
    assert result.exit_code == 0 and (tmp_path / "summit-held.toml").is_file()
    assert not (tmp_path / "forecast.db").exists()


# --- help points to commands and docs -------------------------------------------------------------------------

def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli)], ids=" ".join)
def test_help_points_to_no_repository_path(path) -> None:
    from click.testing import CliRunner

    shown = CliRunner().invoke(cli, [*path, "--help"])
    assert shown.exit_code == 0
    text = " ".join(shown.output.split())
    for pointer in ("priors/", "observations/", "casebook/", "README", "forecast/"):
        assert pointer not in text, (path, pointer)


def test_log_observation_help_lists_every_kind() -> None:
    from click.testing import CliRunner

    shown = CliRunner().invoke(cli, ["log", "observation", "--help"]).output
    for kind in OBSERVATION_KINDS:
        assert re.search(rf"^ +{re.escape(kind)} +[a-z]", shown, re.MULTILINE), kind
    assert "[still-participating]" in shown and "forecast docs entry" in shown
