"""Commands that create the store and log, list, move and retract evidence."""

from __future__ import annotations

from pathlib import Path

import click

from ..store.vocab import (DATE_PRECISIONS, OBSERVATION_ALIASES, OBSERVATION_INPUTS, OBSERVATION_KINDS,
                           OBSERVATION_MEANINGS, STRENGTHS)
from ..errors import InputError
from .group import cli
from .output import csv_option, emit_listing, json_option
from .params import EFFECTIVE, EVIDENCE_DATE, OutputPath, RANGE_END, RANGE_START, SuggestingChoice, by_option
from .prompting import EntryCommand, QUESTION_CHECKS, QUESTION_CHOICES, check_claim, check_expert, expert_names
from .render import terminal_text
from .trial import dry_run_option, try_write

OBSERVATION_HELP = "\b\nObservation kinds (older names still accepted in brackets):\n" + "\n".join(
    f"  {kind:<17}{meaning}" + "".join(f" [{old}]" for old, new in OBSERVATION_ALIASES.items() if new == kind)
    for kind, meaning in OBSERVATION_MEANINGS.items()) + "\n\nMore: forecast docs entry (logging evidence)."
update_option = click.option("--update/--no-update", default=True, show_default=True,
                             help="Print the updated headline from the exact fast path.")
EXPERT_COLUMNS = ["name", "kind", "role", "affiliation", "aliases", "notes", "author"]
EVIDENCE_COLUMNS = ["ref", "type", "question", "date", "date_precision", "expert", "claim", "interval", "strength",
                    "probability", "quote", "quote_kind", "kind", "note", "effective_on", "source", "url", "rationale",
                    "logged_at", "author", "weight", "status", "retraction_reason", "retracted_by"]
precision_option = click.option("--date-precision", type=SuggestingChoice(DATE_PRECISIONS, "date precision"),
                                help="How exact --date is  [default: day, or month for a YYYY-MM date]")


def _dated(fields: dict, key: str) -> dict:
    """Split an evidence --date into the day and, unless --date-precision says otherwise, its precision."""
    (day, precision), given = fields[key], fields["date_precision"]
    if precision == "month" and given == "day":
        raise InputError(f"--date {day:%Y-%m} names a month; --date-precision day needs a day (YYYY-MM-DD)")
    fields[key], fields["date_precision"] = day, given or precision
    return fields


@cli.command()
@click.option("--priors", type=click.Path(file_okay=False, path_type=Path), help="Priors directory: reliability.toml, recipes.toml and questions/*.toml (default: the bundled priors).")
@click.option("--observations", type=click.Path(file_okay=False, path_type=Path), help="Seed evidence directory of TOML files (default: the bundled seed evidence).")
@click.option("--casebook", "with_casebook", is_flag=True, help="Also load the bundled casebook of resolved questions.")
@click.option("--casebook-dir", type=click.Path(file_okay=False, path_type=Path), help="Load casebook files from this directory.")
@click.option("--empty", is_flag=True, help="Only the reliability priors: no bundled questions or evidence (for your own).")
@click.pass_obj
def init(env, priors: Path | None, observations: Path | None, with_casebook: bool, casebook_dir: Path | None,
         empty: bool) -> None:
    """Create the store and load questions, priors, experts and seed evidence (safe to repeat).

    Examples: forecast init --casebook; forecast init --empty (then: forecast question add my-question.toml)
    """
    from ..domain.verify import require_intact
    from ..io import seed

    with env.store().session() as session:
        require_intact(session)
        report = seed.initialise(session, priors, observations, casebook_dir, with_casebook, empty)
    click.echo(
        f"Store {env.store().shown_url}: added {len(report.questions)} question(s), {len(report.experts)} expert(s), "
        f"{report.statements} statement(s), {report.observations} observation(s)."
    )


@cli.group(name="log")
def log_group() -> None:
    """Log dated evidence: expert statements and observations."""


