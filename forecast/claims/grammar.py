"""Parsing the claim language: ``[LIKELIHOOD] [PHRASE] PERIOD [SUFFIX]``, ranges, and "not within the horizon"."""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import ClaimError
from ..basics.numbers import foreign_digit
from ..basics.validate import closest
from .claim import Claim
from .periods import PERIOD_EXAMPLES, Period, read_period, starts_with_period
from .scales import LIKELIHOODS, TERMS_LONGEST_FIRST

EXAMPLES = "'after 2024', 'by 2028', 'before 2026-06', 'not before 2030', 'between 2025 and 2027', '2028-06'"

# How the period after (or before) a phrase bounds the event's month T:
#   lower-after:   T from the month after the period, open end
#   lower-from:    T from the first month of the period, open end
#   upper-through: open start, T by the last month of the period
#   upper-before:  open start, T by the month before the period
#   within:        T within the period
PHRASES: dict[str, str] = {
    "after": "lower-after",
    "later than": "lower-after",
    "through": "lower-after",
    "at least through": "lower-after",
    "beyond": "lower-after",
    "from": "lower-from",
    "starting": "lower-from",
    "starting in": "lower-from",
    "on or after": "lower-from",
    "no earlier than": "lower-from",
    "not earlier than": "lower-from",
    "not before": "lower-from",
    "not until": "lower-from",
    "until at least": "lower-from",
    "at least until": "lower-from",
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
SUFFIXES: dict[str, str] = {
    "or later": "lower-from",
    "at the earliest": "lower-from",
    "or earlier": "upper-through",
    "at the latest": "upper-through",
}
BEYOND_HORIZON = ("not within the horizon", "after the horizon", "beyond the horizon", "never")
AMBIGUOUS = ("until", "till")
RANGE_CONNECTORS = ("..", "-", "–", "—", "to ")
NEGATED_TERMS = ("probably not", "almost certainly not")  # before a 'not ...' phrase, 'not' belongs to the phrase
_PHRASE_ORDER = sorted([*PHRASES, *AMBIGUOUS], key=len, reverse=True)
_RANGE_PHRASES = ("", "in", "during", "from")


def _mistyped(text: str, known: list[str]) -> str:
    """`` (did you mean 'x'?)`` when ``text`` is a near miss of one of ``known`` (a typo, not another word)."""
    close = closest(text, known, cutoff=0.75) if len(text) > 2 else None
    return f" (did you mean {close!r}?)" if close and close != text else ""


def _opening_words() -> list[str]:
    """The words a claim may open with: the first of each phrase and verbal probability."""
    return sorted({p.split()[0] for p in [*PHRASES, *AMBIGUOUS, *LIKELIHOODS, *BEYOND_HORIZON, "between", "open"]})


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").split()).rstrip(".").strip()


def _split_phrase(text: str) -> tuple[str, str]:
    """The leading phrase (possibly empty, meaning a bare period) and the rest."""
    for phrase in _PHRASE_ORDER:
        if text == phrase or text.startswith(phrase + " "):
            return phrase, text[len(phrase):].strip()
    return "", text


def _readings(text: str) -> list[tuple[str | None, str]]:
    """(verbal probability, claim) readings, preferred first: ``probably not before X`` is tried as
    probably [not before X], then as probably not [before X]."""
    for term in TERMS_LONGEST_FIRST:
        if text == term or text.startswith(term + " "):
            rest = text[len(term):].strip()
            if term in NEGATED_TERMS:
                return [(term.removesuffix(" not"), f"not {rest}"), (term, rest)]
            return [(term, rest)]
    return [(None, text)]


def _refuse_part_after_year(before: str, after: str) -> None:
    """'2026-H2' (the year, a dash, then the half or quarter): refused with the way to write it."""
    year, part = re.search(r"(\d{4})\s*-?$", before), re.match(r"-?\s*([hq][1-4])\b", after)
    if year and part and (before.rstrip().endswith("-") or after.startswith("-")):
        shown, written = f"{year.group(1)}-{part.group(1).upper()}", f"{part.group(1).upper()} {year.group(1)}"
        raise ClaimError(f"{shown!r} is not a period: write {written!r} (the half or quarter before its year)")


def _expect_period(text: str, understood: str) -> tuple[Period, str]:
    found = read_period(text)
    if found is None:
        _refuse_part_after_year(understood, text)
        raise ClaimError(f"understood {understood!r} but not {text or 'nothing'!r}: expected a period such as {PERIOD_EXAMPLES}")
    return found


def _widened(start: int | None, end: int | None, low: Period | None, high: Period | None) -> Claim:
    """The claim ``[start, end]``, each finite bound moved outward when any period in it is approximate."""
    approximate = any(p is not None and p.approximate for p in (low, high))
    if approximate and start is not None and low is not None:
        start -= low.widening
    if approximate and end is not None and high is not None:
        end += high.widening
    return Claim(start, end, approximate=approximate)


def _bounded(rule: str, period: Period) -> Claim:
    first, last = period.first, period.last
    start, end = {
        "lower-after": (last + 1, None),
        "lower-from": (first, None),
        "upper-through": (None, last),
        "upper-before": (None, first - 1),
        "within": (first, last),
    }[rule]
    return _widened(start, end, period, period)


def _span(low: Period | None, high: Period | None, text: str) -> Claim:
    """``low`` through ``high``; ``None`` is an open end (``open`` in the interval form)."""
    if low is None and high is None:
        raise ClaimError(f"claim {text!r} is open at both ends: give at least one period")
    if low is not None and high is not None and high.last < low.first:
        raise ClaimError(f"claim {text!r} ends before it starts")
    return _widened(low.first if low else None, high.last if high else None, low, high)


def _end_of_range(text: str, understood: str, whole: str, allow_open: bool) -> Period | None:
    """The period closing a range (``None`` for ``open`` where allowed); nothing may follow it."""
    if allow_open and text == "open":
        return None
    period, rest = _expect_period(text, understood)
    if rest:
        raise ClaimError(f"understood the interval in {whole!r} but not the rest: {rest!r}")
    return period


def _range_rest(text: str) -> tuple[str, str] | None:
    """(connector, what follows) when ``text`` opens with a range connector."""
    for connector in RANGE_CONNECTORS:
        if text.startswith(connector):
            return connector.strip(), text[len(connector):].strip()
    return None


def _between(rest: str, text: str) -> Claim:
    low, rest = _expect_period(rest, "between")
    if not rest.startswith("and "):
        raise ClaimError(
            f"understood 'between' and its first period in {text!r} but not {rest or 'nothing'!r}: expected 'and YYYY'"
        )
    return _span(low, _end_of_range(rest[4:].strip(), "between ... and", text, False), text)


def _ambiguous(word: str, rest: str, text: str) -> ClaimError:
    found = read_period(rest)
    if found is None:
        return ClaimError(
            f"{text!r} is ambiguous: write 'by PERIOD' (the event happens by then), 'not before PERIOD' "
            f"(it does not happen before then) or '{BEYOND_HORIZON[0]}'"
        )
    period, _ = found
    written = rest[: len(rest) - len(found[1])].strip()
    return ClaimError(
        f"'{word} {written}' is ambiguous: does the event happen by {written} ('by {written}') or not before "
        f"{written} ('through {period.before_label()}' / 'not before {written}')?"
    )


def _body(body: str, text: str, original: str) -> Claim:
    """Parse a claim without its verbal probability."""
    if body in BEYOND_HORIZON:
        return Claim(None, None, beyond_horizon=True)
    if body.startswith("between "):
        return _between(body[len("between "):], text)
    if body.startswith("open") and body[4:].lstrip().startswith(".."):
        return _span(None, _end_of_range(body[4:].lstrip()[2:].strip(), "open ..", text, True), text)
    phrase, rest = _split_phrase(body)
    if phrase in AMBIGUOUS:
        raise _ambiguous(phrase, rest, text)
    if not phrase and re.fullmatch(r"\d+(\.\d+)?%", rest.split()[0]):
        raise ClaimError(f"claim {original!r} starts with a probability: give it on its own (--probability "
                         f"{rest.split()[0]}, or the form's probability field) and the claim without it")
    if not phrase and not starts_with_period(rest):
        word = rest.split()[0]
        raise ClaimError(f"could not parse claim {original!r}: unknown phrase at {word!r}{_mistyped(word, _opening_words())}; "
                         f"expected e.g. {EXAMPLES}")
    period, remainder = _expect_period(rest, text[: len(text) - len(rest)].strip() or phrase)
    ranged = _range_rest(remainder) if phrase in _RANGE_PHRASES else None
    if ranged:
        connector, after = ranged
        understood = text[: len(text) - len(after)].strip()
        return _span(period, _end_of_range(after, understood, text, connector == ".."), text)
    rule = PHRASES.get(phrase, "within")
    if phrase in ("", "in") and remainder in SUFFIXES:
        rule, remainder = SUFFIXES[remainder], ""
    if remainder:
        understood = text[: len(text) - len(remainder)].strip()
        _refuse_part_after_year(understood, remainder)
        raise ClaimError(f"understood {understood!r} in claim {original!r} but not the rest: {remainder!r}"
                         f"{_mistyped(remainder, list(SUFFIXES))}")
    return _bounded(rule, period)


def _qualified(term: str | None, body: str, normal: str, text: str) -> Claim:
    if term is None:
        return _body(body, normal, text)
    if not body:
        raise ClaimError(f"understood {term!r} in claim {text!r} but no claim follows: expected e.g. '{term} by 2028'")
    return replace(_body(body, normal, text), probability=LIKELIHOODS[term][0], likelihood=term)


def parse_claim(text: str) -> Claim:
    """Parse a claim such as ``after 2024`` or ``likely by Q3 2028`` into a :class:`Claim`, or raise :class:`ClaimError`."""
    digit = foreign_digit(text)
    if digit:
        raise ClaimError(f"claim {text!r} contains the digit {digit}: type digits as 0-9")
    normal = _normalise(text)
    if not normal:
        raise ClaimError(f"empty claim: expected a phrase such as {EXAMPLES}")
    error = None
    for term, body in _readings(normal):
        try:
            return _qualified(term, body, normal, text)
        except ClaimError as exc:
            error = exc
    raise error
