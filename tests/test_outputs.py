"""Hostile evidence never becomes executable output: Markdown (rendered with HTML allowed), HTML,
the terminal (in a pipe and on a pseudo-terminal) and figure labels."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import html5lib
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt
from sqlmodel import select

from forecast.basics.text import displayable
from forecast.cli import cli
from forecast.domain.evidence import content_uid
from forecast.report.figures import experts_figure
from forecast.report.render import EVIDENCE_HEADERS
from forecast.store import Expert, Question, Statement, open_store

from .conftest import QUESTION, log_args, sqlite_only, store_exact_run

EVIL = "Dr $\\frac{$ Evil"
OSC8 = "\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\"
CSI = "\x1b[31m"
MARKUP = ("<script>alert(1)</script> <img src=https://x/y.png> [a](javascript:alert(1)) a|b ``tick`` `x` "
          "<iframe src=https://x/></iframe> mailto:a@b.example //evil.example/p")
SOURCE = "javascript:alert(1) [s](javascript:alert(2)) | https://example.org/ok_(1)"
CONTROLS = f"first line\rsecond line {OSC8} {CSI}red \x9b31m c1"
SHOWN = "first line second line x red  c1"  # what a table or report shows of it
# Bidirectional embeddings, overrides and isolates; directional marks; zero-width characters.
INVISIBLE = [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u200e", "\u200f", "\u061c",
             "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
HIDDEN_QUOTE = f"reordered{''.join(INVISIBLE)} text"  # shown as "reordered text"
EXECUTABLE = {"script", "img", "iframe", "object", "embed", "style", "link", "svg", "form", "input", "meta", "base"}


def _legacy_rows(db: Path) -> None:
    """The hostile expert and a statement with control characters, as a store written before such text
    was refused can hold them (stored through the ORM, bypassing input validation)."""
    with open_store(str(db)).session() as session:
        question = session.exec(select(Question).where(Question.slug == QUESTION)).one()
        expert = Expert(name=EVIL, kind="analyst", role=f"role {OSC8}", notes=f"notes {CSI}")
        session.add(expert)
        session.flush()
        said_on, claim, source = dt.date(2023, 5, 2), "after 2025", f"src {OSC8}"
        session.add(Statement(
            uid=content_uid(QUESTION, EVIL, said_on.isoformat(), claim, CONTROLS, source), question_id=question.id,
            expert_id=expert.id, said_on=said_on, quote=CONTROLS, source=source, claim_text=claim, claim_start="2026-01"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A seeded store with hostile evidence by an expert named like mathtext, one run, and its report.

    The run comes from the exact path: what is shown is the subject here, not the model (and a sampled run
    of this store's experts would compile a model for this test alone)."""
    root = tmp_path_factory.mktemp("hostile")
    db = root / "f.db"
    runner = CliRunner()

    def call(*args: str):
        result = runner.invoke(cli, ["--db", str(db), *args])
        assert result.exit_code == 0, result.output
        return result

    call("init")
    _legacy_rows(db)
    call("log", "statement", "--question", QUESTION, "--expert", EVIL, "--date", "2023-04-01", "--claim", "by 2027",
         "--quote", MARKUP, "--source", SOURCE, "--rationale", "| fake | row |", "--no-update")
    call("log", "statement", "--question", QUESTION, "--expert", EVIL, "--date", "2023-04-02", "--claim", "by 2029",
         "--quote", HIDDEN_QUOTE, "--source", "https://example.org/hidden", "--no-update")
    store_exact_run(db)
    report = call("report", QUESTION, "--out", str(root / "reports"))
    html_path = Path(re.search(r"Wrote (\S+\.html)", report.output).group(1))
    return db, html_path.read_text(), html_path.with_suffix(".md").read_text(), html_path


RENDERERS = {
    "commonmark, raw HTML on": MarkdownIt("commonmark", {"html": True}).enable("table"),
    "GFM-like, raw HTML and link detection on": MarkdownIt("gfm-like", {"html": True}),
}


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_markdown_renders_nothing_executable(hostile, renderer: str) -> None:
    _, _, md, html_path = hostile
    tree = html5lib.parse(RENDERERS[renderer].render(md), namespaceHTMLElements=False)
    tags = {element.tag for element in tree.iter()}
    assert not tags & (EXECUTABLE - {"img"}), tags & EXECUTABLE
    images = [element.get("src") for element in tree.iter("img")]  # only the report's own figures
    assert len(images) == 4 and all(re.fullmatch(rf"{html_path.stem}_files/[a-z]+\.svg", src) for src in images), images
    links = [element.get("href") for element in tree.iter() if element.get("href") is not None]
    assert links and all(re.match(r"https?://", link) for link in links), links
    assert "https://example.org/ok_(1" in links  # the source's http(s) URL is the one link it makes


