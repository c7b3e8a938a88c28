"""`forecast serve` end to end: the real server (uvicorn) on a free loopback port, driven from Debian's Chromium
through Playwright, on SQLite and on the suite's PostgreSQL server. Select them with ``-m browser``."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request

import pytest

from .browser import CHROMIUM_ARGS
from .conftest import INIT, PROJECT, QUESTION, invoke, query, snapshot, store_exact_run
from .webserver import screenshots, scored_store, serving

pytestmark = [pytest.mark.browser, pytest.mark.every_backend]
TOKEN = "fixture-token-0123456789abcdef"
EXPERT = "Expert F"  # fictional: the statements the tests log are invented
STATEMENT = {"expert": EXPERT, "date": "2023-04-01", "claim": "not before 2028",
             "quote": "Expert A (fixture): Russia stays until at least 2028.", "source": "fixture, example.org"}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def store(db: str) -> str:
    """The article's seed with one stored run (exact fast path)."""
    assert invoke(db, *INIT).exit_code == 0
    assert invoke(db, "expert", "add", EXPERT, "--kind", "analyst", "--affiliation", "Fixture Institute").exit_code == 0
    store_exact_run(db)
    return db


@pytest.fixture
def page(browser):
    """A fresh browser context that records dialogs, console errors and every request it makes."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)  # a first question page draws its figures; the machine may be busy
    tab.dialogs, tab.requests, tab.errors = [], [], []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on("request", lambda r: tab.requests.append(r.url))
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    yield tab
    context.close()


def fill(page, form: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.fill(f"{form} [name={name}]", value)


def post(url: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, str]:
    """A form posted without a browser (no cookies unless given in ``headers``)."""
    request = urllib.request.Request(url, urllib.parse.urlencode(fields).encode(), headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_logging_a_statement_changes_the_headline(store, page) -> None:
    with serving(store) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        before = page.inner_text("#instant-headline")
        page.click('.instant a[href="#glossary-instant-headline"]')  # says why it differs from the run's headline
        assert page.locator("#glossary-instant-headline + dd").inner_text().startswith("The headline computed at once")
        fill(page, "#statement-form", STATEMENT)
        page.click("#statement-form button[type=submit]")
        assert page.inner_text("p.done").startswith("Logged S9: 'not before 2028'")
        assert page.inner_text("#headline-before") == before
        after = page.inner_text("#headline-after")
        assert after != before
        page.goto(f"{server.url}/questions/{QUESTION}")
        assert page.inner_text("#instant-headline") == after
    cli = invoke(store, "evidence", "list", "--question", QUESTION, "--json")
    assert '"ref": "S9"' in cli.output and "Expert A (fixture)" in cli.output
    assert invoke(store, "verify").exit_code == 0


def test_the_logged_page_notes_a_run_far_from_the_instant_headline(db, page) -> None:
    """The only full run is as of 2021 (before most of the evidence): the page after a log says what it said."""
    store = db
    assert invoke(db, *INIT).exit_code == 0
    assert invoke(db, "expert", "add", EXPERT, "--kind", "analyst", "--affiliation", "Fixture Institute").exit_code == 0
    store_exact_run(db, as_of=dt.date(2021, 1, 1))
    (headline,) = [h if isinstance(h, dict) else json.loads(h) for (h,) in query(store, "SELECT r.headline FROM forecast_result r JOIN question q ON "
                                                   f"q.id = r.question_id WHERE r.run_id = 1 AND q.slug = '{QUESTION}'")]
    with serving(store) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        fill(page, "#statement-form", STATEMENT)
        page.click("#statement-form button[type=submit]")
        assert page.inner_text("#run-note") == (
            f"Note: Run 1 (as of 2021-01-01) itself said {100 * (1 - headline['not_within_horizon']):.0f}%; the two "
            "differ by any evidence logged since that run and because a full run also weighs how uncertain each "
            "reliability is. The question's page re-forecasts.")


@pytest.mark.parametrize("field, value", [("claim", "sometime soonish"), ("date", "2023-13-01"),
                                          ("expert", "Nobody Atall")])
def test_a_bad_statement_is_refused_with_the_clis_message_and_nothing_written(store, page, field, value) -> None:
    unchanged = snapshot(store)
    with serving(store) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        fill(page, "#statement-form", {**STATEMENT, field: value})
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.click("#statement-form button[type=submit]")
        assert posted.value.status in (400, 404)
        shown = page.inner_text("p.refusal")
        assert page.input_value(f"#statement-form [name={field}]") == value  # what was typed is kept
    assert snapshot(store) == unchanged
    args = [arg for key, v in {**STATEMENT, field: value}.items() for arg in (f"--{key}", v)]
    cli = invoke(store, "log", "statement", "--question", QUESTION, *args)
    assert cli.exit_code == 2 and cli.stderr.strip().endswith(shown)  # click names the option first


def test_edit_then_retract(store, page) -> None:
    fields = [arg for key, value in STATEMENT.items() for arg in (f"--{key}", value)]
    assert invoke(store, "log", "statement", "--question", QUESTION, *fields, "--no-update").exit_code == 0  # S9
    with serving(store) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        page.click("#row-S9 a:text('edit')")
        assert page.input_value("#statement-form [name=supersedes]") == "S9"
        original = page.input_value("#statement-form [name=claim]")
        assert original
        page.fill("#statement-form [name=claim]", "not before 2026")
        page.click("#statement-form button[type=submit]")
        assert page.inner_text("p.done").startswith("Logged S10")
        page.goto(f"{server.url}/questions/{QUESTION}")
        assert page.inner_text("#row-S9 td[data-label=status]") == "superseded by S10"
        page.fill("#row-S10 [name=reason]", "fixture: misattributed")
        page.click("#row-S10 button")
        assert page.inner_text("p.done") == "Retracted S10."
        page.goto(f"{server.url}/questions/{QUESTION}")
        assert page.inner_text("#row-S10 td[data-label=status]") == "retracted: fixture: misattributed"
    assert invoke(store, "verify").exit_code == 0


def test_resolve_and_see_the_calibration_page(db, page) -> None:
    assert invoke(db, *INIT).exit_code == 0
    store_exact_run(db, as_of=dt.date(2025, 6, 30), kind="backtest", converged=False)
    store_exact_run(db)
    with serving(db) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        page.fill("#resolve-form [name=month]", "2026-12")
        page.fill("#resolve-form [name=source]", "fixture, example.org")
        page.click("#resolve-form button[type=submit]")
        assert "resolved" in page.inner_text("main"), page.inner_text("main")
        page.goto(f"{server.url}/questions/{QUESTION}")
        page.click(f"a:text('Calibration of {QUESTION}')")
        assert page.locator("table.scores tbody tr").count() >= 1
        assert page.locator("#fig-reliability svg").count() == 1
        assert re.search(r"level itself for a calibrated forecaster: 50% \d+%, 80% \d+%\.$",
                         " ".join(page.inner_text("#pit-coverage").split())), page.inner_text("main")
        assert " ".join(page.inner_text("#unconverged").split()) == (
            "Run 1 failed its diagnostics and is scored as stored (forecast show --run N says what failed).")
    assert invoke(db, "show", QUESTION).exit_code == 0


HOSTILE = {"quote": "<script>alert('quote')</script>\u202egnp.exe <img src=https://example.org/x.png onerror=alert(1)>",
           "source": "javascript:alert('source')", "claim": "not before 2028", "expert": EXPERT,
           "date": "2023-05-01"}


def test_hostile_evidence_renders_inert(store, page) -> None:
    with serving(store) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        fill(page, "#statement-form", HOSTILE)
        page.click("#statement-form button[type=submit]")
        assert page.inner_text("p.done").startswith("Logged S9")
        for path in ("/", f"/questions/{QUESTION}", f"/experts/{EXPERT}", "/calibration"):
            page.goto(server.url + path)
            assert page.locator("script:not([src])").count() == 0
            assert page.locator("[href^='javascript:'], [src^='javascript:'], img[onerror]").count() == 0
            assert "\u202e" not in page.content()
        page.goto(f"{server.url}/questions/{QUESTION}")
        assert "<script>alert('quote')</script>" in page.inner_text("#row-S9")  # shown as text
        assert page.dialogs == [] and page.errors == []
        assert all(url.startswith(server.url) for url in page.requests), page.requests


def test_forms_without_the_csrf_token_are_refused(store, page) -> None:
    unchanged = snapshot(store)
    with serving(store) as server:
        target = f"{server.url}/questions/{QUESTION}/statement"
        assert post(target, STATEMENT)[0] == 403
        page.goto(f"{server.url}/questions/{QUESTION}")
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
        status, body = post(target, {**STATEMENT, "csrf_token": "forged"}, {"Cookie": cookie})
        assert status == 403 and "CSRF token" in body
        status, _ = post(f"{server.url}/evidence/S1/retract", {"reason": "x"}, {"Cookie": cookie})
        assert status == 403
    assert snapshot(store) == unchanged


def test_with_an_access_token_every_request_needs_it(store, page) -> None:
    unchanged = snapshot(store)
    with serving(store, token=TOKEN) as server:
        assert post(f"{server.url}/questions/{QUESTION}/statement", STATEMENT)[0] == 401
        page.goto(f"{server.url}/questions/{QUESTION}")
        assert page.url.startswith(f"{server.url}/login")
        page.fill("[name=token]", "wrong-token-0123456789")
        page.click("button[type=submit]")
        assert "wrong access token" in page.inner_text(".error-message")
        page.goto(f"{server.url}/login?next=/questions/{QUESTION}")
        page.fill("[name=token]", TOKEN)
        page.fill("[name=analyst]", "Analyst A")
        page.click("button[type=submit]")
        assert page.url == f"{server.url}/questions/{QUESTION}"
        assert page.inner_text(".who-am-i") == "analyst: Analyst A"
        request = urllib.request.Request(f"{server.url}/", headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 200
    assert snapshot(store) == unchanged


def test_a_signed_in_analyst_is_the_author_of_what_they_log(store, page) -> None:
    import json

    with serving(store, token=TOKEN) as server:
        page.goto(f"{server.url}/login?next=/questions/{QUESTION}")
        page.fill("[name=token]", TOKEN)
        page.fill("[name=analyst]", "Analyst B")
        page.click("button[type=submit]")
        fill(page, "#statement-form", STATEMENT)
        page.click("#statement-form button[type=submit]")
        assert page.inner_text("p.done").startswith("Logged S9")
        page.goto(server.url)
        page.click("#add-expert summary")
        fill(page, "#add-expert", {"name": "Expert G", "role": "fixture"})
        page.check("#add-expert [name=another]")  # close to Expert F
        page.click("#add-expert button")
        assert page.url == f"{server.url}/experts/Expert%20G"
    (row,) = [r for r in json.loads(invoke(store, "evidence", "list", "--json").output) if r["ref"] == "S9"]
    (expert,) = [e for e in json.loads(invoke(store, "expert", "list", "--json").output) if e["name"] == "Expert G"]
    assert row["author"] == expert["author"] == "Analyst B"
    assert invoke(store, "verify").exit_code == 0


def test_the_portfolio_says_what_is_due_as_status_does(store, page) -> None:
    """The due column is `forecast status`'s: a statement logged after the run is new evidence since it."""
    import json

    store_exact_run(store)
    assert invoke(store, *["log", "statement", "--question", QUESTION, "--no-update", *[
        a for k, v in STATEMENT.items() for a in (f"--{k}", v)]]).exit_code == 0
    (status,) = json.loads(invoke(store, "status", "--question", QUESTION, "--json").output)
    assert status["due"], status
    with serving(store) as server:
        page.goto(server.url)
        cell = page.inner_text(f"#q-{QUESTION} td.due")
        assert "is-due" in (page.get_attribute(f"#q-{QUESTION}", "class") or "")
    assert cell.split("\n") == status["due"], (cell, status["due"])


