"""Correction and explanation through the CLI: evidence show / edit, probable duplicates, close expert names, the
headline before -> after with its reasons, and weights and status words in lists and reports."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys

import pytest

from forecast.inference.dependence import expected_share

from .conftest import OFFICIAL, PROJECT, QUESTION, REPORTER, assert_refused, log_args, query, snapshot, store_exact_run

HEADLINE = re.compile(r"^Updated headline \(exact, reliabilities fixed at prior centres\): Russia withdraws by 2032-12: "
                      r"(\d+\.\d)% -> (\d+\.\d)%\. Median date: (\S+(?: by 2032-12)?) -> (\S+(?: by 2032-12)?)")


def listed(run, *args: str) -> dict[str, dict]:
    return {row["ref"]: row for row in json.loads(run("evidence", "list", "--json", *args).output)}


def shown(run, ref: str) -> dict:
    result = run("evidence", "show", ref, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def headline(result) -> tuple[float, float]:
    """(P before, P after) from a write's headline line."""
    line = next(line for line in result.output.splitlines() if line.startswith("Updated headline"))
    match = HEADLINE.match(line)
    assert match, line
    return float(match.group(1)), float(match.group(2))


def why(result) -> list[str]:
    (line,) = [line for line in result.output.splitlines() if line.startswith("Why: ")]
    return line.removeprefix("Why: ").removesuffix(".").split("; ")


def test_no_row_the_model_ignores_is_active(run, seeded) -> None:
    rows = listed(run)
    assert rows and all(r["weight"] > 0 for r in rows.values() if r["status"] == "active" and r["type"] == "statement")
    assert rows["S2"]["status"] == "decided: falsified"  # Logsdon's 'by 2024'
    assert rows["S1"]["status"] == "decided: borne out"  # Borisov's 'after 2024'
    assert "decided: falsified" in run("evidence", "list").output
    assert run(*log_args(claim="until at least 2030", date="2022-08-01"), "--no-update").exit_code == 0
    assert run(*log_args(claim="in 2029")).exit_code == 0  # the expert's newer claim replaces 'until at least 2030'
    rows = listed(run)
    assert (rows["S9"]["status"], rows["S9"]["weight"]) == ("replaced by S10 (newer claim)", 0.0)
    assert rows["S10"]["status"] == "active" and rows["S10"]["weight"] > 0
    table = run("expert", "show", REPORTER).output
    assert "replaced by S10 (newer claim)" in table and "active" in table


def test_probable_duplicate_is_refused_naming_the_row(run, seeded) -> None:
    assert run(*log_args()).exit_code == 0
    before = snapshot(run.db)
    again = run(*log_args(quote="Other words for the same position (fixture)."))
    assert_refused(again, f"Error: probable duplicate of S9 ({REPORTER} on 2023-04-01, 'not before 2028')")
    assert snapshot(run.db) == before
    other_day = run(*log_args(date="2023-04-02", quote="Said again the next day (fixture)."))
    assert other_day.exit_code == 0, other_day.output
    restated = run(*log_args(quote="Other words for the same position (fixture)."), "--restatement")
    assert restated.exit_code == 0, restated.output
    assert "restates S9" in why(restated)
    assert listed(run)["S11"]["status"] == "restatement of S9"


@pytest.mark.parametrize(("logged_as", "change", "logging_as", "named"), [
    ("Expert B", ["merge", "Expert B", "Expert A"], "Expert A", "Expert A"),  # a row of the merged-away name
    ("Expert A", ["merge", "Expert B", "Expert A"], "Expert B", "Expert A"),
    ("Expert B", ["rename", "Expert B", "Expert Bee"], "Expert Bee", "Expert Bee"),
])
def test_probable_duplicate_follows_merges_and_renames(run, seeded, logged_as, change, logging_as, named) -> None:
    for name in ("Expert A", "Expert B"):
        assert run("expert", "add", name, "--kind", "analyst", "--new").exit_code == 0
    assert run(*log_args(expert=logged_as, quote="Expert (fixture): an invented position.")).exit_code == 0
    assert run("expert", *change).exit_code == 0
    before = snapshot(run.db)
    again = log_args(expert=logging_as, quote="Expert (fixture): the same position, other words.")
    assert_refused(run(*again), f"Error: probable duplicate of S9 ({named} on 2023-04-01, 'not before 2028')")
    assert snapshot(run.db) == before
    restated = run(*again, "--restatement", "--no-update")
    assert restated.exit_code == 0, restated.output
    assert listed(run)["S10"]["status"] == "restatement of S9" and run("verify").exit_code == 0


