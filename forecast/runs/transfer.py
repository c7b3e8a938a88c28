"""Stored runs and their results in an export (``forecast export --runs``), and back.

A run row carries everything its table holds, its draws as base64 text; a result row names its run by
the run's id in the exporting store and its question by slug. Importing maps those ids to new ones,
so a store's runs can be moved into another store; the same run imported twice is refused.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from sqlmodel import Session, col, select

from ..basics import validate
from ..basics.months import parse_date, parse_month
from ..basics.numbers import parse_number, refuse_foreign_digits
from ..errors import DuplicateError, InputError
from ..inference.draws import unpack
from ..store.tables import ForecastResult, ForecastRun, Question

RUN_FIELDS = ["run", "created_at", "kind", "as_of", "known_at", "questions", "seed", "sampler", "settings",
              "code_version", "model_version", "config_hash", "evidence_fingerprint", "evidence", "diagnostics",
              "converged", "elapsed_seconds", "reliabilities", "posterior"]
RESULT_FIELDS = ["run", "question", "monthly", "prior_monthly", "cdf_bands", "headline"]
_TEXT = ("kind", "questions", "sampler", "settings", "code_version", "model_version", "config_hash", "evidence",
         "diagnostics", "reliabilities")


def run_records(session: Session) -> list[dict]:
    """Every run, then every result, as export rows (values not yet turned into text)."""
    slugs = {q.id: q.slug for q in session.exec(select(Question))}
    rows: list[dict] = []
    for run in session.exec(select(ForecastRun).order_by(col(ForecastRun.id))):
        fields = {f: getattr(run, f) for f in RUN_FIELDS if f not in ("run", "posterior")}
        rows.append({"record": "run", "run": run.id, **fields, "posterior": base64.b64encode(run.posterior).decode()})
    for result in session.exec(select(ForecastResult).order_by(col(ForecastResult.id))):
        rows.append({"record": "result", "run": result.run_id, "question": slugs[result.question_id],
                     **{f: getattr(result, f) for f in RESULT_FIELDS[2:]}})
    return rows


def _required(row: dict, name: str) -> str:
    value = row.get(name)
    if value is None or value == "":
        raise InputError(f"{row['record']} lacks {name!r}")
    return str(value)


def import_run(session: Session, row: dict, ids: dict[str, int]) -> None:
    """Store one exported run, checked as the code that stores runs would have made it; ``ids`` maps its export
    id to the new one."""
    posterior = _draws(row)
    created, known_at = _past_stamp(row, "created_at"), _past_stamp(row, "known_at")
    as_of = validate.past_date(parse_date(_required(row, "as_of")), "run as_of")
    fingerprint, seed = _required(row, "evidence_fingerprint"), validate.seed(_required(row, "seed"))
    for existing in session.exec(select(ForecastRun).where(ForecastRun.evidence_fingerprint == fingerprint,
                                                           ForecastRun.seed == seed)):
        if existing.created_at.replace(tzinfo=None) == created.replace(tzinfo=None):
            raise DuplicateError(f"run {row['run']} is already in the store as run {existing.id}")
    for name, kind in _JSON_KINDS.items():
        _json(row, name, kind)
    if not all(isinstance(slug, str) for slug in _json(row, "questions", list)):
        raise InputError("run 'questions' must be a list of question slugs")
    if _required(row, "converged") not in ("True", "False"):
        raise InputError(f"run 'converged' must be True or False, not {row['converged']!r}")
    run = ForecastRun(
        created_at=created, as_of=as_of, known_at=known_at, seed=seed, converged=row["converged"] == "True",
        elapsed_seconds=parse_number(_required(row, "elapsed_seconds"), "run elapsed_seconds", low=0.0),
        posterior=posterior, questions="", sampler="", settings="", code_version="", model_version="", config_hash="",
        evidence_fingerprint=fingerprint, evidence="", diagnostics="", reliabilities="",
    )
    for name in _TEXT:
        setattr(run, name, validate.text(_required(row, name), f"run {name}"))
    session.add(run)
    session.flush()
    assert run.id is not None  # set by the flush
    ids[_required(row, "run")] = run.id


_JSON_KINDS = {"questions": list, "settings": dict, "evidence": list, "diagnostics": dict, "reliabilities": list}
_HEADLINE_KEYS = {"checkpoints": dict, "not_within_horizon": float, "median": str, "intervals": dict}


def _json(row: dict, name: str, kind: type) -> Any:
    try:
        value = json.loads(_required(row, name), parse_constant=_no_constant)
    except ValueError as exc:
        raise InputError(f"{row['record']} {name!r} is not valid JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(value, kind):
        raise InputError(f"{row['record']} {name!r} must be a JSON {'list' if kind is list else 'object'}")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def _past_stamp(row: dict, name: str) -> dt.datetime:
    text = refuse_foreign_digits(_required(row, name), f"run {name}")
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"malformed run {name} {text!r}: expected an ISO 8601 timestamp") from None
    return validate.past_timestamp(stamp, f"run {name}")


def _draws(row: dict) -> bytes:
    """The run's draws as stored: base64 of an archive that reads back."""
    try:
        posterior = base64.b64decode(_required(row, "posterior"), validate=True)
        unpack(posterior)
    except binascii.Error:
        raise InputError(f"run {row.get('run')}: its draws are not valid base64") from None
    except Exception as exc:  # noqa: BLE001  (numpy and zipfile raise many kinds on a damaged archive)
        raise InputError(f"run {row.get('run')}: its draws cannot be read ({type(exc).__name__})") from None
    return posterior


def import_result(session: Session, row: dict, ids: dict[str, int]) -> None:
    """Store one exported result under its imported run, its distributions on the question's grid."""
    run_id = ids.get(_required(row, "run"))
    if run_id is None:
        raise InputError(f"result of run {row['run']} comes before (or without) its run")
    question = session.exec(select(Question).where(Question.slug == _required(row, "question"))).first()
    if question is None:
        raise InputError(f"result for unknown question {row['question']!r}")
    bins = parse_month(question.horizon_end) - parse_month(question.horizon_start) + 2  # months, then beyond
    _distribution(_json(row, "monthly", list), bins, "monthly", total=True)
    _distribution(_json(row, "prior_monthly", list), bins, "prior_monthly", total=True)
    for name, band in _json(row, "cdf_bands", dict).items():
        _distribution(band, bins, f"cdf_bands {name!r}", total=False)
    headline = _json(row, "headline", dict)
    for key, kind in _HEADLINE_KEYS.items():
        if not isinstance(headline.get(key), kind if kind is not float else (int, float)):
            raise InputError(f"result headline lacks {key!r} (or it is not a {kind.__name__})")
    assert question.id is not None
    session.add(ForecastResult(run_id=run_id, question_id=question.id, monthly=_required(row, "monthly"),
                               prior_monthly=_required(row, "prior_monthly"), cdf_bands=_required(row, "cdf_bands"),
                               headline=_required(row, "headline")))


def _distribution(values: object, bins: int, name: str, *, total: bool) -> None:
    if not isinstance(values, list) or len(values) != bins:
        raise InputError(f"result {name} must be a list of {bins} probabilities (the question's months and beyond)")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0 + 1e-9 for v in values):
        raise InputError(f"result {name} holds a value that is not a probability")
    if total and abs(sum(values) - 1.0) > 1e-6:
        raise InputError(f"result {name} sums to {sum(values):.6f}, not 1")
