"""Commands that resolve questions, backtest, and keep score."""

from __future__ import annotations

from pathlib import Path

import click

from .forecast_commands import stored_priors
from .group import cli
from .output import machine_output
from .params import OutputPath, PERIOD, RANGE_END, RANGE_START, WHOLE, by_option
from .progress import progress_for, quiet_option
from .render import emit_json, emit_table, terminal_text

CALIBRATION_DEFAULT = Path("reports/calibration.svg")
tag_option = click.option("--tag", help="Only questions with this tag.")
SCORE_COLUMNS = ["run", "kind", "as_of", "question", "checkpoint", "until", "forecaster", "p", "outcome", "converged",
                 "brier", "log"]


@cli.command(name="resolve")
@click.argument("question")
@click.option("--date", "month", metavar="YYYY-MM", help="The month the event happened.")
@click.option("--not-within-horizon", is_flag=True, help="The event did not happen within the horizon.")
@click.option("--annul", is_flag=True, help="The question can no longer resolve meaningfully.")
@click.option("--source", required=True, help="URL or citation for the resolution.")
@by_option
@click.pass_obj
def resolve_command(env, question, month, not_within_horizon, annul, source, author) -> None:
    """Resolve QUESTION.

    Example: forecast resolve russia-iss-withdrawal --date 2028-06 --source "Roscosmos statement"
    """
    from ..scoring.resolution import describe, resolution_notes, resolve

    with env.store().session() as session:
        resolved = resolve(session, question, month=month, not_within_horizon=not_within_horizon, annul=annul,
                           source=source, author=author)
        notes = resolution_notes(session, resolved)
    click.echo(describe(resolved) + ".")
    for note in notes:
        click.echo(terminal_text(f"Note: {note}."))


@cli.command(name="reopen")
@click.argument("question")
@click.option("--reason", required=True, help="Why the resolution was wrong (kept with it).")
@by_option
@click.pass_obj
def reopen_command(env, question, reason, author) -> None:
    """Undo a mistaken resolution of QUESTION: the old resolution is kept, with the reason, and the observation
    `resolve` logged for it is retracted; then resolve it again.

    Example: forecast reopen russia-iss-withdrawal --reason "the source dated the notice, not the exit"
    """
    from ..scoring.resolution import reopen, reopened_line

    with env.store().session() as session:
        change, still_deciding = reopen(session, question, reason, author)
        line = reopened_line(question, change, still_deciding)
    click.echo(terminal_text(f"{line} Resolve it again with `forecast resolve {question}`."))


@cli.command(name="backtest")
@click.argument("question")
@click.option("--from", "start", type=RANGE_START, required=True, help="First as-of date.")
@click.option("--to", "end", type=RANGE_END,
              help="Last as-of date (default: today, or the day before the outcome became known if earlier).")