def test_headline_shows_before_after_and_reasons(run, seeded) -> None:
    colleague = run("expert", "add", "Spokesperson Z", "--kind", "official", "--affiliation", "Fixture Agency")
    assert colleague.exit_code == 0, colleague.output  # of the same agency as OFFICIAL
    first = run(*log_args(expert=OFFICIAL, claim="not before 2030", date="2023-05-01"))
    assert first.exit_code == 0, first.output
    _, after_first = headline(first)
    assert why(first)[0].startswith("S9 counts ")
    second = run(*log_args(expert="Spokesperson Z", claim="not before 2029", date="2023-05-02"))
    before_second, after_second = headline(second)
    assert before_second == after_first and after_second != before_second
    share = 2 * expected_share(2, 0.5, 0.2)
    assert f"Fixture Agency: 2 speakers count as {share:.1f}" in why(second)
    weight = listed(run)["S10"]["weight"]
    assert why(second)[0].startswith(f"S10 counts {weight:.2f} after the rules that follow (")  # shared with a colleague
    assert "for its strength and stated probability" in why(second)[0]
    observed = run("log", "observation", "--question", QUESTION, "--kind", "event-not-yet", "--date", "2024-01-15",
                   "--source", "fixture, example.org")
    assert observed.exit_code == 0 and HEADLINE.match(observed.output.splitlines()[1]), observed.output


def test_evidence_show_one_row_whole(run, seeded) -> None:
    record = shown(run, "S2")
    assert (record["expert"], record["claim"], record["status"]) == ("John Logsdon", "by 2024", "decided: falsified")
    assert [r["rule"] for r in record["rules"]] == ["weight", "decided"]
    assert record["weight"] == listed(run)["S2"]["weight"] and record["author"] == listed(run)["S2"]["author"]
    assert (record["supersedes"], record["superseded_by"]) == ([], [])
    table = run("evidence", "show", "S2").output
    assert f"\nauthor             {record['author']}\n" in table and "logged_by" not in table and "rules applied:\n  - S2 counts " in table
    assert "  - decided: falsified (counts only for the expert's track record)" in table
    observation = shown(run, "O1")
    assert observation["type"] == "observation" and observation["weight"] is None and observation["rules"] == []
    assert_refused(run("evidence", "show", "S99"), "Error: no evidence 'S99' in the store")
    assert_refused(run("evidence", "show", "X1"), "Error: malformed evidence reference 'X1'")


def fictional_row(run) -> str:
    """S9: a statement of the fictional REPORTER to correct (a real expert's row is not given invented words)."""
    assert run(*log_args(claim="until at least 2030", date="2022-07-26"), "--no-update").exit_code == 0
    return "S9"


def test_the_why_of_an_edit_that_moves_a_statement_to_another_expert_names_every_row_it_changed(run, seeded) -> None:
    """Moving the reporter's newest claim to the official: the reporter's older claim counts again, the official's
    older one is now replaced by the moved row; each is named, grouped by its new status."""
    for expert, claim, date in ((REPORTER, "until at least 2030", "2022-08-01"), (OFFICIAL, "by 2031", "2023-01-01"),
                                (REPORTER, "in 2029", "2023-06-01")):
        assert run(*log_args(expert=expert, claim=claim, date=date), "--no-update").exit_code == 0
    assert listed(run)["S9"]["status"] == "replaced by S11 (newer claim)"
    edited = run("evidence", "edit", "S11", "--expert", OFFICIAL, "--yes")
    assert edited.exit_code == 0, edited.output
    reasons = why(edited)
    assert reasons[0].startswith("S12 counts ") and reasons[1:4] == [
        "supersedes S11", "S9 now active", "S10 now replaced by S12 (newer claim)"], reasons