def test_read_only_has_no_write_routes(store, page) -> None:
    with serving(store, read_only=True) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        assert page.locator("form[method=post]").count() == 0
        assert post(f"{server.url}/questions/{QUESTION}/statement", STATEMENT)[0] == 404  # no such route
        assert post(f"{server.url}/runs", {})[0] == 404


@pytest.mark.parametrize("path, status, message", [
    ("/questions/no-such-question", 404, "unknown question 'no-such-question'; known: "),
    ("/experts/Nobody", 404, "unknown expert 'Nobody'; known: "),
    ("/calibration?tag=no-such-tag", 404, "unknown tag 'no-such-tag'; known: "),
    ("/static/../../etc/passwd", 404, "no such page"),
])
def test_errors_are_a_page_with_one_line(store, page, path, status, message) -> None:
    with serving(store) as server:
        response = page.goto(server.url + path)
        assert response.status == status
        assert page.inner_text(".error-message").startswith(message)
        assert "Traceback" not in page.content()
        assert response.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")


def test_a_refused_retraction_is_a_400_page(store, page) -> None:
    unchanged = snapshot(store)
    with serving(store) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        page.fill("#row-S1 [name=reason]", "   ")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.click("#row-S1 button")
        assert posted.value.status == 400
        assert page.inner_text(".error-message") == "a retraction needs a reason"
    assert snapshot(store) == unchanged