QUOTE, SOURCE_COLUMN, WHO = (EVIDENCE_HEADERS.index(h) for h in ("quote or note", "source", "who / kind"))


def _evidence_rows(tree) -> list[list[str]]:
    """The rows of the Markdown evidence tables (those with a visible influence, then the collapsed ones)."""
    tables = [t for t in tree.iter("table") if [th.text for th in t.iter("th")] == EVIDENCE_HEADERS]
    assert tables
    return [["".join(td.itertext()) for td in tr.iter("td")] for t in tables for tr in t.find("tbody").iter("tr")]


def _html_evidence_rows(tree) -> list[list[str]]:
    """The items of the HTML evidence tables, as Markdown's columns: the first row's cells, then the quote and the
    source from the second row."""
    def text(element) -> str:
        return "".join(element.itertext()) if element is not None else ""

    rows = []
    for table in tree.iter("table"):
        if "evidence" not in table.get("class", "").split():
            continue
        for item in table.iter("tbody"):
            main, said = item.findall("tr")
            quote, source = said.find(".//p[@class='quote']"), said.find(".//p[@class='source']")
            logged = said.find(".//p[@class='logged']")
            rows.append([text(td) for td in main.findall("td")] + [text(quote), text(source).removeprefix("Source: "),
                                                                   text(logged).removeprefix("Logged by ")])
    assert rows and all(len(row) == len(EVIDENCE_HEADERS) for row in rows)
    return rows


def _unlabelled(text: str) -> str:
    """A quote cell without its "Verbatim: " or "Paraphrase: " label (an observation's note has none)."""
    return text.removeprefix("Verbatim: ").removeprefix("Paraphrase: ")


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_markdown_shows_evidence_text_verbatim_one_row_each(hostile, renderer: str) -> None:
    _, html, md, _ = hostile
    rows = _evidence_rows(html5lib.parse(RENDERERS[renderer].render(md), namespaceHTMLElements=False))
    html_rows = _html_evidence_rows(html5lib.parse(html, namespaceHTMLElements=False))
    assert [row[0] for row in rows] == [row[0] for row in html_rows]  # one row per evidence item, none split
    assert all(len(row) == len(EVIDENCE_HEADERS) for row in rows)
    quotes = {_unlabelled(row[QUOTE]) for row in rows}
    assert MARKUP in quotes
    assert SHOWN in quotes  # the carriage return did not split the row; escape sequences are gone
    assert SOURCE in {row[SOURCE_COLUMN] for row in rows}
    assert any(row[WHO] == EVIL for row in rows)


def test_html_report_escapes_hostile_evidence(hostile) -> None:
    _, html, _, _ = hostile
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    tags = {str(element.tag).rsplit("}", 1)[-1] for element in tree.iter()}
    assert not tags & (EXECUTABLE - {"svg", "style", "meta"}), tags & EXECUTABLE  # the page's own are allowed
    rows = _html_evidence_rows(tree)
    assert {MARKUP, SHOWN.replace("line ", "line\n", 1)} <= {_unlabelled(row[QUOTE]) for row in rows}  # keeps the break
    assert SOURCE in {row[SOURCE_COLUMN] for row in rows} and any(row[WHO] == EVIL for row in rows)
    ids = {element.get("id") for element in tree.iter() if element.get("id")}
    links = [a.get("href") for a in tree.iter("a")]
    external = [link for link in links if not link.startswith("#")]
    assert external and all(re.match(r"https?://", link) for link in external), external
    assert all(link.startswith("#glossary-") and link[1:] in ids for link in links if link.startswith("#"))


def test_reports_show_no_bidi_or_zero_width_characters(hostile) -> None:
    _, html, md, _ = hostile
    assert not set(html) & set(INVISIBLE) and not set(md) & set(INVISIBLE)
    assert "reordered text" in html and "reordered text" in md


def test_report_draws_the_mathtext_name_literally(hostile) -> None:
    _, html, _, html_path = hostile
    svg = (html_path.parent / f"{html_path.stem}_files" / "experts.svg").read_text()
    assert f">{EVIL}</text>" in svg and f">{EVIL}</text>" in html  # one text element, as stored


def test_figure_label_is_not_mathtext() -> None:
    svg = experts_figure([{"expert": EVIL, "prior_q05": 0.1, "prior_q95": 0.9, "q05": 0.2, "q95": 0.8, "mean": 0.5}])
    assert f">{EVIL}</text>" in svg


