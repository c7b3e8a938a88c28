"""Who makes a write: the analyst named on the command line or in the API, else $FORECAST_ANALYST, else the
login name of the operating-system user."""

from __future__ import annotations

import getpass
import os

from ..errors import InputError
from . import validate

UNKNOWN = "unknown"  # the author of rows written before authorship was recorded
ENVIRONMENT = "FORECAST_ANALYST"


def author(given: str | None = None) -> str:
    """The author to record: ``given``, else ``$FORECAST_ANALYST``, else the login name (else ``unknown``)."""
    if given is None:
        given = os.environ.get(ENVIRONMENT) or _login_name()
    name = validate.text(given, "author").strip()
    if not name:
        raise InputError("an author needs a name (--by NAME or $FORECAST_ANALYST)")
    return name


def _login_name() -> str:
    try:
        return getpass.getuser() or UNKNOWN
    except (OSError, KeyError, ImportError):  # no login name in the environment nor the password database
        return UNKNOWN
