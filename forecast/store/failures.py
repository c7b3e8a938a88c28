"""OS and database failures as one line a user can act on (the CLI shows it with exit 2)."""

from __future__ import annotations

import sqlite3

CORRUPT = "the store is corrupt ({reason}); restore it from a backup, or import an earlier export into a new store"
_FULL = "the disk is full ({reason}): nothing was written; free some space and retry"
_READ_ONLY = "the store is read-only ({reason}): nothing was written; check the file's permissions and attributes"
_KNOWN = (  # (words in the driver's message, what to tell the user)
    ("malformed", CORRUPT),
    ("not a database", CORRUPT),
    ("disk is full", _FULL),
    ("no space left", _FULL),
    ("readonly", _READ_ONLY),
    ("read-only", _READ_ONLY),
    ("unable to open", "{reason}: check that the directory exists and is writable"),
    ("locked", "the store is busy ({reason}): another process holds it; retry"),
)
POSTGRES_DRIVERS = ("psycopg", "psycopg2")


def failure_message(exc: BaseException) -> str | None:
    """One line for an OS or database failure, or None when ``exc`` is a bug (left as a traceback)."""
    if isinstance(exc, ModuleNotFoundError):
        if exc.name in POSTGRES_DRIVERS:
            return "no PostgreSQL driver: install the postgres extra: pip install 'policy-forecast[postgres]'"
        return None
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    from sqlalchemy.exc import IntegrityError, OperationalError

    original = getattr(exc, "orig", None) or exc
    reason = (str(original).strip().splitlines() or [type(original).__name__])[0]
    for words, message in _KNOWN:
        if words in reason.lower():
            return message.format(reason=reason)
    if isinstance(exc, OperationalError | sqlite3.OperationalError):
        return f"the store failed: {reason}"
    if isinstance(exc, IntegrityError | sqlite3.IntegrityError):
        return f"the store refused the change: {reason}"
    return None
