"""The web question page keeps what it made per store state: a later view is served from it, and no write
forecast makes leaves it stale (the cached page after a write is the page made from scratch)."""

from __future__ import annotations

import re

import pytest

from forecast.store import open_store
from forecast.web import views
from forecast.web.rendering import environment, render_block

from .conftest import INIT, QUESTION, REPORTER, invoke, store_exact_run

WRITES = {
    "statement": ("log", "statement", "--question", QUESTION, "--expert", REPORTER, "--date", "2023-04-01", "--claim",
                  "not before 2028", "--quote", "A fixture quote: not before 2028.", "--source", "fixture, example.org"),
    "retraction": ("retract", "S1", "--reason", "fixture: misattributed"),
    "expert rename": ("expert", "rename", "Anatoly Zak", "Expert A"),
    "resolution": ("resolve", QUESTION, "--date", "2026-12", "--source", "fixture, example.org"),
}


@pytest.fixture
def store(db: str):
    """The article's seed with one stored run (exact fast path), and empty page caches."""
    assert invoke(db, *INIT).exit_code == 0
    store_exact_run(db)
    for kept in (views._REPORTS, views._EVIDENCE):
        kept.values.clear()
    return open_store(db)


def _counting(monkeypatch) -> list[str]:
    made: list[str] = []
    original = views.report_content

    def counted(session, priors, run, question):
        made.append(question)
        return original(session, priors, run, question)

    monkeypatch.setattr(views, "report_content", counted)
    return made


def _shown(page: dict) -> dict:
    """The page's context without the time it was generated at."""
    stamp = re.compile(r"generated \d{4}-\d\d-\d\dT[\d:]+\+00:00")
    return {k: stamp.sub("", str(v)) for k, v in page.items() if k != "generated_at"}


def test_a_later_view_is_served_from_what_the_first_made(store, monkeypatch) -> None:
    made = _counting(monkeypatch)
    first = views.question_page(store, QUESTION)
    again = views.question_page(store, QUESTION)
    assert made == [QUESTION]
    assert again["report_body"] is first["report_body"] and again["evidence"] == first["evidence"]
    assert again["instant"] == first["instant"] and again["instant"]


@pytest.mark.parametrize("write", WRITES)
def test_no_write_leaves_the_page_stale(store, monkeypatch, write) -> None:
    made = _counting(monkeypatch)
    before = views.question_page(store, QUESTION)
    result = invoke(store.url, *WRITES[write])
    assert result.exit_code == 0, result.output
    cached = views.question_page(store, QUESTION)
    for kept in (views._REPORTS, views._EVIDENCE):
        kept.values.clear()
    fresh = views.question_page(store, QUESTION)
    assert _shown(cached) == _shown(fresh)
    assert _shown(cached) != _shown(before)
    assert len(made) == 3  # the write made the page anew, and so did clearing the caches


def test_the_kept_body_is_what_the_report_renders(store) -> None:
    page = views.question_page(store, QUESTION)
    context = {k: v for k, v in page.items() if k != "report_body"}
    whole = environment().get_template("report.html").render(context)
    standalone = render_block("report.html", "body", context)
    assert len(standalone) > 10_000 and standalone in whole
    body = render_block("report.html", "body", {**context, "glossary_elsewhere": True})  # the page shows it later
    assert body == page["report_body"] and '<h2 id="glossary">' not in body
    assert standalone.startswith(body.rstrip()) and '<h2 id="glossary">' in standalone[len(body.rstrip()):]
