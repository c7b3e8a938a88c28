"""Priors as data: load and validate the TOML files under ``priors/``.

Every number is written as ``{ value = ..., why = "one-line rationale" }``; a missing
rationale, an unknown key or a value out of range is a :class:`PriorError`.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PriorError
from .months import parse_month
from .store.tables import EXPERT_KINDS
from .validate import SLUG_RE

# key -> (low, high) inclusive bounds for numbers
_WEIGHTS = {"firm": (0.0, 10.0), "hedged": (0.0, 10.0), "half_life_years": (0.1, 100.0)}
_KIND = {"mean": (0.01, 0.99), "mean_sd_logit": (0.01, 5.0), "spread_logit": (0.01, 5.0)}
_EXPERT = {"mean": (0.01, 0.99), "sd_logit": (0.01, 5.0)}
_DATE_PRIOR = {
    "annual_hazard": (0.001, 0.99),
    "hazard_sd_logit": (0.01, 5.0),
    "trend_per_year": (-3.0, 3.0),
    "trend_sd": (0.01, 3.0),
}
_TREATY = {
    "compliance_mean": (0.01, 0.99),
    "notice_months": (0, 60),
    "lag_after_notice_months": (0.1, 120.0),
}
_QUESTION = ("slug", "title", "kind", "horizon_start", "horizon_end", "criteria")


@dataclass(frozen=True)
class QuestionSpec:
    """A question with its date prior and treaty prior."""

    slug: str
    title: str
    kind: str
    horizon_start: str
    horizon_end: str
    criteria: str
    date_prior: dict[str, float]
    treaty: dict[str, float]
    source: str = ""
    event: str = "The event happens"


@dataclass(frozen=True)
class ReliabilityPriors:
    """Statement weights and reliability priors by expert kind, with per-expert overrides."""

    weights: dict[str, float]
    kinds: dict[str, dict[str, float]]
    experts: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Priors:
    """Everything under ``priors/``."""

    questions: dict[str, QuestionSpec]
    reliability: ReliabilityPriors


def _numbers(table: Any, spec: dict[str, tuple[float, float]], where: str) -> dict[str, float]:
    if not isinstance(table, dict):
        raise PriorError(f"{where}: expected a table")
    unknown = sorted(set(table) - set(spec))
    if unknown:
        raise PriorError(f"{where}: unknown key {unknown[0]!r} (expected one of {', '.join(spec)})")
    missing = sorted(set(spec) - set(table))
    if missing:
        raise PriorError(f"{where}: missing key {missing[0]!r}")
    return {key: _number(table[key], spec[key], f"{where}.{key}") for key in spec}


def _number(entry: Any, bounds: tuple[float, float], where: str) -> float:
    if not isinstance(entry, dict) or set(entry) != {"value", "why"}:
        raise PriorError(f'{where}: write numbers as {{ value = ..., why = "rationale" }}')
    value, why = entry["value"], entry["why"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PriorError(f"{where}: value {value!r} is not a number")
    if not isinstance(why, str) or not why.strip():
        raise PriorError(f"{where}: every number needs a one-line rationale in 'why'")
    low, high = bounds
    if not low <= value <= high:
        raise PriorError(f"{where}: value {value} is outside [{low}, {high}]")
    return float(value)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PriorError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise PriorError(f"{path}: cannot read: {exc.strerror}") from None


def _expect_keys(data: dict[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise PriorError(f"{where}: unknown key {unknown[0]!r} (expected {', '.join(sorted(keys))})")
    missing = sorted(keys - set(data))
    if missing:
        raise PriorError(f"{where}: missing key {missing[0]!r}")


def load_question(path: Path) -> QuestionSpec:
    """Load and validate one question file."""
    data = _read(path)
    _expect_keys(data, {"question", "date_prior", "treaty"}, str(path))
    question = dict(data["question"])
    event = str(question.pop("event", "The event happens"))
    _expect_keys(question, set(_QUESTION), f"{path}: [question]")
    if not SLUG_RE.fullmatch(str(question["slug"])):
        raise PriorError(f"{path}: [question] malformed slug {question['slug']!r}: "
                         "use lower-case letters, digits and '-'")
    if question["kind"] != "date":
        raise PriorError(f"{path}: [question] kind {question['kind']!r} is not supported (only 'date')")
    try:
        start, end = parse_month(question["horizon_start"]), parse_month(question["horizon_end"])
    except Exception as exc:  # noqa: BLE001 - reported with the file name
        raise PriorError(f"{path}: [question] {exc}") from None
    if end < start:
        raise PriorError(f"{path}: [question] horizon ends before it starts")
    return QuestionSpec(
        **{key: str(question[key]) for key in _QUESTION},
        date_prior=_numbers(data["date_prior"], _DATE_PRIOR, f"{path}: [date_prior]"),
        treaty=_numbers(data["treaty"], _TREATY, f"{path}: [treaty]"),
        source=str(path),
        event=event,
    )


def load_reliability(path: Path) -> ReliabilityPriors:
    """Load and validate the reliability priors file."""
    data = _read(path)
    _expect_keys(data, {"weights", "kinds", "experts"}, str(path))
    kinds = data["kinds"]
    missing = sorted(set(EXPERT_KINDS) - set(kinds))
    if missing:
        raise PriorError(f"{path}: [kinds] has no prior for expert kind {missing[0]!r}")
    unknown = sorted(set(kinds) - set(EXPERT_KINDS))
    if unknown:
        raise PriorError(f"{path}: unknown expert kind {unknown[0]!r} (expected {', '.join(EXPERT_KINDS)})")
    return ReliabilityPriors(
        weights=_numbers(data["weights"], _WEIGHTS, f"{path}: [weights]"),
        kinds={k: _numbers(v, _KIND, f"{path}: [kinds.{k}]") for k, v in kinds.items()},
        experts={n: _numbers(v, _EXPERT, f"{path}: [experts.{n!r}]") for n, v in data["experts"].items()},
    )


def load_priors(directory: Path) -> Priors:
    """Load ``reliability.toml`` and every ``questions/*.toml`` under ``directory``."""
    questions: dict[str, QuestionSpec] = {}
    for path in sorted((directory / "questions").glob("*.toml")):
        spec = load_question(path)
        if spec.slug in questions:
            raise PriorError(f"{path}: question {spec.slug!r} is defined twice")
        questions[spec.slug] = spec
    if not questions:
        raise PriorError(f"{directory}: no question files under questions/")
    return Priors(questions=questions, reliability=load_reliability(directory / "reliability.toml"))