@pytest.mark.slow  # a real fit (compiling the model takes most of it)
def test_a_cli_log_during_a_server_reforecast_loses_nothing(store, page) -> None:
    fit = {"draws": 100, "tune": 100, "chains": 1, "seed": 3}
    with serving(store, fit=fit) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        page.click("form[action='/runs'] button")
        assert page.url == f"{server.url}/runs/current"
        logged = invoke(store, "log", "statement", "--question", QUESTION, "--no-update",
                        *[arg for key, v in STATEMENT.items() for arg in (f"--{key}", v)])
        assert logged.exit_code == 0, logged.output
        server.bench.runner.wait(300)
        page.reload()
        done = page.inner_text("#run-done")
        run_id = int(re.search(r"Run (\d+) stored", done).group(1))
    assert '"ref": "S9"' in invoke(store, "evidence", "list", "--question", QUESTION, "--json").output
    assert invoke(store, "verify").exit_code == 0
    shown = invoke(store, "show", QUESTION, "--run", str(run_id))
    assert shown.exit_code == 0 and f"run {run_id}" in shown.output.lower()


def test_pages_fit_a_desktop_and_a_phone(db, browser, tmp_path) -> None:
    with serving(scored_store(db)) as server:
        measured = screenshots(browser, server.url, tmp_path)
    for page_width, (width, scroll, past) in measured.items():
        assert scroll <= width and past == [], (page_width, scroll, past)


