"""Report figures as SVG text (matplotlib, no fonts or files fetched when viewed).

Stored text in labels is drawn literally: mathtext parsing is off for every text element.
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np

from ..basics.text import displayable

POSTERIOR, PRIOR, BAND = "#1f5f8b", "#b0b0b0", "#7fb2d5"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Labels carry stored text (expert names): never read `$...$` as mathtext or hand text to TeX.
    plt.rcParams.update({"font.size": 9, "svg.hashsalt": "forecast", "figure.dpi": 100, "text.parse_math": False,
                         "text.usetex": False})
    return plt


def _svg(fig, fmt: str = "svg") -> str | bytes:
    """The figure as inline SVG text (or PNG bytes with ``fmt="png"``), then closed."""
    if fmt == "png":
        raw = io.BytesIO()
        fig.savefig(raw, format="png", bbox_inches="tight", dpi=150)
        _pyplot().close(fig)
        return raw.getvalue()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    _pyplot().close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _month_dates(labels: list[str]) -> list[dt.date]:
    return [dt.date(int(m[:4]), int(m[5:7]), 1) for m in labels]


def years_figure(years: dict[str, float], prior_years: dict[str, float]) -> str:
    """Probability per year, posterior beside prior."""
    plt = _pyplot()
    labels = list(years)
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.bar(x - 0.2, [prior_years[k] for k in labels], 0.4, color=PRIOR, label="prior")
    ax.bar(x + 0.2, [years[k] for k in labels], 0.4, color=POSTERIOR, label="forecast")
    ax.set_xticks(x, [k if k[0].isdigit() else "beyond" for k in labels], rotation=45)
    ax.set_ylabel("probability")
    ax.set_title("Probability per year")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def cumulative_figure(result: dict) -> str:
    """P(event by month): posterior mean with 80% and 95% credible bands, and the prior."""
    plt = _pyplot()
    months = _month_dates(result["months"][:-1])
    bands = {k: np.array(v[:-1]) for k, v in result["cdf_bands"].items()}
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.fill_between(months, bands["0.025"], bands["0.975"], color=BAND, alpha=0.35, lw=0, label="95% band")
    ax.fill_between(months, bands["0.1"], bands["0.9"], color=BAND, alpha=0.6, lw=0, label="80% band")
    ax.plot(months, np.cumsum(result["monthly"][:-1]), color=POSTERIOR, lw=2, label="forecast")
    ax.plot(months, np.cumsum(result["prior_monthly"][:-1]), color="#555", lw=1, ls="--", label="prior")
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(event by month)")
    ax.set_title("Cumulative probability (the rest is 'not within the horizon')")
    ax.legend(frameon=False, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def experts_figure(experts: list[dict]) -> str:
    """Learned reliability (mean, 90% interval) beside the prior for each expert."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(experts) + 1))
    for i, e in enumerate(experts):
        ax.plot([e["prior_q05"], e["prior_q95"]], [i + 0.15] * 2, color=PRIOR, lw=4)
        ax.plot([e["q05"], e["q95"]], [i - 0.15] * 2, color=POSTERIOR, lw=2)
        ax.plot(e["mean"], i - 0.15, "o", color=POSTERIOR)
    ax.axvline(0.5, color="#999", lw=0.8, ls=":")
    ax.set_yticks(range(len(experts)), [displayable(e["expert"]) for e in experts])
    ax.set_xlim(0, 1)
    ax.set_xlabel("reliability (grey: prior 90%; blue: learned mean and 90%)")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def history_figure(history: list[dict]) -> str:
    """Headline probabilities across stored runs, by as-of date."""
    plt = _pyplot()
    dates = [dt.date.fromisoformat(h["as_of"]) for h in history]
    fig, ax = plt.subplots(figsize=(7, 2.8))
    checkpoints = list(history[-1]["checkpoints"])
    for date in checkpoints[len(checkpoints) // 2::2]:
        ax.plot(dates, [h["checkpoints"][date] for h in history], marker="o", lw=1, label=f"before {date}")
    ax.plot(dates, [h["not_within_horizon"] for h in history], marker="s", color="#333", lw=1.5,
            label="not within the horizon")
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_title("How the forecast has moved (one point per stored run)")
    ax.legend(frameon=False, fontsize=7, loc="best")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def all_figures(content: dict) -> dict[str, str]:
    """Every figure of a report, by name."""
    return {
        "years": years_figure(content["years"], content["prior_years"]),
        "cumulative": cumulative_figure(content["result"]),
        "experts": experts_figure(content["experts"]) if content["experts"] else "",
        "history": history_figure(content["history"]),
        "reliability": reliability_figure(content["scores"]["reliability_diagram"])
        if content["scores"]["reliability_diagram"] else "",
    }


def reliability_figure(diagram: list[dict], fmt: str = "svg") -> str | bytes:
    """Observed frequency against forecast probability, with counts and the consistency band."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="#999", lw=0.8, ls=":")
    for row in diagram:
        ax.plot([row["forecast"]] * 2, row["band"], color=BAND, lw=6, alpha=0.7)
        ax.plot(row["forecast"], row["observed"], "o", color=POSTERIOR)
        ax.annotate(str(row["count"]), (row["forecast"], row["observed"]), textcoords="offset points", xytext=(6, 4),
                    fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("forecast probability")
    ax.set_ylabel("observed frequency")
    ax.set_title("Reliability of resolved checkpoints (n per bin; band: 5-95%)", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, fmt)


def backtest_figure(history: list[dict], outcomes: dict[str, int]) -> str:
    """The model's P(before checkpoint) over backtest runs, one line per checkpoint, marked with its outcome."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3))
    dates = [dt.date.fromisoformat(h["as_of"]) for h in history]
    for checkpoint, outcome in outcomes.items():
        values = [h["checkpoints"].get(checkpoint) for h in history]
        shown = [(d, v) for d, v in zip(dates, values) if d < dt.date.fromisoformat(checkpoint)]
        if shown:
            ax.plot(*zip(*shown), marker=".", lw=1, label=f"before {checkpoint}: {'YES' if outcome else 'NO'}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(event before checkpoint)")
    ax.set_title("Backtest: the model's probability for each resolved checkpoint")
    ax.legend(frameon=False, fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
