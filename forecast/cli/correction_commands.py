"""Commands that show one evidence row whole and correct it append-only."""

from __future__ import annotations

import sys

import click

from ..errors import InputError
from .evidence_commands import evidence_group, update_option, updated_headline
from .expert_commands import expert
from .output import json_option
from ..store.vocab import STRENGTHS
from .params import EFFECTIVE, EVIDENCE_DATE, SuggestingChoice, by_option
from .render import emit_json, emit_record, terminal_text
from .trial import rolled_back


@evidence_group.command(name="show")
@click.argument("ref")
@json_option
@click.pass_obj
def evidence_show(env, ref: str, as_json: bool) -> None:
    """Show one statement or observation whole: its fields, who logged it, what it corrected and what corrected
    it, and (a statement) its effective weight in the model with the rules applied.

    Example: forecast evidence show S12
    """
    from ..runs.explain import evidence_detail

    with env.store().reader() as session:
        record = evidence_detail(session, ref)
    if as_json:
        emit_json(record)
        return
    rules = record.pop("rules")
    record["weight"] = "" if record["weight"] is None else f"{record['weight']:.3f}"
    for key in ("supersedes", "superseded_by"):
        record[key] = ", ".join(record[key]) or "-"
    emit_record(record)
    if rules:
        click.echo("rules applied:")
        for rule in rules:
            click.echo(terminal_text(f"  - {rule['text']}"))


def _diff_line(field: str, old: object, new: object) -> str:
    return terminal_text(f"  {field}: {str(old)!r} -> {str(new)!r}")


def _tried(env, ref: str, changes: dict, precision: str | None) -> list:
    """The edit's diff, once the whole edit has passed every check in a transaction that is then rolled back."""
    from ..domain import corrections

    def attempt(session) -> list:
        diff = corrections.edit_diff(session, ref, changes)
        corrections.edit(session, ref, changes, precision)
        return diff

    return rolled_back(env, attempt)


@evidence_group.command(name="edit")
@click.argument("ref")
@click.option("--claim", help="The corrected claim (a statement).")
@click.option("--date", type=EVIDENCE_DATE, help="The corrected date (a YYYY-MM month: its first day, month precision).")
@click.option("--quote", help="The corrected quote (a statement).")
@click.option("--source", help="The corrected source.")
@click.option("--note", help="The corrected note (an observation).")
@click.option("--expert", help="Who really said it, by name or alias (a statement).")
@click.option("--probability", metavar="P", help="The corrected stated probability: 0.8, 80% or 80 (a statement).")
@click.option("--strength", type=SuggestingChoice(STRENGTHS, "strength"), help="firm or hedged (a statement).")
@click.option("--paraphrase/--verbatim", "paraphrase", default=None,
              help="Whether the quote is a paraphrase or the speaker's own words (a statement).")
@click.option("--url", help="The corrected web address of the source.")
@click.option("--effective", type=EFFECTIVE, help="The corrected effective date (a notice-given or notice-extended; a month "
              "is its first day).")
@click.option("--yes", is_flag=True, help="Store without asking (needed when not on a terminal).")
@update_option
@click.pass_obj
def evidence_edit(env, ref: str, yes: bool, update: bool, date, paraphrase: bool | None, **changes) -> None:
    """Correct a row append-only: log a new row with the changed fields that supersedes it (the old row stays,
    marked superseded). Shows the change and asks before storing.

    Example: forecast evidence edit S12 --claim "after 2025" --probability 70% --yes
    """
    from ..domain import corrections
    from ..domain.evidence import ref_of

    changes["date"], precision = date if date else (None, None)
    changes["quote_kind"] = None if paraphrase is None else ("paraphrase" if paraphrase else "verbatim")
    diff = _tried(env, ref, changes, precision)
    if not yes and not sys.stdin.isatty():
        raise InputError("evidence edit asks before storing, and this is not a terminal: pass --yes to store it")
    click.echo(f"Correction of {ref.upper()}:")
    for field, old, new in diff:
        click.echo(_diff_line(field, old, new))
    if not yes:
        click.confirm("Log it as a new row superseding the old one?", abort=True)
    with env.store().session() as session:
        done = corrections.edit(session, ref, changes, precision)
    click.echo(f"Logged {ref_of(done.new)}, superseding {ref_of(done.old)}.")
    if update:
        updated_headline(env, done.question, done.new.logged_at, ref_of(done.new), ref_of(done.old))


@expert.command(name="rename")
@click.argument("old")
@click.argument("new")
@click.option("--note", default="", help="Why it is renamed.")
@click.option("--distinct", is_flag=True, help="The new name is close to another expert's, and they are different people.")
@by_option
@click.pass_obj
def expert_rename(env, old: str, new: str, note: str, distinct: bool, author: str | None) -> None:
    """Rename an expert (append-only: the old name keeps answering, old rows still show it as logged).

    Example: forecast expert rename "Yuri Borisow" "Yury Borisov"
    """
    from ..domain.experts import rename_expert

    with env.store().session() as session:
        rename_expert(session, old, new, note, author=author, refuse_similar=not distinct)
    click.echo(terminal_text(f"Renamed {old} to {new}."))


@expert.command(name="merge")
@click.argument("source")
@click.argument("into")
@click.option("--note", default="", help="Why they are one expert.")
@by_option
@click.pass_obj
def expert_merge(env, source: str, into: str, note: str, author: str | None) -> None:
    """Merge expert SOURCE into INTO: from now on SOURCE's statements count as INTO's (its rows keep naming it).

    Example: forecast expert merge "Roscosmos" "Roscosmos press service"
    """
    from ..domain.experts import merge_experts, merge_notes

    with env.store().session() as session:
        change = merge_experts(session, source, into, note, author=author)
        notes = merge_notes(session, source, change)
    click.echo(terminal_text(f"Merged {source} into {change.name}."))
    for line in notes:
        click.echo(terminal_text(f"Note: {line}."))
