"""The workbench's expert rename and merge forms and the question upload, through the real server in Chromium
(on SQLite and on the suite's PostgreSQL server): the same domain calls, messages and refusals as
`forecast expert rename`, `expert merge` and `question add FILE`. Select them with ``-m browser``."""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
import uuid

import pytest

from .conftest import INIT, PROJECT, QUESTION, invoke, snapshot
from .test_web import TOKEN, browser, fetch, fill, page, post  # noqa: F401  (the module's browser and page fixtures)
from .webserver import serving

pytestmark = [pytest.mark.browser, pytest.mark.every_backend]
# Fictional experts and statements: nothing here is anyone's real words.
STATEMENTS = {"Expert F": ("2023-04-01", "not before 2028"), "Expert K": ("2023-05-01", "after 2024")}


@pytest.fixture
def store(db: str) -> str:
    """The article's seed and two fictional experts with one statement each; the refs of theirs."""
    assert invoke(db, *INIT).exit_code == 0
    for name, (date, claim) in STATEMENTS.items():
        assert invoke(db, "expert", "add", name, "--kind", "analyst", "--new").exit_code == 0
        logged = invoke(db, "log", "statement", "--question", QUESTION, "--expert", name, "--date", date,
                        "--claim", claim, "--quote", f"{name} (fixture): {claim}.", "--source", "fixture, example.org",
                        "--no-update")
        assert logged.exit_code == 0, logged.output
    return db


def refs_of(store: str, name: str) -> list[str]:
    return sorted(row["ref"] for row in json.loads(invoke(store, "expert", "show", name, "--json").output)["statements"])


def shown_refs(page) -> list[str]:
    return sorted(page.locator("#statements tbody tr td:first-child").all_inner_texts())


def submit(page, form: str, values: dict[str, str]) -> int:
    """Fill and post the form ``form``; the status of the page it leads to."""
    fill(page, form, values)
    with page.expect_navigation() as shown:
        page.click(f"{form} button[type=submit]")
    return shown.value.status


def cli_refusal(store: str, *args: str) -> str:
    """The one line the CLI refuses ``args`` with (exit 2), without its ``Error: ``."""
    result = invoke(store, *args)
    assert result.exit_code == 2 and result.stdout == "", result.output
    return result.stderr.strip().removeprefix("Error: ")


def test_rename_through_the_expert_page(store, page) -> None:
    statements = refs_of(store, "Expert F")
    with serving(store) as server:
        page.goto(f"{server.url}/experts/Expert%20F")
        assert submit(page, "#rename-expert", {"new": "Hollis Fixture", "note": "fixture: misspelt"}) == 200
        assert page.url == f"{server.url}/experts/Hollis%20Fixture" and page.inner_text("h1") == "Hollis Fixture"
        assert shown_refs(page) == statements
        unchanged = snapshot(store)
        taken = cli_refusal(store, "expert", "rename", "Hollis Fixture", "Expert K")
        assert submit(page, "#rename-expert", {"new": "Expert K"}) == 409
        assert taken.endswith(": to make them one, use `forecast expert merge`")  # the page, in its own words:
        assert page.inner_text("#rename-expert .refusal") == taken.replace("use `forecast expert merge`", "merge them below")
        assert page.input_value("#rename-expert [name=new]") == "Expert K"
        same = cli_refusal(store, "expert", "rename", "Hollis Fixture", "Hollis Fixture")
        assert submit(page, "#rename-expert", {"new": "Hollis Fixture"}) == 409
        assert page.inner_text("#rename-expert .refusal") == same
        token = page.get_attribute("#rename-expert [name=csrf_token]", "value")
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
        status, body = post(f"{server.url}/experts/Nobody/rename", {"new": "Expert J", "csrf_token": token},
                            {"Cookie": cookie})
        assert status == 404 and cli_refusal(store, "expert", "rename", "Nobody", "Expert J") in html.unescape(body)
        assert snapshot(store) == unchanged
    shown = json.loads(invoke(store, "expert", "show", "Hollis Fixture", "--json").output)
    assert shown["name"] == "Hollis Fixture" and refs_of(store, "Hollis Fixture") == statements
    assert refs_of(store, "Expert F") == statements  # the old name still answers
    assert invoke(store, "verify").exit_code == 0