def test_edit_logs_a_superseding_row_with_only_the_changed_fields(run, seeded) -> None:
    old = shown(run, fictional_row(run))
    edited = run("evidence", "edit", "S9", "--claim", "until at least 2031", "--yes")
    assert edited.exit_code == 0, edited.output
    lines = edited.output.splitlines()
    assert lines[:3] == ["Correction of S9:", "  claim: 'until at least 2030' -> 'until at least 2031'",
                         "Logged S10, superseding S9."]
    assert "supersedes S9" in why(edited)
    new, old_now = shown(run, "S10"), shown(run, "S9")
    changed = {k for k in old if old[k] != new[k]}
    assert changed == {"ref", "claim", "interval", "logged_at", "rules", "supersedes"}  # same weight: no rule ties it
    assert (new["supersedes"], old_now["superseded_by"], old_now["status"]) == (["S9"], ["S10"], "superseded by S10")
    assert old_now["weight"] == 0.0 and old_now["rules"][0]["text"] == "corrected by S10: out of the model"
    again = run("evidence", "edit", "S10", "--date", "2022-07", "--quote", "A corrected fixture quote.", "--yes")
    assert again.exit_code == 0, again.output
    assert (shown(run, "S11")["date"], shown(run, "S11")["date_precision"]) == ("2022-07-01", "month")
    assert shown(run, "S9")["superseded_by"] == ["S10", "S11"] and shown(run, "S11")["supersedes"] == ["S9", "S10"]
    assert "all as forecast wrote them" in run("verify").output


def test_edit_changes_what_is_not_the_rows_content_too(run, seeded) -> None:
    """Probability, strength, paraphrase, URL and expert; a second revision of the same content; verify passes."""
    fictional_row(run)
    first = run("evidence", "edit", "S9", "--probability", "70%", "--url", "https://example.org/first", "--yes")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[:4] == ["Correction of S9:", "  probability: 'None' -> '0.7'",
                                             "  url: '' -> 'https://example.org/first'", "Logged S10, superseding S9."]
    second = run("evidence", "edit", "S10", "--probability", "0.6", "--strength", "hedged", "--paraphrase",
                 "--expert", OFFICIAL, "--yes", "--no-update")
    assert second.exit_code == 0, second.output
    assert sorted(second.output.splitlines()[1:5]) == [f"  expert: '{REPORTER}' -> '{OFFICIAL}'",
                                                       "  probability: '0.7' -> '0.6'",
                                                       "  quote_kind: 'verbatim' -> 'paraphrase'",
                                                       "  strength: 'firm' -> 'hedged'"]
    third = run("evidence", "edit", "S11", "--expert", REPORTER, "--yes", "--no-update")  # back: S9's content again
    assert third.exit_code == 0, third.output
    rows = {ref: shown(run, ref) for ref in ("S9", "S10", "S11", "S12")}
    assert [(r["expert"], r["probability"], r["strength"], r["quote_kind"], r["url"]) for r in rows.values()] == [
        (REPORTER, None, "firm", "verbatim", ""), (REPORTER, 0.7, "firm", "verbatim", "https://example.org/first"),
        (OFFICIAL, 0.6, "hedged", "paraphrase", "https://example.org/first"),
        (REPORTER, 0.6, "hedged", "paraphrase", "https://example.org/first")]
    assert rows["S12"]["supersedes"] == ["S9", "S10", "S11"] and rows["S12"]["status"] == "active"
    assert "all as forecast wrote them" in run("verify").output


