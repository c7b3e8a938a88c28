"""The ``forecast`` command line: one click group; sub-commands parse, call one function, render."""

from __future__ import annotations

from . import (claim_commands, correction_commands, docs_command, evidence_commands, expert_commands,  # noqa: F401  (registers
               forecast_commands, learn_commands, question_commands, score_commands, serve_command)  # sub-commands)
from .group import cli

__all__ = ["cli"]
