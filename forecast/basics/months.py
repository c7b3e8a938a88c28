"""Calendar months as integers, and strict date parsing.

A month is stored and shown as ``YYYY-MM``. Internally it is an ordinal
``year * 12 + (month - 1)`` so that intervals and grids are integer arithmetic.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from ..errors import InputError
from .numbers import refuse_foreign_digits

_MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


def month_ordinal(year: int, month: int) -> int:
    """The ordinal of a calendar month."""
    if not 1 <= month <= 12:
        raise InputError(f"month {month} is not between 1 and 12")
    return year * 12 + month - 1


def month_label(ordinal: int) -> str:
    """``YYYY-MM`` for a month ordinal."""
    year, index = divmod(ordinal, 12)
    return f"{year:04d}-{index + 1:02d}"


def parse_month(text: str) -> int:
    """Parse ``YYYY-MM`` into a month ordinal."""
    match = _MONTH_RE.match(refuse_foreign_digits(str(text), "month").strip())
    if not match:
        raise InputError(f"malformed month {text!r}: expected YYYY-MM")
    return month_ordinal(int(match.group(1)), int(match.group(2)))


def parse_date(text: str) -> dt.date:
    """Parse an ISO calendar date ``YYYY-MM-DD``; anything else is an error."""
    raw = refuse_foreign_digits(str(text), "date").strip()
    match = _DATE_RE.match(raw)
    if not match:
        raise InputError(f"malformed date {text!r}: expected YYYY-MM-DD")
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise InputError(f"malformed date {text!r}: {exc}") from None


def parse_day_or_month(text: str, *, month_end: bool = False) -> tuple[dt.date, str]:
    """Parse ``YYYY-MM-DD`` into (that day, ``"day"``) or ``YYYY-MM`` into (a day of it, ``"month"``).

    A month stands for its first day, or with ``month_end`` for its last: evidence dates and the
    start of a range take the first day; as-of dates and the end of a range take the last.
    """
    raw = refuse_foreign_digits(str(text), "date").strip()
    match = _MONTH_RE.match(raw)
    if not match:
        if _DATE_RE.match(raw):
            return parse_date(raw), "day"
        raise InputError(f"malformed date {text!r}: expected YYYY-MM-DD or YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise InputError(f"malformed date {text!r}: month {month} is not between 1 and 12")
    try:
        return dt.date(year, month, calendar.monthrange(year, month)[1] if month_end else 1), "month"
    except ValueError as exc:
        raise InputError(f"malformed date {text!r}: {exc}") from None


def parse_datetime(text: str) -> dt.datetime:
    """Parse a date or an ISO timestamp into aware UTC; a bare date means the end of that day (UTC)."""
    raw = refuse_foreign_digits(str(text), "timestamp").strip()
    if _DATE_RE.match(raw):
        return dt.datetime.combine(parse_date(raw), dt.time.max, tzinfo=dt.UTC)
    try:
        stamp = dt.datetime.fromisoformat(raw)
        return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)
    except ValueError:
        raise InputError(f"malformed timestamp {text!r}: expected YYYY-MM-DD or ISO 8601") from None
    except OverflowError:
        raise InputError(f"timestamp {text!r} is out of range") from None


def date_month(day: dt.date) -> int:
    """The ordinal of the month containing ``day``."""
    return month_ordinal(day.year, day.month)


def known_on(day: dt.date, precision: str, logged: dt.datetime | None = None) -> dt.date:
    """When a dated row became knowable: its day, or the last day of its month or year for coarser precision; and
    no later than the day after it was ``logged`` (an event in "December" logged on 3 December is known from the
    4th: a run of the 3rd, made before or after the log, did not use it)."""
    if precision == "year":
        known = dt.date(day.year, 12, 31)
    elif precision == "month":
        known = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1) - dt.timedelta(days=1)
    else:
        known = day
    return known if logged is None else max(day, min(known, logged.date() + dt.timedelta(days=1)))


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC (the store keeps UTC timestamps)."""
    return dt.datetime.now(dt.UTC)
