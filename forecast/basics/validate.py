"""Checks shared by every write path (CLI, seed and import): text, dates, timestamps, numbers, ids.

Each check raises :class:`~forecast.errors.InputError` with a one-line reason and returns the
value to store. The limits are documented in docs/store.md.
"""

from __future__ import annotations

import datetime as dt
import re

from ..errors import InputError, NotFoundError
from .months import utc_now
from .numbers import parse_int, parse_number

EARLIEST_DATE = dt.date(1900, 1, 1)
SEED_MAX = 2**32 - 1  # the samplers take a 32-bit unsigned seed
DRAWS_MIN, DRAWS_MAX, TUNE_MAX, CHAINS_MAX = 10, 100_000, 100_000, 16
TOTAL_DRAWS_MAX = 100_000  # draws x chains: 25 times the default fit, about 250 MB of draws for the seed questions
VERSION_MAX = ROW_ID_MAX = 2**31 - 1  # the largest INTEGER key on PostgreSQL (SQLite allows more; no store gets near it)
SHORT, SOURCE, LONG = 200, 2_000, 10_000
MAX_LENGTH = {
    "slug": 100, "name": SHORT, "alias": SHORT, "role": SHORT, "affiliation": SHORT, "claim": SHORT,
    "title": SHORT, "question": 100, "expert": SHORT, "reference": 40,
    "source": SOURCE, "resolution source": SOURCE, "url": SOURCE,
    "quote": LONG, "rationale": LONG, "note": LONG, "notes": LONG, "reason": LONG, "criteria": LONG,
    "trigger": LONG, "event": SHORT, "definition": 100_000,
    **{f"run {name}": 10_000_000 for name in ("questions", "settings", "evidence", "diagnostics", "reliabilities")},
}  # any other text field (dates, months, uids) is limited to SHORT
SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]*")  # matched whole (fullmatch)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Unicode Cc, except tab and newline
_KIND_OF = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}


def _kind_of(value: object) -> str:
    return _KIND_OF.get(type(value), type(value).__name__)


