"""Report content and figures rendered as one self-contained HTML page and as Markdown."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import quote

from ..basics.text import displayable
from ..scoring.rules import murphy_text

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:60rem;padding:1rem;
line-height:1.45;color:#1a1a1a}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #ddd;margin-top:2rem}
.meta{color:#555;font-size:.9rem}.alert{background:#fde8e8;border:2px solid #c0392b;padding:.8rem;margin:1rem 0}
.headline li{margin:.15rem 0}.lead{font-size:1.1rem;font-weight:600}.figure svg{max-width:100%;height:auto}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{border-bottom:1px solid #e3e3e3;padding:.3rem .4rem;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.num{text-align:right;white-space:nowrap}
.falsified{color:#a12a1a}.borne{color:#1d6b2f}
@media print{body{max-width:none}.scroll{overflow:visible}h2{page-break-after:avoid}tr{page-break-inside:avoid}}
"""


def _e(value: object) -> str:
    return html.escape(displayable(value))


def _source(text: str) -> str:
    text = displayable(text)
    match = re.search(r"https?://\S+", text)
    if not match:
        return _e(text)
    url = match.group(0).rstrip(").,;")
    return _e(text).replace(_e(url), f'<a href="{_e(url)}">{_e(url)}</a>')


def _pct(p: float | None) -> str:
    return "" if p is None else f"{100 * p:.1f}%"


def _signed(p: float) -> str:
    return f"{100 * p:+.1f} pp"


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _evidence_cells(e: dict, source: Callable[[str], str], esc: Callable[[object], str]) -> list[str]:
    claim = f"{esc(e['claim'])} ({esc(e['interval'])}{', complement' if e['complement'] else ''})" if e["claim"] else ""
    weight = f"{e['weight']:.2f}" if e["weight"] is not None else "hard"
    delta = "" if e["delta_pp"] is None else f"{e['delta_pp']:+.1f} pp"
    interval = "0" if e["low_shift"] == e["high_shift"] == "0" else f"{e['low_shift']} / {e['high_shift']}"
    return [esc(e["ref"]), esc(e["date"]), esc(e["who"]), delta, esc(e["median_shift"]), esc(interval), claim,
            esc(e["status"]), weight, esc(e["text"]), source(e["source"])]


# Influence first: the table is sorted by it, and on a phone the first columns are the ones in view.
EVIDENCE_HEADERS = ["ref", "date", "who / kind", "probability", "median", "80% interval (low / high)", "encoded claim",
                    "status", "weight", "quote or note", "source"]
EVIDENCE_NUMERIC = {3, 4, 8}
NEGLIGIBLE = "{n} more items with negligible influence (under 0.05 pp, no shift of the median or the 80% interval)"


def _influence_note(c: dict) -> str:
    last = c["result"]["months"][-2]
    return (f"Each item's influence is how the forecast moves with it rather than without it (exact fast path, "
            f"reliabilities fixed at this run's means): the probability of the event by {last} in percentage points, "
            "and the median and the ends of the 80% interval in months. Largest first.")


def _provenance(run: dict) -> list[tuple[str, str]]:
    d, s = run["diagnostics"], run["settings"]
    return [
        ("run", f"{run['id']} ({run['kind']})"), ("as of", run["as_of"]), ("known at", run["known_at"]),
        ("sampler", f"{s['sampler']}, {s['chains']} chains x {s['draws']} draws ({s['tune']} tuning)"),
        ("seed", str(run["seed"])), ("max R-hat", f"{d['max_rhat']:.4f}"),
        ("min ESS (bulk / tail)", f"{d['min_ess_bulk']:.0f} / {d['min_ess_tail']:.0f}"),
        ("divergences", str(d["divergences"])), ("converged", "yes" if run["converged"] else "NO: " + "; ".join(d["problems"])),
        *([("re-sampled", f"after a first fit with {d['retried_after']}")] if d.get("retried_after") else []),
        ("code version", run["code_version"]), ("model version", run["model_version"]),
        ("config hash", run["config_hash"]), ("evidence fingerprint", run["evidence_fingerprint"]),
        ("run created", run["created_at"]),
    ]


def _alert(run: dict) -> str | None:
    if run["converged"]:
        return None
    return (f"This run did not pass its diagnostics ({'; '.join(run['diagnostics']['problems'])}). "
            f"Treat the numbers with caution; re-run with more tuning and draws.")


def _calibration_rows(scores: dict, esc: callable) -> list[list[str]]:
    averaged = scores["time_averaged"]
    return [[esc(r["forecaster"]), str(r["n"]), f"{r['brier']:.4f}", f"{r['log']:.4f}",
             f"{averaged[r['forecaster']]['mean']:.4f}"] for r in scores["by_forecaster"] if r["n"]]


CALIBRATION_HEADERS = ["forecaster", "scored forecasts", "mean Brier", "mean log score", "time-averaged Brier"]
NO_SCORES = ("No checkpoint has resolved after a stored forecast of it yet; `forecast backtest` builds a "
             "history from past evidence.")