def test_a_rename_close_to_another_expert_needs_the_box(store, page) -> None:
    """The CLI's refusal in the form's words (tick a box, not --distinct); ticked, the rename is made."""
    unchanged = snapshot(store)
    cli = cli_refusal(store, "expert", "rename", "Expert F", "Expert Kk")
    assert cli.endswith("; if they are different people, pass --distinct")
    with serving(store) as server:
        page.goto(f"{server.url}/experts/Expert%20F")
        assert submit(page, "#rename-expert", {"new": "Expert Kk"}) == 409
        assert page.inner_text("#rename-expert .refusal") == (
            "'Expert Kk' is close to the name of another expert, 'Expert K': to make them one, merge them below; if "
            "they are different people, tick 'a different person with a similar name'")
        assert snapshot(store) == unchanged
        page.check("#rename-expert [name=distinct]")
        assert submit(page, "#rename-expert", {"new": "Expert Kk"}) == 200
        assert page.url == f"{server.url}/experts/Expert%20Kk"


def test_merge_through_the_expert_page(store, page) -> None:
    """On a token server: the signed-in analyst is the author of the change, as `--by` is on the command line."""
    both = sorted(refs_of(store, "Expert F") + refs_of(store, "Expert K"))
    unchanged = snapshot(store)
    with serving(store, token=TOKEN) as server:
        page.goto(f"{server.url}/login?next=/experts/Expert%20F")
        fill(page, "form", {"token": TOKEN, "analyst": "Analyst C"})
        page.click("button[type=submit]")
        assert page.url == f"{server.url}/experts/Expert%20F"
        offered = page.eval_on_selector_all("#other-experts option", "options => options.map(o => o.value)")
        assert "Expert K" in offered and "Expert F" not in offered  # the merge field offers the other experts
        itself = cli_refusal(store, "expert", "merge", "Expert F", "Expert F")
        assert submit(page, "#merge-expert", {"into": "Expert F"}) == 409
        assert page.inner_text("#merge-expert .refusal") == itself
        unknown = cli_refusal(store, "expert", "merge", "Expert F", "Expert Kk")
        assert submit(page, "#merge-expert", {"into": "Expert Kk"}) == 404
        assert page.inner_text("#merge-expert .refusal") == unknown and "did you mean" in unknown.lower()
        assert snapshot(store) == unchanged
        assert submit(page, "#merge-expert", {"into": "Expert K", "note": "fixture: one person"}) == 200
        assert page.url == f"{server.url}/experts/Expert%20K" and page.inner_text("h1") == "Expert K"
        assert shown_refs(page) == both
    assert refs_of(store, "Expert K") == both
    history = json.loads(invoke(store, "expert", "show", "Expert K", "--json").output)["history"]
    assert [line.split(": ", 1)[1] for line in history] == ["Expert F merged into Expert K (by Analyst C)"]
    assert invoke(store, "verify").exit_code == 0


def test_a_merge_across_kinds_shows_the_commands_note(store, page) -> None:
    """Expert F is an analyst; merged into an official, the page says what the CLI notes, then leads on."""
    assert invoke(store, "expert", "add", "Expert J", "--kind", "official", "--new").exit_code == 0
    with serving(store) as server:
        page.goto(f"{server.url}/experts/Expert%20F")
        assert submit(page, "#merge-expert", {"into": "Expert J"}) == 200
        assert page.inner_text(".done") == "Merged Expert F into Expert J."
        assert page.inner_text(".note") == ("Note: 'Expert F' (analyst) and 'Expert J' (official) differ in kind: from "
                                            "now on the statements of 'Expert F' count with the official reliability "
                                            "prior.")
        page.click("text=On to Expert J")
        assert page.url == f"{server.url}/experts/Expert%20J" and sorted(shown_refs(page)) == refs_of(store, "Expert J")


def question_file(slug: str) -> str:
    """A bundled question's file under a fictional slug (its priors and their reasons are the bundled ones)."""
    return (PROJECT / "priors" / "questions" / "iss-retirement.toml").read_text().replace(
        'slug = "iss-retirement"', f'slug = "{slug}"')


BROKEN = {"syntax.toml": b"[question]\nslug = \n", "table.toml": b"[question]\nslug = 'x'\n[extra]\n",
          "latin1.toml": "[question]\ntitle = 'Caf\u00e9'\n".encode("latin-1"),
          "fields.toml": b"[question]\nslug = 'fixture-broken'\n"}


