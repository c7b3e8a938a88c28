"""The web pages' Jinja2 environment: the web templates first, then the report's (shared partials and
layout), configured exactly as the report's HTML (autoescape, shown-text finalize, filters)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator
from functools import cache
from pathlib import Path
from typing import Any, cast

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ..report.templating import TEMPLATES as REPORT_TEMPLATES
from ..report.templating import configure_html

HERE = Path(__file__).parent
TEMPLATES, STATIC = HERE / "templates", HERE / "static"


def _pct(p: float | None) -> str:
    return "" if p is None else f"{100 * p:.0f}%"


@cache
def environment() -> Environment:
    env = Environment(loader=ChoiceLoader([FileSystemLoader(TEMPLATES), FileSystemLoader(REPORT_TEMPLATES)]),
                      undefined=StrictUndefined, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env = configure_html(env)
    env.filters["pct0"] = _pct
    env.globals["fields"] = lambda values=None: defaultdict(str, values or {})  # a form's values, blank if not given
    return env


def render(name: str, context: dict[str, Any], csrf_token: str, read_only: bool, analyst: str | None) -> str:
    """A page: the template ``name`` with the page's context and what every page needs (the form token)."""
    csrf = Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token)
    return environment().get_template(name).render(context, csrf=csrf, read_only=read_only, analyst=analyst)


def render_block(name: str, block: str, context: dict[str, Any]) -> Markup:
    """One block of the template ``name`` as a page extending it renders it (its ``super()``), to keep and re-use.

    The template's top level runs first, up to its first output, so that the macros it imports are defined.
    """
    template = environment().get_template(name)
    scope = template.new_context(context)
    top = cast(Generator[str, None, None], template.root_render_func(scope))
    next(top, None)
    top.close()
    return Markup("".join(template.blocks[block](scope)))