def test_an_observations_url_and_effective_date_can_be_corrected(run, seeded) -> None:
    logged = run("log", "observation", "--question", QUESTION, "--kind", "notice-given", "--date", "2026-11-02",
                 "--effective", "2026-12", "--source", "fixture, example.org", "--no-update")  # a month: its first day
    assert logged.exit_code == 0 and "Note: the effective date 2026-12-01" in logged.output, logged.output
    assert ": notice-given on 2026-11-02, taking effect 2026-12-01.\n" in logged.output
    ref = re.search(r"Logged (O\d+)", logged.output).group(1)
    assert shown(run, ref)["effective_on"] == "2026-12-01"
    edited = run("evidence", "edit", ref, "--effective", "2027-11-02", "--url", "https://example.org/notice", "--yes",
                 "--no-update")
    assert edited.exit_code == 0, edited.output
    new = re.search(r"Logged (O\d+)", edited.output).group(1)
    assert (shown(run, new)["effective_on"], shown(run, new)["url"]) == ("2027-11-02", "https://example.org/notice")
    assert "all as forecast wrote them" in run("verify").output


def test_a_correction_that_changes_nothing_is_refused(run, seeded) -> None:
    fictional_row(run)
    before = snapshot(run.db)
    assert_refused(run(*log_args(claim="until at least 2030", date="2022-07-26"), "--supersedes", "S9", "--no-update"),
                   "Error: S9 already says all of this: a correction changes at least one field")
    assert snapshot(run.db) == before


@pytest.mark.parametrize(("args", "message"), [
    (["S3", "--claim", "after 2030"], "Error: evidence edit asks before storing, and this is not a terminal"),
    (["S3", "--probability", "1.5", "--yes"], "Error: stated probability 1.5 is ambiguous"),
    (["S3", "--url", "not a url", "--yes"], "Error: url 'not a url' is not a web address"),
    (["S3", "--expert", "Nobody Such", "--yes"], "Error: unknown expert 'Nobody Such'"),
    (["S3", "--effective", "2027-01-01", "--yes"], "Error: S3 is a statement: --effective does not apply"),
    (["O1", "--paraphrase", "--yes"], "Error: O1 is an observation: --paraphrase/--verbatim does not apply"),
    (["S3", "--claim", "until at least 2030", "--yes"], "Error: nothing to change in S3"),
    (["S3", "--note", "x", "--yes"], "Error: S3 is a statement: --note does not apply"),
    (["O1", "--claim", "after 2030", "--yes"], "Error: O1 is an observation: --claim does not apply"),
    (["S3", "--claim", "after 2040", "--yes"], "Error: claim 'after 2040'"),
    (["S9", "--claim", "after 2030", "--yes"], "Error: no evidence 'S9' in the store"),
])
def test_edit_refusals_store_nothing(run, seeded, args, message) -> None:
    before = snapshot(run.db)
    assert_refused(run("evidence", "edit", *args), message)
    assert snapshot(run.db) == before


def test_edit_of_a_corrected_row_names_the_newer_one(run, seeded) -> None:
    assert run("evidence", "edit", "O1", "--note", "A corrected fixture note.", "--yes").exit_code == 0
    assert_refused(run("evidence", "edit", "O1", "--note", "Again.", "--yes"),
                   "Error: O1 is superseded by O10: edit O10 instead")


def test_edit_of_an_old_or_retracted_row_names_the_live_one(run, seeded) -> None:
    fictional_row(run)
    for ref, change in (("S9", "0.6"), ("S10", "0.7")):
        assert run("evidence", "edit", ref, "--probability", change, "--yes", "--no-update").exit_code == 0
    assert_refused(run("evidence", "edit", "S9", "--probability", "0.8", "--yes"),
                   "Error: S9 is superseded by S11 (through later corrections): edit S11 instead")
    assert_refused(run(*log_args(claim="until at least 2031", date="2022-07-26"), "--supersedes", "S9"),
                   "Error: S9 is superseded by S11 (through later corrections): edit S11 instead")
    assert run("retract", "S11", "--reason", "the fixture was wrong").exit_code == 0
    assert_refused(run("evidence", "edit", "S11", "--probability", "0.8", "--yes"),
                   "Error: S11 was retracted (the fixture was wrong): log a new row instead")
    assert_refused(run("evidence", "edit", "S9", "--probability", "0.8", "--yes"),
                   "Error: S9 was corrected by S11, which was retracted (the fixture was wrong): log a new row instead")


