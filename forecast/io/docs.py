"""The documentation pages shipped with the package, read by topic (``forecast docs``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..basics.validate import unknown
from ..domain.priors import data_dir


@dataclass(frozen=True)
class DocPage:
    topic: str  # the file's stem: "entry" for entry.md
    title: str  # its first heading
    path: Path


def doc_pages(root: Path | None = None) -> list[DocPage]:
    """Every page, by topic: the index first, then alphabetically."""
    folder = root or data_dir("docs")
    pages = [DocPage(path.stem, _title(path), path) for path in sorted(folder.glob("*.md"))]
    return sorted(pages, key=lambda page: (page.topic != "index", page.topic))


def doc_text(topic: str, root: Path | None = None) -> str:
    """The Markdown text of one page; an unknown topic is refused with the closest one named."""
    pages = {page.topic: page for page in doc_pages(root)}
    wanted = topic.strip().lower().removesuffix(".md")
    if wanted not in pages:
        raise unknown("documentation page", topic, list(pages), " (`forecast docs` lists them with their titles)")
    return pages[wanted].path.read_text(encoding="utf-8")


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem
