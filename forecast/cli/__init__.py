"""The ``forecast`` command line: one click group; sub-commands parse, call one function, render."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import sys
from typing import NoReturn

import click

from ..errors import ForecastError, InputError
from ..months import parse_date, parse_datetime, parse_day_or_month
from ..text import INVISIBLE


class ForecastGroup(click.Group):
    """A group that reports every error as one line on stderr: exit 2 for bad input and for OS and
    database failures (a full disk, a read-only or corrupt store, a missing driver)."""

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except ForecastError as exc:
            _fail(str(exc), 2)
        except (OSError, sqlite3.Error, ModuleNotFoundError, _database_error()) as exc:
            from ..store.failures import failure_message

            message = failure_message(exc)
            if message is None:
                raise
            _fail(message, 2)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
            sys.exit(0)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        sys.exit(result if isinstance(result, int) else 0)


def _database_error() -> type[Exception]:
    from sqlalchemy.exc import DBAPIError

    return DBAPIError


_ESCAPED_RE = re.compile(rf"[\x00-\x08\x0a-\x1f\x7f-\x9f]|{INVISIBLE.pattern}")  # control characters, newline too


def one_line(message: str) -> str:
    """``message`` on one line: control and invisible format characters and stray surrogates shown as escapes."""
    escaped = _ESCAPED_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), message)
    return escaped.encode("utf-8", "backslashreplace").decode("utf-8")


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {one_line(message)}", err=True)
    sys.exit(code)


class DateType(click.ParamType):
    """A ``YYYY-MM-DD`` date."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        try:
            return parse_date(value)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class TimestampType(click.ParamType):
    """A date or ISO timestamp (a bare date means the end of that day, UTC)."""

    name = "TIMESTAMP"

    def convert(self, value, param, ctx):
        try:
            return parse_datetime(value)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class DayOrMonthType(click.ParamType):
    """A date ``YYYY-MM-DD`` or a month ``YYYY-MM`` (its first day, or its last with ``month_end``).

    With ``with_precision`` the value is ``(date, "day" | "month")``, for evidence dates.
    """

    name = "YYYY-MM-DD|YYYY-MM"

    def __init__(self, month_end: bool = False, with_precision: bool = False) -> None:
        self.month_end, self.with_precision = month_end, with_precision

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date | tuple):
            return value
        try:
            day, precision = parse_day_or_month(value, month_end=self.month_end)
        except InputError as exc:
            self.fail(str(exc), param, ctx)
        return (day, precision) if self.with_precision else day


DATE = DateType()
TIMESTAMP = TimestampType()
EVIDENCE_DATE = DayOrMonthType(with_precision=True)  # a month: its first day, precision "month"
RANGE_START = DayOrMonthType()  # --from, --since: a month is its first day
RANGE_END = DayOrMonthType(month_end=True)  # --to, --until, --as-of: a month is its last day


class Env:
    """Per-invocation state: where the store is, opened on first use."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._store = None

    def store(self):
        if self._store is None:
            from ..store import open_store

            self._store = open_store(self.db)
        return self._store


@click.group(cls=ForecastGroup)
@click.option("--db", envvar="FORECAST_DB", metavar="PATH|URL",
              help="Store: a SQLite path or SQLAlchemy URL (default ./forecast.db, or $FORECAST_DB).")
@click.version_option(package_name="policy-forecast", prog_name="forecast")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Bayesian forecasts of policy events from dated expert evidence.

    Example: forecast init && forecast evidence list --question russia-iss-withdrawal
    """
    ctx.obj = Env(db)


from . import evidence_commands, forecast_commands, question_commands, score_commands  # noqa: E402,F401  (registers sub-commands)