def test_close_expert_name_needs_new_in_a_pipe(run, seeded) -> None:
    assert run("expert", "add", "Agency A press service", "--kind", "agency").exit_code == 0
    before = snapshot(run.db)
    for name in ("Agency A", "agency-a Press Service.", "Agency A press servce"):
        assert_refused(run("expert", "add", name, "--kind", "agency"),
                       f"Error: {name!r} is close to the existing expert 'Agency A press service'")
    assert snapshot(run.db) == before
    added = run("expert", "add", "Agency A", "--kind", "agency", "--new")
    assert added.output == "Added expert Agency A (agency).\n"
    assert run("expert", "add", "Expert Q", "--kind", "analyst").exit_code == 0  # nothing close: no question


def test_names_are_compared_as_experts_are_named_now(run, seeded) -> None:
    """After a rename, a close new name is refused naming the expert as it is called now; a rename to a name close
    to another expert's is refused too, unless --distinct."""
    assert run("expert", "add", "Agency A press service", "--kind", "agency").exit_code == 0
    assert run("expert", "rename", "Agency A press service", "Agency B newsroom").exit_code == 0
    assert_refused(run("expert", "add", "Agency B newsrom", "--kind", "agency"),
                   "Error: 'Agency B newsrom' is close to the existing expert 'Agency B newsroom'")
    assert_refused(run("expert", "add", "Agency A press servce", "--kind", "agency"),  # the earlier name answers
                   "Error: 'Agency A press servce' is close to the existing expert 'Agency B newsroom'")
    assert run("expert", "add", "Expert Q", "--kind", "analyst").exit_code == 0
    before = snapshot(run.db)
    assert_refused(run("expert", "rename", "Expert Q", "Agency B newsrooms"),
                   "Error: 'Agency B newsrooms' is close to the name of another expert, 'Agency B newsroom': to make "
                   "them one, use `forecast expert merge`; if they are different people, pass --distinct")
    assert snapshot(run.db) == before
    assert run("expert", "rename", "Expert Q", "Expert Quinn").exit_code == 0  # close to its own name only: a rename
    renamed = run("expert", "rename", "Expert Quinn", "Agency B newsrooms", "--distinct")
    assert renamed.output == "Renamed Expert Quinn to Agency B newsrooms.\n"


def test_report_rows_carry_the_model_status(run, seeded, tmp_path) -> None:
    assert run(*log_args(claim="until at least 2030", date="2022-08-01"), "--no-update").exit_code == 0
    assert run(*log_args(claim="in 2029"), "--no-update").exit_code == 0
    store_exact_run(run.db)
    out = tmp_path / "reports"
    assert run("report", QUESTION, "--out", str(out), "--quiet").exit_code == 0
    (md_path,) = out.glob(f"{QUESTION}-*.md")
    markdown = md_path.read_text()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in markdown.splitlines() if line.startswith("| S")}
    assert "replaced by S10 (newer claim)" in rows["S9"] and "decided: falsified" in rows["S2"]
    assert " active " in rows["S10"] and " active " not in rows["S9"]
    html = md_path.with_suffix(".html").read_text()
    assert '<span class="falsified">decided: falsified</span>' in html


