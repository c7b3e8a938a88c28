"""The one parser of integers and numbers typed by people: ASCII digits only, every count bounded.

Python's ``int()``, ``float()`` and ``\\d`` accept any Unicode digit (Arabic-Indic, fullwidth, ...), so a
value could read differently on screen from what is stored. Every option, claim, reference and import
field goes through here (or through :func:`refuse_foreign_digits` first).
"""

from __future__ import annotations

import math
import re
import unicodedata

from ..errors import InputError

_INTEGER_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
MAX_DIGITS = 30  # longer digit strings are refused before conversion


def foreign_digit(text: str) -> str | None:
    """The first digit in ``text`` that is not 0-9, described (character, code point, name, position), or None."""
    for position, char in enumerate(text, 1):
        if not ("0" <= char <= "9") and (char.isdigit() or unicodedata.category(char) == "Nd"):
            name = unicodedata.name(char, "digit")
            return f"{char!r} (U+{ord(char):04X} {name}) at character {position}"
    return None


def refuse_foreign_digits(text: str, field: str) -> str:
    """``text`` unchanged, or an InputError when it holds a digit other than 0-9."""
    found = foreign_digit(text)
    if found:
        raise InputError(f"{field} {text!r} contains the digit {found}: type digits as 0-9")
    return text


def _checked_text(value: object, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"{field} must be a number, not {type(value).__name__}")
    text = str(value).strip()
    refuse_foreign_digits(text, field)
    if len(text) > MAX_DIGITS:
        raise InputError(f"{field} {text[:MAX_DIGITS]}... is too long to be a number here")
    return text


def parse_int(value: object, field: str, *, low: int | None = None, high: int | None = None) -> int:
    """An integer written in ASCII digits (an int is taken as it is), within ``low`` .. ``high``."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = _checked_text(value, field)
        if not _INTEGER_RE.fullmatch(text):
            raise InputError(f"{field} {text!r} is not a whole number")
        number = int(text)
    return _bounded(number, field, low, high)


def parse_number(value: object, field: str, *, low: float | None = None, high: float | None = None) -> float:
    """A finite real number written in ASCII (digits, point, exponent), within ``low`` .. ``high``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = _checked_text(value, field)
        if not _NUMBER_RE.fullmatch(text):
            raise InputError(f"{field} {text!r} is not a number")
        number = float(text)
    if not math.isfinite(number):
        raise InputError(f"{field} {value!r} is not a finite number")
    return _bounded(number, field, low, high)


def _bounded[N: (int, float)](number: N, field: str, low: N | None, high: N | None) -> N:
    if low is not None and number < low:
        raise InputError(f"{field} {number} is less than {low}, the smallest allowed")
    if high is not None and number > high:
        raise InputError(f"{field} {number} is more than {high:,}, the largest allowed")
    return number
