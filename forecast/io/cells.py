"""Cells of an export read back: optional timestamps and blank text."""

from __future__ import annotations

import datetime as dt

from ..basics import validate
from ..basics.authors import UNKNOWN
from ..errors import InputError


def stamp(value: object, field: str) -> dt.datetime | None:
    """An optional ISO timestamp from 1900 to now, as written in the file."""
    if value is None or value == "":
        return None
    try:
        when = dt.datetime.fromisoformat(validate.text(value, field))
    except ValueError:
        raise InputError(f"malformed {field} {value!r}: expected an ISO 8601 timestamp") from None
    validate.past_timestamp(when, field)
    return validate.as_utc(when)  # the store keeps aware UTC timestamps; a naive one is read as UTC


def blank(value: object) -> object:
    """A missing cell as empty text."""
    return "" if value is None else value


def author_cell(value: object) -> str:
    """An author as exported; blank (an export from before authorship) is "unknown"."""
    return UNKNOWN if value in (None, "") else validate.text(value, "author")