def dialogue(db: str, args: list[str], answer: str) -> tuple[int, str]:
    """Run ``forecast --db DB ARGS`` on a pseudo-terminal, answer its [y/N] question; (exit code, all it printed)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "forecast", "--db", db, *args], stdin=follower, stdout=follower,
                            stderr=follower, cwd=PROJECT, close_fds=True)
    os.close(follower)
    text, answered = b"", False
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError(f"no prompt: {text!r}")
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        text += chunk
        if not answered and b"[y/N]" in text:
            os.write(leader, f"{answer}\n".encode())
            answered = True
    os.close(leader)
    return proc.wait(), text.decode(errors="replace").replace("\r\n", "\n")


@pytest.mark.parametrize(("answer", "stored"), [("y", True), ("n", False)])
def test_edit_asks_on_a_terminal(run, seeded, answer, stored) -> None:
    code, text = dialogue(run.db, ["evidence", "edit", fictional_row(run), "--claim", "until at least 2031"], answer)
    assert "claim: 'until at least 2030' -> 'until at least 2031'" in text
    assert "Log it as a new row superseding the old one? [y/N]" in text
    assert (code, "Logged S10, superseding S9." in text) == ((0, True) if stored else (1, False)), text
    assert (shown(run, "S9")["superseded_by"] == ["S10"]) is stored


@pytest.mark.parametrize(("answer", "stored"), [("y", True), ("n", False)])
def test_close_expert_asks_on_a_terminal(run, seeded, answer, stored) -> None:
    code, text = dialogue(run.db, ["expert", "add", "Yuri Borisow", "--kind", "official"], answer)
    assert "'Yuri Borisow' is close to the existing expert Yury Borisov. Add it as another expert? [y/N]" in text
    names = [e["name"] for e in json.loads(run("expert", "list", "--json").output)]
    assert ("Yuri Borisow" in names) is stored and code == (0 if stored else 1)


def test_rename_keeps_the_history_and_verify_passes(run, seeded) -> None:
    assert run("expert", "add", "Expert Q", "--kind", "analyst").exit_code == 0
    assert run(*log_args(expert="Expert Q", quote="A fixture quote.")).exit_code == 0
    renamed = run("expert", "rename", "Expert Q", "Expert Quinn", "--note", "fixture: the full name", "--by", "Analyst B")
    assert renamed.output == "Renamed Expert Q to Expert Quinn.\n"
    record = shown(run, "S9")
    assert (record["expert"], record["named_as"]) == ("Expert Quinn", "Expert Q")
    assert listed(run, "--expert", "Expert Q")["S9"]["expert"] == "Expert Quinn"  # the old name still answers
    expert = json.loads(run("expert", "show", "expert quinn", "--json").output)
    assert (expert["name"], expert["aliases"]) == ("Expert Quinn", ["Expert Q"])
    assert expert["history"][0].endswith("Expert Q renamed Expert Quinn (by Analyst B)")
    verified = run("verify")
    assert verified.exit_code == 0 and "1 expert change(s)" in verified.output
    assert_refused(run("expert", "rename", "Expert Quinn", "Zak"),
                   "Error: 'Zak' is already the name of the expert 'Anatoly Zak'")
    assert_refused(run("expert", "rename", "Nobody", "Somebody"), "Error: unknown expert 'Nobody'")
    assert_refused(run("expert", "rename", OFFICIAL, OFFICIAL.replace(" ", "  ")),
                   f"Error: '{OFFICIAL.replace(' ', '  ')}' differs from '{OFFICIAL}' only in spacing")
    assert run("expert", "rename", OFFICIAL, OFFICIAL.upper()).exit_code == 0  # a case fix is a rename


def test_merge_counts_one_expert_as_the_other(run, seeded) -> None:
    assert run("expert", "add", "Agency A", "--kind", "official", "--affiliation", "Agency A").exit_code == 0
    assert run(*log_args(expert="Agency A", claim="in 2029")).exit_code == 0
    assert run(*log_args(claim="until at least 2030", date="2022-08-01"), "--no-update").exit_code == 0
    assert run(*log_args(claim="not before 2031", date="2023-05-01")).exit_code == 0
    before = listed(run)
    assert before["S9"]["status"] == "active" and before["S10"]["status"] == "replaced by S11 (newer claim)"
    merged = run("expert", "merge", "Agency A", REPORTER)
    assert merged.output == (f"Merged Agency A into {REPORTER}.\nNote: 'Agency A' (official) and '{REPORTER}' "
                             f"(journalist) differ in kind: from now on the statements of 'Agency A' count with the "
                             f"journalist reliability prior.\n")
    after = listed(run)
    assert after["S9"]["expert"] == REPORTER and after["S9"]["status"] == "replaced by S11 (newer claim)"
    assert shown(run, "S9")["named_as"] == "Agency A"
    names = [e["name"] for e in json.loads(run("expert", "list", "--json").output)]
    assert "Agency A" not in names and REPORTER in names
    survivor = json.loads(run("expert", "show", "Agency A", "--json").output)
    assert survivor["name"] == REPORTER and {s["ref"] for s in survivor["statements"]} >= {"S9", "S10", "S11"}
    assert "all as forecast wrote them" in run("verify").output
    assert_refused(run("expert", "merge", "Agency A", REPORTER),
                   f"Error: 'Agency A' and '{REPORTER}' are already the same expert")
    before = snapshot(run.db)  # the merged name now answers as the reporter: it must not carry the reporter off
    assert_refused(run("expert", "merge", "Agency A", OFFICIAL),
                   f"Error: 'Agency A' was merged into '{REPORTER}' before, so this would fold '{REPORTER}' and all "
                   f"its statements into '{OFFICIAL}': name it '{REPORTER}' if that is what you mean")
    assert snapshot(run.db) == before


def test_retraction_and_observation_headlines_say_what_changed(run, seeded) -> None:
    assert run("retract", "S4", "--reason", "fixture: a test", "--no-update").output == "Retracted S4.\n"
    assert run(*log_args(claim="in 2026", quote="A fixture quote.")).exit_code == 0
    weight = listed(run)["S9"]["weight"]
    retracted = run("retract", "S9", "--reason", "fixture: a test")
    assert retracted.output.startswith("Retracted S9.\nUpdated headline")
    assert why(retracted)[0] == f"S9 retracted: out of the model (it counted {weight:.2f})"
    assert weight > 0 and headline(retracted)[0] != headline(retracted)[1]
    assert run(*log_args(claim="in 2026", quote="Another fixture quote.")).exit_code == 0
    observed = run("log", "observation", "--question", QUESTION, "--kind", "event", "--date", "2026-11-30",
                   "--source", "fixture, example.org")  # a fictional event: it decides the open claims
    assert headline(observed)[1] == 100.0
    assert why(observed) == ["S3, S6, S7 now decided: falsified", "S5, S10 now decided: borne out"]  # grouped
    assert (listed(run)["S3"]["status"], listed(run)["S10"]["status"]) == ("decided: falsified", "decided: borne out")


@pytest.mark.parametrize("tampering", ["UPDATE expert_change SET name = 'Someone else'", "DELETE FROM expert_change"])
def test_verify_catches_an_expert_change_made_outside_forecast(run, seeded, tampering) -> None:
    assert run("expert", "rename", "Zak", "Anatoly Z.").exit_code == 0
    query(run.db, tampering)
    verified = run("verify")
    assert verified.exit_code == 2 and "expert change #1 was" in verified.output, verified.output


def track(run, name: str) -> dict:
    shown_expert = run("expert", "show", name, "--json")
    assert shown_expert.exit_code == 0, shown_expert.output
    return json.loads(shown_expert.output)["track_record"]


@pytest.mark.parametrize("change", [["merge", "Expert B", "Expert A"], ["merge", "Expert A", "Expert B"]])
def test_track_record_follows_a_merge(run, seeded, change) -> None:
    kept = change[2]
    assert run("expert", "add", "Expert A", "--kind", "analyst", "--new").exit_code == 0
    assert run("expert", "add", "Expert B", "--kind", "journalist", "--new").exit_code == 0
    fixture = {"quote": "Expert (fixture): an invented claim.", "source": "fixture, example.org"}
    for expert, claim in (("Expert A", "by 2024"), ("Expert B", "after 2024"), ("Expert B", "not before 2031")):
        assert run(*log_args(expert=expert, claim=claim, date="2022-08-01", **fixture), "--no-update").exit_code == 0
    store_exact_run(run.db)  # its reliabilities name Expert A and Expert B
    apart = {name: track(run, name) for name in ("Expert A", "Expert B")}
    assert (apart["Expert A"]["borne_out"], apart["Expert A"]["falsified"], apart["Expert A"]["open"]) == (0, 1, 0)
    assert (apart["Expert B"]["borne_out"], apart["Expert B"]["falsified"], apart["Expert B"]["open"]) == (1, 0, 1)
    assert run("expert", *change).exit_code == 0
    merged = track(run, change[1])  # the merged-away name answers for the surviving expert
    assert merged == track(run, kept) and merged["expert"] == kept
    assert (merged["borne_out"], merged["falsified"], merged["open"], merged["hit_rate"]) == (1, 1, 1, 0.5)
    assert merged["reliability_over_time"] == apart[kept]["reliability_over_time"]  # the survivor's own, run 1
    scored = {e["expert"]: e for e in json.loads(run("score", "--json").output)["experts"]}
    assert change[1] not in scored and scored[kept] == merged
    assert "1 borne out, 1 falsified, 1 open (hit rate 0.50); reliability now" in run("expert", "show", kept).output
    learned = [{"expert": kept, "mean": 0.9}, {"expert": change[1], "mean": 0.1}]  # a run from before the merge
    for order in (learned, learned[::-1]):
        assert exact_reliabilities(run.db, order)[kept] == 0.9  # the surviving expert's own


def exact_reliabilities(db: str, learned: list[dict]) -> dict[str, float]:
    """The reliabilities the exact path fixes from a run's ``learned`` means, by current expert name."""
    from forecast.domain.experts import identities
    from forecast.domain.questions import store_priors
    from forecast.inference.dataset import build_dataset
    from forecast.runs.views import fixed_reliability
    from forecast.store import open_store

    with open_store(db).reader() as session:
        priors = store_priors(session)
        data = build_dataset(session, priors)
        return dict(zip(data.experts, fixed_reliability(data, priors, learned, identities(session))))


