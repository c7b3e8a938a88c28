"""The claim language: what people say about a date, turned into a month interval.

A claim is an interval of months ``[start, end]`` (inclusive ordinals, see
:mod:`forecast.months`); ``None`` on either side is an open end. The grammar is
documented in the README ("Claim language").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ClaimError
from .months import month_label, month_ordinal

EXAMPLES = "'after 2024', 'by 2028', 'before 2026-06', 'not before 2030', 'between 2025 and 2027', '2028-06'"

# Each phrase maps to how the period after it bounds the interval.
#   lower-after:  start = month after the period, open end
#   lower-from:   start = first month of the period, open end
#   upper-through: open start, end = last month of the period
#   upper-before: open start, end = month before the period
#   within:       [first month, last month] of the period
_PHRASES: dict[str, str] = {
    "after": "lower-after",
    "later than": "lower-after",
    "from": "lower-from",
    "starting": "lower-from",
    "starting in": "lower-from",
    "on or after": "lower-from",
    "no earlier than": "lower-from",
    "not earlier than": "lower-from",
    "not before": "lower-from",
    "not until": "lower-from",
    "until at least": "lower-from",
    "by": "upper-through",
    "by end of": "upper-through",
    "by the end of": "upper-through",
    "no later than": "upper-through",
    "not later than": "upper-through",
    "on or before": "upper-through",
    "before": "upper-before",
    "in": "within",
    "during": "within",
}
_PHRASE_ORDER = sorted(_PHRASES, key=len, reverse=True)
_PERIOD_RE = re.compile(r"(\d{4})(?:-(\d{1,2}))?(?=\s|$)")


@dataclass(frozen=True)
class Claim:
    """A month interval; ``None`` marks an open end."""

    start: int | None
    end: int | None

    def label(self) -> str:
        """Human form, e.g. ``2025-01 .. open``."""
        low = month_label(self.start) if self.start is not None else "open"
        high = month_label(self.end) if self.end is not None else "open"
        return f"{low} .. {high}"

    def bounds(self) -> tuple[str | None, str | None]:
        """The interval as ``YYYY-MM`` strings (``None`` for open ends), as stored."""
        return (
            month_label(self.start) if self.start is not None else None,
            month_label(self.end) if self.end is not None else None,
        )


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").split()).rstrip(".")


def _period(text: str, understood: str) -> tuple[int, int, str]:
    """Parse a leading ``YYYY`` or ``YYYY-MM``: (first month, last month, rest)."""
    match = _PERIOD_RE.match(text)
    if not match:
        shown = text or "nothing"
        raise ClaimError(
            f"understood {understood!r} but not {shown!r}: expected a year YYYY or a month YYYY-MM"
        )
    year = int(match.group(1))
    if match.group(2) is None:
        first, last = month_ordinal(year, 1), month_ordinal(year, 12)
    else:
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ClaimError(f"month {month} in {match.group(0)!r} is not between 1 and 12")
        first = last = month_ordinal(year, month)
    return first, last, text[match.end():].strip()


def _split_phrase(text: str) -> tuple[str, str]:
    """The leading phrase (possibly empty, meaning a bare period) and the rest."""
    for phrase in _PHRASE_ORDER:
        if text == phrase or text.startswith(phrase + " "):
            return phrase, text[len(phrase):].strip()
    return "", text


def _interval(rule: str, first: int, last: int) -> Claim:
    return {
        "lower-after": Claim(last + 1, None),
        "lower-from": Claim(first, None),
        "upper-through": Claim(None, last),
        "upper-before": Claim(None, first - 1),
        "within": Claim(first, last),
    }[rule]


def _between(rest: str, text: str) -> Claim:
    first, _, rest = _period(rest, "between")
    if not rest.startswith("and"):
        raise ClaimError(f"understood 'between' and its first period in {text!r} but not {rest or 'nothing'!r}: expected 'and YYYY'")
    _, last, rest = _period(rest[3:].strip(), "between ... and")
    if rest:
        raise ClaimError(f"understood the interval in {text!r} but not the rest: {rest!r}")
    if last < first:
        raise ClaimError(f"claim {text!r} ends before it starts")
    return Claim(first, last)


def parse_claim(text: str) -> Claim:
    """Parse a claim such as ``after 2024`` into a month interval, or raise :class:`ClaimError`."""
    normal = _normalise(text)
    if not normal:
        raise ClaimError(f"empty claim: expected a phrase such as {EXAMPLES}")
    if normal.startswith("between "):
        return _between(normal[len("between "):], normal)
    phrase, rest = _split_phrase(normal)
    if not phrase and not _PERIOD_RE.match(rest):
        word = rest.split()[0]
        raise ClaimError(f"could not parse claim {text!r}: unknown phrase at {word!r}; expected e.g. {EXAMPLES}")
    first, last, remainder = _period(rest, phrase)
    if remainder:
        understood = normal[: len(normal) - len(remainder)].strip()
        raise ClaimError(f"understood {understood!r} in claim {text!r} but not the rest: {remainder!r}")
    return _interval(_PHRASES.get(phrase, "within"), first, last)


def check_within_horizon(claim: Claim, horizon_start: int, horizon_end: int, text: str) -> None:
    """Raise unless the claim's interval overlaps the horizon months."""
    low = claim.start if claim.start is not None else horizon_start
    high = claim.end if claim.end is not None else horizon_end
    if high < horizon_start or low > horizon_end or low > high:
        raise ClaimError(
            f"claim {text!r} ({claim.label()}) lies outside the horizon "
            f"{month_label(horizon_start)} to {month_label(horizon_end)}"
        )
