"""The files of an export: CSV or JSON, written whole, read back bounded and checked, cells a spreadsheet
would run as a formula neutralised on the way out and restored on the way in (see :mod:`.transfer`)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from ..basics.files import read_bounded, write_atomically
from ..basics.text import neutralise_cell, restore_cell
from ..errors import InputError


def write_export(frame: pd.DataFrame, path: Path, fmt: str | None = None) -> int:
    """Write an export to ``path`` whole (any existing file is replaced only on success); return the row count."""
    if file_format(path, fmt) == "csv":
        safe = frame.map(neutralise_cell)
        text = safe.to_csv(index=False, quoting=csv.QUOTE_ALL, lineterminator="\n")
    else:
        text = frame.to_json(orient="records", indent=1, force_ascii=False) + "\n"
    write_atomically(path, text)
    return len(frame)


def file_format(path: Path, fmt: str | None) -> str:
    """"csv" or "json": ``fmt``, or what the file name says; refused when they disagree or neither says."""
    named = path.suffix.lstrip(".").lower()
    if fmt and named in ("csv", "json") and named != fmt:
        raise InputError(f"--format {fmt} does not match the file name {path.name!r}: drop --format or rename the file")
    fmt = fmt or named
    if fmt not in ("csv", "json"):
        raise InputError(f"cannot tell the format of {str(path)!r}: use a .csv or .json name or --format")
    return fmt


def read_frame(path: Path, fmt: str) -> pd.DataFrame:
    """An export file as a table of strings (None for a missing value), refused in one line when broken."""
    data = read_bounded(path, "import file")
    try:
        if fmt == "csv":
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
            frame = frame.map(restore_cell).replace({"": None})
        else:
            frame = pd.DataFrame(json_rows(data.decode("utf-8")))
            if frame.empty and not len(frame.columns):  # `[]`: an empty store's export
                frame = pd.DataFrame(columns=["record"])
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"broken {fmt.upper()} in {str(path)!r}: {str(exc).splitlines()[0]}") from None
    missing = [c for c in ("record",) if c not in frame.columns]
    if missing:
        raise InputError(f"broken {fmt.upper()} in {str(path)!r}: no 'record' column")
    return frame.astype(object).where(frame.notna(), None)


def json_rows(text: str) -> list[dict]:
    """An export's JSON rows: a list of objects, each without repeated keys, NaN or infinities, or lone surrogates."""
    def unique(pairs: list[tuple[str, object]]) -> dict:
        keys = [key for key, _ in pairs]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"key {repeated[0]!r} appears twice in one object")
        return dict(pairs)

    def refuse_constant(name: str) -> None:
        raise ValueError(f"{name} is not a JSON number")

    rows = json.loads(text, object_pairs_hook=unique, parse_constant=refuse_constant)
    if not isinstance(rows, list):
        raise ValueError("expected a list of rows")
    for line, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise ValueError(f"row {line} is {'null' if row is None else type(row).__name__}, not an object")
        for key, value in row.items():
            for part in (key, value):
                if isinstance(part, str):
                    try:
                        part.encode("utf-8")
                    except UnicodeEncodeError:
                        raise ValueError(f"row {line}, {key!r}: a lone surrogate (\\u{ord(part[0]) if part else 0:04x}...) "
                                         "is not text") from None
    return rows
