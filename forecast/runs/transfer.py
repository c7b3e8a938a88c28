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

from sqlmodel import Session, col, select

from ..errors import DuplicateError, InputError
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
    """Store one exported run; ``ids`` maps its export id to the new one."""
    try:
        posterior = base64.b64decode(_required(row, "posterior"), validate=True)
    except binascii.Error:
        raise InputError("run draws are not valid base64") from None
    created = dt.datetime.fromisoformat(_required(row, "created_at"))
    fingerprint, seed = _required(row, "evidence_fingerprint"), int(_required(row, "seed"))
    for existing in session.exec(select(ForecastRun).where(ForecastRun.evidence_fingerprint == fingerprint,
                                                           ForecastRun.seed == seed)):
        if existing.created_at.replace(tzinfo=None) == created.replace(tzinfo=None):
            raise DuplicateError(f"run {row['run']} is already in the store as run {existing.id}")
    for name in ("questions", "settings", "evidence", "diagnostics", "reliabilities"):
        json.loads(_required(row, name))
    run = ForecastRun(
        created_at=created, as_of=dt.date.fromisoformat(_required(row, "as_of")),
        known_at=dt.datetime.fromisoformat(_required(row, "known_at")), seed=seed,
        converged=_required(row, "converged") == "True", elapsed_seconds=float(_required(row, "elapsed_seconds")),
        posterior=posterior, questions="", sampler="", settings="", code_version="", model_version="", config_hash="",
        evidence_fingerprint=fingerprint, evidence="", diagnostics="", reliabilities="",
    )
    for name in _TEXT:
        setattr(run, name, _required(row, name))
    session.add(run)
    session.flush()
    assert run.id is not None  # set by the flush
    ids[_required(row, "run")] = run.id


def import_result(session: Session, row: dict, ids: dict[str, int]) -> None:
    """Store one exported result under its imported run."""
    run_id = ids.get(_required(row, "run"))
    if run_id is None:
        raise InputError(f"result of run {row['run']} comes before (or without) its run")
    question = session.exec(select(Question).where(Question.slug == _required(row, "question"))).first()
    if question is None:
        raise InputError(f"result for unknown question {row['question']!r}")
    for name in RESULT_FIELDS[2:]:
        json.loads(_required(row, name))
    assert question.id is not None
    session.add(ForecastResult(run_id=run_id, question_id=question.id, monthly=_required(row, "monthly"),
                               prior_monthly=_required(row, "prior_monthly"), cdf_bands=_required(row, "cdf_bands"),
                               headline=_required(row, "headline")))