def _murphy_line(scores: dict) -> str:
    return (f"The model's checkpoint forecasts: {murphy_text(scores['murphy'])}. Baselines (experts alone, linear pool, "
            "latest statement): `forecast score`.")


def _calibration_html(scores: dict, figure: str) -> str:
    if not scores["checkpoint_scores"]:
        return f"<p>{_e(NO_SCORES)}</p>"
    return (_table(CALIBRATION_HEADERS, _calibration_rows(scores, _e), {1, 2, 3, 4}) + f"<p>{_e(_murphy_line(scores))}</p>"
            + (f'<figure class="figure" id="fig-reliability">{figure}</figure>' if figure else ""))


def _calibration_md(scores: dict, figure_path: str | None) -> list[str]:
    if not scores["checkpoint_scores"]:
        return [NO_SCORES, ""]
    return (_md_table(CALIBRATION_HEADERS, _calibration_rows(scores, _md)) + ["", _murphy_line(scores), ""]
            + ([_md_image("reliability", figure_path), ""] if figure_path else []))


def _summary_lines(c: dict) -> list[str]:
    head = c["result"]["headline"]
    lines = [f"Median date: {head['median']}."]
    lines += [f"{level} credible interval: {low} to {high}." for level, (low, high) in head["intervals"].items()]
    return lines


def _split_negligible(evidence: list[dict]) -> tuple[list[dict], list[dict]]:
    """Rows with a visible influence, and the rest (collapsed)."""
    return [e for e in evidence if not e["negligible"]], [e for e in evidence if e["negligible"]]


def to_html(c: dict, figures: dict[str, str], generated_at: str) -> str:
    """One self-contained page: inline CSS and SVG, no scripts, no external resources."""
    run, q = c["run"], c["question"]
    parts = [f"<h1>{_e(q.title)}</h1>",
             f'<p class="meta">Question <code>{_e(q.slug)}</code> &middot; forecast as of {_e(run["as_of"])} '
             f"&middot; run {run['id']} &middot; generated {_e(generated_at)}</p>"]
    if alert := _alert(run):
        parts.append(f'<div class="alert" role="alert"><strong>Not converged.</strong> {_e(alert)}</div>')
    parts.append(f'<h2>Headline</h2><p class="lead">{_e(c["headline"])}</p>')
    if c["checkpoints"]:
        parts.append('<ul class="headline">' + "".join(f"<li>{_e(x)}</li>" for x in c["checkpoints"]) + "</ul>")
    if c["resolved"]:
        parts.append(f'<p class="meta">{_e(c["resolved"])}</p>')
    parts.append("<p>" + " ".join(_e(x) for x in _summary_lines(c)) + "</p>")
    parts.append(f"<details><summary>Resolution criteria</summary><p>{_e(q.criteria)}</p></details>")
    parts.append("<h2>Date distribution</h2>")
    parts += [f'<figure class="figure" id="fig-{name}">{figures[name]}</figure>' for name in ("years", "cumulative")]
    parts.append(f"<h2>Evidence</h2><p>{_e(_influence_note(c))}</p>")
    shown, quiet = _split_negligible(c["evidence"])
    parts.append(_table(EVIDENCE_HEADERS, [_evidence_cells(e, _source, _e) for e in shown], EVIDENCE_NUMERIC))
    if quiet:
        parts.append(f"<details><summary>{_e(NEGLIGIBLE.format(n=len(quiet)))}</summary>"
                     + _table(EVIDENCE_HEADERS, [_evidence_cells(e, _source, _e) for e in quiet], EVIDENCE_NUMERIC)
                     + "</details>")
    parts.append("<h2>Experts</h2>")
    if figures.get("experts"):
        parts.append(f'<figure class="figure" id="fig-experts">{figures["experts"]}</figure>')
    parts.append(_table(["expert", "kind", "learned reliability (90%)", "prior (90%)", "claims"], [[
        _e(x["expert"]), _e(x["kind"]), f"{x['mean']:.2f} ({x['q05']:.2f}-{x['q95']:.2f})",
        f"{x['prior_mean']:.2f} ({x['prior_q05']:.2f}-{x['prior_q95']:.2f})",
        "<br>".join(f'{_e(ref)} {_e(claim)}: <span class="{status.split()[0]}">{_e(status)}</span>'
                    for ref, claim, status in x["claims"])] for x in c["experts"]]))
    parts.append("<h2>How the forecast has moved</h2>")
    parts.append(f'<figure class="figure" id="fig-history">{figures["history"]}</figure>')
    parts.append(_table(["run", "as of", "kind", "P(not within horizon)", "median", "evidence new since the previous run"],
                        [[str(h["id"]), _e(h["as_of"]), _e(h["kind"]), _pct(h["not_within_horizon"]), _e(h["median"]),
                          _e(", ".join(h["new_evidence"]) or "none")] for h in c["history"]], {3}))
    parts.append("<h2>Calibration so far</h2>" + _calibration_html(c["scores"], figures.get("reliability", "")))
    parts.append("<h2>Diagnostics and provenance</h2>" + _table(["item", "value"], [[_e(k), _e(v)] for k, v in _provenance(run)]))
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(q.title)}: forecast as of {_e(run['as_of'])}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