@click.option("--every", type=PERIOD, default="quarter", show_default=True)
@click.option("--draws", type=WHOLE, default=1000, show_default=True)
@click.option("--tune", type=WHOLE, help="Tuning steps per chain (default: 500, and the fit re-sampled once with 1000 if it fails its diagnostics).")
@click.option("--chains", type=WHOLE, default=4, show_default=True)
@click.option("--seed", type=WHOLE, default=20220726, show_default=True)
@quiet_option
@click.pass_obj
def backtest_command(env, question, start, end, every, draws, tune, chains, seed, quiet) -> int:
    """Re-run the forecast as of each date from --from (evidence said by then, however late logged), store and score it.

    Exits 1 if a run failed its diagnostics (it is stored and flagged), as `forecast run` does.

    Example: forecast backtest russia-iss-withdrawal --from 2022-07-01 --every quarter
    """
    from ..domain.questions import question_by_slug
    from ..runs.fitting import fit_settings
    from ..runs.views import latest_run, run_view
    from ..scoring.backtest import backtest

    priors = stored_priors(env.store())
    store = env.store()
    with store.reader() as session:
        question_by_slug(session, question)
    settings = fit_settings(draws, tune, chains, seed)

    failed: list[int] = []

    def on_run(day, run_id):
        with store.reader() as session:
            run = latest_run(session, run_id=run_id)
            head = run_view(session, run, question)["results"][0]["headline"]
        if not run.converged:
            failed.append(run_id)
        flag = "" if run.converged else "  (failed diagnostics)"
        click.echo(f"as of {day}: run {run_id}, P(not within the horizon) {100 * head['not_within_horizon']:.1f}%, "
                   f"median {head['median']}, {run.elapsed_seconds:.1f} s{flag}")

    with progress_for(quiet) as progress:
        ids = backtest(store, priors, question, start, every, end, settings, on_run, progress)
    stored = f"{len(ids)} backtest runs ({ids[0]}..{ids[-1]})" if len(ids) > 1 else f"1 backtest run ({ids[0]})"
    click.echo(f"Stored {stored}. Scores: forecast score {question}")
    if not failed:
        return 0
    from ..domain.reminders import retry_command

    until = f" --to {end}" if end else ""
    again = retry_command(seed, f"forecast backtest {question} --from {start}{until} --every {every}")
    click.echo(f"{unconverged_note(failed)} Re-run with more tuning, e.g. {again}", err=True)
    return 1


@cli.command(name="score")
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="The whole scorecard as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Every scored forecast as CSV.")
@tag_option
@click.pass_obj
def score_command(env, question, as_json, as_csv, tag) -> None:
    """Score stored runs and baselines on resolved checkpoints (and resolved dates).

    Example: forecast score russia-iss-withdrawal
    """
    from ..domain.questions import store_priors
    from ..scoring.scorecard import scorecard

    with env.store().reader() as session:
        card = scorecard(session, store_priors(session), question, tag=tag)
    rows = card["checkpoint_scores"]
    if not machine_output(as_json, as_csv, card, lambda: rows, list(rows[0]) if rows else SCORE_COLUMNS):
        _emit_scores(card)


def unconverged_note(run_ids: list[int]) -> str:
    """The line that flags scored runs which failed their diagnostics (they are scored as stored)."""
    listed = ", ".join(map(str, run_ids[:10])) + (f" and {len(run_ids) - 10} more" if len(run_ids) > 10 else "")
    many = len(run_ids) > 1
    return (f"Note: {'runs' if many else 'run'} {listed} failed {'their' if many else 'its'} diagnostics and "
            f"{'are' if many else 'is'} scored as stored (`forecast show --run N` says what failed).")


