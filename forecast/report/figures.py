"""Report figures as SVG text (matplotlib, no fonts or files fetched when viewed).

Stored text in labels is drawn literally: mathtext parsing is off for every text element. Text stays
text (``svg.fonttype = "none"``: searchable, and measurable in a browser), in the sans-serif fonts
matplotlib names, the reader's own if those are missing. Every figure is WIDTH inches wide with no text
under FONT_SIZE points, so that shrunk to a 390 px phone (about 360 px of page) the smallest text is
still over 10 px: 10 pt x 4/3 px/pt x 360 / (4.8 x 96) = 10.4 px.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap

import numpy as np

from ..basics.text import displayable

POSTERIOR, PRIOR, BAND = "#1f5f8b", "#b0b0b0", "#7fb2d5"
WIDTH, FONT_SIZE = 4.8, 10  # inches, points


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Labels carry stored text (expert names): never read `$...$` as mathtext or hand text to TeX.
    plt.rcParams.update({"font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 1, "svg.hashsalt": "forecast",
                         "svg.fonttype": "none", "figure.dpi": 100, "text.parse_math": False, "text.usetex": False})
    return plt


def _svg(fig, fmt: str = "svg") -> str | bytes:
    """The figure as inline SVG text (or PNG bytes with ``fmt="png"``), then closed."""
    if fmt == "png":
        raw = io.BytesIO()
        fig.savefig(raw, format="png", bbox_inches="tight", dpi=150)
        _pyplot().close(fig)
        return raw.getvalue()
    buffer = io.StringIO()  # the figure's own size (constrained layout), so its text size on a page is known
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    _pyplot().close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _dates():
    import matplotlib.dates

    return matplotlib.dates


def _wrapped(name: str, width: int = 22) -> str:
    """A label on at most two lines of ``width`` characters (an ellipsis if it is longer)."""
    lines = textwrap.wrap(displayable(name), width) or [""]
    return "\n".join(lines[:2]) + ("…" if len(lines) > 2 else "")


def _month_dates(labels: list[str]) -> list[dt.date]:
    return [dt.date(int(m[:4]), int(m[5:7]), 1) for m in labels]


def _figure(height: float):
    return _pyplot().subplots(figsize=(WIDTH, height), layout="constrained")


def years_figure(years: dict[str, float], prior_years: dict[str, float], horizon_end: str) -> str:
    """Probability per year, posterior beside prior."""
    labels = list(years)
    x = np.arange(len(labels))
    fig, ax = _figure(3)
    ax.bar(x - 0.2, [prior_years[k] for k in labels], 0.4, color=PRIOR, label="prior")
    ax.bar(x + 0.2, [years[k] for k in labels], 0.4, color=POSTERIOR, label="forecast")
    ax.set_xticks(x, [k if k[0].isdigit() else f"not by\n{horizon_end}" for k in labels], rotation=90)
    ax.set_ylabel("probability")
    ax.set_title("Probability per year")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def cumulative_figure(result: dict) -> str:
    """P(event by month): posterior mean with 80% and 95% credible bands, and the prior."""
    months = _month_dates(result["months"][:-1])
    bands = {k: np.array(v[:-1]) for k, v in result["cdf_bands"].items()}
    fig, ax = _figure(3.2)
    ax.fill_between(months, bands["0.025"], bands["0.975"], color=BAND, alpha=0.35, lw=0, label="95% band")
    ax.fill_between(months, bands["0.1"], bands["0.9"], color=BAND, alpha=0.6, lw=0, label="80% band")
    ax.plot(months, np.cumsum(result["monthly"][:-1]), color=POSTERIOR, lw=2, label="forecast")
    ax.plot(months, np.cumsum(result["prior_monthly"][:-1]), color="#555", lw=1, ls="--", label="prior")
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(event by month)")
    ax.set_title(f"Cumulative probability (the rest: not by {result['months'][-2]})")
    ax.legend(frameon=False, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def experts_figure(experts: list[dict]) -> str:
    """Learned reliability (mean, 90% interval) beside the prior for each expert."""
    fig, ax = _figure(0.3 * len(experts) + 1.3)
    for i, e in enumerate(experts):
        ax.plot([e["prior_q05"], e["prior_q95"]], [i + 0.15] * 2, color=PRIOR, lw=4)
        ax.plot([e["q05"], e["q95"]], [i - 0.15] * 2, color=POSTERIOR, lw=2)
        ax.plot(e["mean"], i - 0.15, "o", color=POSTERIOR)
    ax.axvline(0.5, color="#999", lw=0.8, ls=":")
    ax.set_yticks(range(len(experts)), [_wrapped(e["expert"]) for e in experts])
    ax.set_xlim(0, 1)
    ax.invert_yaxis()  # in the order of the table
    ax.set_xlabel("reliability\ngrey: prior 90%; blue: learned mean and 90%")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def history_figure(history: list[dict], horizon_end: str) -> str:
    """Headline probabilities across stored runs, by as-of date."""
    dates = [dt.date.fromisoformat(h["as_of"]) for h in history]
    fig, ax = _figure(3.4)
    checkpoints = list(history[-1]["checkpoints"])
    for date in checkpoints[len(checkpoints) // 2::2]:
        ax.plot(dates, [h["checkpoints"][date] for h in history], marker="o", lw=1, label=f"before {date}")
    ax.plot(dates, [h["not_within_horizon"] for h in history], marker="s", color="#333", lw=1.5,
            label=f"not by {horizon_end}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_title("How the forecast has moved\n(one point per stored run)")
    ax.legend(frameon=False, loc="best")
    if len(set(dates)) > 1:  # a few dates on the axis, each written once
        locator = _dates().AutoDateLocator(minticks=3, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(_dates().ConciseDateFormatter(locator))
    else:
        ax.set_xticks(dates, [d.isoformat() for d in dates])
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def all_figures(content: dict) -> dict[str, str]:
    """Every figure of a report, by name."""
    return {
        "years": years_figure(content["years"], content["prior_years"], content["horizon_end"]),
        "cumulative": cumulative_figure(content["result"]),
        "experts": experts_figure(content["experts"]) if content["experts"] else "",
        "history": history_figure(content["history"], content["horizon_end"]),
        "reliability": reliability_figure(content["scores"]["reliability_diagram"])
        if content["scores"]["reliability_diagram"] else "",
    }


def reliability_figure(diagram: list[dict], fmt: str = "svg") -> str | bytes:
    """Observed frequency against forecast probability, with counts and the consistency band."""
    fig, ax = _figure(4.6)
    ax.plot([0, 1], [0, 1], color="#999", lw=0.8, ls=":")
    for row in diagram:
        ax.plot([row["forecast"]] * 2, row["band"], color=BAND, lw=6, alpha=0.7)
        ax.plot(row["forecast"], row["observed"], "o", color=POSTERIOR)
        ax.annotate(str(row["count"]), (row["forecast"], row["observed"]), textcoords="offset points", xytext=(6, 4))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("forecast probability")
    ax.set_ylabel("observed frequency")
    ax.set_title("Reliability of resolved checkpoints\n(n per bin; band: 5-95%)")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, fmt)


def backtest_figure(history: list[dict], outcomes: dict[str, int]) -> str:
    """The model's P(before checkpoint) over backtest runs, one line per checkpoint, marked with its outcome."""
    fig, ax = _figure(3.6)
    dates = [dt.date.fromisoformat(h["as_of"]) for h in history]
    for checkpoint, outcome in outcomes.items():
        values = [h["checkpoints"].get(checkpoint) for h in history]
        shown = [(d, v) for d, v in zip(dates, values) if d < dt.date.fromisoformat(checkpoint)]
        if shown:
            ax.plot(*zip(*shown), marker=".", lw=1, label=f"before {checkpoint}: {'YES' if outcome else 'NO'}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(event before checkpoint)")
    ax.set_title("Backtest: the model's probability\nfor each resolved checkpoint")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
