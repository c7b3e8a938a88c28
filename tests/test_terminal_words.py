"""Plain words in the terminal: show, the instant headline after log and question list lead with "Russia withdraws
by 2032-12: 24%"; beyond the horizon reads "not by 2032-12"; the spread across draws is only in labelled details;
tables are drawn by rich on a terminal and stay plain in pipes."""

from __future__ import annotations

import json

from forecast.inference.summary import plain_headline

from .conftest import QUESTION, log_args, store_exact_run
from .test_entry import finish, spawn

LEAD = "Russia withdraws by 2032-12: "


def _stored_lead(run) -> str:
    """The lead sentence worded by plain_headline from the stored run's numbers (the one rule for the wording)."""
    result = json.loads(run("show", QUESTION, "--json").output)["results"][0]
    return plain_headline(result["event"], result["headline"], result["months"][-2]).sentence


def test_show_leads_with_the_plain_sentence(run, seeded) -> None:
    store_exact_run(seeded)
    lines = run("show", QUESTION).output.splitlines()
    title = lines.index(f"{QUESTION}: When will Russia withdraw from the International Space Station?")
    assert lines[title + 1] == "  " + _stored_lead(run)
    assert lines[title + 1].startswith("  " + LEAD) and "Median date: " in lines[title + 1]
    assert "    Pre-empted (The ISS is retired first, by 2032-12): " in "\n".join(lines)
    assert "  When it happens (credible intervals of the month):" in lines
    assert "not within the horizon" not in "\n".join(lines) and "P(" not in "\n".join(lines[:title + 20])
    assert "draws:" not in "\n".join(lines)  # an exact run has no spread across draws to report


def test_a_sampled_run_reports_the_spread_across_draws_in_labelled_details(fitted_db) -> None:
    from .conftest import invoke

    lines = invoke(fitted_db, "show", QUESTION).output.splitlines()
    label = lines.index("  How settled each probability is (middle 80% of its values across the model's draws):")
    lead = next(i for i, line in enumerate(lines) if line.startswith("  " + LEAD))
    assert lead < label and "(80% of draws: " not in lines[lead]  # the spread stays out of the headline sentence
    assert lines[label + 1].startswith("    " + LEAD) and "(80% of draws: " in lines[label + 1]


def test_the_instant_headline_after_log_is_plain_words(run, seeded) -> None:
    logged = run(*log_args()).output.splitlines()
    assert logged[2].startswith("Updated headline (exact, reliabilities fixed at prior centres): " + LEAD)
    assert "Median date: " in logged[2] and "not within the horizon" not in logged[2]


def test_question_list_leads_with_the_plain_sentence(run, seeded) -> None:
    store_exact_run(seeded)
    rows = {r["slug"]: r for r in json.loads(run("question", "list", "--json").output)}
    assert rows[QUESTION]["headline"] == _stored_lead(run).split(".")[0]
    assert rows["iss-retirement"]["headline"].startswith("The ISS is retired by 2032-12: ")
    table = run("question", "list").output.splitlines()
    assert table[1].startswith("---") and "─" not in "\n".join(table)  # plain in a pipe
    assert any(rows[QUESTION]["headline"] in line for line in table)  # the headline column is never cut


def test_tables_are_drawn_by_rich_on_a_terminal(seeded) -> None:
    store_exact_run(seeded)
    status, output = finish(spawn(seeded, "question", "list"))
    assert status == 0
    assert "─" * 20 in output and LEAD in output
    assert output.splitlines()[0].split() == ["slug", "status", "headline", "last_change", "evidence", "tags", "title", "due"]