def test_an_expert_page_keeps_its_track_record_after_a_rename(db, page) -> None:
    """The page is `expert show`'s: rows and runs stored under the old name count for the new one."""
    import json

    store = scored_store(db)
    records = json.loads(invoke(store, "score", "--json").output)["experts"]
    judged = next(r for r in records if r["borne_out"] + r["falsified"] > 0)
    with serving(store) as server:
        page.goto(f"{server.url}/experts/{urllib.parse.quote(judged['expert'])}")
        before = page.inner_text("main").split("Statements")
        assert invoke(store, "expert", "rename", judged["expert"], "Renamed Expert").exit_code == 0
        page.goto(f"{server.url}/experts/Renamed%20Expert")
        assert page.inner_text("h1") == "Renamed Expert"
        assert page.inner_text("#borne-out") == str(judged["borne_out"])
        after = page.inner_text("main").split("Statements")
    assert after[0].replace("Renamed Expert", judged["expert"]) == before[0]  # the same track record
    assert after[1].count("\n") == before[1].count("\n") > 2  # the same statements


def test_the_claim_is_previewed_as_you_type_and_nothing_is_written(store, page) -> None:
    from playwright.sync_api import expect

    unchanged = snapshot(store)
    with serving(store) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        now = page.inner_text("#instant-headline").split(" (exact")[0]
        fill(page, "#statement-form", {"expert": EXPERT, "date": "2023-04-01"})
        page.type("#statement-form [name=claim]", "not before 2028")
        expect(page.locator("#claim-preview")).to_contain_text("With this statement")  # (the CSP forbids eval)
        shown = page.inner_text("#claim-preview")
        cli = invoke(store, "claim", "check", "not before 2028", "--question", QUESTION, "--date", "2023-04-01")
        assert shown.startswith(" ".join(cli.output.splitlines()[:2]))
        assert f"Headline now: {now} With this statement: " in shown
        page.fill("#statement-form [name=claim]", "")
        page.type("#statement-form [name=claim]", "sometime soonish")
        expect(page.locator("#claim-preview")).to_contain_text("Refused: ")
        refusal = page.inner_text("#claim-preview").removeprefix("Refused: ")
        assert page.dialogs == [] and page.errors == []
        assert snapshot(store) == unchanged
        fill(page, "#statement-form", STATEMENT)  # the previewed statement, logged
        page.click("#statement-form button[type=submit]")
        after = page.inner_text("#headline-after").split(" (exact")[0]
    assert after != now and shown.split("With this statement: ")[1].startswith(f"{after} (exact")
    cli = invoke(store, *["log", "statement", "--question", QUESTION, *[a for k, v in {
        **STATEMENT, "claim": "sometime soonish"}.items() for a in (f"--{k}", v)]])
    assert cli.exit_code == 2 and cli.stderr.strip() == f"Error: {refusal}"
    assert invoke(store, "verify").exit_code == 0


