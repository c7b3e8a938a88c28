"""Questions as data: add, re-version, list and show questions; generic observations and notice rules; binary questions."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from .conftest import EMPTY, assert_refused, snapshot

TREATY = """
[question]
slug = "{slug}"
title = "{title}"
kind = "{kind}"
event = "Ruritania leaves the treaty"
horizon_start = "{start}"
horizon_end = "{end}"
criteria = "Resolves to the month Ruritania's withdrawal takes effect."
tags = [{tags}]
{extra}
[date_prior]
annual_hazard = {{ value = 0.2, why = "test" }}
hazard_sd_logit = {{ value = 0.5, why = "test" }}
trend_per_year = {{ value = 0.0, why = "test" }}
trend_sd = {{ value = 0.2, why = "test" }}
{notice}"""
NOTICE = """
[notice]
months = {{ value = {months}, why = "Article 9: withdrawal takes effect {months} months after notice." }}
{earliest}"""


def question_file(tmp_path: Path, slug: str = "ruritania-exit", *, title: str = "When will Ruritania leave?",
                  kind: str = "date", start: str = "2018-01", end: str = "2023-12", tags: str = '"treaty", "test"',
                  months: int | None = 24, earliest: str = "", extra: str = "") -> Path:
    notice = "" if months is None else NOTICE.format(months=months, earliest=earliest)
    path = tmp_path / f"{slug}-{len(list(tmp_path.glob('*.toml')))}.toml"
    path.write_text(TREATY.format(slug=slug, title=title, kind=kind, start=start, end=end, tags=tags, extra=extra,
                                  notice=notice))
    return path


@pytest.fixture
def added(run, tmp_path: Path) -> Path:
    assert run(*EMPTY).exit_code == 0
    result = run("question", "add", str(question_file(tmp_path)))
    assert (result.exit_code, result.output) == (0, "Added question ruritania-exit (version 1).\n")
    return tmp_path


@pytest.mark.every_backend
def test_add_then_re_add_is_versioned_never_silently_ignored(run, added: Path) -> None:
    same = run("question", "add", str(question_file(added)))
    assert same.output == "Question ruritania-exit is unchanged (version 1).\n"
    reworded = run("question", "add", str(question_file(added, title="When will Ruritania quit?")), "--note", "wording")
    assert reworded.output == "Updated question ruritania-exit to version 2.\n"
    edited = run("question", "edit", "ruritania-exit", "--tag", "europe", "--note", "tags")
    assert edited.output == "Updated question ruritania-exit to version 3.\n"
    shown = json.loads(run("question", "show", "ruritania-exit", "--json").output)
    assert [(v["version"], v["note"], v["title"]) for v in shown["versions"]] == [
        (1, "", "When will Ruritania leave?"), (2, "wording", "When will Ruritania quit?"),
        (3, "tags", "When will Ruritania quit?")]
    assert shown["tags"] == ["europe"] and shown["notice"]["months"] == 24
    assert shown["definition"]["notice"]["months"]["why"].startswith("Article 9")


@pytest.mark.parametrize(("change", "message"), [
    ({"end": "2024-12"}, "Error: {path}: the horizon of 'ruritania-exit' differs from the store's"),
    ({"months": 12}, "Error: {path}: notice of 'ruritania-exit' differ from the store's; forecasts depend on them"),
    ({"kind": "binary"}, "Error: {path}: kind of 'ruritania-exit' differ from the store's"),
    ({"slug": "../evil"}, "Error: {path}: [question] slug '../evil' must be lower-case"),
    ({"extra": "colour = \"red\""}, "Error: {path}: [question]: unknown key 'colour'"),
])
def test_changes_that_move_forecasts_are_refused(run, added: Path, db_path: Path, change: dict, message: str) -> None:
    before = snapshot(db_path)
    path = question_file(added, **change)
    assert_refused(run("question", "add", str(path)), message.format(path=path))
    assert snapshot(db_path) == before


@pytest.mark.every_backend
def test_question_list_shows_the_portfolio(run, seeded, added: Path) -> None:
    table = run("question", "list").output.splitlines()
    assert table[0].split() == ["slug", "status", "headline", "last_change", "evidence", "tags", "title", "due"]
    assert table[3].startswith("ruritania-exit         open    no run yet")
    assert "  treaty, test  " in table[3]  # lists in tables read as in `show` records
    listed = json.loads(run("question", "list", "--json").output)
    assert [(q["slug"], q["evidence"], q["tags"]) for q in listed] == [
        ("iss-retirement", 0, ["space", "iss"]), ("ruritania-exit", 0, ["treaty", "test"]),
        ("russia-iss-withdrawal", 17, ["space", "iss"])]
    rows = list(csv.DictReader(io.StringIO(run("question", "list", "--csv", "--tag", "treaty").output)))
    assert [(r["slug"], r["tags"], r["headline"]) for r in rows] == [("ruritania-exit", "treaty;test", "no run yet")]


@pytest.mark.parametrize(("kind", "date", "extra", "message"), [
    ("event", "2017-06-01", [], "Error: observation date 2017-06-01 is before the horizon of 'ruritania-exit' (from 2018-01)"),
    ("notice-given", "2018-03-01", [], "Error: notice on 2018-03-01 is before the earliest date notice can be given"),
    ("notice-revoked", "2019-03-01", [], "Error: notice-revoked on 2019-03-01: no notice was pending then"),
    ("notice-extended", "2019-03-01", [], "Error: a notice-extended observation needs --effective DATE"),
    ("still-participating", "2019-03-01", ["--effective", "2019-01-01"],
     "Error: effective date 2019-01-01 is before the observation date 2019-03-01"),
    ("no-notice-as-of", "2019-03-01", [], "Error: no notice as of 2019-03-01 contradicts O1 (notice-given on "
                                         "2018-07-02), still pending then: log notice-revoked if it was withdrawn"),
])
def test_impossible_observations_are_refused(run, tmp_path: Path, db_path: Path, kind, date, extra, message) -> None:
    assert run(*EMPTY).exit_code == 0
    assert run("question", "add", str(question_file(tmp_path, earliest='earliest = "2018-06"'))).exit_code == 0
    if kind == "no-notice-as-of":
        assert run("log", "observation", "--question", "ruritania-exit", "--kind", "notice-given", "--date",
                   "2018-07-02", "--source", "s", "--no-update").exit_code == 0
    before = snapshot(db_path)
    args = ["log", "observation", "--question", "ruritania-exit", "--kind", kind, "--date", date, "--source", "s"]
    assert_refused(run(*args, *extra), message)
    assert snapshot(db_path) == before


def _monthly(run, slug: str) -> list[float]:
    import datetime as dt

    from forecast.domain.questions import store_priors
    from forecast.inference.dataset import build_dataset
    from forecast.inference.exact import exact_posterior
    from forecast.store import open_store

    store = open_store(run.db)
    with store.session() as session:
        priors = store_priors(session)
        data = build_dataset(session, priors, dt.date(2019, 12, 31), questions=[slug])
    return list(exact_posterior(data, priors)[0][: data.n_months[0]]) + [exact_posterior(data, priors)[0][-1]]


def test_notice_given_revoked_and_extended(run, tmp_path: Path) -> None:
    assert run(*EMPTY).exit_code == 0
    assert run("question", "add", str(question_file(tmp_path))).exit_code == 0
    observe = ["log", "observation", "--no-update", "--question", "ruritania-exit", "--source", "s", "--kind"]
    assert run(*observe, "notice-given", "--date", "2018-05-10").exit_code == 0
    # 24 months after 2018-05: 2020-05 is bin 28. Before it (from the as-of month 2019-12, bin 23) only a notice
    # revoked (1 - 0.72, the shipped set's bind probability) and an exit without notice (1 - 0.92 compliance).
    notice = _monthly(run, "ruritania-exit")
    assert sum(notice[:23]) == 0 and 0 < sum(notice[23:28]) < 0.005 and notice[28] > 0.4  # 0.72 x (1 - e^(-1 / 0.43)), lag 0.43 months
    assert run(*observe, "notice-extended", "--date", "2019-06-01", "--effective", "2020-10-31").exit_code == 0
    extended = _monthly(run, "ruritania-exit")
    assert sum(extended[:23]) == 0 and 0 < sum(extended[23:33]) < 0.05 and extended[33] > 0.4  # 2020-10 is bin 33
    assert run(*observe, "notice-revoked", "--date", "2019-09-01").exit_code == 0
    revoked = _monthly(run, "ruritania-exit")
    assert sum(revoked[:23]) == 0 and revoked[24] > 0  # public event: nothing before the as-of month 2019-12
    assert max(revoked[28], revoked[33]) < 0.01  # a logged revocation: the notice no longer binds at all


@pytest.mark.parametrize(("effective", "noted"), [("2018-06-01", True), ("2020-05-10", False), (None, False)])
def test_a_notice_taking_effect_sooner_than_its_rule_is_kept_with_a_note(run, tmp_path: Path, effective, noted) -> None:
    """Stored as given (a party may claim immediate effect), with a note saying what the model makes of it."""
    assert run(*EMPTY).exit_code == 0
    assert run("question", "add", str(question_file(tmp_path))).exit_code == 0  # 24 months' notice
    extra = ["--effective", effective] if effective else []
    logged = run("log", "observation", "--no-update", "--question", "ruritania-exit", "--source", "s", "--kind",
                 "notice-given", "--date", "2018-05-10", *extra)
    assert logged.exit_code == 0, logged.output
    note = ("Note: the effective date 2018-06-01 is earlier than 'ruritania-exit''s notice rule allows (2020-05, 24 "
            "months after the notice); it is stored as given, so the model lets the exit take effect from 2018-06. "
            "If that is a mistake, log the right date with --supersedes O1.")
    assert logged.output.splitlines()[1:] == ([note] if noted else [])
    # What the note says: the exit can take effect before 2020-05 (bin 28). As of 2019-12 (bin 23), with no exit
    # 18 months after the early date the notice mostly reads as revoked, but bins 23-27 still hold 3 times the mass.
    before_the_rule = sum(_monthly(run, "ruritania-exit")[23:28])
    assert 0.005 < before_the_rule < 0.05 if noted else 0 < before_the_rule < 0.005


def test_a_question_without_notice_rule_and_a_binary_one(run, tmp_path: Path) -> None:
    plain = question_file(tmp_path, slug="summit-held", months=None, tags='"diplomacy"')
    binary = question_file(tmp_path, slug="deal-by-2021", kind="binary", end="2020-12", months=None)
    assert run(*EMPTY).exit_code == 0
    assert run("question", "add", str(plain)).exit_code == 0
    assert run("question", "add", str(binary)).exit_code == 0
    shown = run("question", "show", "summit-held").output
    assert "notice             none" in shown
    import datetime as dt

    from forecast.domain.questions import question_by_slug
    from forecast.scoring.resolution import checkpoints
    from forecast.store import open_store

    with open_store(run.db).session() as session:
        assert checkpoints(question_by_slug(session, "deal-by-2021")) == [dt.date(2021, 1, 1)]
        assert len(checkpoints(question_by_slug(session, "summit-held"))) == 6


def test_a_question_stored_before_bind_probability_reads_with_the_default(run, tmp_path: Path, db_path: Path) -> None:
    """A store from before revocable notices: its notice rule has no bind_probability. It reads with the bundled
    recipe's value, and adding the same file again changes nothing."""
    import sqlite3
    import tomllib

    from forecast.domain.priors import DEFAULT_BIND_PROBABILITY
    from forecast.domain.questions import add_question, store_priors
    from forecast.store import open_store

    path = question_file(tmp_path)
    assert run(*EMPTY).exit_code == 0
    assert run("question", "add", str(path)).exit_code == 0
    with sqlite3.connect(db_path) as conn:
        (text,) = conn.execute("SELECT definition FROM question WHERE slug = 'ruritania-exit'").fetchone()
        old = json.loads(text)
        del old["spec"]["notice"]["bind_probability"]
        conn.execute("UPDATE question SET definition = ? WHERE slug = 'ruritania-exit'", (json.dumps(old),))
    with open_store(run.db).session() as session:  # the domain API: the CLI would refuse the edited (unsealed) row
        stored = store_priors(session, hand_set=True)  # as stored (`forecast init` put the shipped prior set in force)
        assert stored.questions["ruritania-exit"].notice["bind_probability"] == DEFAULT_BIND_PROBABILITY
        assert add_question(session, tomllib.loads(path.read_text()), str(path))[1] == "unchanged"
