"""Progress on a terminal: rich bars on stderr, and nothing when stderr is not a terminal or with --quiet."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..basics.progress import SILENT, Progress

quiet_option = click.option("--quiet", "-q", is_flag=True, help="Show no progress (it shows only on a terminal anyway).")


class TerminalProgress:
    """Rich progress bars: a spinner for stages, a bar with ETA for steps, a bar for the sampler's draws."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                             console=Console(stderr=True), transient=True)
        self._stage: Any = None
        self._steps: Any = None
        self._sampling: Any = None
        self._step = 0

    def stage(self, description: str) -> None:
        if self._stage is None:
            self._stage = self.bars.add_task(description, total=None)
        else:
            self.bars.update(self._stage, description=description)

    def _end_stage(self) -> None:
        if self._stage is not None:
            self.bars.remove_task(self._stage)
            self._stage = None

    def steps(self, description: str, total: int) -> None:
        self._end_stage()
        self._steps, self._step = self.bars.add_task(description, total=total), 0

    def step(self, description: str) -> None:
        self._end_stage()
        if self._steps is None:
            return
        self.bars.update(self._steps, completed=self._step, description=description)
        self._step += 1

    def sampling(self, done: int, total: int, tuning: bool) -> None:
        self._end_stage()
        label = "tuning" if tuning else "sampling"
        changed = self._sampling is None or self.bars.tasks[self._sampling].description != label
        if self._sampling is None:
            self._sampling = self.bars.add_task(label, total=total)
        elif done < self.bars.tasks[self._sampling].completed:  # the next fit of a backtest
            self.bars.reset(self._sampling, total=total)
        self.bars.update(self._sampling, completed=done, total=total, description=label)
        if changed:  # draw each phase at least once, however fast it goes
            self.bars.refresh()


@contextmanager
def progress_for(quiet: bool) -> Iterator[Progress]:
    """Terminal progress while the block runs, or :data:`~forecast.basics.progress.SILENT`."""
    if quiet or not sys.stderr.isatty():
        yield SILENT
        return
    shown = TerminalProgress()
    with shown.bars:
        yield shown
