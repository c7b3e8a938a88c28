"""Report content and figures rendered through the templates (``templates/``) as one self-contained HTML page
and as Markdown; and the glossary page of the docs.

The view functions here turn report content into what the templates print (numbers formatted, the
same for both formats); the templates hold the words and the markup; escaping is theirs
(``templating``).
"""

from __future__ import annotations

from markupsafe import Markup

from ..inference.summary import when
from ..scoring.calibration import MODEL
from .glossary import GLOSSARY
from .templating import html_environment, markdown_environment

# The Markdown evidence table's columns (the HTML table puts the last three on a second row of each item).
EVIDENCE_HEADERS = ["ref", "date", "who / kind", "probability", "median", "80% interval (low / high)",
                    "claim (reading)", "status", "effective weight", "quote or note", "source", "logged by"]
NEGLIGIBLE = "{n} more items with negligible influence (under 0.05 pp, no shift of the median or the 80% interval)"
CALIBRATION_HEADERS = ["forecaster", "scored forecasts", "mean Brier", "mean log score", "time-averaged Brier"]


def evidence_view(e: dict) -> dict:
    """One evidence row as the templates print it."""
    reading = f"{e['interval']}{', complement' if e['complement'] else ''}" if e["claim"] else ""
    return {
        "ref": e["ref"], "date": e["date"], "who": e["who"], "type": e["type"],
        "delta": "" if e["delta_pp"] is None else f"{e['delta_pp']:+.1f} pp",
        "median": e["median_shift"],
        "interval": "0" if e["low_shift"] == e["high_shift"] == "0" else f"{e['low_shift']} / {e['high_shift']}",
        "claim": e["claim"], "reading": reading, "status": e["status"],
        "weight": f"{e['weight']:.2f}" if e["weight"] is not None else "hard",
        "text": e["text"], "quote_kind": e.get("quote_kind", ""), "source": e["source"], "author": e["author"],
    }


def _influence_note(horizon_end: str) -> str:
    return (f"Each item's influence is how the forecast moves with it rather than without it (exact fast path, "
            f"reliabilities fixed at this run's means): the probability of the event by {horizon_end} in percentage "
            "points, and the median and the ends of the 80% interval in months. Largest first. Each is measured "
            "alone: items that say the same thing share their effect, so the moves need not add up to the change "
            "from the prior.")


def _provenance(run: dict) -> list[tuple[str, str | None, str]]:
    """(label, glossary key or None, value) for each line of the diagnostics and provenance table."""
    d, s = run["diagnostics"], run["settings"]
    return [
        ("run", None, f"{run['id']} ({run['kind']})"), ("as of", None, run["as_of"]),
        ("known at", None, run["known_at"]),
        ("sampler", None, f"{s['sampler']}, {s['chains']} chains x {s['draws']} draws ({s['tune']} tuning)"),
        ("seed", None, str(run["seed"])), ("max R-hat", "rhat", f"{d['max_rhat']:.4f}"),
        ("min ESS (bulk / tail)", "ess", f"{d['min_ess_bulk']:.0f} / {d['min_ess_tail']:.0f}"),
        ("divergences", "divergences", str(d["divergences"])),
        ("converged", None, "yes" if run["converged"] else "NO: " + "; ".join(d["problems"])),
        *([("re-sampled", None, f"after a first fit with {d['retried_after']}")] if d.get("retried_after") else []),
        ("code version", None, run["code_version"]), ("model version", None, run["model_version"]),
        ("config hash", None, run["config_hash"]), ("evidence fingerprint", None, run["evidence_fingerprint"]),
        ("run created", None, run["created_at"]),
    ]


def _alert(run: dict) -> str | None:
    if run["converged"]:
        return None
    return (f"This run did not pass its diagnostics ({'; '.join(run['diagnostics']['problems'])}). "
            f"Treat the numbers with caution; re-run with more tuning and draws.")


def _calibration(scores: dict) -> dict:
    averaged = scores["time_averaged"]
    rows = [[r["forecaster"], str(r["n"]), f"{r['brier']:.4f}", f"{r['log']:.4f}",
             f"{averaged[r['forecaster']]['mean']:.4f}"] for r in scores["by_forecaster"] if r["n"]]
    model = [d for d in scores["date_scores"] if d["forecaster"] == MODEL]
    return {"headers": CALIBRATION_HEADERS, "rows": rows if scores["checkpoint_scores"] else [],
            "murphy": scores["murphy"], "coverage": scores["coverage"], "pit_coverage": scores["pit_coverage"],
            "rps": sum(d["rps"] for d in model) / len(model) if model else None,
            "pit": ", ".join(f"{d['pit']:.2f}" for d in model)}


def _history(history: list[dict], horizon_end: str) -> list[list[str]]:
    return [[str(h["id"]), h["as_of"], h["kind"], f"{100 * h['not_within_horizon']:.1f}%", when(h["median"], horizon_end),
             ", ".join(h["new_evidence"]) or "none"] for h in history]


def report_context(c: dict, generated_at: str) -> dict:
    """What both report templates print (the web question page too)."""
    run, end = c["run"], c["horizon_end"]
    shown = [evidence_view(e) for e in c["evidence"] if not e["negligible"]]
    quiet = [evidence_view(e) for e in c["evidence"] if e["negligible"]]
    return {
        "q": c["question"], "run": run, "generated_at": generated_at, "alert": _alert(run),
        "plain": c["plain"], "open_checkpoints": c["open_checkpoints"], "resolved": c["resolved"],
        "spread": c["spread"], "horizon_end": end, "influence_note": _influence_note(end),
        "shown": shown, "quiet": quiet, "quiet_summary": NEGLIGIBLE.format(n=len(quiet)),
        "experts": c["experts"], "history": _history(c["history"], end),
        "calibration": _calibration(c["scores"]), "provenance": _provenance(run), "glossary_entries": GLOSSARY,
    }


FIGURES = ("years", "cumulative", "experts", "history", "reliability")


def figure_markup(figures: dict[str, str]) -> dict[str, Markup]:
    """Each figure's SVG as markup: drawn by forecast.report.figures, labels escaped by matplotlib."""
    return {name: Markup(figures.get(name) or "") for name in FIGURES}


def to_html(c: dict, figures: dict[str, str], generated_at: str) -> str:
    """One self-contained page: inline CSS and SVG, no scripts, no external resources."""
    svgs = figure_markup(figures)
    return html_environment().get_template("report.html").render(report_context(c, generated_at), figures=svgs)


def to_markdown(c: dict, figure_paths: dict[str, str], generated_at: str) -> str:
    """The same content for git and chat; figures are files beside it. No raw HTML: every stored text is escaped."""
    paths = {name: figure_paths.get(name) for name in FIGURES}
    return markdown_environment().get_template("report.md").render(report_context(c, generated_at), figure_paths=paths,
                                                                   EVIDENCE_HEADERS=EVIDENCE_HEADERS)


def glossary_page() -> str:
    """docs/glossary.md."""
    return markdown_environment().get_template("glossary-page.md").render(glossary_entries=GLOSSARY)