@log_group.command(name="statement", cls=EntryCommand,
                   checks={**QUESTION_CHECKS, "expert": check_expert, "claim": check_claim},
                   choices={**QUESTION_CHOICES, "expert": expert_names})
@click.option("--question", required=True, help="Question slug.")
@click.option("--expert", required=True, help="Expert name or alias.")
@click.option("--date", "said_on", required=True, type=EVIDENCE_DATE, help="When it was said (a YYYY-MM month: its first day).")
@click.option("--claim", required=True, help="The claim in the claim language, e.g. 'after 2024'.")
@click.option("--quote", required=True, help="What was said, verbatim where possible.")
@click.option("--paraphrase", "quote_kind", flag_value="paraphrase", default="verbatim",
              help="The quote is a paraphrase, not the speaker's exact words.")
@click.option("--source", required=True, help="URL or citation.")
@click.option("--url", default="", help="Where the source can be read.")
@click.option("--strength", type=SuggestingChoice(STRENGTHS, "strength"), default="firm", show_default=True)
@click.option("--probability", metavar="P",
              help="Probability the speaker attached to the claim: 0.8, 80% or a whole 80 (1.5 is refused as "
                   "ambiguous; default: its verbal probability, e.g. likely = 0.83).")
@click.option("--rationale", default="", help="Why the claim was encoded this way.")
@precision_option
@click.option("--supersedes", metavar="REF", help="Statement this one corrects (e.g. S12).")
@click.option("--restatement", is_flag=True,
              help="Log it even if a live row of the same expert says the same on the same day (a restatement).")
@by_option
@update_option
@dry_run_option
@click.pass_obj
def log_statement(env, update: bool, dry_run: bool, **fields) -> None:
    """Log what an expert said about the event's date.

    Example: forecast log statement --question russia-iss-withdrawal --expert Borisov
    --date 2022-07-26 --claim "after 2024" --quote "the decision to leave ... after 2024 has been made"
    --source "Kremlin transcript"
    """
    from ..domain import evidence, questions

    def write(session) -> tuple:
        row = evidence.log_statement(session, **_dated(fields, "said_on"))
        label = f"{row.claim_start or 'open'} .. {row.claim_end or 'open'}"
        reading = evidence.statement_reading(row, questions.question_by_slug(session, fields["question"]).event)
        return row, [f"Logged {evidence.ref_of(row)}: {fields['expert']} on {row.said_on}, {row.claim_text!r} -> {label}.",
                     f"Reads: {reading}."]

    _log(env, write, fields["question"], fields["supersedes"], update, dry_run)


@log_group.command(name="observation", cls=EntryCommand, checks=QUESTION_CHECKS, epilog=OBSERVATION_HELP,
                   choices={**QUESTION_CHOICES, "kind": lambda env: list(OBSERVATION_KINDS)})
@click.option("--question", required=True, help="Question slug.")
@click.option("--kind", required=True, type=SuggestingChoice(OBSERVATION_INPUTS, "observation kind", shown=OBSERVATION_KINDS), metavar="KIND",
              help="What was observed: " + ", ".join(OBSERVATION_KINDS) + " (each explained below).")
@click.option("--date", "observed_on", required=True, type=EVIDENCE_DATE,
              help="When it was observed (a YYYY-MM month: its first day).")
@click.option("--effective", "effective_on", type=EFFECTIVE,
              help="notice-given / notice-extended: when the exit can take effect (a month is its first day).")