def test_a_renamed_expert_keeps_its_learned_reliability(run, seeded) -> None:
    assert run("expert", "add", "Expert A", "--kind", "analyst").exit_code == 0
    assert run(*log_args(expert="Expert A", quote="Expert A (fixture): an invented claim."), "--no-update").exit_code == 0
    store_exact_run(run.db)
    before = track(run, "Expert A")["reliability_over_time"]
    assert run("expert", "rename", "Expert A", "Expert Alpha").exit_code == 0
    assert track(run, "Expert Alpha")["reliability_over_time"] == before and len(before) == 1
    learned = [{"expert": "Expert A", "mean": 0.99}]  # a run made before the rename names the old name
    assert exact_reliabilities(run.db, learned)["Expert Alpha"] == 0.99


def _run_said(db: str, run_id: int) -> str:
    """The stored run's P(by the horizon's end) as the note words it."""
    (headline_json,) = query(db, "SELECT r.headline FROM forecast_result r JOIN question q ON q.id = r.question_id "
                                 f"WHERE r.run_id = {run_id} AND q.slug = '{QUESTION}'")[0]
    headline = headline_json if isinstance(headline_json, dict) else json.loads(headline_json)  # PostgreSQL: JSON
    return f"{100 * (1 - headline['not_within_horizon']):.0f}%"


@pytest.mark.parametrize(("as_of", "noted"), [(None, False), ("2021-01-01", True)], ids=["run-today", "run-of-2021"])
def test_a_log_notes_a_run_far_from_the_instant_headline(run, seeded, as_of, noted) -> None:
    """The instant headline stands in for the last full run; when the two are 2 points or more apart (here: a run
    as of 2021, before most of the evidence), the log says what the run said and why they differ."""
    import datetime as dt

    store_exact_run(run.db, as_of=dt.date.fromisoformat(as_of) if as_of else None)
    logged = run(*log_args(claim="in 2029"))
    assert logged.exit_code == 0, logged.output
    notes = [line for line in logged.output.splitlines() if line.startswith("Note: Run ")]
    if not noted:  # the run has the same evidence and reliabilities as the instant headline
        assert notes == []
        return
    assert notes == [f"Note: Run 1 (as of {as_of}) itself said {_run_said(run.db, 1)}; the two differ by any evidence "
                     "logged since that run and because a full run also weighs how uncertain each reliability is. "
                     "`forecast run` re-forecasts."]
