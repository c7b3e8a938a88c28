"""``python -m forecast``."""

from .cli import cli

cli(prog_name="forecast")