@click.option("--source", required=True, help="URL or citation.")
@click.option("--url", default="", help="Where the source can be read.")
@click.option("--note", default="", help="What exactly was seen.")
@precision_option
@click.option("--supersedes", metavar="REF", help="Observation this one corrects (e.g. O3).")
@by_option
@update_option
@dry_run_option
@click.pass_obj
def log_observation(env, update: bool, dry_run: bool, **fields) -> None:
    """Log a hard observation (event-not-yet, event, notice-given, ...).

    Example: forecast log observation --question russia-iss-withdrawal --kind event-not-yet
    --date 2026-11-23 --source "Roscosmos crew on board"
    """
    from ..domain import evidence

    def write(session) -> tuple:
        row = evidence.log_observation(session, **_dated(fields, "observed_on"))
        notes = [f"Note: {note}." for note in evidence.observation_warnings(session, row)]
        return row, [f"Logged {evidence.ref_of(row)}: {evidence.observation_words(row)}.", *notes]

    _log(env, write, fields["question"], fields["supersedes"], update, dry_run)


def _log(env, write, question: str, supersedes: str | None, update: bool, dry_run: bool) -> None:
    """Store the row ``write`` makes and print it with the updated headline; with ``dry_run``, the same checks,
    lines and headline, and nothing stored."""
    from ..domain.evidence import ref_of

    if dry_run:
        lines, change = try_write(env, write, question, supersedes)
        lines[0] = lines[0].replace("Logged", "Would log", 1)
        shown = [line.replace("Updated headline", "Headline if stored", 1) for line in headline_lines(change)]
        for line in [*lines, *shown, "Dry run: nothing was stored."]:
            click.echo(terminal_text(line))
        return
    with env.store().session() as session:
        row, lines = write(session)
    for line in lines:
        click.echo(terminal_text(line))
    if update:
        updated_headline(env, question, row.logged_at, ref_of(row), supersedes)


def updated_headline(env, question: str, at, new_ref: str | None = None, supersedes: str | None = None) -> None:
    """The instant headline from the exact fast path (reliabilities fixed) before and after the write made at
    ``at``, with the reasons that moved it."""
    from ..runs.explain import headline_change
    from .forecast_commands import stored_priors

    priors = stored_priors(env.store())
    with env.store().reader() as session:
        change = headline_change(session, priors, question, at, new_ref, supersedes)
    for line in headline_lines(change):
        click.echo(terminal_text(line))


def _p(head: dict) -> str:
    return f"{100 * (1 - head['not_within_horizon']):.1f}%"


def headline_numbers(head: dict, horizon_end: str) -> str:
    """``5.8%, median date 2031-02`` (with `` (pre-empted 2.0%)`` for a precluded question), as :func:`headline_lines`
    shows them."""
    from ..inference.summary import when

    return (f"{_p(head)}, median date {when(head['median'], horizon_end)}"
            + (f" (pre-empted {100 * head['pre_empted']:.1f}%)" if "pre_empted" in head else ""))


def headline_lines(change: dict) -> list[str]:
    """``Updated headline ...: <event> by <end>: 5.8% -> 1.6%. Median date: ... -> ...`` and a ``Why:`` line."""
    from ..inference.summary import when

    before, after, end = change["before"], change["after"], change["horizon_end"]
    p = _p

    lines = [f"Updated headline (exact, reliabilities fixed at {change['reliabilities_from']}): {change['event']} by "
             f"{end}: {p(before)} -> {p(after)}. Median date: {when(before['median'], end)} -> {when(after['median'], end)}"
             + (f" (pre-empted {100 * after['pre_empted']:.1f}%)." if "pre_empted" in after else ".")]
    if change["reasons"]:
        lines.append("Why: " + "; ".join(r["text"] for r in change["reasons"]) + ".")
    if change.get("run_note"):
        note = change["run_note"]
        lines.append(f"Note: {note[:1].upper()}{note[1:]}. `forecast run` re-forecasts.")
    return lines


@cli.group(name="evidence")
def evidence_group() -> None:
    """Inspect logged evidence."""