def test_upload_a_question_file(store, page, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the CLI names the file as typed: here, its base name, as an upload names it
    for name, content in BROKEN.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "good.toml").write_text(question_file("fixture-uploaded"))
    unchanged = snapshot(store)
    with serving(store) as server:
        for name in BROKEN:
            page.goto(server.url)
            page.click("#upload-question summary")
            page.set_input_files("#upload-question [name=file]", str(tmp_path / name))
            with page.expect_navigation() as shown:
                page.click("#upload-question button")
            assert shown.value.status == 400, name
            assert page.inner_text(".error-message") == cli_refusal(store, "question", "add", name), name
        assert snapshot(store) == unchanged
        page.goto(server.url)
        page.click("#upload-question summary")
        page.set_input_files("#upload-question [name=file]", str(tmp_path / "good.toml"))
        page.click("#upload-question button")
        assert page.inner_text("p.done") == "Added question fixture-uploaded (version 1)."
        assert page.goto(f"{server.url}/questions/fixture-uploaded").status == 200
        assert page.inner_text("h1") == json.loads(invoke(store, "question", "show", "fixture-uploaded",
                                                          "--json").output)["title"]
    assert "fixture-uploaded" in invoke(store, "question", "list").output
    assert invoke(store, "verify").exit_code == 0


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
              f"Content-Type: application/toml\r\n\r\n".encode() + data + b"\r\n" for k, (name, data) in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(url: str, files: dict[str, tuple[str, bytes]], fields: dict[str, str] | None = None,
           headers: dict[str, str] | None = None) -> tuple[int, str]:
    """A multipart form posted without a browser: its status and page."""
    body, kind = multipart(fields or {}, files)
    request = urllib.request.Request(url, body, headers={**(headers or {}), "Content-Type": kind})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def signed_in(url: str) -> tuple[str, dict[str, str]]:
    """A form token and the cookie it goes with, as a browser gets them from the portfolio."""
    with urllib.request.urlopen(url) as response:
        cookie = response.headers["set-cookie"].split(";")[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())
    assert token
    return token.group(1), {"Cookie": cookie}


def test_the_new_forms_need_the_csrf_token_and_a_writable_server(store) -> None:
    """Without the form token: 403; over the body limit: 413; a pasted and an uploaded file at once: 400; on a
    read-only server the routes are not there (404). Nothing is stored."""
    unchanged = snapshot(store)
    good = {"file": ("good.toml", question_file("fixture-uploaded").encode())}
    with serving(store) as server:
        assert post(f"{server.url}/experts/Expert%20F/rename", {"new": "Hollis Fixture"})[0] == 403
        assert post(f"{server.url}/experts/Expert%20F/merge", {"into": "Expert K"})[0] == 403
        assert upload(f"{server.url}/questions", good)[0] == 403
        assert upload(f"{server.url}/questions", good, {"csrf_token": "forged"}, {"Cookie": "forecast_csrf=x"})[0] == 403
        too_big = {"file": ("big.toml", b"#" * (300 * 1024))}
        assert upload(f"{server.url}/questions", too_big)[0] == 413  # refused before the form is read
        token, cookie = signed_in(server.url)
        status, body = upload(f"{server.url}/questions", good, {"csrf_token": token, "toml": "[question]"}, cookie)
        assert status == 400 and "paste it or upload it, not both" in body
    with serving(store, read_only=True) as server:
        # no such route: only the expert page's GET takes the path (an expert's name may hold a slash)
        assert post(f"{server.url}/experts/Expert%20F/rename", {"new": "Hollis Fixture"})[0] == 405
        assert post(f"{server.url}/experts/Expert%20F/merge", {"into": "Expert K"})[0] == 405
        assert upload(f"{server.url}/questions", good)[0] == 404
    assert snapshot(store) == unchanged


def test_an_expert_whose_name_holds_a_slash(store) -> None:
    """A name such as "Office / Unit" has a page, and its rename form reaches it (the path takes the slash)."""
    assert invoke(store, "expert", "rename", "Expert F", "Expert F / Office").exit_code == 0
    with serving(store) as server:
        with urllib.request.urlopen(f"{server.url}/experts/Expert%20F%20%2F%20Office") as response:
            page_text = response.read().decode()
        assert "<h1>Expert F / Office</h1>" in page_text and 'action="/experts/Expert%20F%20/%20Office/rename"' in page_text
        token, cookie = signed_in(f"{server.url}/experts/Expert%20F%20%2F%20Office")
        status, body = post(f"{server.url}/experts/Expert%20F%20/%20Office/rename",
                            {"new": "Hollis Fixture", "csrf_token": token}, cookie)
        assert status == 200 and "<h1>Hollis Fixture</h1>" in body
    assert json.loads(invoke(store, "expert", "show", "Hollis Fixture", "--json").output)["name"] == "Hollis Fixture"


