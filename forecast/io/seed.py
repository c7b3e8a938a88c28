"""``forecast init``: store the bundled questions and priors, the seed evidence and (optionally) the casebook.

Evidence files (``observations/*.toml``, ``casebook/*.toml``) hold ``[[expert]]``, ``[[statement]]`` and
``[[observation]]`` tables; a casebook file also holds its question and its ``[resolution]``.
Idempotent: questions, experts and evidence already in the store are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from ..basics.months import parse_date, parse_month
from ..claims import parse_claim
from ..domain.evidence import add_expert, content_uid, log_observation, log_statement
from ..domain.prior_sets import add_set, prior_sets, shipped_set
from ..domain.priors import data_dir, read_toml
from ..domain.questions import add_question, check_precluders, question_by_slug, set_reliability_priors
from ..errors import DuplicateError, ForecastError, InputError, NotFoundError, PriorError
from ..store.tables import Observation, Statement
from ..store.vocab import canonical_observation_kind

_STATEMENT_KEYS = {"expert", "said_on", "date_precision", "quote", "quote_kind", "source", "url", "claim", "encoded",
                   "strength", "rationale", "probability"}
_OBSERVATION_KEYS = {"kind", "observed_on", "date_precision", "source", "url", "note", "effective_on"}
_EXPERT_KEYS = {"name", "kind", "role", "affiliation", "aliases", "notes"}
_FILE_KEYS = {"question", "expert", "statement", "observation", "resolution", "notice", "date_prior"}


@dataclass
class InitReport:
    """What ``init`` added."""

    questions: list[str] = field(default_factory=list)
    experts: list[str] = field(default_factory=list)
    statements: int = 0
    observations: int = 0


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return read_toml(path)
    except PriorError as exc:
        raise InputError(str(exc)) from None


def _load_experts(session: Session, entries: list[dict], where: Path, report: InitReport) -> None:
    for n, entry in enumerate(entries, 1):
        _check_keys(entry, _EXPERT_KEYS, f"{where}: expert {n}")
        try:
            add_expert(session, entry["name"], entry["kind"], entry.get("role", ""),
                       entry.get("affiliation", ""), entry.get("aliases", []), entry.get("notes", ""))
        except DuplicateError:
            continue
        except KeyError as exc:
            raise InputError(f"{where}: expert {n} lacks {exc.args[0]!r}") from None
        report.experts.append(entry["name"])


def _check_keys(entry: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}")


def _seed_statement(session: Session, question: str, entry: dict, where: str) -> bool:
    _check_keys(entry, _STATEMENT_KEYS, where)
    if "encoded" in entry:
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
        quote_kind=entry.get("quote_kind", "verbatim"), url=entry.get("url", ""), restatement=True,
    )
    return True


def _seed_observation(session: Session, question: str, entry: dict, where: str) -> bool:
    _check_keys(entry, _OBSERVATION_KEYS, where)
    kind = canonical_observation_kind(entry["kind"])
    uid = content_uid(question, kind, entry["observed_on"], entry["source"], entry.get("note", ""))
    if session.exec(select(Observation).where(Observation.uid == uid)).first():
        return False
    effective = entry.get("effective_on")
    log_observation(
        session, question=question, kind=kind, observed_on=parse_date(entry["observed_on"]),
        source=entry["source"], note=entry.get("note", ""), date_precision=entry["date_precision"],
        url=entry.get("url", ""), effective_on=parse_date(effective) if effective else None,
    )
    return True


def _load_rows(session: Session, question: str, data: dict, path: Path, report: InitReport) -> None:
    try:
        _load_experts(session, data.get("expert", []), path, report)
        for n, entry in enumerate(data.get("statement", []), 1):
            report.statements += _seed_statement(session, question, entry, f"{path}: statement {n}")
        for n, entry in enumerate(data.get("observation", []), 1):
            report.observations += _seed_observation(session, question, entry, f"{path}: observation {n}")
    except KeyError as exc:
        raise InputError(f"{path}: an entry lacks {exc.args[0]!r}") from None
    except (NotFoundError, InputError) as exc:
        message = str(exc)
        raise InputError(message if message.startswith(str(path)) else f"{path}: {message}") from None


def _load_evidence(session: Session, path: Path, report: InitReport) -> None:
    data = _read_toml(path)
    question = data.get("question")
    if not isinstance(question, str) or not question:
        raise InputError(f"{path}: missing top-level 'question' (the slug the evidence is about)")
    _load_rows(session, question, data, path, report)


def load_casebook_file(session: Session, path: Path, report: InitReport) -> None:
    """One casebook file: its question (priors by the default recipe unless given), evidence and resolution."""
    from ..scoring.resolution import resolve

    data = _read_toml(path)
    _check_keys(data, _FILE_KEYS, str(path))
    raw = {k: data[k] for k in ("question", "notice", "date_prior") if k in data}
    question, outcome = add_question(session, raw, str(path), note="casebook", precluder_later=True)
    if outcome == "added":
        report.questions.append(question.slug)
    _load_rows(session, question.slug, data, path, report)
    resolution = data.get("resolution")
    if resolution and question.status == "open":
        outcome_text = str(resolution.get("outcome", ""))
        source = " ".join(p for p in (resolution.get("source", ""), resolution.get("url", "")) if p)
        try:
            if outcome_text == "not-within-horizon":
                resolve(session, question.slug, not_within_horizon=True, source=source)
            else:
                resolve(session, question.slug, month=outcome_text, source=source)
        except ForecastError as exc:
            raise InputError(f"{path}: [resolution] {exc}") from None


def initialise(session: Session, priors_dir: Path | None = None, observations_dir: Path | None = None,
               casebook_dir: Path | None = None, casebook: bool = False, empty: bool = False) -> InitReport:
    """Store the bundled priors and questions, load the seed evidence and, optionally, the casebook (idempotent).

    The prior set shipped in the priors directory (``learned.json``, learned from the casebook) is put
    in force in a store that has none yet.
    With ``empty``: the reliability priors only (and the casebook if asked), for a store of one's own questions.
    """
    if empty and observations_dir is not None:
        raise InputError("give --empty or --observations, not both: an empty store loads no seed evidence")
    priors = priors_dir or data_dir("priors")
    seed = observations_dir or data_dir("observations")
    report = InitReport()
    set_reliability_priors(session, priors / "reliability.toml")
    shipped = shipped_set(priors)
    if shipped is not None and not prior_sets(session):  # a store's own prior sets are never replaced
        add_set(session, shipped["values"], {**shipped.get("provenance", {}), "shipped": True})
    if not empty:
        _load_seed(session, priors, seed, report)
    if casebook or casebook_dir:
        files = sorted((casebook_dir or data_dir("casebook")).glob("*.toml"))
        if not files:
            raise InputError(f"no casebook files (*.toml) in {str(casebook_dir)!r}")
        for path in files:
            load_casebook_file(session, path, report)
    check_precluders(session, report.questions)
    return report


def _load_seed(session: Session, priors: Path, seed: Path, report: InitReport) -> None:
    for path in sorted((priors / "questions").glob("*.toml")):
        question, outcome = add_question(session, _read_toml(path), str(path), precluder_later=True)
        if outcome == "added":
            report.questions.append(question.slug)
    if (seed / "experts.toml").exists():
        _load_experts(session, _read_toml(seed / "experts.toml").get("expert", []), seed / "experts.toml", report)
    for path in sorted(seed.glob("*.toml")):
        if path.name != "experts.toml":
            _load_evidence(session, path, report)
