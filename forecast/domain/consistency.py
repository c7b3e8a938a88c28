"""Impossible evidence is refused: an observation must fit the question's horizon (not dated before it; an event
not after it), notice rule and the others.

Notice observations are allowed on a question without a notice rule (an exit at the end of a calendar year,
say); they then constrain the date only through their ``effective_on`` date.

The checks run when an observation is logged or imported, so the model never sees an impossible set.
A correction is logged with ``--supersedes``: the superseded row no longer counts.
"""

from __future__ import annotations

import datetime as dt

from ..basics.months import date_month, month_label, parse_month
from ..errors import InputError
from ..store.tables import Observation
from .priors import QuestionSpec

NOTICE_KINDS = ("notice-given", "notice-revoked", "notice-extended", "no-notice-as-of")


def _ref(row: Observation) -> str:
    return f"O{row.id} ({row.kind} on {row.observed_on.isoformat()})"


def pending_notice(rows: list[Observation], before: dt.date | None = None) -> Observation | None:
    """The notice-given row still pending (not revoked after it), among rows dated on or before ``before``."""
    pending = None
    for row in sorted(rows, key=lambda r: (r.observed_on, r.id or 0)):
        if before is not None and row.observed_on > before:
            break
        if row.kind == "notice-given":
            pending = row
        elif row.kind == "notice-revoked":
            pending = None
    return pending


def _check_rules(spec: QuestionSpec, new: Observation) -> None:
    end, month = parse_month(spec.horizon_end), date_month(new.observed_on)
    if month < parse_month(spec.horizon_start):
        raise InputError(f"observation date {new.observed_on.isoformat()} is before the horizon of {spec.slug!r} "
                         f"(from {spec.horizon_start})")
    if new.kind == "event" and month > end:
        raise InputError(f"an event on {new.observed_on} is after the horizon of {spec.slug!r} (to {spec.horizon_end}): "
                         "resolve the question as not within the horizon instead")
    earliest = (spec.notice or {}).get("earliest")
    if new.kind == "notice-given" and earliest and month < parse_month(earliest):
        raise InputError(f"notice on {new.observed_on} is before the earliest date notice can be given for "
                         f"{spec.slug!r} ({earliest})")
    if new.kind == "notice-extended" and new.effective_on is None:
        raise InputError("a notice-extended observation needs --effective DATE (the new date the exit can take effect)")
    if new.effective_on is not None and new.effective_on < new.observed_on:
        raise InputError(f"effective date {new.effective_on} is before the observation date {new.observed_on}")
    if new.effective_on is not None and new.kind not in ("notice-given", "notice-extended"):
        raise InputError(f"--effective is only for notice-given and notice-extended, not {new.kind}")


def earliest_effect(spec: QuestionSpec, notice: Observation) -> int:
    """The month a notice can first take effect: its stated effective date, or the notice rule's period after it."""
    if notice.effective_on is not None:
        return date_month(notice.effective_on)
    return date_month(notice.observed_on) + int((spec.notice or {}).get("months") or 0)


def observation_warnings(spec: QuestionSpec, row: Observation) -> list[str]:
    """What is possible but unusual about an observation that was accepted, in words for whoever logged it.

    A notice that takes effect sooner than the question's notice rule allows is stored as given (a party may
    claim that its exit takes effect at once, against a treaty's notice period), but is worth a second look.
    """
    months = int((spec.notice or {}).get("months") or 0)
    if row.kind != "notice-given" or row.effective_on is None or months <= 0:
        return []
    allowed, effective = date_month(row.observed_on) + months, earliest_effect(spec, row)
    if effective >= allowed:
        return []
    return [f"the effective date {row.effective_on} is earlier than {spec.slug!r}'s notice rule allows "
            f"({month_label(allowed)}, {months} months after the notice); it is stored as given, so the model "
            f"lets the exit take effect from {month_label(effective)}. If that is a mistake, log the right date "
            f"with --supersedes O{row.id}"]


def check_observation(spec: QuestionSpec, active: list[Observation], new: Observation) -> None:
    """Raise an InputError naming the conflicting row when ``new`` cannot be true alongside ``active``."""
    _check_rules(spec, new)
    month = date_month(new.observed_on)
    events = [r for r in active if r.kind == "event"]
    not_yet = [r for r in active if r.kind == "event-not-yet"]
    if new.kind == "event":
        for row in events:
            if date_month(row.observed_on) != month:
                raise InputError(f"the event cannot happen in {month_label(month)}: {_ref(row)} already dates it")
        for row in not_yet:
            if date_month(row.observed_on) > month:
                raise InputError(f"the event cannot happen in {month_label(month)}: {_ref(row)} says it had not happened")
    if new.kind == "event-not-yet":
        for row in events:
            if date_month(row.observed_on) < month:
                raise InputError(f"the event cannot be still to come on {new.observed_on}: {_ref(row)} dates it earlier")
    if new.kind in ("notice-revoked", "notice-extended") and pending_notice(active, new.observed_on) is None:
        raise InputError(f"{new.kind} on {new.observed_on}: no notice was pending then")
    pending = pending_notice(active, new.observed_on) if new.kind == "no-notice-as-of" else None
    if pending is not None:
        raise InputError(f"no notice as of {new.observed_on} contradicts {_ref(pending)}, still pending then: log "
                         "notice-revoked if it was withdrawn")
