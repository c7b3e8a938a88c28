"""--json and --csv for list and show commands: one option pair, one rule for choosing between them, and the
tables a list or show command prints otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click

from ..errors import InputError
from .render import emit_csv, emit_json, emit_record, emit_table

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
csv_option = click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table (lists joined with ';').")


def machine_output(as_json: bool, as_csv: bool, data: Any, rows: Callable[[], Sequence[dict]],
                   columns: Sequence[str]) -> bool:
    """Print ``data`` as JSON or ``rows()`` as CSV when asked; False when the caller should print its table."""
    one_format(as_json, as_csv)
    if as_json:
        emit_json(data)
    elif as_csv:
        emit_csv([{k: _cell(v) for k, v in row.items()} for row in rows()], columns)
    return as_json or as_csv


def one_format(as_json: bool, as_csv: bool) -> None:
    """Refuse --json with --csv (commands that do work before printing call this first)."""
    if as_json and as_csv:
        raise InputError("give --json or --csv, not both")


def emit_listing(as_json: bool, as_csv: bool, rows: list[dict], columns: Sequence[str], *,
                 csv_columns: Sequence[str] | None = None, wide: Sequence[str] = (),
                 shown: Callable[[dict], dict] | None = None) -> None:
    """A list command's output: ``rows`` as JSON, or as CSV with ``csv_columns`` (default ``columns``), when asked;
    else a table of ``columns``, each row first passed through ``shown`` when the table words it differently."""
    if not machine_output(as_json, as_csv, rows, lambda: rows, csv_columns or columns):
        emit_table([shown(row) for row in rows] if shown else rows, columns, wide)


def emit_detail(record: dict, rows: Sequence[dict], columns: Sequence[str], wide: Sequence[str] = ()) -> None:
    """A show command's table output: the record as ``key: value`` lines, a blank line, then its rows."""
    emit_record(record)
    click.echo()
    emit_table(rows, columns, wide)


def _cell(value: Any) -> Any:
    """Lists joined with ';' (an open end of an interval is empty), nested records as JSON."""
    if isinstance(value, list | tuple):
        return ";".join("" if v is None else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value
