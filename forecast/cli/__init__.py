"""The ``forecast`` command line: one click group; sub-commands parse, call one function, render."""

from __future__ import annotations

from . import (claim_commands, evidence_commands, forecast_commands, question_commands,  # noqa: F401  (registers
               score_commands)  # sub-commands)
from .group import cli

__all__ = ["cli"]
