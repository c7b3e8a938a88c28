"""Forecast reports: gather (content), draw (figures), render (HTML and Markdown), write."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlmodel import Session, select

from ..basics.files import write_atomically
from ..basics.progress import SILENT, Progress
from ..errors import InputError, NotFoundError, OutputError
from ..domain.priors import Priors
from ..domain.questions import require_scope
from ..domain.views import list_questions
from ..runs.views import latest_run
from ..store.tables import ForecastRun
from .content import report_content
from .figures import all_figures
from .render import to_html, to_markdown


def gather_reports(session: Session, priors: Priors, question: str | None = None, run_id: int | None = None,
                   as_of: dt.date | None = None, tag: str | None = None, progress: Progress = SILENT) -> list[dict]:
    """The content of each report (``question``; or the questions of run ``run_id``; or every question with
    ``tag`` that has a stored run; or every open question), all read in the caller's snapshot."""
    require_scope(session, question, tag)
    if question and tag:
        raise InputError(f"give a question or --tag, not both (question {question!r}, tag {tag!r})")
    if run_id is not None and as_of is not None:
        raise InputError("give --run or --as-of, not both: a stored run has its own as-of date")
    if question:
        slugs = [question]
    elif run_id is not None:  # the questions that run forecast, open or not
        slugs = json.loads(latest_run(session, run_id=run_id).questions)
    elif tag:
        run_slugs = {slug for run in session.exec(select(ForecastRun)) for slug in json.loads(run.questions)}
        slugs = [q["slug"] for q in list_questions(session) if tag in q["tags"] and q["slug"] in run_slugs]
    else:
        slugs = [q["slug"] for q in list_questions(session) if q["status"] == "open"]
    if not slugs:
        raise NotFoundError(f"no stored run for any question tagged {tag!r}: run or backtest one first" if tag
                            else "no open question to report on")
    progress.steps("reports", len(slugs))
    contents = []
    for k, slug in enumerate(slugs, start=1):
        progress.step(f"report {k} of {len(slugs)}: {slug}")
        run = latest_run(session, slug, run_id, as_of)
        progress.stage(f"{slug}: evidence, influence, history and scores")
        contents.append(report_content(session, priors, run, slug))
    return contents


def report_folder(out_dir: Path, create: bool = True) -> Path:
    """The folder reports go to, made (with ``create``) if its parent exists: a mistyped deeper path is an error,
    not a new tree."""
    if not str(out_dir) or not out_dir.parent.is_dir():
        raise OutputError(f"cannot write reports to {str(out_dir)!r}: its parent folder does not exist")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"cannot write reports to {str(out_dir)!r}: it is not a folder")
    if create:
        out_dir.mkdir(exist_ok=True)
    return out_dir


def write_report(content: dict, out_dir: Path, progress: Progress = SILENT) -> tuple[Path, Path]:
    """Write ``<question>-<date>.html`` and ``.md`` (figures in ``<question>-<date>_files/``), each file
    replaced whole (written beside it, then renamed)."""
    progress.stage(f"{content['question'].slug}: figures")
    figures = all_figures(content)
    stem = f"{content['question'].slug}-{content['run']['as_of']}"
    files = report_folder(out_dir) / f"{stem}_files"
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
