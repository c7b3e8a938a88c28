"""Periods in claims: years, months, quarters, halves, early/mid/late, month names, approximate dates.

A period is a run of months ``[first, last]`` (ordinals, see :mod:`forecast.basics.months`). An
approximate marker (``around 2028``) keeps the period and records how far the claim's bounds
widen: 6 months for a year, 3 for anything shorter.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from ..basics.months import month_label, month_ordinal
from ..errors import ClaimError

YEAR_WIDENING = 6
SHORT_WIDENING = 3
APPROXIMATE_MARKERS = ("approximately", "around", "roughly", "about", "circa", "~")
PERIOD_EXAMPLES = "2028, 2028-06, Q3 2028, H2 2028, early/mid/late 2028 or June 2028"

THIRDS = {"early": (1, 4), "mid": (5, 8), "late": (9, 12)}
MONTH_NAMES: dict[str, int] = {
    **{name.lower(): i for i, name in enumerate(calendar.month_name) if name},
    **{name.lower(): i for i, name in enumerate(calendar.month_abbr) if name},
    "sept": 9,
}

_END = r"(?=$|\s|-|–|—|\.\.)"
_APPROX_RE = re.compile(r"(?:(?:approximately|around|roughly|about|circa) |~ ?)")
_NAMES = "|".join(sorted(MONTH_NAMES, key=len, reverse=True))
_PATTERNS = [
    ("quarter", re.compile(r"q([1-4]) ([0-9]{4})" + _END)),
    ("half", re.compile(r"h([12]) ([0-9]{4})" + _END)),
    ("third", re.compile(r"(early|mid|late)[- ]?([0-9]{4})" + _END)),
    ("named", re.compile(rf"({_NAMES}) ([0-9]{{4}})" + _END)),
    ("month", re.compile(r"([0-9]{4})-([0-9]{1,2})(?![0-9])" + _END)),
    ("year", re.compile(r"([0-9]{4})(?![0-9])" + _END)),
]


@dataclass(frozen=True)
class Period:
    """Months ``first..last`` as written in a claim."""

    first: int
    last: int
    text: str
    approximate: bool = False

    @property
    def widening(self) -> int:
        """Months each bound moves outward when the claim is approximate."""
        return YEAR_WIDENING if self.last - self.first == 11 and self.first % 12 == 0 else SHORT_WIDENING

    def before_label(self) -> str:
        """The period just before this one, as a claim would name it (``2027`` before ``2028``)."""
        if self.last - self.first == 11 and self.first % 12 == 0:
            return str(self.first // 12 - 1)
        return month_label(self.first - 1)


def _months(kind: str, match: re.Match) -> tuple[int, int]:
    """First and last month ordinals for one matched period."""
    a, b, text = match.group(1), match.group(match.lastindex), match.group(0)
    if kind == "year":
        year = int(a)
        return month_ordinal(year, 1), month_ordinal(year, 12)
    if kind == "month":
        year, month = int(a), int(b)
        if not 1 <= month <= 12:
            later = month > 12 and len(b) == 2 and int(a[:2] + b) > year  # 2027-28: the years 2027 to 2028?
            hint = f" (for a range of years write {a}-{a[:2]}{b})" if later else ""
            raise ClaimError(f"month {month} in {text!r} is not between 1 and 12{hint}")
        return month_ordinal(year, month), month_ordinal(year, month)
    year = int(b)
    if kind == "quarter":
        first = 3 * (int(a) - 1) + 1
        return month_ordinal(year, first), month_ordinal(year, first + 2)
    if kind == "half":
        first = 6 * (int(a) - 1) + 1
        return month_ordinal(year, first), month_ordinal(year, first + 5)
    if kind == "third":
        low, high = THIRDS[a]
        return month_ordinal(year, low), month_ordinal(year, high)
    month = MONTH_NAMES[a]
    return month_ordinal(year, month), month_ordinal(year, month)


def _unmarked(text: str) -> tuple[str, bool]:
    """``text`` without a leading approximate marker, and whether it had one."""
    marker = _APPROX_RE.match(text)
    return (text[marker.end():], True) if marker else (text, False)


def read_period(text: str) -> tuple[Period, str] | None:
    """The period at the start of ``text`` and the rest, or None when it does not start with one."""
    body, approximate = _unmarked(text)
    for kind, pattern in _PATTERNS:
        match = pattern.match(body)
        if match:
            first, last = _months(kind, match)
            return Period(first, last, match.group(0), approximate), body[match.end():].strip()
    return None


def starts_with_period(text: str) -> bool:
    """Whether ``text`` opens with a period (an approximate marker included)."""
    body, _ = _unmarked(text)
    return any(pattern.match(body) for _, pattern in _PATTERNS)
