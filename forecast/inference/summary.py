"""Headline numbers from a monthly distribution (checkpoints, median, credible intervals), and the same in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..basics.months import month_label

if TYPE_CHECKING:
    from ..store.tables import Question

BEYOND = "not within the horizon"
INTERVAL_LEVELS = (0.5, 0.8, 0.95)


def checkpoint_probabilities(monthly: np.ndarray, start: int, n_months: int) -> dict[str, float]:
    """P(event before 1 January of each year after the horizon start, through the horizon's end)."""
    cdf = np.cumsum(monthly[:n_months])
    first_year, last_year = start // 12 + 1, (start + n_months - 1) // 12 + 1
    out = {}
    for year in range(first_year, last_year + 1):
        months_before = year * 12 - start
        out[f"{year}-01-01"] = float(cdf[min(months_before, n_months) - 1]) if months_before >= 1 else 0.0
    return out


def quantile_label(monthly: np.ndarray, start: int, n_months: int, q: float) -> str:
    """The month by which the probability first reaches ``q``, or the beyond label."""
    cdf = np.cumsum(monthly[:n_months])
    hits = np.nonzero(cdf >= q - 1e-12)[0]
    return month_label(start + int(hits[0])) if hits.size else BEYOND


def headline(monthly: np.ndarray, start: int, n_months: int, preempted: float | None = None) -> dict:
    """Checkpoints, P(not within the horizon), median and equal-tailed 50/80/95% intervals.

    For a question precluded by another, ``pre_empted`` is the part of "not within the horizon" in
    which the precluding event comes first.
    """
    monthly = np.asarray(monthly, dtype=float)
    beyond = {"not_within_horizon": float(monthly[-1])}
    if preempted is not None:
        beyond["pre_empted"] = float(preempted)
    return {
        "checkpoints": checkpoint_probabilities(monthly, start, n_months),
        **beyond,
        "median": quantile_label(monthly, start, n_months, 0.5),
        "intervals": {
            f"{int(level * 100)}%": [quantile_label(monthly, start, n_months, (1 - level) / 2),
                                     quantile_label(monthly, start, n_months, (1 + level) / 2)]
            for level in INTERVAL_LEVELS
        },
    }


def on_grid(monthly: np.ndarray, n_months: int) -> np.ndarray:
    """A padded row of bins cut to the question's months plus its beyond bin."""
    return np.append(monthly[:n_months], monthly[-1])


def yearly(monthly: np.ndarray, start: int, n_months: int) -> dict[str, float]:
    """Probability per calendar year within the horizon, plus the beyond bin."""
    out: dict[str, float] = {}
    for offset in range(n_months):
        year = str((start + offset) // 12)
        out[year] = out.get(year, 0.0) + float(monthly[offset])
    out[BEYOND] = float(monthly[-1])
    return out


# Plain words for the headline, shared by the report, the CLI and the web pages: the probability of the
# event by the horizon's end first; a date beyond the horizon reads "not by <last month>".


def percent(p: float) -> str:
    """A probability in whole percent; one that rounds to 0% or 100% without being it says so ("<1%", ">99%")."""
    text = f"{100 * p:.0f}%"
    if text == "0%" and p > 0:
        return "<1%"
    if text == "100%" and p < 1:
        return ">99%"
    return text


def when(label: str, horizon_end: str) -> str:
    """A month label from the headline as words: the month, or "not by <horizon end>"."""
    return f"not by {horizon_end}" if label == BEYOND else label


def span(low: str, high: str, horizon_end: str) -> str:
    """An interval of months as words, either end possibly beyond the horizon."""
    if low == BEYOND:
        return when(low, horizon_end)
    if high == BEYOND:
        return f"from {low}, or not by {horizon_end}"
    return low if low == high else f"{low} to {high}"


class Line(NamedTuple):
    """One statement of a probability: what, and how likely (``str()`` joins them as ``what: value``)."""

    what: str
    value: str

    def __str__(self) -> str:
        return f"{self.what}: {self.value}"


@dataclass(frozen=True)
class PlainHeadline:
    """A headline in plain words (see :func:`plain_headline`)."""

    lead: Line  # "Russia withdraws by 2032-12: 20%"
    median: str  # "2029-03" or "not by 2032-12"
    intervals: dict[str, str]  # level ("80%") -> "2029-10 to 2031-06"
    checkpoints: dict[str, Line]  # "2029-01-01" -> "Russia withdraws before 2029-01-01: 7%"
    not_by: Line  # "Not by 2032-12: 80%"
    pre_empted: Line | None  # "Pre-empted (The ISS is retired first, by 2032-12): 65%"

    @property
    def sentence(self) -> str:
        """The lead, then the median and the 80% interval: one line for a terminal or a page."""
        return f"{self.lead}. Median date: {self.median}; 80% interval: {self.intervals['80%']}."


def portfolio_lead(question: Question, head: dict) -> str:
    """A stored question's headline sentence for a portfolio row ("Russia withdraws by 2032-12: 14%")."""
    return str(plain_headline(question.event, head, question.horizon_end).lead)


def plain_headline(event: str, head: dict, horizon_end: str, precluder_event: str | None = None) -> PlainHeadline:
    """The headline numbers of one question (:func:`headline`'s dict) in words, for ``event`` ("Russia
    withdraws") on a horizon ending in the month ``horizon_end`` ("2032-12"). The interval of a probability
    across the model's draws is not part of it: it says how settled the number is, not when the event happens."""
    pre_empted = None
    if "pre_empted" in head:
        pre_empted = Line(f"Pre-empted ({precluder_event or 'the precluding event'} first, by {horizon_end})",
                          percent(head["pre_empted"]))
    return PlainHeadline(
        lead=Line(f"{event} by {horizon_end}", percent(1 - head["not_within_horizon"])),
        median=when(head["median"], horizon_end),
        intervals={level: span(low, high, horizon_end) for level, (low, high) in head["intervals"].items()},
        checkpoints={date: Line(f"{event} before {date}", percent(p)) for date, p in head["checkpoints"].items()},
        not_by=Line(f"Not by {horizon_end}", percent(head["not_within_horizon"])),
        pre_empted=pre_empted,
    )