def text(value: object, field: str) -> str:
    """``value`` as storable text: a str of valid UTF-8, no control characters but newline and tab,
    within the field's length limit. ``\\r\\n`` becomes ``\\n``; a lone ``\\r`` is refused."""
    if value is None:
        raise InputError(f"{field} is missing")
    if not isinstance(value, str):
        raise InputError(f"{field} must be text, not {_kind_of(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"{field} is not valid UTF-8: {_bad_character(value[exc.start], exc.start + 1)}") from None
    value = value.replace("\r\n", "\n")
    control = _CONTROL_RE.search(value)
    if control:
        raise InputError(f"{field} contains control character U+{ord(control.group()):04X} at character "
                         f"{control.start() + 1}; only newline and tab are allowed")
    limit = MAX_LENGTH.get(field, SHORT)
    if len(value) > limit:
        raise InputError(f"{field} is {len(value)} characters long; the limit is {limit}")
    return value


def _bad_character(char: str, position: int) -> str:
    if 0xDC80 <= ord(char) <= 0xDCFF:  # how Python carries an undecodable byte (surrogateescape)
        return f"byte 0x{ord(char) - 0xDC00:02X} at character {position} (Latin-1? re-encode the text as UTF-8)"
    return f"unpaired surrogate U+{ord(char):04X} at character {position}"


def optional_text(value: object, field: str) -> str:
    """Like :func:`text`, with None (a missing value) read as empty text."""
    return "" if value is None else text(value, field)


def web_address(value: object) -> str:
    """An evidence row's URL: empty, or an http(s) address with a host (so that a reader can open it)."""
    from urllib.parse import urlsplit

    address = optional_text(value, "url").strip()
    if not address:
        return ""
    try:
        parts = urlsplit(address)
        host = parts.hostname
    except ValueError:  # a malformed IPv6 host, say
        parts, host = urlsplit(""), None
    if parts.scheme.lower() in ("http", "https") and host and not re.search(r"\s", address):
        return address
    hint = f": write 'https://{address}'" if "://" not in address and "." in address.split("/")[0] else \
        "; give the address a reader can open (https://...) and put the citation in the source"
    raise InputError(f"url {address!r} is not a web address{hint}")


def slug(value: object) -> str:
    """A question slug: lower-case letters, digits and hyphens, starting with a letter or digit."""
    value = text(value, "slug")
    if not SLUG_RE.fullmatch(value):
        raise InputError(f"malformed slug {value!r}: use lower-case letters, digits and '-' (e.g. mars-landing)")
    return value


def names(value: object, field: str = "aliases") -> list[str]:
    """A list of non-blank names (expert aliases)."""
    if not isinstance(value, list | tuple):
        raise InputError(f"{field} must be a list of names, not {_kind_of(value)}")
    cleaned = [text(item, "alias").strip() for item in value]
    if not all(cleaned):
        raise InputError(f"{field} contains a blank name")
    return cleaned


def probability(value: object) -> float | None:
    """A stated probability: None, or a number in [0, 1], or a percentage: ``80%``, or a whole ``80`` (above 1, up
    to 100). A bare fraction above 1 (``1.5``: 1.5% or a slip for 0.15?) is refused as ambiguous."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(f"probability must be a number, not {_kind_of(value)}")
    percent = isinstance(value, str) and value.strip().endswith("%")
    number = parse_number(value.strip()[:-1] if isinstance(value, str) and percent else value, "probability")
    if not percent and 1.0 < number <= 100.0 and not number.is_integer():
        raise InputError(f"stated probability {value} is ambiguous: write it as a fraction (0 to 1) or with % "
                         f"({float(number) / 100:g} or {value}%)")
    if percent or 1.0 < number <= 100.0:
        number /= 100.0
    if not 0.0 <= number <= 1.0:
        raise InputError(f"stated probability {value} is not between 0 and 1 (or 0% and 100%)")
    return number


def past_date(day: dt.date, field: str = "date", today: dt.date | None = None) -> dt.date:
    """A date from 1900-01-01 to today."""
    today = today or dt.date.today()
    if day > today:
        raise InputError(f"{field} {day.isoformat()} is in the future (today is {today.isoformat()})")
    _not_too_early(day, day.isoformat(), field)
    return day


def _not_too_early(day: dt.date, shown: str, field: str) -> None:
    if day < EARLIEST_DATE:
        raise InputError(f"{field} {shown} is before {EARLIEST_DATE.isoformat()}, the earliest the store accepts")


def as_utc(stamp: dt.datetime) -> dt.datetime:
    """An aware UTC timestamp (the store keeps naive UTC on SQLite)."""
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def past_timestamp(stamp: dt.datetime, field: str, now: dt.datetime | None = None) -> dt.datetime:
    """A timestamp from 1900-01-01 to the end of the current UTC day."""
    now = as_utc(now or utc_now())
    latest = dt.datetime.combine(now.date(), dt.time.max, tzinfo=dt.UTC)
    stamp = as_utc(stamp)
    if stamp > latest:
        raise InputError(f"{field} {stamp.isoformat()} is in the future (now is {now:%Y-%m-%dT%H:%M}Z)")
    _not_too_early(stamp.date(), stamp.isoformat(), field)
    return stamp


def seed(value: object) -> int:
    """A sampler seed: 0 to 2**32 - 1."""
    return parse_int(value, "seed", low=0, high=SEED_MAX)


def sampler_counts(draws: object, tune: object, chains: object) -> tuple[int, int, int]:
    """Draws and tuning steps per chain and the number of chains, each bounded, and all draws together too
    (the draws are held in memory and stored with the run)."""
    counts = (parse_int(draws, "draws", low=DRAWS_MIN, high=DRAWS_MAX), parse_int(tune, "tune", low=DRAWS_MIN, high=TUNE_MAX),
              parse_int(chains, "chains", low=1, high=CHAINS_MAX))
    if counts[0] * counts[2] > TOTAL_DRAWS_MAX:
        raise InputError(f"{counts[0]:,} draws x {counts[2]} chains is more than {TOTAL_DRAWS_MAX:,} draws in all")
    return counts


def row_id(value: int) -> int | None:
    """``value`` if it can be a row id, else None (no row has it)."""
    return value if 0 < value <= ROW_ID_MAX else None


def closest(name: str, known: list[str], cutoff: float = 0.6) -> str | None:
    """The known name closest to ``name`` (case-insensitive), if any is close (difflib's ratio at least ``cutoff``)."""
    import difflib

    folded = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(name.strip().casefold(), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def suggestion(name: str, known: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name (case-insensitive), or empty text."""
    close = closest(name, known)
    return f" (did you mean {close!r}?)" if close else ""


def unknown(what: str, name: str, known: list[str], hint: str = "", suggested: str | None = None) -> NotFoundError:
    """The error for a name that is not there: did-you-mean (``suggested``, or the closest of ``known``), and a
    few of the known names."""
    shown = ", ".join(sorted(known)[:12]) + (", ..." if len(known) > 12 else "") if known else "none yet"
    mean = suggestion(name, known) if suggested is None else suggested
    return NotFoundError(f"unknown {what} {name!r}{mean}; known: {shown}{hint}")
