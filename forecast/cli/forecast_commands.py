"""Commands that fit, store and show forecasts."""

from __future__ import annotations

from pathlib import Path

import click

from .group import cli
from .output import csv_option, emit_listing, json_option, machine_output, one_format
from .params import OutputPath, RANGE_END, SuggestingChoice, TIMESTAMP, WHOLE
from .progress import progress_for, quiet_option
from .render import emit_run

RUN_COLUMNS = ["id", "created_at", "kind", "as_of", "sampler", "draws", "seed", "converged", "shown", "median",
               "P(beyond)"]


def stored_priors(store):
    """The question definitions and reliability priors kept in the store."""
    from ..domain.questions import store_priors

    with store.reader() as session:
        return store_priors(session)


@cli.command(name="run")
@click.argument("question", required=False)
@click.option("--as-of", type=RANGE_END, help="Use evidence said or observed on or before this date (default today).")
@click.option("--known-at", type=TIMESTAMP, help="Use only evidence logged (and not retracted) by then (default now).")
@click.option("--draws", type=WHOLE, default=1000, show_default=True)
@click.option("--tune", type=WHOLE, help="Tuning steps per chain (default: 500, and the fit re-sampled once with 1000 if it fails its diagnostics).")
@click.option("--chains", type=WHOLE, default=4, show_default=True)
@click.option("--seed", type=WHOLE, default=20220726, show_default=True)
@click.option("--sampler", type=SuggestingChoice(["nutpie", "pymc"], "sampler"), default="nutpie", show_default=True)
@click.option("--allow-tampered", is_flag=True, help="Fit even if `forecast verify` finds rows changed outside forecast.")
@quiet_option
@click.pass_obj
def run_command(env, question, as_of, known_at, draws, tune, chains, seed, sampler, allow_tampered, quiet) -> int:
    """Fit all open questions jointly and store the run; print QUESTION's forecast (default: all).

    A run that fails its diagnostics is stored and flagged, and the command exits 1 (as `status` does
    when something is due), so a script notices.

    Example: forecast run russia-iss-withdrawal --as-of 2023-01-01 --seed 7
    """
    from ..runs.fitting import fit_settings, run_forecast
    from ..runs.views import latest_run, run_view

    settings = fit_settings(draws, tune, chains, seed, sampler)
    store = env.store()
    with progress_for(quiet) as progress:
        run_id = run_forecast(store, settings, question, as_of, known_at, allow_tampered,
                              warn=lambda problem: click.echo(f"Warning (fitted anyway, --allow-tampered): {problem}",
                                                              err=True),
                              progress=progress)
    with store.reader() as session:
        record = run_view(session, latest_run(session, run_id=run_id), question)
    emit_run(record)
    return 0 if record["converged"] else 1


@cli.command(name="show")
@click.argument("question", required=False)
@click.option("--run", "run_id", type=WHOLE, help="A stored run id (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="The whole stored run as JSON, monthly probabilities included.")
@click.option("--csv", "as_csv", is_flag=True, help="The run's distribution as CSV: one row per question and month.")
@click.pass_obj
def show_command(env, question, run_id, as_json, as_csv) -> None:
    """Show the latest stored forecast (or run ID) for QUESTION (default: all in the run); for a resolved
    QUESTION, its last run made before the outcome became known.

    Example: forecast show russia-iss-withdrawal --json
    """
    from ..domain.questions import question_by_slug
    from ..domain.views import before_outcome_note
    from ..runs.views import MONTHLY_COLUMNS, latest_run, monthly_rows, run_view

    one_format(as_json, as_csv)
    with env.store().reader() as session:
        run = latest_run(session, question, run_id)
        record = run_view(session, run, question)
        note = before_outcome_note(session, question_by_slug(session, question), run) if question and run_id is None \
            else None
    if not machine_output(as_json, as_csv, record, lambda: monthly_rows(record), MONTHLY_COLUMNS):
        if note:
            click.echo(note)
        emit_run(record)


@cli.command(name="runs")
@click.option("--question", help="Only runs that include this question.")
@json_option
@csv_option
@click.pass_obj
def runs_command(env, question, as_json, as_csv) -> None:
    """List stored forecast runs, oldest first, each with the median and P(beyond the horizon) of the question
    in its "shown" column: --question's, or the run's first question.

    Example: forecast runs --question russia-iss-withdrawal
    """
    from ..runs.views import list_runs

    with env.store().reader() as session:
        rows = list_runs(session, question)
    emit_listing(as_json, as_csv, rows, RUN_COLUMNS, csv_columns=list(rows[0]) if rows else ["id"], shown=_with_beyond)


def _with_beyond(row: dict) -> dict:
    """A run row with P(not within the horizon) to three places, for the table."""
    beyond = row["not_within_horizon"]
    return {**row, "P(beyond)": "" if beyond is None else f"{beyond:.3f}"}


@cli.command(name="report")
@click.argument("question", required=False)
@click.option("--run", "run_id", type=WHOLE, help="Report this stored run (default: the latest).")
@click.option("--as-of", type=RANGE_END, help="Report the latest run as of this date or earlier.")
@click.option("--out", "out_dir", type=OutputPath(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Directory for the report files.")
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML report in a browser.")
@click.option("--tag", help="Report every question with this tag that has a stored run (resolved ones too).")
@quiet_option
@click.pass_obj
def report_command(env, question, run_id, as_of, out_dir, open_browser, tag, quiet) -> None:
    """Write HTML and Markdown reports for QUESTION (default: every open question).

    Example: forecast report russia-iss-withdrawal --out reports
    """
    from ..domain.questions import store_priors
    from ..report import gather_reports, report_folder, write_report

    report_folder(out_dir, create=False)  # a mistyped --out is refused before any work
    with progress_for(quiet) as progress:
        with env.store().reader() as session:  # one snapshot, released before figures are drawn and files written
            contents = gather_reports(session, store_priors(session), question, run_id, as_of, tag, progress)
        written = [write_report(content, out_dir, progress) for content in contents]
    for html_path, md_path in written:
        click.echo(f"Wrote {html_path} and {md_path}")
    if open_browser and written:
        import webbrowser

        webbrowser.open(written[0][0].resolve().as_uri())


@cli.command(name="draws")
@click.argument("run_id", metavar="RUN", type=WHOLE)
@click.option("--out", "out_path", required=True, type=OutputPath(path_type=Path),
              help="FILE.nc (NetCDF) or FILE.zarr (Zarr); must not exist yet.")
@click.pass_obj
def draws_command(env, run_id, out_path) -> None:
    """Write run RUN's draws (posterior, sample_stats and prior) for ArviZ.

    Example: forecast draws 3 --out run-3.nc
    """
    from ..inference.draws import write_datatree
    from ..runs.views import latest_run, load_posterior

    with env.store().session() as session:
        tree = load_posterior(latest_run(session, run_id=run_id))
    write_datatree(tree, out_path)
    click.echo(f"Wrote run {run_id}'s draws ({', '.join(tree.children)}) to {out_path}.")
