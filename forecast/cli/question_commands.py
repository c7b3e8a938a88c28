"""Commands that add, edit and list questions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .group import cli
from .output import csv_option, emit_detail, emit_listing, json_option, machine_output
from .params import OutputPath, SuggestingChoice, by_option
from .render import emit_json, terminal_text


@cli.group()
def question() -> None:
    """Questions being forecast: add your own from a TOML file."""


@question.command(name="add")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--note", default="", help="Why this version (kept with it).")
@by_option
@click.pass_obj
def question_add(env, path: Path, note: str, author: str | None) -> None:
    """Add a question (or a new wording of one) from a TOML file; `forecast question new SLUG` writes a commented
    template to fill in.

    Example: forecast question new my-question && forecast question add my-question.toml
    """
    from ..domain.priors import read_question_file
    from ..domain.questions import add_question

    data = read_question_file(path)
    with env.store().session() as session:
        added, outcome = add_question(session, data, str(path), note, author=author)
    click.echo(added_message(added, outcome))


def added_message(added, outcome: str) -> str:
    """What `question add` says it did."""
    return {"added": f"Added question {added.slug} (version 1).", "defined": f"Stored the definition of {added.slug}.",
            "updated": f"Updated question {added.slug} to version {added.version}.",
            "unchanged": f"Question {added.slug} is unchanged (version {added.version})."}[outcome]


@question.command(name="new")
@click.argument("slug")
@click.option("--kind", type=SuggestingChoice(["date", "binary"], "question kind"), default="date", show_default=True,
              help="date: when will it happen; binary: will it happen before the horizon ends.")
@click.option("-o", "--out", "out_path", type=OutputPath(dir_okay=False, path_type=Path),
              help="The file to write (default: SLUG.toml); an existing file is never overwritten.")
@click.pass_obj
def question_new(env, slug: str, kind: str, out_path: Path | None) -> None:
    """Write a commented question file to fill in, with the bundled recipe's priors and their reasons.

    Example: forecast question new ruritania-treaty-exit (then edit ruritania-treaty-exit.toml and
    forecast question add ruritania-treaty-exit.toml)
    """
    from ..basics.files import check_target, write_atomically
    from ..domain.questions import require_new_slug
    from ..domain.template import question_template
    from ..errors import StoreError

    text = question_template(slug, kind)
    try:
        store = env.store()
    except StoreError:  # no store yet (or one this command does not need): the file alone is written
        store = None
    if store is not None:
        with store.reader() as session:
            require_new_slug(session, slug)
    path = out_path or Path(f"{slug}.toml")
    check_target(path, may_exist=False)
    write_atomically(path, text)
    click.echo(f"Wrote {path}: replace each TODO, then: forecast question add {path}")


@question.command(name="edit")
@click.argument("slug")
@click.option("--title", help="New title.")
@click.option("--criteria", help="New resolution criteria.")
@click.option("--event", help="New event wording (the subject of report sentences).")
@click.option("--tag", "tags", multiple=True, help="Replace the tags (repeatable).")
@click.option("--trigger", help="New description of the trigger.")
@click.option("--review-every", type=int, metavar="DAYS",
              help="Days without evidence before `forecast status` calls the question due for review.")
@click.option("--note", default="", help="Why the change (kept with the version).")
@by_option
@click.pass_obj
def question_edit(env, slug: str, tags: tuple[str, ...], note: str, author: str | None, **changes) -> None:
    """Re-word a question; each change is a new version (priors and horizon cannot change).

    Example: forecast question edit russia-iss-withdrawal --tag space --tag iss --note "tags"
    """
    from ..domain.questions import edit_question

    with env.store().session() as session:
        edited = edit_question(session, slug, note, author=author, tags=tags or None, **changes)
    click.echo(f"Updated question {edited.slug} to version {edited.version}.")


@question.command(name="list")
@click.option("--tag", help="Only questions with this tag.")
@json_option
@csv_option
@click.pass_obj
def question_list(env, tag: str | None, as_json: bool, as_csv: bool) -> None:
    """List questions with their status, current headline, last change, evidence count, tags and how many items are
    due (as `forecast status` words them; --json and --csv also give each rule's facts).

    Example: forecast question list --tag casebook --csv
    """
    from ..domain import views
    from ..inference.summary import portfolio_lead

    with env.store().reader() as session:
        rows = views.portfolio(session, tag, portfolio_lead)
    columns = ["slug", "status", "headline", "last_change", "evidence", "tags", "title", "due"]
    emit_listing(as_json, as_csv, rows, columns,
                 csv_columns=columns + ["kind", "resolution", "run", *DUE_COLUMNS], wide=["title"],
                 shown=lambda row: {**row, "due": len(row["due"]) or ""})


DUE_COLUMNS = ["new_since_run", "days_without_evidence", "undecided_checkpoints", "past_horizon"]


@cli.command(name="status")
@click.option("--question", help="Only this question (shown even when resolved).")
@click.option("--tag", help="Only questions with this tag.")
@json_option
@click.pass_obj
def status_command(env, question: str | None, tag: str | None, as_json: bool) -> int:
    """Say what is due on each open question: new evidence since its last run, a last run that failed its
    diagnostics, no evidence for longer than its review_every, checkpoints passed without a deciding
    observation, a horizon over without a resolution.

    Exits 1 when something is due and 0 when nothing is (for cron).

    Example: forecast status --tag space || echo "something is due"
    """
    from ..domain.reminders import status

    with env.store().reader() as session:
        rows = status(session, question, tag)
    if as_json:
        emit_json(rows)
    else:
        _emit_status(rows)
    return 1 if any(row["due"] for row in rows) else 0


def _emit_status(rows: list[dict]) -> None:
    for row in rows:
        click.echo(terminal_text(f"{row['slug']}: {'due' if row['due'] else 'nothing due'}"))
        for item in row["due"]:
            click.echo(terminal_text(f"  - {item}"))
    due = sum(1 for row in rows if row["due"])
    click.echo(f"{due} of {len(rows)} question{'' if len(rows) == 1 else 's'} due.")


def _field_rows(record: dict) -> list[dict]:
    """A record as (field, value) rows; structured values as JSON text."""
    return [{"field": k, "value": v if isinstance(v, str | int | float | None) else json.dumps(v, default=str)}
            for k, v in record.items()]


@question.command(name="show")
@click.argument("slug")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print the definition as CSV, one field per row.")
@click.pass_obj
def question_show(env, slug: str, as_json: bool, as_csv: bool) -> None:
    """Show one question's full definition: criteria, horizon, priors in force (and the prior set they come
    from), notice rule, tags and versions.

    Example: forecast question show russia-iss-withdrawal
    """
    from ..domain import questions, views

    with env.store().reader() as session:
        row = questions.question_by_slug(session, slug)
        record = views.question_view(row)
        definition = questions.definition_view(row)
        record["versions"] = questions.versions(session, row)
        record["reopened"] = questions.reopened_resolutions(session, row)
        spec, prior_set = questions.spec_in_force(session, row)
    record |= {"prior_set": prior_set, "date_prior": spec["date_prior"], "notice": spec["notice"],
               "public_event": spec["public_event"], "precluded_by": spec["precluded_by"], "trigger": spec["trigger"]}
    if machine_output(as_json, as_csv, record | {"definition": definition["file"]}, lambda: _field_rows(record),
                      ["field", "value"]):
        return
    versions = record.pop("versions")
    record["reopened"] = "; ".join(f"{r['was']} by {r['resolved_by']}, reopened by {r['reopened_by']} on "
                                   f"{r['reopened_at'][:10]}: {r['reason']}" for r in record["reopened"]) or "never"
    record["date_prior"] = ", ".join(f"{k} {v:g}" for k, v in spec["date_prior"].items())
    record["notice"] = "none" if spec["notice"] is None else ", ".join(
        f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in spec["notice"].items() if v is not None)
    emit_detail(record, versions, ["version", "created_at", "author", "note", "title"], wide=["title"])