def _fmt(value, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def pit_line(card: dict) -> str:
    """The PIT histogram and the coverage it implies, in one line."""
    if card["pit_coverage"]["50%"] is None:
        return "PIT of resolved dates: none yet (no run of a resolved question before its outcome)."
    shares = card["pit_coverage"]
    return ("PIT of resolved dates (model, 5 bins from 0 to 1, each forecast spread over its outcome's step): "
            + " ".join(f"{v:.1f}" for v in card["pit_histogram"]) + "; coverage by PIT (a calibrated forecaster's "
            "is the level itself): " + ", ".join(f"{level} {v:.2f}" for level, v in shares.items()))


def _emit_scores(card: dict) -> None:
    from ..scoring.rules import murphy_text

    if not card["checkpoint_scores"]:
        click.echo("No resolved checkpoint was forecast before it resolved yet (try forecast backtest).")
    if card["by_forecaster"]:
        click.echo("Scores on resolved checkpoints and dates (lower is better; RPS in months, on resolved dates):")
        averaged = card["time_averaged"]
        rows = [{**r, "time-averaged Brier": _fmt(averaged[r["forecaster"]]["mean"]) if r["forecaster"] in averaged
                 else "", "mean Brier": _fmt(r["brier"]), "mean log": _fmt(r["log"]), "mean RPS": _fmt(r["rps"], 3)}
                for r in card["by_forecaster"]]
        emit_table(rows, ["forecaster", "n", "mean Brier", "mean log", "time-averaged Brier", "dates", "mean RPS"])
    if card["checkpoint_scores"]:
        click.echo("\nModel versus baselines (time-averaged Brier, paired over checkpoints; 90% interval resampling "
                   "questions):")
        emit_table([{**c, "model": _fmt(c["model"]), "baseline score": _fmt(c["baseline_score"]),
                     "difference": _fmt(c["difference"]), "better": "model" if c["model_better"] else "baseline",
                     "90% interval": f"too few questions ({c['questions']})" if c["interval"] is None else
                     f"{c['interval'][0]:+.4f} .. {c['interval'][1]:+.4f}"} for c in card["comparison"]],
                   ["baseline", "questions", "checkpoints", "model", "baseline score", "difference", "better",
                    "90% interval"])
        click.echo(f"\nMurphy decomposition of the model's checkpoint forecasts: {murphy_text(card['murphy'])}")
    if card["unconverged_runs"]:
        click.echo(unconverged_note(card["unconverged_runs"]))
    cov = card["coverage"]
    click.echo("Interval coverage (scored runs): " + "; ".join(
        f"{level}: {c['contained']} contained, {c['missed']} missed, {c['undetermined']} undetermined"
        for level, c in cov.items()))
    click.echo(pit_line(card))
    click.echo("\nExpert track records:")
    emit_table([{**e, "hit rate": _fmt(e["hit_rate"], 2),
                 "reliability now": _fmt(e["reliability_over_time"][-1][2], 2) if e["reliability_over_time"] else ""}
                for e in card["experts"]], ["expert", "kind", "borne_out", "falsified", "open", "hit rate", "reliability now"])


@cli.command(name="calibration")
@click.argument("question", required=False)
@click.option("--out", "out_path", type=OutputPath(dir_okay=False, path_type=Path), default=CALIBRATION_DEFAULT,
              show_default=True, help="Reliability diagram: .svg or .png.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@tag_option
@click.pass_obj
def calibration_command(env, question, out_path, as_json, tag) -> None:
    """Draw the reliability diagram of resolved checkpoints and print its numbers.

    Example: forecast calibration --out reports/calibration.png
    """
    from ..domain.questions import store_priors
    from ..errors import InputError
    from ..scoring.scorecard import scorecard

    if out_path.suffix.lower() not in (".svg", ".png"):
        raise InputError(f"--out must end in .svg or .png, not {out_path.name!r}")
    with env.store().reader() as session:
        card = scorecard(session, store_priors(session), question, tag=tag)
    numbers = {key: card[key] for key in ("reliability_diagram", "murphy", "coverage", "pit_histogram", "pit_coverage")}
    _save_reliability(card["reliability_diagram"], out_path)
    if as_json:
        emit_json(numbers)
        return
    if not card["reliability_diagram"]:
        click.echo("No resolved checkpoint has a stored forecast yet: the table fills as questions resolve "
                   "(forecast resolve, or event-not-yet observations past a checkpoint) or are backtested "
                   "(forecast backtest).")
    else:
        emit_table([{"bin": f"{r['bin'][0]:.1f}-{r['bin'][1]:.1f}", "count": r["count"],
                     "forecast": _fmt(r["forecast"], 3), "observed": _fmt(r["observed"], 3),
                     "band": f"{r['band'][0]:.2f}-{r['band'][1]:.2f}"}
                    for r in card["reliability_diagram"]], ["bin", "count", "forecast", "observed", "band"])
    click.echo(pit_line(card))
    click.echo(f"Wrote {out_path}")


def _save_reliability(diagram: list[dict], path: Path) -> None:
    from ..basics.files import write_atomically
    from ..report import report_folder
    from ..report.figures import reliability_figure

    if path == CALIBRATION_DEFAULT:  # the default folder is made; a folder the user names must exist
        report_folder(path.parent)
    write_atomically(path, reliability_figure(diagram) if path.suffix.lower() == ".svg" else
                     reliability_figure(diagram, fmt="png"))