@evidence_group.command(name="list")
@click.option("--question", help="Only this question.")
@click.option("--expert", help="Only this expert's statements.")
@click.option("--since", type=RANGE_START, help="Said or observed on or after this date.")
@click.option("--until", type=RANGE_END, help="Said or observed on or before this date.")
@click.option("--all", "include_inactive", is_flag=True, help="Include retracted and superseded rows.")
@json_option
@csv_option
@click.pass_obj
def evidence_list(env, as_json: bool, as_csv: bool, **filters) -> None:
    """List statements and observations by date.

    Example: forecast evidence list --question russia-iss-withdrawal --since 2022-07-01
    """
    from ..runs.explain import evidence_listing

    with env.store().reader() as session:
        rows = evidence_listing(session, **filters)
    emit_listing(as_json, as_csv, rows, ["ref", "date", "who", "says", "weight", "by", "status", "source"],
                 csv_columns=EVIDENCE_COLUMNS,
                 wide=["says", "source"], shown=who_says)


def who_says(row: dict) -> dict:
    """An evidence row with who said or observed it, what, its weight and who logged it, for the table."""
    weight = "" if row.get("weight") is None else f"{row['weight']:.2f}"
    effective = f"takes effect {row['effective_on']}" if row.get("effective_on") else None
    says = row.get("claim") or "; ".join(part for part in (effective, row.get("note")) if part)
    return {**row, "who": row.get("expert") or f"[{row['kind']}]", "says": says,
            "weight": weight, "by": row.get("author", "")}


@cli.command()
@click.argument("ref")
@click.option("--reason", required=True, help="Why it is retracted.")
@update_option
@by_option
@click.pass_obj
def retract(env, ref: str, reason: str, update: bool, author: str | None) -> None:
    """Retract a statement or observation (it stays in the store, marked).

    Example: forecast retract S12 --reason "misattributed quote"
    """
    from ..domain import evidence
    from ..domain.corrections import question_of

    with env.store().session() as session:
        row = evidence.retract(session, ref, reason, author=author)
        question = question_of(session, row)
    click.echo(f"Retracted {evidence.ref_of(row)}.")
    if update:
        updated_headline(env, question, row.retracted_at)


@cli.command()
@click.pass_obj
def verify(env) -> None:
    """Check that every expert, evidence and run row is as forecast wrote it (exit 2 naming each change).

    Example: forecast verify
    """
    from ..domain.verify import verify_store
    from ..errors import TamperError

    with env.store().reader() as session:
        result = verify_store(session)
    for problem in result.problems:
        click.echo(problem)
    if result.problems:
        raise TamperError(result.summary())
    counts = ", ".join(f"{n} {table.replace('_', ' ')}(s)" for table, n in result.counts.items())
    click.echo(f"Verified {counts}: all as forecast wrote them.\nChain head {result.head}")


format_option = click.option("--format", "fmt", type=SuggestingChoice(["csv", "json"], "format"), help="Default: from the file name.")


@cli.command(name="export")
@click.argument("path", type=OutputPath(dir_okay=False, path_type=Path))
@format_option
@click.option("--runs", is_flag=True, help="Include stored runs and their results (draws as base64 text).")
@click.pass_obj
def export_command(env, path: Path, fmt: str | None, runs: bool) -> None:
    """Export the whole store to CSV or JSON.

    Example: forecast export evidence.csv
    """
    from ..io import transfer
    from ..io.export_files import write_export

    with env.store().reader() as session:  # one snapshot, released before the file is written
        frame = transfer.export_frame(session, runs)
    count = write_export(frame, path, fmt)
    click.echo(f"Exported {count} rows to {path}.")


@cli.command(name="import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@format_option
@click.pass_obj
def import_command(env, path: Path, fmt: str | None) -> None:
    """Import an export (CSV or JSON); all rows or none. Questions come with their definitions.

    Example: forecast import evidence.csv
    """
    from ..io import transfer

    with env.store().session() as session:
        added = transfer.import_store(session, path, fmt)
    shown = {record: n for record, n in added.items()  # runs and expert changes: only if any
             if n or record not in ("run", "result", "expert_change", "resolution_change", "prior_set")}
    click.echo("Imported " + ", ".join(f"{n} {record.replace('_', ' ')}(s)" for record, n in shown.items())
               + f" from {path}.")
