"""Click parameter types shared by the sub-commands: dates, months and timestamps, parsed by the domain's parsers, and
fixed choices that suggest the closest one."""

from __future__ import annotations

import datetime as dt

import click

from ..basics import validate
from ..basics.months import parse_date, parse_datetime, parse_day_or_month
from ..basics.numbers import parse_int
from ..errors import InputError


class DateType(click.ParamType):
    """A ``YYYY-MM-DD`` date."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        try:
            return parse_date(value)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class TimestampType(click.ParamType):
    """A date or ISO timestamp (a bare date means the end of that day, UTC)."""

    name = "TIMESTAMP"

    def convert(self, value, param, ctx):
        try:
            return parse_datetime(value)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class DayOrMonthType(click.ParamType):
    """A date ``YYYY-MM-DD`` or a month ``YYYY-MM`` (its first day, or its last with ``month_end``).

    With ``with_precision`` the value is ``(date, "day" | "month")``, for evidence dates.
    """

    name = "YYYY-MM-DD|YYYY-MM"

    def __init__(self, month_end: bool = False, with_precision: bool = False) -> None:
        self.month_end, self.with_precision = month_end, with_precision

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date | tuple):
            return value
        try:
            day, precision = parse_day_or_month(value, month_end=self.month_end)
        except InputError as exc:
            self.fail(str(exc), param, ctx)
        return (day, precision) if self.with_precision else day


class WholeNumberType(click.ParamType):
    """A whole number in ASCII digits (bounds are the domain's: the command passes it on and the domain checks)."""

    name = "INTEGER"

    def convert(self, value, param, ctx):
        try:
            return parse_int(value, "number")
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class OutputPath(click.Path):
    """A path to write to: refused when empty (``--out ""`` would otherwise mean the current folder)."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path names no file or folder", param, ctx)
        return super().convert(value, param, ctx)


class SuggestingChoice(click.Choice):
    """One of a fixed set of values; any other is refused like an unknown name: the project's one line, with
    "did you mean" and the known values (``shown``, when some accepted values are older names not to offer)."""

    def __init__(self, choices, what: str, shown=None) -> None:
        super().__init__(choices)
        self.what, self.shown = what, list(shown or choices)

    def convert(self, value, param, ctx):
        if value in self.choices:
            return value
        raise validate.unknown(self.what, str(value), self.shown)


PERIOD = SuggestingChoice(["month", "quarter", "year"], "period")  # --every of backtest and learn
DATE = DateType()
WHOLE = WholeNumberType()
TIMESTAMP = TimestampType()
EVIDENCE_DATE = DayOrMonthType(with_precision=True)  # a month: its first day, precision "month"
RANGE_START = DayOrMonthType()  # --from, --since: a month is its first day
EFFECTIVE = RANGE_START  # --effective of a notice: a month is its first day (the model counts whole months)
RANGE_END = DayOrMonthType(month_end=True)  # --to, --until, --as-of: a month is its last day

by_option = click.option("--by", "author", metavar="NAME",
                         help="Who makes this change (default: $FORECAST_ANALYST, else your login name).")