def test_add_a_question_and_an_expert(store, page) -> None:
    toml = (PROJECT / "priors" / "questions" / "iss-retirement.toml").read_text().replace(
        'slug = "iss-retirement"', 'slug = "fixture-question"')
    with serving(store) as server:
        page.goto(server.url)
        page.click("#add-expert summary")
        fill(page, "#add-expert", {"name": "Expert A", "role": "fixture", "aliases": "A.\nExpert Alpha"})
        page.click("#add-expert button")  # close to Expert F: refused in the form's words, as the CLI refuses it
        assert page.inner_text(".error-message") == ("'Expert A' is close to the existing expert 'Expert F': use that "
                                                     "name, or tick 'another person with a similar name' to add "
                                                     "another expert")
        assert "Expert A" not in invoke(store, "expert", "list").output
        page.goto(server.url)
        page.click("#add-expert summary")
        fill(page, "#add-expert", {"name": "Expert A", "role": "fixture", "aliases": "A.\nExpert Alpha"})
        page.check("#add-expert [name=another]")
        page.click("#add-expert button")
        assert page.url == f"{server.url}/experts/Expert%20A"
        assert "also known as A., Expert Alpha" in page.inner_text("main")
        page.goto(server.url)
        page.click("#add-question summary")
        page.fill("#add-question [name=toml]", "[question]\nslug = 1\n[extra]\n")
        page.click("#add-question button")
        assert page.inner_text(".error-message") == ("the question file: unknown table 'extra' (a question file has "
                                                     "[question], [date_prior], [notice])")
        page.goto(server.url)
        page.click("#add-question summary")
        page.fill("#add-question [name=toml]", toml)
        page.click("#add-question button")
        assert page.inner_text("p.done") == "Added question fixture-question (version 1)."
    assert "fixture-question" in invoke(store, "question", "list").output
    assert invoke(store, "verify").exit_code == 0


def test_logging_an_observation(store, page) -> None:
    with serving(store) as server:
        page.goto(f"{server.url}/questions/{QUESTION}")
        page.select_option("#observation-form [name=kind]", "event-not-yet")
        fill(page, "#observation-form", {"date": "2026-11-30", "source": "fixture, example.org"})
        page.click("#observation-form button[type=submit]")
        assert page.inner_text("p.done") == "Logged O10: event-not-yet on 2026-11-30."
        after = page.inner_text("#headline-after")  # a week more of not yet moves it by under 0.1 pp
        assert after and page.inner_text("#headline-before")
        page.goto(f"{server.url}/questions/{QUESTION}")
        assert page.inner_text("#instant-headline") == after
        assert page.inner_text("#row-O10 td[data-label=status]") == "active"
    assert invoke(store, "verify").exit_code == 0


def test_the_pages_say_whether_a_quote_is_verbatim_or_a_paraphrase(store, page) -> None:
    logged = invoke(store, "log", "statement", "--question", QUESTION, "--expert", EXPERT, "--date", "2023-04-01",
                    "--claim", "not before 2028", "--quote", "Expert F (fixture) said Russia stays.", "--paraphrase",
                    "--source", "fixture, example.org", "--no-update")
    assert logged.exit_code == 0, logged.output
    ref = re.search(r"\b(S\d+)\b", logged.output).group(1)
    with serving(store) as server:
        for path in (f"/questions/{QUESTION}", f"/experts/{urllib.parse.quote(EXPERT)}"):
            page.goto(f"{server.url}{path}")
            quotes = page.locator(".quote").all_inner_texts()
            assert "Paraphrase: Expert F (fixture) said Russia stays." in quotes, (path, ref)
            assert any(q.startswith("Verbatim: ") for q in quotes) or path.startswith("/experts"), path
            assert all(q.startswith(("Verbatim: ", "Paraphrase: ")) for q in quotes if q), (path, quotes)


def test_the_experts_page_lists_them_as_expert_list_does(store, page) -> None:
    listed = json.loads(invoke(store, "expert", "list", "--json").output)
    officials = json.loads(invoke(store, "expert", "list", "--kind", "official", "--json").output)
    with serving(store) as server:
        page.goto(f"{server.url}/")
        page.click("nav.top a[href='/experts']")
        assert page.inner_text("h1") == "Experts"
        assert page.locator("#experts tbody tr td:first-child a").all_inner_texts() == [e["name"] for e in listed]
        page.select_option("select[name=kind]", "official")
        page.click("form[action='/experts'] button[type=submit]")
        assert page.locator("#experts tbody tr td:first-child a").all_inner_texts() == [e["name"] for e in officials]
        page.click(f"#experts a:text-is('{officials[0]['name']}')")
        assert page.inner_text("h1") == officials[0]["name"]
        status, body = fetch(f"{server.url}/experts?kind=oficial")
        assert status == 404 and "unknown expert kind &#39;oficial&#39; (did you mean &#39;official&#39;?)" in body


def fetch(url: str) -> tuple[int, str]:
    """A page got without a browser: its status and text."""
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
