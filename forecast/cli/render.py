"""Terminal output: plain tables and JSON.

Stored text passes through :func:`terminal_text` on its way out, on a terminal and in a pipe
alike, so evidence cannot move the cursor, retitle the window or plant a hyperlink; JSON keeps
the text exactly, every control character escaped.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence

import click

from ..basics.text import HIDDEN, neutralise_cell
from ..basics.text import displayable as terminal_text  # what stored text becomes on its way to the terminal


def emit_json(data: object) -> None:
    """Print data as indented JSON (control and invisible format characters escaped as ``\\uXXXX``, C1 and DEL
    included)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    click.echo(HIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _joined(value: object) -> object:
    """A list as ``a, b`` (an open end of an interval shown as ``open``); anything else unchanged."""
    return ", ".join("open" if v is None else str(v) for v in value) if isinstance(value, list) else value


def _cell(value: object, width: int) -> str:
    return _fit(_clean(value), width)


def _clean(value: object) -> str:
    return terminal_text(_joined(value)).replace("\n", " ").replace("\t", " ")


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def emit_table(rows: Sequence[dict], columns: Sequence[str], wide: Sequence[str] = ()) -> None:
    """Print rows as an aligned table; columns named in ``wide`` share the spare width. On a terminal the table is
    drawn by rich (wide columns wrap); in a pipe it stays plain text, one line per row."""
    if not rows:
        click.echo("(none)")
        return
    if sys.stdout.isatty():
        _rich_table(rows, columns, wide)
        return
    total = shutil.get_terminal_size((120, 20)).columns  # $COLUMNS in a pipe, else 120
    widths = {c: max(len(c), *(len(_cell(r.get(c), 10_000)) for r in rows)) for c in columns}
    fixed = sum(widths[c] + 2 for c in columns if c not in wide)
    share = max((total - fixed) // max(len(wide), 1) - 2, 24)
    for c in wide:
        if c != columns[-1]:  # the last column is never padded, so it keeps every character
            widths[c] = min(widths[c], share)
    click.echo("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    click.echo("  ".join("-" * widths[c] for c in columns))
    cut = 0
    for row in rows:
        cells = [_clean(row.get(c)) for c in columns]
        cut += sum(len(text) > widths[c] for text, c in zip(cells, columns))
        click.echo("  ".join(_fit(text, widths[c]).ljust(widths[c]) for text, c in zip(cells, columns)).rstrip())
    if cut:
        click.echo(f"Note: {cut} cell{'s were' if cut > 1 else ' was'} cut to fit {total} columns (set $COLUMNS); "
                   "--json or --csv gives every character.", err=True)


def _rich_table(rows: Sequence[dict], columns: Sequence[str], wide: Sequence[str]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold" if column in wide else "ellipsis", no_wrap=column not in wide,
                         min_width=20 if column in wide else None)
    for row in rows:  # Text, not markup: stored text is shown as it is (after terminal_text)
        table.add_row(*(Text(_cell(row.get(column), 10_000)) for column in columns))
    # No colour system: rich writes no escape sequence of its own, so the output holds none at all (only box lines).
    Console(color_system=None, highlight=False, emoji=False, soft_wrap=False).print(table)


def emit_record(record: dict) -> None:
    """Print one record as ``key: value`` lines."""
    width = max(len(k) for k in record)
    for key, value in record.items():
        click.echo(f"{key.ljust(width)}  {terminal_text(_joined(value))}")


def _pct(p: float) -> str:
    return f"{100 * p:5.1f}%"


def _bold(text: str) -> str:
    return click.style(text, bold=True) if sys.stdout.isatty() else text


def emit_headline(result: dict, title: str = "") -> None:
    """One question's forecast in plain words: the lead sentence first ("Russia withdraws by 2032-12: 20%"), then
    the checkpoints, the date intervals and, labelled as such, the spread of each probability across the draws."""
    from ..inference.summary import plain_headline
    from ..report.content import draw_spread

    event, horizon_end = result["event"], result["months"][-2]
    plain = plain_headline(event, result["headline"], horizon_end, result.get("precluder_event"))
    if title:
        click.echo(_bold(terminal_text(title)))
    click.echo("  " + _bold(terminal_text(plain.sentence)))
    for line in [*plain.checkpoints.values(), plain.not_by, *([plain.pre_empted] if plain.pre_empted else [])]:
        click.echo(f"    {terminal_text(line)}")
    click.echo("  When it happens (credible intervals of the month):")
    for level, words in plain.intervals.items():
        click.echo(f"    {level:>3} interval: {words}")
    spread = [row for row in draw_spread(result, event, {}) if len(set(row["band"].split(" to "))) > 1]  # settled: left out
    if spread:
        click.echo("  How settled each probability is (middle 80% of its values across the model's draws):")
        for row in spread:
            click.echo(f"    {terminal_text(row['what'])}: {row['value']} (80% of draws: {row['band']})")


def emit_years(result: dict) -> None:
    """A compact per-year table with bars: forecast beside prior."""
    years: dict[str, list[float]] = {}
    for label, p, prior in zip(result["months"], result["monthly"], result["prior_monthly"]):
        key = label[:4] if label[0].isdigit() else "beyond"
        years.setdefault(key, [0.0, 0.0])
        years[key][0] += p
        years[key][1] += prior
    tty = sys.stdout.isatty()
    click.echo(click.style("  year      forecast  prior", bold=True) if tty else "  year      forecast  prior")
    for year, (p, prior) in years.items():
        bar = ("█" if tty else "#") * round(40 * p)
        click.echo(f"  {year:<8} {_pct(p)}  {_pct(prior)}  {click.style(bar, fg='blue') if tty else bar}")


def emit_run(record: dict) -> None:
    """A stored run: provenance, per-question headline, reliabilities and diagnostics."""
    diag = record["diagnostics"]
    if not record["converged"]:
        from ..domain.reminders import retry_command

        click.echo(
            f"WARNING: run {record['id']} failed diagnostics ({terminal_text('; '.join(diag['problems']))}). Retry with more "
            f"tuning and draws, e.g. {retry_command(record['seed'])}"
        )
    settings = record["settings"]
    click.echo(
        f"Run {record['id']} ({record['kind']}), as of {record['as_of']}, {settings['sampler']} "
        f"{settings['chains']}x{settings['draws']} draws, seed {record['seed']}, evidence {record['evidence_fingerprint']}, "
        f"priors {terminal_text(settings.get('prior_set', 'hand-set'))}"
    )
    for result in record["results"]:
        click.echo()
        emit_headline(result, f"{result['question']}: {result['title']}")
        emit_years(result)
    if record["reliabilities"]:
        click.echo("\nExpert reliabilities (posterior mean, 90% interval):")
        rows = [{**r, "mean": f"{r['mean']:.2f}", "90% interval": f"{r['q05']:.2f} .. {r['q95']:.2f}"}
                for r in record["reliabilities"]]
        emit_table(rows, ["expert", "kind", "mean", "90% interval"])
    click.echo(
        f"\nDiagnostics: max R-hat {diag['max_rhat']:.3f}, min ESS {diag['min_ess_bulk']:.0f} bulk / "
        f"{diag['min_ess_tail']:.0f} tail, {diag['divergences']} divergences: "
        + ("OK" if record["converged"] else "FAILED")
    )


def emit_csv(rows: Sequence[dict], columns: Sequence[str]) -> None:
    """Print rows as CSV (lists joined with ';'), stored text made terminal- and spreadsheet-safe."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = (";".join(map(str, v)) if isinstance(v, list) else v for v in (row.get(c) for c in columns))
        writer.writerow([neutralise_cell(terminal_text(v)) for v in values])