# Markdown escaping. Evidence text is shown as text in any CommonMark or GFM renderer, raw HTML
# allowed or not: every character that could open HTML, an entity, a link, an image, emphasis, code,
# a table cell or a heading is backslash-escaped, '@' and '//' so that no e-mail or scheme-relative
# link is detected, line breaks become spaces so a table row stays one row, and escape sequences
# and control characters are removed (the file may be read in a terminal). Links are made only for
# http(s) URLs in sources.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#@])")
_URL = re.compile(r"https?://[^\s<>\"'`\\|\[\]]+", re.IGNORECASE)


def _md(text: object) -> str:
    flat = displayable(text).replace("\n", " ")
    return re.sub(r"(?<=/)/", r"\\/", _MD_SPECIAL.sub(r"\\\1", flat))


def _md_source(text: str) -> str:
    """A source as escaped text, its first http(s) URL as a link."""
    text = displayable(text)
    match = _URL.search(text)
    if not match:
        return _md(text)
    url = match.group(0).rstrip(").,;")
    end = match.start() + len(url)
    return f"{_md(text[:match.start()])}[{_md(url)}](<{url}>){_md(text[end:])}"


def _md_code(text: str) -> str:
    """A code span that no backtick inside ``text`` can close."""
    flat = displayable(text).replace("\n", " ")
    fence = "`" * (max(map(len, re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _md_image(alt: str, path: str) -> str:
    return f"![{_md(alt)}](<{quote(path)}>)"


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)] + ["| " + " | ".join(r) + " |" for r in rows]


def _experts_md(experts: list[dict]) -> list[str]:
    return _md_table(["expert", "kind", "learned reliability (90%)", "prior (90%)", "claims"], [[
        _md(x["expert"]), _md(x["kind"]), f"{x['mean']:.2f} ({x['q05']:.2f}-{x['q95']:.2f})",
        f"{x['prior_mean']:.2f} ({x['prior_q05']:.2f}-{x['prior_q95']:.2f})",
        "; ".join(f"{_md(ref)} {_md(claim)}: {_md(status)}" for ref, claim, status in x["claims"])] for x in experts])


def _history_md(history: list[dict]) -> list[str]:
    return _md_table(["run", "as of", "kind", "P(not within horizon)", "median", "evidence new since the previous run"],
                     [[str(h["id"]), _md(h["as_of"]), _md(h["kind"]), _pct(h["not_within_horizon"]), _md(h["median"]),
                       _md(", ".join(h["new_evidence"]) or "none")] for h in history])


def to_markdown(c: dict, figure_paths: dict[str, str], generated_at: str) -> str:
    """The same content for git and chat; figures are files beside it. No raw HTML: every stored text is escaped."""
    run, q = c["run"], c["question"]
    out = [f"# {_md(q.title)}", "", f"Question {_md_code(q.slug)} · forecast as of {_md(run['as_of'])} · run {run['id']} "
           f"· generated {_md(generated_at)}", ""]
    if alert := _alert(run):
        out += [f"> **Not converged.** {_md(alert)}", ""]
    out += ["## Headline", "", _md(c["headline"]), ""] + [f"- {_md(x)}" for x in c["checkpoints"]]
    out += [""] + ([_md(c["resolved"]), ""] if c["resolved"] else []) + [_md(" ".join(_summary_lines(c))), ""]
    out += ["## Date distribution", ""] + [_md_image(name, figure_paths[name]) for name in ("years", "cumulative")] + [""]
    shown, quiet = _split_negligible(c["evidence"])
    out += ["## Evidence", "", _md(_influence_note(c)), ""]
    out += _md_table(EVIDENCE_HEADERS, [_evidence_cells(e, _md_source, _md) for e in shown]) + [""]
    if quiet:
        out += [_md(NEGLIGIBLE.format(n=len(quiet))) + ":", ""]
        out += _md_table(EVIDENCE_HEADERS, [_evidence_cells(e, _md_source, _md) for e in quiet]) + [""]
    out += ["## Experts", ""] + ([_md_image("experts", figure_paths["experts"]), ""] if "experts" in figure_paths else [])
    out += _experts_md(c["experts"]) + [""]
    out += ["## How the forecast has moved", "", _md_image("history", figure_paths["history"]), ""]
    out += _history_md(c["history"]) + [""]
    out += ["## Calibration so far", ""] + _calibration_md(c["scores"], figure_paths.get("reliability"))
    out += ["## Diagnostics and provenance", ""] + _md_table(["item", "value"], [[_md(k), _md(v)] for k, v in _provenance(run)])
    return "\n".join(out) + "\n"
