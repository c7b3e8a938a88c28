"""Progress of long work, as domain code reports it; the command line decides how (or whether) to show it."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress reports; every method must be cheap and may be called from another thread."""

    def stage(self, description: str) -> None:
        """Work of unknown length has started (e.g. compiling the model)."""

    def steps(self, description: str, total: int) -> None:
        """A sequence of ``total`` steps has started (e.g. backtest dates)."""

    def step(self, description: str) -> None:
        """The next step of the sequence has started."""

    def sampling(self, done: int, total: int, tuning: bool) -> None:
        """The sampler has made ``done`` of ``total`` draws over all chains (still tuning, or not)."""


class Silent:
    """Reports nothing: output is not a terminal, or the user asked for quiet."""

    def stage(self, description: str) -> None:
        pass

    def steps(self, description: str, total: int) -> None:
        pass

    def step(self, description: str) -> None:
        pass

    def sampling(self, done: int, total: int, tuning: bool) -> None:
        pass


SILENT = Silent()
