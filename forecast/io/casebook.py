"""The casebook: resolved real questions, their fixed development/test split, and loading them into a store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session

from ..domain.priors import data_dir
from ..domain.questions import set_reliability_priors
from ..domain.split import DEVELOPMENT, TEST, half
from .seed import InitReport, load_casebook_file

__all__ = ["DEVELOPMENT", "TEST", "backtest_span", "casebook_files", "half", "load"]


def casebook_files(directory: Path | None = None) -> list[Path]:
    """Every casebook question file, by name."""
    return sorted((directory or data_dir("casebook")).glob("*.toml"))


def load(session: Session, paths: list[Path]) -> InitReport:
    """The reliability priors and the given casebook files, into a store (idempotent)."""
    report = InitReport()
    set_reliability_priors(session, data_dir("priors") / "reliability.toml")
    for path in paths:
        load_casebook_file(session, path, report)
    return report


def backtest_span(horizon_start: str, resolution: str | None, horizon_end: str) -> tuple[dt.date, dt.date]:
    """First and last as-of dates of a casebook backtest: the horizon start to the resolved month (or horizon end)."""
    start = dt.date(int(horizon_start[:4]), int(horizon_start[5:7]), 1)
    last = resolution if resolution and resolution[:4].isdigit() else horizon_end
    year, month = int(last[:4]), int(last[5:7])
    end = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end
