"""`log ... --dry-run`: a row written with every check and its instant headline computed, then rolled back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

dry_run_option = click.option("--dry-run", is_flag=True,
                              help="Check the whole row and show the headline it would give; store nothing.")


class _Tried(Exception):
    """Rolls back a write made only to try it, carrying what it showed out."""

    def __init__(self, result: tuple[list[str], dict]) -> None:
        self.result = result


def try_write(env, write: Callable[[Any], tuple[Any, list[str]]], question: str,
              supersedes: str | None) -> tuple[list[str], dict]:
    """Make ``write(session) -> (row, lines)`` in a transaction, compute the instant headline change it makes in
    that transaction, and roll both back; returns the lines and the change. Nothing is stored."""
    from ..domain.evidence import ref_of
    from ..runs.explain import headline_change
    from .forecast_commands import stored_priors

    priors = stored_priors(env.store())
    try:
        with env.store().session() as session:
            row, lines = write(session)
            raise _Tried((lines, headline_change(session, priors, question, row.logged_at, ref_of(row), supersedes)))
    except _Tried as tried:
        return tried.result
