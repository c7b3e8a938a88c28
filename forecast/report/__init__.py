"""Forecast reports: gather (content), draw (figures), render (HTML and Markdown), write."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session

from ..priors import Priors
from ..progress import SILENT, Progress
from ..runs import latest_run
from .content import report_content
from .figures import all_figures
from .render import to_html, to_markdown


def write_report(session: Session, priors: Priors, question: str, out_dir: Path, run_id: int | None = None,
                 as_of: dt.date | None = None, progress: Progress = SILENT) -> tuple[Path, Path]:
    """Write ``<question>-<date>.html`` and ``.md`` (figures in ``<question>-<date>_files/``)."""
    run = latest_run(session, question, run_id, as_of)
    progress.stage(f"{question}: evidence, influence, history and scores")
    content = report_content(session, priors, run, question)
    progress.stage(f"{question}: figures")
    figures = all_figures(content)
    stem = f"{question}-{run.as_of.isoformat()}"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = out_dir / f"{stem}_files"
    files.mkdir(exist_ok=True)
    paths = {}
    for name, svg in figures.items():
        if svg:
            (files / f"{name}.svg").write_text(svg, encoding="utf-8")
            paths[name] = f"{files.name}/{name}.svg"
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    html_path, md_path = out_dir / f"{stem}.html", out_dir / f"{stem}.md"
    html_path.write_text(to_html(content, figures, generated), encoding="utf-8")
    md_path.write_text(to_markdown(content, paths, generated), encoding="utf-8")
    return html_path, md_path
