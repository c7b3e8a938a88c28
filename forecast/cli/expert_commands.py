"""The `expert` commands: list, show and add the people whose statements are evidence (rename and merge are
corrections, in :mod:`.correction_commands`)."""

from __future__ import annotations

import sys

import click

from ..store.vocab import EXPERT_KINDS
from .evidence_commands import EVIDENCE_COLUMNS, EXPERT_COLUMNS, who_says
from .group import cli
from .output import csv_option, emit_detail, emit_listing, json_option, machine_output
from .params import SuggestingChoice, by_option
from .prompting import EntryCommand
from .render import terminal_text


@cli.group()
def expert() -> None:
    """People whose statements are evidence."""


@expert.command(name="list")
@click.option("--kind", type=SuggestingChoice(EXPERT_KINDS, "expert kind"), help="Only experts of this kind.")
@json_option
@csv_option
@click.pass_obj
def expert_list(env, kind: str | None, as_json: bool, as_csv: bool) -> None:
    """List experts.

    Example: forecast expert list --kind official
    """
    from ..domain import views

    with env.store().reader() as session:
        rows = views.list_experts(session, kind)
    emit_listing(as_json, as_csv, rows, ["name", "kind", "affiliation", "role"], csv_columns=EXPERT_COLUMNS, wide=["role"])


@expert.command(name="show")
@click.argument("name")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print the expert's statements as CSV.")
@click.pass_obj
def expert_show(env, name: str, as_json: bool, as_csv: bool) -> None:
    """Show one expert (by name or alias) and their statements.

    Example: forecast expert show Zak
    """
    from ..domain.questions import store_priors
    from ..scoring.scorecard import expert_profile

    with env.store().reader() as session:
        record = expert_profile(session, store_priors(session), name)
    if machine_output(as_json, as_csv, record, lambda: record["statements"], EVIDENCE_COLUMNS):
        return
    statements = [who_says(row) for row in record.pop("statements")]
    record["track_record"] = track_record_words(record["track_record"])
    emit_detail(record, statements, ["ref", "date", "question", "claim", "strength", "weight", "status", "quote"],
                 wide=["quote"])


@expert.command(name="add", cls=EntryCommand)
@click.argument("name")
@click.option("--kind", required=True, type=SuggestingChoice(EXPERT_KINDS, "expert kind"), help="Kind of source (sets the reliability prior).")
@click.option("--role", default="", help="Role or title.")
@click.option("--affiliation", default="", help="Organisation.")
@click.option("--alias", "aliases", multiple=True, help="Another name this expert is known by (repeatable).")
@click.option("--notes", default="", help="Free-text notes.")
@click.option("--new", is_flag=True, help="Add it even if the name is close to an existing expert's.")
@by_option
@click.pass_obj
def expert_add(env, name: str, kind: str, role: str, affiliation: str, aliases: tuple[str, ...], notes: str,
               new: bool, author: str | None) -> None:
    """Add an expert. A name close to an existing expert's asks first on a terminal, and needs --new otherwise.

    Example: forecast expert add "Yury Borisov" --kind official --affiliation Roscosmos --alias Borisov
    """
    from ..domain import evidence
    from ..errors import ProbableDuplicateError

    def add(refuse_similar: bool):
        with env.store().session() as session:
            return evidence.add_expert(session, name, kind, role, affiliation, list(aliases), notes, refuse_similar,
                                      author)

    try:
        added = add(refuse_similar=not new)
    except ProbableDuplicateError as close:
        if not sys.stdin.isatty():
            raise
        shown = ", ".join(close.similar)
        click.confirm(terminal_text(f"{name!r} is close to the existing expert {shown}. Add it as another expert?"),
                      abort=True)
        added = add(refuse_similar=False)
    click.echo(terminal_text(f"Added expert {added.name} ({added.kind})."))


def track_record_words(track: dict | None) -> str:
    """``2 borne out, 1 falsified, 3 open (hit rate 0.67); reliability now 0.71 (run 4)``."""
    if track is None:
        return "no statement in the model yet"
    rate = "" if track["hit_rate"] is None else f" (hit rate {track['hit_rate']:.2f})"
    history = track["reliability_over_time"]
    learned = f"; reliability now {history[-1][2]:.2f} (run {history[-1][1]})" if history else "; no run yet"
    return f"{track['borne_out']} borne out, {track['falsified']} falsified, {track['open']} open{rate}{learned}"
