"""``forecast docs``: the documentation that ships with the package, readable offline."""

from __future__ import annotations

import sys

import click

from .group import cli
from .render import terminal_text


@cli.command(name="docs")
@click.argument("topic", required=False)
def docs_command(topic: str | None) -> None:
    """List the documentation pages, or print one (TOPIC: its name, as listed), paged on a terminal.

    Example: forecast docs entry
    """
    from ..io.docs import doc_pages, doc_text

    if topic is None:
        pages = doc_pages()
        width = max(len(page.topic) for page in pages)
        click.echo("Documentation pages (forecast docs TOPIC prints one):")
        for page in pages:
            click.echo(f"  {page.topic:<{width}}  {terminal_text(page.title)}")
        return
    text = terminal_text(doc_text(topic))
    if sys.stdout.isatty():
        click.echo_via_pager(text)
    else:
        click.echo(text)
