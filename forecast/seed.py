"""``forecast init``: load the questions from ``priors/`` and the seed evidence from ``observations/``.

Idempotent: questions, experts and evidence already in the store are left alone.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from .claims import parse_claim
from .errors import DuplicateError, InputError, NotFoundError
from .evidence import add_expert, content_uid, log_observation, log_statement, question_by_slug
from .months import parse_date, parse_month
from .priors import QuestionSpec, load_priors
from .store.tables import Observation, Question, Statement

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_STATEMENT_KEYS = {"expert", "said_on", "date_precision", "quote", "source", "claim", "encoded",
                   "strength", "rationale", "probability"}
_OBSERVATION_KEYS = {"kind", "observed_on", "date_precision", "source", "note"}


@dataclass
class InitReport:
    """What ``init`` added."""

    questions: list[str] = field(default_factory=list)
    experts: list[str] = field(default_factory=list)
    statements: int = 0
    observations: int = 0


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None


def _ensure_question(session: Session, spec: QuestionSpec, report: InitReport) -> None:
    existing = session.exec(select(Question).where(Question.slug == spec.slug)).first()
    if existing is None:
        session.add(Question(
            slug=spec.slug, title=spec.title, criteria=spec.criteria, kind=spec.kind,
            horizon_start=spec.horizon_start, horizon_end=spec.horizon_end,
        ))
        session.flush()
        report.questions.append(spec.slug)
    elif (existing.horizon_start, existing.horizon_end) != (spec.horizon_start, spec.horizon_end):
        raise InputError(
            f"{spec.source}: horizon of {spec.slug!r} differs from the store's "
            f"({existing.horizon_start} to {existing.horizon_end}); create a new question instead"
        )


def _load_experts(session: Session, path: Path, report: InitReport) -> None:
    for entry in _read_toml(path).get("expert", []):
        try:
            add_expert(session, entry["name"], entry["kind"], entry.get("role", ""),
                       entry.get("affiliation", ""), entry.get("aliases", []), entry.get("notes", ""))
        except DuplicateError:
            continue
        except KeyError as exc:
            raise InputError(f"{path}: an expert entry lacks {exc.args[0]!r}") from None
        report.experts.append(entry["name"])


def _check_keys(entry: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}")


def _seed_statement(session: Session, question: str, entry: dict, where: str) -> bool:
    _check_keys(entry, _STATEMENT_KEYS, where)
    claim = parse_claim(entry["claim"])
    encoded = tuple(value or None for value in entry["encoded"])
    if encoded != claim.bounds(parse_month(question_by_slug(session, question).horizon_end)):
        raise InputError(f"{where}: 'encoded' {entry['encoded']} does not match claim {entry['claim']!r} ({claim.label()})")
    uid = content_uid(question, entry["expert"], entry["said_on"], entry["claim"], entry["quote"], entry["source"])
    if session.exec(select(Statement).where(Statement.uid == uid)).first():
        return False
    log_statement(
        session, question=question, expert=entry["expert"], said_on=parse_date(entry["said_on"]),
        claim=entry["claim"], quote=entry["quote"], source=entry["source"], strength=entry["strength"],
        probability=entry.get("probability"), rationale=entry["rationale"], date_precision=entry["date_precision"],
    )
    return True


def _seed_observation(session: Session, question: str, entry: dict, where: str) -> bool:
    _check_keys(entry, _OBSERVATION_KEYS, where)
    uid = content_uid(question, entry["kind"], entry["observed_on"], entry["source"], entry.get("note", ""))
    if session.exec(select(Observation).where(Observation.uid == uid)).first():
        return False
    log_observation(
        session, question=question, kind=entry["kind"], observed_on=parse_date(entry["observed_on"]),
        source=entry["source"], note=entry.get("note", ""), date_precision=entry["date_precision"],
    )
    return True


def _load_evidence(session: Session, path: Path, report: InitReport) -> None:
    data = _read_toml(path)
    question = data.get("question")
    if not question:
        raise InputError(f"{path}: missing top-level 'question'")
    try:
        for n, entry in enumerate(data.get("statement", []), 1):
            report.statements += _seed_statement(session, question, entry, f"{path}: statement {n}")
        for n, entry in enumerate(data.get("observation", []), 1):
            report.observations += _seed_observation(session, question, entry, f"{path}: observation {n}")
    except KeyError as exc:
        raise InputError(f"{path}: an entry lacks {exc.args[0]!r}") from None
    except NotFoundError as exc:
        raise InputError(f"{path}: {exc}") from None


def initialise(session: Session, priors_dir: Path | None = None, observations_dir: Path | None = None) -> InitReport:
    """Create the questions and load the seed experts and evidence (idempotent)."""
    priors = load_priors(priors_dir or PROJECT_ROOT / "priors")
    seed = observations_dir or PROJECT_ROOT / "observations"
    report = InitReport()
    for spec in priors.questions.values():
        _ensure_question(session, spec, report)
    _load_experts(session, seed / "experts.toml", report)
    for path in sorted(seed.glob("*.toml")):
        if path.name != "experts.toml":
            _load_evidence(session, path, report)
    return report
