"""Forecast reports: gather (content), draw (figures), render (HTML and Markdown), write."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session

from ..files import write_atomically
from ..priors import Priors
from ..runs import latest_run
from ..views import list_questions
from .content import report_content
from .figures import all_figures
from .render import to_html, to_markdown


def gather_reports(session: Session, priors: Priors, question: str | None = None, run_id: int | None = None,
                   as_of: dt.date | None = None, tag: str | None = None) -> list[dict]:
    """The content of each report (``question``, or every open question, with ``tag`` if given), all read in
    the caller's snapshot."""
    slugs = [question] if question else [q["slug"] for q in list_questions(session)
                                          if q["status"] == "open" and (tag is None or tag in q["tags"])]
    return [report_content(session, priors, latest_run(session, slug, run_id, as_of), slug) for slug in slugs]


def write_report(content: dict, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<question>-<date>.html`` and ``.md`` (figures in ``<question>-<date>_files/``), each file
    replaced whole (written beside it, then renamed)."""
    figures = all_figures(content)
    stem = f"{content['question'].slug}-{content['run']['as_of']}"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = out_dir / f"{stem}_files"
    files.mkdir(exist_ok=True)
    paths = {}
    for name, svg in figures.items():
        if svg:
            write_atomically(files / f"{name}.svg", svg)
            paths[name] = f"{files.name}/{name}.svg"
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    html_path, md_path = out_dir / f"{stem}.html", out_dir / f"{stem}.md"
    write_atomically(html_path, to_html(content, figures, generated))
    write_atomically(md_path, to_markdown(content, paths, generated))
    return html_path, md_path
