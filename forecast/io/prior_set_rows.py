"""The store's prior sets (``prior_set`` rows, first in an export), and back: a copy forecasts from the same priors."""

from __future__ import annotations

import json

from sqlmodel import Session

from ..basics import validate
from ..basics.numbers import parse_int
from ..domain.prior_sets import import_set, prior_sets
from ..errors import InputError

PRIOR_SET_FIELDS = ["version", "created_at", "prior_values", "prior_provenance"]


def prior_set_records(session: Session) -> list[dict]:
    """Every prior set the store was given, oldest first, as export rows (values and provenance as JSON text)."""
    return [{"record": "prior_set", "version": entry["version"], "created_at": entry["created_at"],
             "prior_values": json.dumps(entry["values"], sort_keys=True),
             "prior_provenance": json.dumps(entry.get("provenance") or {}, sort_keys=True, ensure_ascii=False)}
            for entry in prior_sets(session)]


def import_prior_set(session: Session, row: dict) -> bool:
    """Add an exported prior set (False: the store has it already); see :func:`forecast.domain.prior_sets.import_set`."""
    try:
        values, provenance = json.loads(row["prior_values"] or ""), json.loads(row["prior_provenance"] or "{}")
    except (TypeError, ValueError):
        raise InputError("a prior set's prior_values and prior_provenance must be JSON objects") from None
    if not isinstance(values, dict) or not isinstance(provenance, dict):
        raise InputError("a prior set's prior_values and prior_provenance must be JSON objects")
    return import_set(session, {"version": parse_int(row["version"], "prior set version", low=1), "values": values,
                                "created_at": validate.text(row["created_at"], "created_at"),
                                "provenance": provenance})
