"""Terminal output: plain tables and JSON."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence

import click


def emit_json(data: object) -> None:
    """Print data as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _cell(value: object, width: int) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def emit_table(rows: Sequence[dict], columns: Sequence[str], wide: Sequence[str] = ()) -> None:
    """Print rows as an aligned table; columns named in ``wide`` share the spare width."""
    if not rows:
        click.echo("(none)")
        return
    total = shutil.get_terminal_size((120, 20)).columns
    widths = {c: max(len(c), *(len(_cell(r.get(c), 10_000)) for r in rows)) for c in columns}
    fixed = sum(widths[c] + 2 for c in columns if c not in wide)
    share = max((total - fixed) // max(len(wide), 1) - 2, 12)
    for c in wide:
        widths[c] = min(widths[c], share)
    click.echo("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    click.echo("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        click.echo("  ".join(_cell(row.get(c), widths[c]).ljust(widths[c]) for c in columns).rstrip())


def emit_record(record: dict) -> None:
    """Print one record as ``key: value`` lines."""
    width = max(len(k) for k in record)
    for key, value in record.items():
        if isinstance(value, list):
            value = ", ".join("open" if v is None else str(v) for v in value)
        click.echo(f"{key.ljust(width)}  {'' if value is None else value}")
