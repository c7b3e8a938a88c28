"""The Jinja2 environments of the report templates (``templates/``), escaping by default in both formats.

HTML: autoescape is on, and every value a template prints first has escape sequences, control and
invisible format characters removed (``finalize``); only :class:`markupsafe.Markup` built here (a
source's link, a glossary link) passes as markup. A web page reuses the same templates through
:func:`html_environment`, or configures its own environment with :func:`configure_html`.

Markdown: every printed value is backslash-escaped (``finalize``) unless it is :class:`Md`, which only
the filters here produce (a source's link, a code span, an image). Markdown templates call no macros:
a macro's output would be escaped again (visibly, never unsafely).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from ..basics.text import displayable
from .glossary import BY_KEY

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = TEMPLATES / "report.css"
_URL_IN_TEXT = re.compile(r"https?://\S+")


def _shown(value: object) -> object:
    return value if isinstance(value, Markup) else displayable(value)


def source_link(text: object) -> Markup:
    """A source as text, its first http(s) URL as a link."""
    text = displayable(text)
    match = _URL_IN_TEXT.search(text)
    if not match:
        return escape(text)
    url = match.group(0).rstrip(").,;")
    end = match.start() + len(url)
    return escape(text[:match.start()]) + Markup('<a href="{0}">{0}</a>').format(url) + escape(text[end:])


_DATE = re.compile(r"\d{4}-\d{2}(?:-\d{2})?")


def nowrap_dates(text: object) -> Markup:
    """Text with each date or month kept on one line (a line may break at the hyphen of "2032-12" otherwise)."""
    escaped = str(escape(displayable(text)))  # digits and hyphens only are matched, never inside an entity
    return Markup(_DATE.sub(lambda m: f'<span class="nowrap">{m.group(0)}</span>', escaped))


def term(key: str, label: str | None = None) -> Markup:
    """``label`` (default: the glossary's term) linked to its glossary entry."""
    entry = BY_KEY[key]
    return Markup('<a class="term" href="#glossary-{}">{}</a>').format(entry.key, label or entry.term)


def pct(p: float | None, places: int = 1) -> str:
    return "" if p is None else f"{100 * p:.{places}f}%"


def said(quote_kind: str | None) -> str:
    """How a statement's text was said, as shown before it ("" for an observation's note)."""
    return {"verbatim": "Verbatim", "paraphrase": "Paraphrase"}.get(quote_kind or "", "")


def configure_html(env: Environment) -> Environment:
    """Make ``env`` render the report's HTML templates: autoescape, shown-text finalize, filters, globals."""
    env.autoescape = True
    env.finalize = _shown
    env.filters.update(source=source_link, pct=pct, dates=nowrap_dates, said=said)
    env.globals.update(term=term, glossary_entry=BY_KEY.__getitem__)
    return env


@cache
def html_environment() -> Environment:
    return configure_html(Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                                      autoescape=True, trim_blocks=True, lstrip_blocks=True))


# Markdown escaping. Evidence text is shown as text in any CommonMark or GFM renderer, raw HTML
# allowed or not: every character that could open HTML, an entity, a link, an image, emphasis, code,
# a table cell or a heading is backslash-escaped, '@' and '//' so that no e-mail or scheme-relative
# link is detected, line breaks become spaces so a table row stays one row, and escape sequences
# and control characters are removed (the file may be read in a terminal). Links are made only for
# http(s) URLs in sources.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#@])")
_URL = re.compile(r"https?://[^\s<>\"'`\\|\[\]]+", re.IGNORECASE)


class Md(str):
    """Markdown that is safe as it stands (printed unescaped by the Markdown templates)."""


def md_escape(value: object) -> Md:
    if isinstance(value, Md):
        return value
    flat = displayable(value).replace("\n", " ")
    return Md(re.sub(r"(?<=/)/", r"\\/", _MD_SPECIAL.sub(r"\\\1", flat)))


def md_source(text: object) -> Md:
    """A source as escaped text, its first http(s) URL as a link."""
    text = displayable(text)
    match = _URL.search(text)
    if not match:
        return md_escape(text)
    url = match.group(0).rstrip(").,;")
    end = match.start() + len(url)
    return Md(f"{md_escape(text[:match.start()])}[{md_escape(url)}](<{url}>){md_escape(text[end:])}")


def md_code(text: object) -> Md:
    """A code span that no backtick inside ``text`` can close."""
    flat = displayable(text).replace("\n", " ")
    fence = "`" * (max(map(len, re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return Md(f"{fence}{pad}{flat}{pad}{fence}")


def md_image(path: str, alt: str) -> Md:
    return Md(f"![{md_escape(alt)}](<{quote(path)}>)")


@cache
def markdown_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=False,
                      finalize=md_escape, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(source=md_source, code=md_code, image=md_image, pct=pct, said=said)
    env.globals.update(glossary_entry=BY_KEY.__getitem__)
    return env