@pytest.mark.parametrize(("fields", "message"), [
    ({"outcome": "date", "month": ""}, "give the month the event happened (YYYY-MM), or choose 'not within the horizon'"),
    ({"outcome": "sometime"}, "choose how the question resolved: in a month, not within the horizon, or annulled"),
    ({"outcome": "date", "month": "2020-01"}, "2020-01 is before the horizon starts (2022-07)"),
])
def test_a_refused_resolution_says_what_to_fill_in(store, fields, message) -> None:
    """The resolve form's refusals speak of the form, not of command-line flags; nothing is stored."""
    unchanged = snapshot(store)
    with serving(store) as server:
        token, cookie = signed_in(server.url)
        status, body = post(f"{server.url}/questions/{QUESTION}/resolve",
                            {**fields, "source": "fixture", "csrf_token": token}, cookie)
    assert status == 400 and message in html.unescape(body)
    # the form again, with what was typed
    assert '<input name="source" required value="fixture">' in body and f'value="{fields.get("month", "")}"' in body
    assert snapshot(store) == unchanged


def test_a_notice_sooner_than_its_rule_is_logged_with_the_note_the_cli_prints(store) -> None:
    """The observation form stores an early effective date as given and shows the same note as the CLI."""
    fields = {"kind": "notice-given", "date": "2026-11-02", "effective": "2026-12-01", "source": "fixture, example.org"}
    with serving(store) as server:
        token, cookie = signed_in(server.url)
        status, body = post(f"{server.url}/questions/{QUESTION}/observation", {**fields, "csrf_token": token}, cookie)
    assert status == 200, body
    shown = html.unescape(re.search(r'<p class="note" role="note">(.*?)</p>', body).group(1))
    assert shown.startswith("Note: the effective date 2026-12-01 is earlier than 'russia-iss-withdrawal''s notice "
                            "rule allows (2027-11, 12 months after the notice); it is stored as given")
    listed = json.loads(invoke(store, "evidence", "list", "--question", QUESTION, "--json").output)
    assert [(row["date"], row["effective_on"]) for row in listed if row.get("kind") == "notice-given"] == [
        ("2026-11-02", "2026-12-01")]


def test_the_edit_form_can_change_only_the_probability(store) -> None:
    """The statement form filled in from a row (?supersedes=) stores a change outside the row's content."""
    (ref,) = refs_of(store, "Expert F")
    date, claim = STATEMENTS["Expert F"]
    fields = {"expert": "Expert F", "date": date, "claim": claim, "quote": f"Expert F (fixture): {claim}.",
              "source": "fixture, example.org", "probability": "0.7", "supersedes": ref}
    with serving(store) as server:
        token, cookie = signed_in(server.url)
        status, body = post(f"{server.url}/questions/{QUESTION}/statement", {**fields, "csrf_token": token}, cookie)
        assert status == 200, body
        again, body = post(f"{server.url}/questions/{QUESTION}/statement", {**fields, "csrf_token": token}, cookie)
    assert again == 409 and "probable duplicate of S" in html.unescape(body), body  # the posted form again
    rows = json.loads(invoke(store, "expert", "show", "Expert F", "--json").output)["statements"]
    assert sorted((row["ref"] == ref, row["probability"]) for row in rows) == [(False, 0.7), (True, None)]


def test_the_edit_form_of_a_superseded_row_names_the_live_one(store) -> None:
    """Opening the edit form of a row a correction replaced answers as `evidence edit` would: edit the live row."""
    (ref,) = refs_of(store, "Expert F")
    assert invoke(store, "evidence", "edit", ref, "--probability", "0.7", "--yes", "--no-update").exit_code == 0
    (live,) = [r for r in refs_of(store, "Expert F") if r != ref]
    refusal = cli_refusal(store, "evidence", "edit", ref, "--probability", "0.6", "--yes")
    assert refusal == f"{ref} is superseded by {live}: edit {live} instead"
    with serving(store) as server:
        status, body = fetch(f"{server.url}/questions/{QUESTION}/statement?supersedes={ref}")
        assert (status, fetch(f"{server.url}/questions/{QUESTION}/statement?supersedes={live}")[0]) == (400, 200)
    assert refusal in html.unescape(body)


def test_a_loopback_server_asks_for_a_name_not_a_sign_in(store) -> None:
    """Without an access token the login page only sets the analyst's name, and says so; with one it signs in."""
    with serving(store) as server:
        with urllib.request.urlopen(server.url) as response:
            portfolio = response.read().decode()
        with urllib.request.urlopen(f"{server.url}/login") as response:
            form = response.read().decode()
    assert '<a href="/login" title="the name the rows you log are signed with">your name</a>' in portfolio
    assert "sign in" not in portfolio.lower() and "<h1>Your name</h1>" in form and "Save</button>" in form
    with serving(store, token=TOKEN) as server, urllib.request.urlopen(f"{server.url}/login") as response:
        assert "<h1>Sign in</h1>" in response.read().decode()
    with serving(store, read_only=True) as server, urllib.request.urlopen(server.url) as response:
        assert 'href="/login"' not in response.read().decode()  # nothing to sign on a read-only server


def test_reopen_a_mistaken_resolution_from_its_page(store, page) -> None:
    """The resolved question's page offers the reopen form (the same domain call as `forecast reopen`); the signed-in
    analyst is its author; without the form token it is refused."""
    assert invoke(store, "resolve", QUESTION, "--date", "2026-12", "--source", "fixture, example.org").exit_code == 0
    with serving(store) as server:
        assert post(f"{server.url}/questions/{QUESTION}/reopen", {"reason": "x"})[0] == 403
        page.goto(f"{server.url}/login?next=/questions/{QUESTION}")
        fill(page, "form", {"analyst": "Analyst D"})
        page.click("button[type=submit]")
        assert page.locator("#resolve-form").count() == 0
        assert submit(page, "#reopen-form", {"reason": "resolved the wrong question"}) == 200
        assert page.inner_text("p.done").startswith(f"Reopened {QUESTION}: it was resolved 2026-12 (by ")
        page.goto(f"{server.url}/questions/{QUESTION}")
        assert page.locator("#resolve-form").count() == 1 and page.locator("#reopen-form").count() == 0
    shown = json.loads(invoke(store, "question", "show", QUESTION, "--json").output)
    assert [(r["reason"], r["reopened_by"]) for r in shown["reopened"]] == [("resolved the wrong question", "Analyst D")]
    with serving(store, read_only=True) as server:
        assert post(f"{server.url}/questions/{QUESTION}/reopen", {"reason": "x"})[0] in (404, 405)


def test_a_restatement_is_refused_in_form_words_then_logged_with_the_box_ticked(store) -> None:
    """A second statement of the same expert, day and claim: the form says how to go on, in the form's terms."""
    date, claim = STATEMENTS["Expert F"]
    fields = {"expert": "Expert F", "date": date, "claim": claim, "quote": "Expert F (fixture), said again.",
              "source": "fixture, example.org"}
    with serving(store) as server:
        token, cookie = signed_in(server.url)
        status, body = post(f"{server.url}/questions/{QUESTION}/statement", {**fields, "csrf_token": token}, cookie)
        assert status == 409 and "--restatement" not in body
        assert "correct it with that row&#39;s edit link, or tick &#39;the expert said it again&#39;" in body
        status, body = post(f"{server.url}/questions/{QUESTION}/statement",
                            {**fields, "restatement": "on", "csrf_token": token}, cookie)
    assert status == 200, body
    assert len(refs_of(store, "Expert F")) == 2


def test_the_log_forms_come_before_the_glossary(store) -> None:
    """On a question with a run, the page is the report's, with its glossary moved after the workbench."""
    assert invoke(store, "run", QUESTION, "--draws", "100", "--tune", "100", "--chains", "2", "--quiet").exit_code in (0, 1)
    with serving(store) as server, urllib.request.urlopen(f"{server.url}/questions/{QUESTION}") as response:
        body = response.read().decode()
    assert body.count('<h2 id="glossary">') == 1 and 'id="glossary-effective-weight"' in body
    assert body.index('id="statement-form"') < body.index('<h2 id="glossary">')
