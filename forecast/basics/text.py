"""Stored text made safe to show: in a terminal, a Markdown file, an HTML page, a figure, a spreadsheet.

Escape sequences (which a terminal would act on, also when a report is read with ``cat`` or
``less -R``) are removed whole, other control characters dropped, and a carriage return becomes a
line break, so that text can neither rewrite what is already shown nor plant a hyperlink. Invisible
format characters are dropped too, so that text cannot reorder what is shown around it (bidirectional
overrides) nor pass for other text (zero-width characters). CSV
cells that a spreadsheet would run as a formula get a leading ``'`` (OWASP's advice), reversibly.
"""

from __future__ import annotations

import re

# CSI (ESC [ or 0x9B) up to its final byte; OSC, DCS, SOS, PM and APC strings up to their
# terminator (BEL or ST) or the end of the text; any other ESC sequence.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and newline, DEL, C1
# Bidirectional embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069), the "Trojan Source"
# set; the directional marks (U+200E, U+200F, U+061C); zero-width space, non-joiner and joiner
# (U+200B-U+200D), word joiner (U+2060) and zero-width no-break space (U+FEFF).
INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
HIDDEN = re.compile(f"{CONTROL.pattern}|{INVISIBLE.pattern}")  # what JSON output shows as \\uXXXX escapes


def displayable(value: object) -> str:
    """``value`` as text with escape sequences, control characters (but tab and newline) and invisible
    format characters removed."""
    text = re.sub(r"\r\n?", "\n", "" if value is None else str(value))
    return INVISIBLE.sub("", CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text)))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: ``'`` before a formula-leading value (or one that
    starts with ``'`` before such a character, so that :func:`restore_cell` is its exact inverse)."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore_cell(value: object) -> object:
    """The value :func:`neutralise_cell` was given."""
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value


_URL_PASSWORD = re.compile(r"(://[^/@:\s]*:)[^@/\s]*@")
_SECRET_PARAMETER = re.compile(r"([?&][^=&\s]*(?:pass|secret|token|key)[^=&\s]*=)[^&\s]*?(?=[:,;'\"]?(?:\s|$)|&)",
                               re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """``text`` with passwords in URLs (``user:PASSWORD@``) and secret query parameters (``?password=``) as ``***``."""
    return _SECRET_PARAMETER.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


def listed(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