def test_figure_labels_cannot_close_the_svg() -> None:
    name = "</svg><script>x"
    svg = experts_figure([{"expert": name, "prior_q05": 0.1, "prior_q95": 0.9, "q05": 0.2, "q95": 0.8, "mean": 0.5}])
    tags = {str(element.tag).rsplit("}", 1)[-1] for element in html5lib.parse(svg, namespaceHTMLElements=False).iter()}
    assert "script" not in tags and ">&lt;/svg&gt;&lt;script&gt;x</text>" in svg


TERMINAL_COMMANDS = [["evidence", "list", "--all"], ["expert", "show", EVIL], ["show"], ["evidence", "list", "--json"]]


def _assert_terminal_safe(output: str) -> None:
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", output), repr(output)


@pytest.mark.parametrize("args", TERMINAL_COMMANDS, ids=" ".join)
def test_terminal_output_strips_escape_sequences_in_a_pipe(hostile, args: list[str]) -> None:
    db, *_ = hostile
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output
    _assert_terminal_safe(result.output)
    if "--json" in args:
        rows = json.loads(result.output)
        assert CONTROLS in {row.get("quote") for row in rows}  # JSON keeps the stored text exactly, escaped
    else:
        assert EVIL in result.output and "http://evil" not in result.output


def test_terminal_output_strips_escape_sequences_on_a_terminal(hostile) -> None:
    db, *_ = hostile
    main, secondary = pty.openpty()
    with subprocess.Popen([shutil.which("forecast"), "--db", str(db), "evidence", "list", "--all"], stdout=secondary,
                          stderr=secondary, env={**os.environ, "COLUMNS": "400"}) as proc:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closes when the process exits
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0
    os.close(main)
    output = b"".join(chunks).decode().replace("\r\n", "\n")  # the terminal's own line endings
    assert re.search(r"decided: borne out +src x *\n", output) and "http://evil" not in output  # a rich table on a terminal
    assert "─" * 20 in output
    _assert_terminal_safe(output)


def test_error_messages_carry_no_raw_control_characters(run, seeded) -> None:
    with open_store(str(seeded)).session() as session:  # a reason stored before control characters were refused
        row = session.get(Statement, 1)
        row.retracted_at, row.retraction_reason = dt.datetime.now(dt.UTC), f"misquoted {OSC8}"
    result = run("retract", "S1", "--reason", "again")
    assert result.exit_code == 2 and "(misquoted " in result.stderr and result.stderr.count("\n") == 1
    _assert_terminal_safe(result.stderr)




@pytest.mark.parametrize("char", INVISIBLE, ids=lambda char: f"U+{ord(char):04X}")
def test_shown_text_drops_bidi_and_zero_width_characters(char: str) -> None:
    assert displayable(f"{char}Expert A{char} said: by {char}2030{char}") == "Expert A said: by 2030"


@sqlite_only  # the text shown, not the store, is under test
def test_terminal_output_hides_no_bidi_or_zero_width_characters(run, seeded, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a piped table fits the width the environment gives: room for the source
    hidden = "".join(INVISIBLE)
    name, quote, source = f"Ev{hidden}e", f"stays{hidden} until 2028", f"https://example.org/{hidden}q"
    assert run("expert", "add", name, "--kind", "analyst").output == "Added expert Eve (analyst).\n"
    assert run(*log_args(expert=name, quote=quote, source=source), "--no-update").exit_code == 0
    shown = {" ".join(args): run(*args).output for args in (["evidence", "list"], ["evidence", "list", "--csv"],
                                                             ["expert", "list"], ["expert", "show", name])}
    assert {args: set(output) & set(INVISIBLE) for args, output in shown.items()} == dict.fromkeys(shown, set())
    assert all("Eve" in output for output in shown.values())
    assert "https://example.org/q" in shown["evidence list"] and "stays until 2028" in shown["evidence list --csv"]
    listed = run("evidence", "list", "--json")
    assert not set(listed.output) & set(INVISIBLE) and "\\u202e" in listed.output
    assert {(r.get("expert"), r.get("quote"), r["source"]) for r in json.loads(listed.output)} >= {(name, quote, source)}
    assert run("retract", "S1", "--reason", f"mis{hidden}quoted").exit_code == 0
    again = run("retract", "S1", "--reason", "again")  # the error repeats the stored reason
    assert again.exit_code == 2 and not set(again.stderr) & set(INVISIBLE) and "(mis\\u202a" in again.stderr
