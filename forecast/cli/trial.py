"""`log ... --dry-run`: a row written with every check and its instant headline computed, then rolled back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

dry_run_option = click.option("--dry-run", is_flag=True,
                              help="Check the whole row and show the headline it would give; store nothing.")


class _Tried(Exception):
    """Rolls back a write made only to try it, carrying its result out."""

    def __init__(self, result: Any) -> None:
        self.result = result


def rolled_back[T](env, attempt: Callable[[Any], T]) -> T:
    """``attempt(session)``'s result, the writes it made (with every check the store applies) rolled back."""
    try:
        with env.store().session() as session:
            raise _Tried(attempt(session))
    except _Tried as tried:
        return tried.result


def try_write(env, write: Callable[[Any], tuple[Any, list[str]]], question: str,
              supersedes: str | None) -> tuple[list[str], dict]:
    """Make ``write(session) -> (row, lines)`` in a transaction, compute the instant headline change it makes in
    that transaction, and roll both back; returns the lines and the change. Nothing is stored."""
    from ..domain.evidence import ref_of
    from ..runs.explain import headline_change
    from .forecast_commands import stored_priors

    priors = stored_priors(env.store())

    def attempt(session) -> tuple[list[str], dict]:
        row, lines = write(session)
        return lines, headline_change(session, priors, question, row.logged_at, ref_of(row), supersedes)

    return rolled_back(env, attempt)
