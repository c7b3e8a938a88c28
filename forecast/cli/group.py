"""The one click group, its per-invocation state and how it turns every error into one line."""

from __future__ import annotations

import re
import sqlite3
import sys
from typing import TYPE_CHECKING, NoReturn

import click

from ..basics.text import INVISIBLE, mask_secrets
from ..errors import ForecastError

if TYPE_CHECKING:
    from ..store import Store


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
        except click.exceptions.NoSuchOption as exc:
            hint = ": it goes before the command (forecast --db PATH COMMAND ...)" if exc.option_name == "--db" else ""
            _fail(exc.format_message().rstrip(".") + hint if hint else exc.format_message(), exc.exit_code)
        except click.exceptions.MissingParameter as exc:  # the command's own example shows what to give
            _fail(exc.format_message() + _example(exc.ctx), exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        sys.exit(result if isinstance(result, int) else 0)


def _example(ctx: click.Context | None) -> str:
    """`` Example: forecast ...`` from the command's help text, or empty text."""
    found = re.search(r"Example: (.+?)(?:\n\s*\n|$)", (ctx.command.help or "") if ctx else "", re.S)
    return f" Example: {' '.join(found.group(1).split())}" if found else ""


def _database_error() -> type[Exception]:
    from sqlalchemy.exc import DBAPIError

    return DBAPIError


_ESCAPED_RE = re.compile(rf"[\x00-\x08\x0a-\x1f\x7f-\x9f]|{INVISIBLE.pattern}")  # control characters, newline too


def one_line(message: str) -> str:
    """``message`` on one line: control and invisible format characters and stray surrogates shown as escapes."""
    escaped = _ESCAPED_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), message)
    return escaped.encode("utf-8", "backslashreplace").decode("utf-8")


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {one_line(mask_secrets(message))}", err=True)
    sys.exit(code)


CREATING = ("init", "import")  # the commands that may create the store; the others refuse a missing one


class Env:
    """Per-invocation state: where the store is, opened on first use."""

    def __init__(self, db: str | None, create: bool = False) -> None:
        self.db, self.create = db, create
        self._store: Store | None = None

    def store(self) -> Store:
        if self._store is None:
            from ..store import open_store

            self._store = open_store(self.db, create=self.create)
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
    ctx.obj = Env(db, create=ctx.invoked_subcommand in CREATING)
