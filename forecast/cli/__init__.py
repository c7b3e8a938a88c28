"""The ``forecast`` command line: one click group; sub-commands parse, call one function, render."""

from __future__ import annotations

from . import evidence_commands, forecast_commands, question_commands, score_commands, serve_command  # noqa: F401  (registers sub-commands)
from .group import cli

__all__ = ["cli"]
