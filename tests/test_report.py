"""Reports: numbers match the stored run, every evidence row with its source, valid self-contained HTML
rendered in a real browser."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from pathlib import Path

import html5lib
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from forecast.cli import cli

from forecast.inference.summary import plain_headline
from forecast.report.content import open_checkpoints, resolved_line
from forecast.report.glossary import GLOSSARY
from forecast.report.render import glossary_page

from .browser import render
from .conftest import INIT, PROJECT, QUESTION, invoke, log_args, query, store_exact_run


@pytest.fixture(scope="module")
def reported(fitted, tmp_path_factory):
    """A seeded store, one converged run (on the test's backend), and its report."""
    db, _ = fitted
    out = tmp_path_factory.mktemp("report") / "reports"
    result = invoke(db, "report", QUESTION, "--out", str(out))
    assert result.exit_code == 0, result.output
    record = json.loads(invoke(db, "show", QUESTION, "--json").output)
    html_path = Path(re.search(r"Wrote (\S+\.html)", result.output).group(1))
    md_path = html_path.with_suffix(".md")
    return db, out, record, html_path.read_text(), md_path.read_text(), html_path


@pytest.mark.every_backend
def test_report_files_are_named_by_question_and_date(reported) -> None:
    _, out, record, *_ = reported
    stem = f"{QUESTION}-{record['as_of']}"
    assert (out / f"{stem}.html").exists() and (out / f"{stem}.md").exists()
    assert sorted(p.name for p in (out / f"{stem}_files").iterdir()) == [
        "cumulative.svg", "experts.svg", "history.svg", "years.svg"]


def _text(html: str) -> str:
    """What a reader sees of a page (or a fragment), tags dropped and entities resolved."""
    return "".join(html5lib.parse(html, namespaceHTMLElements=False).itertext())


def _md_text(md: str) -> str:
    return _text(MarkdownIt("commonmark").enable("table").render(md))


def _pct(p: float) -> str:
    return "<1%" if 0 < p < 0.005 else ">99%" if 0.995 < p < 1 else f"{100 * p:.0f}%"


@pytest.mark.every_backend
def test_headline_numbers_match_the_stored_run(reported) -> None:
    _, _, record, html, md, _ = reported
    result = record["results"][0]
    head, months, band = result["headline"], result["months"], result["cdf_bands"]
    page, md_page = _text(html), _md_text(md)
    lead = f"Russia withdraws by 2032-12: {_pct(1 - head['not_within_horizon'])}"
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    (lead_element,) = [p for p in tree.iter("p") if p.get("class") == "lead"]
    assert "".join(lead_element.itertext()) == lead  # the sentence leads, and carries no interval across draws
    assert md.split("## Headline\n\n", 1)[1].startswith(f"**{lead}**\n")
    median = "not by 2032-12" if head["median"] == "not within the horizon" else head["median"]
    assert f"Median date: {median}; 80% interval: " in page and f"Median date: {median}; 80% interval: " in md_page
    resolved = [d for d in head["checkpoints"] if d <= "2026-11-23"]  # the seed's last 'still participating'
    assert f"Resolved checkpoints (before {', '.join(resolved)}): all NO." in md
    for date, p in head["checkpoints"].items():
        assert (f"Russia withdraws before {date}: {_pct(p)}" in page) == (date not in resolved)
        assert (f"- Russia withdraws before {date}: {_pct(p)}\n" in md) == (date not in resolved)
    for text in (page, md_page):
        assert f"Not by 2032-12: {_pct(head['not_within_horizon'])}" in text
        assert f"Pre-empted (The ISS is retired first, by 2032-12): {_pct(head['pre_empted'])}" in text
        assert "not within the horizon" not in text.split("Evidence")[0]  # the headline and the figures' titles


def test_the_interval_across_draws_is_in_details_labelled_as_such(reported) -> None:
    _, _, record, html, md, _ = reported
    result = record["results"][0]
    head, months, band = result["headline"], result["months"], result["cdf_bands"]
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    (spread,) = [d for d in tree.iter("details") if d.get("class") == "spread"]
    assert "".join(spread.find("summary").itertext()) == "Uncertainty of these probabilities across the model's draws"
    rows = [["".join(td.itertext()) for td in tr.iter("td")] for tr in spread.find(".//tbody").iter("tr")]
    last, i = months.index("2032-12"), months.index("2028-12")
    expected = {"Russia withdraws by 2032-12": [_pct(1 - head["not_within_horizon"]),
                                                f"{_pct(band['0.1'][last])} to {_pct(band['0.9'][last])}"],
                "Russia withdraws before 2029-01-01": [_pct(head["checkpoints"]["2029-01-01"]),
                                                       f"{_pct(band['0.1'][i])} to {_pct(band['0.9'][i])}"]}
    assert {row[0]: row[1:] for row in rows}.items() >= expected.items()
    next(parent for parent in tree.iter() if spread in list(parent)).remove(spread)
    headline = "".join(tree.itertext()).split("Date distribution")[0]
    assert "Russia withdraws by 2032-12" in headline and not re.search(r"\d% to ", headline)  # no band left outside
    heading = "### Uncertainty of these probabilities across the model's draws"
    assert not re.search(r"\d% to ", md[:md.index(heading)])
    section = md[md.index(heading):md.index("## Date")]
    bands = f"| Russia withdraws by 2032-12 | {_pct(1 - head['not_within_horizon'])} | "
    assert bands.replace("<", "\\<") in section and md.count("middle 80% of draws") == 1


def test_evidence_is_sorted_by_influence_and_negligible_rows_collapse(reported) -> None:
    *_, html, md, _ = reported
    table = md[md.index("## Evidence"):md.index("## Experts")]
    shown = table.split("more items with negligible influence")[0]
    deltas = [float(m) for m in re.findall(r"\| ([+-]\d+\.\d) pp \|", shown)]
    assert deltas and all(abs(d) >= 0.1 for d in deltas)
    assert [abs(d) for d in deltas] == sorted((abs(d) for d in deltas), reverse=True)
    if "more items with negligible influence" in table:
        quiet = table.split("more items with negligible influence")[1]
        assert set(re.findall(r"\| ([+-]\d+\.\d) pp \|", quiet)) <= {"+0.0", "-0.0"}
        assert "<details><summary>" in html


def test_provenance_and_reliabilities_match(reported) -> None:
    _, _, record, html, md, _ = reported
    for value in (record["evidence_fingerprint"], record["config_hash"], record["code_version"], str(record["seed"]),
                  f"{record['diagnostics']['max_rhat']:.4f}"):
        assert value in html and value in md
    for rel in record["reliabilities"]:
        cell = f"{rel['mean']:.2f} ({rel['q05']:.2f}-{rel['q95']:.2f})"
        assert cell in html and cell in md


def test_every_evidence_row_appears_with_its_source(reported) -> None:
    db, _, record, html, md, _ = reported
    evidence = query(db, "SELECT 'S' || id, source FROM statement UNION ALL SELECT 'O' || id, source FROM observation")
    assert len(evidence) == len(record["evidence"]) == 17
    text, md_text = _text(html), _md_text(md)
    for ref, source in evidence:
        assert f"{ref}" in text and source in text, ref
        assert source in md_text, ref
    assert "falsified" in html and "borne out" in html  # Logsdon's and Rogozin's 'by 2024'; Borisov's 'after 2024'


def test_html_is_valid_and_self_contained(reported) -> None:
    *_, html, _, _ = reported
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    for element in tree.iter():
        tag = str(element.tag).rsplit("}", 1)[-1]
        assert tag not in ("script", "link", "img", "iframe", "object"), tag
        for name, value in element.attrib.items():
            name = str(name).rsplit("}", 1)[-1]
            assert name != "src", (tag, value)
            if name == "href":
                assert tag == "a" or value.startswith("#"), (tag, value)
    assert not re.search(r"url\((?!#)", html), "CSS or SVG may only reference the page itself"
    assert html.count("<svg") == 4


# At 1280 px the evidence table's quote and source sit on a second row across the table; at 390 px each item is a
# card (the table's header hidden, each item's rows stacked).
LAYOUT = """() => {
  const table = document.querySelector('table.evidence'), said = table.querySelector('tr.said td');
  return [getComputedStyle(table.querySelector('thead')).display, getComputedStyle(table.querySelector('tbody')).display,
          said.getBoundingClientRect().width / table.querySelector('tr.main').getBoundingClientRect().width];
}"""


@pytest.mark.parametrize("width, header, item", [(1280, "table-header-group", "table-row-group"), (390, "none", "block")])
def test_chromium_renders_the_report_without_sideways_scrolling(reported, tmp_path, width, header, item) -> None:
    *_, html_path = reported
    page = render(html_path, tmp_path / "report.png", width=width, probe=LAYOUT)
    assert page.errors == []
    assert page.requests == [html_path.resolve().as_uri()], "a self-contained page fetches nothing else"
    assert page.title.startswith("When will Russia withdraw from the International Space Station?")
    assert (tmp_path / "report.png").stat().st_size > 50_000
    assert page.scroll_width <= page.viewport_width == width
    assert page.overflowing == []  # no element reaches past the viewport, with every <details> closed or open
    assert len(page.svg_widths) == 4 and min(page.svg_widths) > 300
    assert len(page.figure_fonts) > 50 and min(page.figure_fonts) >= 10, min(page.figure_fonts)
    shown_header, shown_item, said_share = page.probe
    assert (shown_header, shown_item) == (header, item)
    assert said_share > 0.98  # the quote and source span the whole item, below its numbers


def test_unconverged_run_is_flagged_at_the_top(reported, tmp_path) -> None:
    db, *_ = reported
    runner = CliRunner()
    copy = tmp_path / "copy.db"
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # a plain file copy would miss what is still in the WAL
    flagged = runner.invoke(cli, ["--db", str(copy), "run", "--draws", "10", "--tune", "10", "--chains", "2"])
    assert flagged.exit_code == 1, flagged.output  # stored but flagged
    result = runner.invoke(cli, ["--db", str(copy), "report", "--run", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0
    html = next(tmp_path.glob("*.html")).read_text()
    assert html.index('role="alert"') < html.index("<h2>Headline</h2>")
    assert "Not converged." in html and "did not pass its diagnostics" in html
    md = next(tmp_path.glob("*.md")).read_text()
    assert md.splitlines()[4].startswith("> **Not converged.**")


def test_report_of_a_run_without_a_question_reports_that_runs_questions(tmp_path) -> None:
    """`report --run N` writes the questions run N forecast, not every open question."""
    from .conftest import store_exact_run

    db = tmp_path / "one.db"
    assert invoke(db, *INIT).exit_code == 0
    store_exact_run(db)
    store_exact_run(db, only=["iss-retirement"])
    result = invoke(db, "report", "--run", "2", "--out", str(tmp_path), "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(p.name.split("-20")[0] for p in tmp_path.glob("*.html")) == ["iss-retirement"]
    assert invoke(db, "report", "--out", str(tmp_path), "--quiet").exit_code == 0  # without --run: every open one
    assert sorted(p.name.split("-20")[0] for p in tmp_path.glob("*.html")) == ["iss-retirement", "russia-iss-withdrawal"]


def test_report_errors_are_one_line(reported) -> None:
    db, *_ = reported
    result = invoke(db, "report", "--run", "99")
    assert (result.exit_code, result.stderr) == (2, "Error: no forecast run 99\n")


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A report whose calibration section has scores: exact runs as of 2023-06-01 (whose checkpoints have resolved
    since) and of today."""
    root = tmp_path_factory.mktemp("scored")
    db = root / "f.db"
    assert invoke(db, *INIT).exit_code == 0
    store_exact_run(db, dt.date(2023, 6, 1))
    store_exact_run(db)
    result = invoke(db, "report", QUESTION, "--out", str(root))
    assert result.exit_code == 0, result.output
    html_path = Path(re.search(r"Wrote (\S+\.html)", result.output).group(1))
    return html_path.read_text(), html_path.with_suffix(".md").read_text()


LINKED = {"median", "draws", "effective-weight", "expert-reliability", "pre-emption", "rhat", "ess", "divergences",
          "brier", "log-score", "murphy", "murphy-reliability", "resolution", "uncertainty", "coverage"}


def test_diagnostic_and_score_terms_link_to_the_glossary(scored) -> None:
    html, md = scored
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    entries = {dt_.get("id") for dt_ in tree.iter("dt")}
    links = [a.get("href") for a in tree.iter("a") if a.get("class") == "term"]
    assert {link.removeprefix("#glossary-") for link in links} >= LINKED
    assert all(link[1:] in entries for link in links)
    calibration = _text(html.split("<h2>Calibration so far</h2>")[1].split("<h2>")[0])
    assert "Murphy decomposition of the model's Brier score" in calibration and "Coverage of the model's" in calibration
    assert "<code>forecast score</code>" in html and "`forecast score`" in md


def test_no_backtick_shows_in_the_page(reported, scored) -> None:
    for html in (reported[3], scored[0]):
        assert "`" not in _text(html)


def _glossary_of(html_fragment: str, heading: str) -> list[tuple[str, str]]:
    """(term, text) of each entry: under each ``heading`` element, the paragraph after it."""
    tree = html5lib.parse(html_fragment, namespaceHTMLElements=False)
    body = list(tree.find("body"))
    return [("".join(h.itertext()), "".join(body[k + 1].itertext())) for k, h in enumerate(body) if h.tag == heading]


def test_the_glossary_page_and_the_report_say_the_same(reported) -> None:
    *_, html, md, _ = reported
    page = (PROJECT / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert page == glossary_page(), ("docs/glossary.md is written from forecast/report/glossary.py: uv run --frozen "
                                     "python -c 'from forecast.report.render import glossary_page as g; "
                                     "print(g(), end=\"\")' > docs/glossary.md")
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    (glossary,) = [dl for dl in tree.iter("dl") if dl.get("class") == "glossary"]
    in_report = [("".join(dt_.itertext()), "".join(dd.itertext())) for dt_, dd in zip(glossary.iter("dt"), glossary.iter("dd"))]
    render_md = MarkdownIt("commonmark").render
    assert _glossary_of(render_md(page), "h2") == in_report == _glossary_of(render_md(md.split("## Glossary")[1]), "h3")
    assert len(in_report) == len(GLOSSARY) and {term for term, _ in in_report} >= {
        "R-hat", "ESS (effective sample size)", "Divergences", "PIT (probability integral transform)",
        "Reliability (Murphy)", "Resolution (Murphy)", "Uncertainty (Murphy)", "Brier score",
        "RPS (ranked probability score)", "Log score", "Coverage", "Effective weight", "Pre-emption"}


HEAD = {"checkpoints": {"2030-01-01": 0.004, "2031-01-01": 0.2}, "not_within_horizon": 0.8,
        "median": "not within the horizon",
        "intervals": {"50%": ["not within the horizon", "not within the horizon"], "80%": ["2030-10", "not within the horizon"],
                      "95%": ["2030-01", "2030-12"]}}


def test_the_headline_in_plain_words() -> None:
    plain = plain_headline("Russia withdraws", HEAD, "2030-12")
    assert str(plain.lead) == "Russia withdraws by 2030-12: 20%"
    assert plain.median == "not by 2030-12"
    assert plain.intervals == {"50%": "not by 2030-12", "80%": "from 2030-10, or not by 2030-12", "95%": "2030-01 to 2030-12"}
    assert [str(line) for line in plain.checkpoints.values()] == ["Russia withdraws before 2030-01-01: <1%",
                                                                  "Russia withdraws before 2031-01-01: 20%"]
    assert (str(plain.not_by), plain.pre_empted) == ("Not by 2030-12: 80%", None)
    assert plain.sentence == ("Russia withdraws by 2030-12: 20%. Median date: not by 2030-12; "
                              "80% interval: from 2030-10, or not by 2030-12.")
    within = plain_headline("It happens", {**HEAD, "median": "2030-11", "not_within_horizon": 0.0004, "pre_empted": 0.3},
                            "2030-12", "The other thing happens")
    assert (str(within.lead), within.median) == ("It happens by 2030-12: >99%", "2030-11")
    assert str(within.pre_empted) == "Pre-empted (The other thing happens first, by 2030-12): 30%"


@pytest.mark.parametrize("p, shown", [(0.0, "0%"), (0.004, "<1%"), (0.0049, "<1%"), (0.0051, "1%"), (0.2, "20%"),
                                      (0.995, ">99%"), (0.9951, ">99%"), (1.0, "100%")])
def test_probabilities_never_round_to_certainty(p, shown) -> None:
    assert str(plain_headline("E", {**HEAD, "not_within_horizon": 1 - p}, "2030-12").lead) == f"E by 2030-12: {shown}"


def test_resolved_checkpoints_collapse_into_one_line() -> None:
    outcomes = {"2030-01-01": False, "2031-01-01": None}
    assert resolved_line(outcomes) == "Resolved checkpoints (before 2030-01-01): all NO."
    assert open_checkpoints(plain_headline("E", HEAD, "2030-12"), outcomes) == ["2031-01-01"]
    mixed = {"2029-01-01": False, "2030-01-01": True}
    assert resolved_line(mixed) == "Resolved checkpoints (before 2029-01-01, 2030-01-01): 2029-01-01: NO, 2030-01-01: YES."
    assert resolved_line({"2030-01-01": None}) == ""



def test_each_quote_says_whether_it_is_verbatim_or_a_paraphrase(tmp_path) -> None:
    """The report labels each statement's text Verbatim or Paraphrase (as logged), never an observation's note."""
    db = str(tmp_path / "said.db")
    assert invoke(db, *INIT).exit_code == 0
    logged = invoke(db, *log_args(quote="A fixture paraphrase.", date="2023-05-02"), "--paraphrase", "--no-update")
    assert logged.exit_code == 0, logged.output
    store_exact_run(db)
    out = tmp_path / "reports"
    result = invoke(db, "report", QUESTION, "--out", str(out))
    assert result.exit_code == 0, result.output
    html_path = Path(re.search(r"Wrote (\S+\.html)", result.output).group(1))
    html, md = html_path.read_text(), html_path.with_suffix(".md").read_text()
    kinds = dict(query(db, "SELECT 'S' || id, quote_kind FROM statement"))
    assert set(kinds.values()) == {"verbatim", "paraphrase"}
    label = {"verbatim": "Verbatim", "paraphrase": "Paraphrase"}
    for ref, kind in kinds.items():
        item = re.search(rf'<tbody class="item" id="item-{ref}">(.*?)</tbody>', html, re.S).group(1)
        assert f'<span class="said-as">{label[kind]}:</span>' in item, ref
        line = next(row for row in md.splitlines() if row.startswith(f"| {ref} |"))
        assert f"| {label[kind]}: " in line, ref
    observation = re.search(r'<tbody class="item" id="item-O\d+">(.*?)</tbody>', html, re.S).group(1)
    assert "said-as" not in observation  # an observation's note is nobody's words
