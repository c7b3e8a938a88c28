"""Reports: numbers match the stored run, every evidence row with its source, valid self-contained HTML
rendered in a real browser."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import html5lib
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from forecast.cli import cli

from .browser import render
from .conftest import QUESTION, invoke, query


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


@pytest.mark.every_backend
def test_headline_numbers_match_the_stored_run(reported) -> None:
    _, _, record, html, md, _ = reported
    result = record["results"][0]
    head, months, band = result["headline"], result["months"], result["cdf_bands"]
    last = months.index("2032-12")
    sentence = (f"Russia withdraws by 2032-12 with probability {100 * (1 - head['not_within_horizon']):.0f}% "
                f"(80% interval {100 * band['0.1'][last]:.0f}%-{100 * band['0.9'][last]:.0f}%); median date ")
    assert sentence in html and sentence in md
    assert html.count("with probability") == 1  # one sentence, then the open checkpoints
    i = months.index("2028-12")
    assert f"before 2029-01-01: {100 * head['checkpoints']['2029-01-01']:.0f}% (80% interval " \
           f"{100 * band['0.1'][i]:.0f}%-{100 * band['0.9'][i]:.0f}%)" in html
    assert f"not within the horizon (by 2032-12): {100 * head['not_within_horizon']:.0f}%" in html
    sentence = f"Pre-empted (The ISS is retired first, within the horizon): {100 * head['pre_empted']:.0f}%"
    assert sentence in html and sentence in md
    resolved = [d for d in head["checkpoints"] if d <= "2026-11-23"]  # the seed's last 'still participating'
    assert f"Resolved checkpoints (before {', '.join(resolved)}): all NO." in md
    for date, p in head["checkpoints"].items():
        assert (f"Russia withdraws before {date}: " in md) == (date not in resolved)
    assert f"Median date: {head['median']}." in html
    for level, (low, high) in head["intervals"].items():
        assert f"{level} credible interval: {low} to {high}." in md


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
    text = re.sub(r"<[^>]+>", "", html).replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
    md_text = "".join(html5lib.parse(MarkdownIt("commonmark").enable("table").render(md)).itertext())
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


def test_chromium_renders_the_report(reported, tmp_path) -> None:
    *_, html_path = reported
    page = render(html_path, tmp_path / "report.png")
    assert page.errors == []
    assert page.requests == [html_path.resolve().as_uri()], "a self-contained page fetches nothing else"
    assert len(page.svg_widths) == 4 and min(page.svg_widths) > 300
    assert page.title.startswith("When will Russia withdraw from the International Space Station?")
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_report_fits_a_phone_screen(reported, tmp_path) -> None:
    *_, html_path = reported
    page = render(html_path, tmp_path / "phone.png", width=390, full_page=False)
    assert page.errors == [] and page.scroll_width <= page.viewport_width


def test_unconverged_run_is_flagged_at_the_top(reported, tmp_path) -> None:
    db, *_ = reported
    runner = CliRunner()
    copy = tmp_path / "copy.db"
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # a plain file copy would miss what is still in the WAL
    flagged = runner.invoke(cli, ["--db", str(copy), "run", "--draws", "10", "--tune", "10", "--chains", "2"])
    assert flagged.exit_code == 0, flagged.output
    result = runner.invoke(cli, ["--db", str(copy), "report", "--run", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0
    html = next(tmp_path.glob("*.html")).read_text()
    assert html.index('role="alert"') < html.index("<h2>Headline</h2>")
    assert "Not converged." in html and "did not pass its diagnostics" in html
    md = next(tmp_path.glob("*.md")).read_text()
    assert md.splitlines()[4].startswith("> **Not converged.**")


def test_report_errors_are_one_line(reported) -> None:
    db, *_ = reported
    result = invoke(db, "report", "--run", "99")
    assert (result.exit_code, result.stderr) == (2, "Error: no forecast run 99\n")
