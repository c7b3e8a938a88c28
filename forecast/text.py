"""Stored text made safe to show: in a terminal, a Markdown file, an HTML page, a figure, a spreadsheet.

Escape sequences (which a terminal would act on, also when a report is read with ``cat`` or
``less -R``) are removed whole, other control characters dropped, and a carriage return becomes a
line break, so that text can neither rewrite what is already shown nor plant a hyperlink. CSV
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


def displayable(value: object) -> str:
    """``value`` as text with escape sequences and control characters (but tab and newline) removed."""
    text = re.sub(r"\r\n?", "\n", "" if value is None else str(value))
    return CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


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
