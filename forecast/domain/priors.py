"""Priors as data: validate question definitions and reliability priors (TOML files or stored JSON).

Every number is written as ``{ value = ..., why = "one-line rationale" }``; a missing
rationale, an unknown key or a value out of range is a :class:`PriorError`.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..basics import validate
from ..basics.files import read_bounded
from ..basics.months import parse_month
from ..errors import InputError, PriorError
from ..store.vocab import EXPERT_KINDS, QUESTION_KINDS

HORIZON_EARLIEST, HORIZON_LATEST = "1900-01", "2199-12"  # evidence dates start in 1900 too
QUESTION_FILE_MAX_BYTES = 1024 * 1024  # a question or priors file (the largest casebook file is ~25 kB)

# key -> (low, high) inclusive bounds for numbers
_WEIGHTS = {"firm": (0.0, 10.0), "hedged": (0.0, 10.0), "half_life_years": (0.1, 100.0), "narrowness": (0.0, 1.0)}
# For reliability priors stored before the key existed: the bundled file's value.
_WEIGHTS_DEFAULTS = {"narrowness": {"value": 1.0, "why": "default"}}
_KIND = {"mean": (0.01, 0.99), "mean_sd_logit": (0.01, 5.0), "spread_logit": (0.01, 5.0)}
_EXPERT = {"mean": (0.01, 0.99), "sd_logit": (0.01, 5.0)}
_DEPENDENCE = {
    "restatement_correlation": (0.0, 1.0),
    "superseded": (0.0, 1.0),
    "affiliation_correlation": (0.0, 0.99),
    "affiliation_correlation_sd": (0.0, 0.45),
}
# For reliability priors stored before the [dependence] table existed: the bundled file's values.
_DEPENDENCE_DEFAULTS = {
    "restatement_correlation": {"value": 0.9, "why": "default"},
    "superseded": {"value": 0.0, "why": "default"},
    "affiliation_correlation": {"value": 0.5, "why": "default"},
    "affiliation_correlation_sd": {"value": 0.2, "why": "default"},
}
_DATE_PRIOR = {
    "annual_hazard": (0.001, 0.99),
    "hazard_sd_logit": (0.01, 5.0),
    "trend_per_year": (-3.0, 3.0),
    "trend_sd": (0.01, 3.0),
    "lapse_probability": (0.0, 0.95),
}
# For a date prior written or stored before lapse_probability existed: every announcement is acted on in time.
_DATE_PRIOR_DEFAULTS = {"lapse_probability": {"value": 0.0, "why": "default"}}
_NOTICE = {
    "compliance_mean": (0.01, 0.99),
    "months": (0, 120),
    "lag_after_notice_months": (0.1, 120.0),
    "bind_probability": (0.01, 1.0),
}
# The bundled recipe's bind probability (a test keeps them equal), for what has no notice table of its own: a
# recipe file or a question stored before the key existed, and a stated effective date on a question without a
# notice rule.
DEFAULT_BIND_PROBABILITY = 0.9
_NOTICE_DEFAULTS = {"bind_probability": {"value": DEFAULT_BIND_PROBABILITY, "why": "default"}}
_QUESTION = ("slug", "title", "kind", "horizon_start", "horizon_end", "criteria")
_QUESTION_OPTIONAL = {"event": str, "tags": list, "trigger": str, "public_event": bool, "precluded_by": str,
                      "review_every": int}
DEFAULT_REVIEW_EVERY = 90  # days without evidence before `forecast status` says a question is due for review
REVIEW_EVERY_RANGE = (1, 3650)
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
DEFAULT_RECIPE = "announced-exit"


@dataclass(frozen=True)
class QuestionSpec:
    """A question with its date prior and (optional) notice rule."""

    slug: str
    title: str
    kind: str
    horizon_start: str
    horizon_end: str
    criteria: str
    date_prior: dict[str, float]
    notice: dict[str, Any] | None = None  # months, compliance_mean, lag_after_notice_months, earliest (YYYY-MM or None)
    source: str = ""
    event: str = "The event happens"
    tags: tuple[str, ...] = ()
    trigger: str = ""
    public_event: bool = True
    precluded_by: str | None = None
    review_every: int = DEFAULT_REVIEW_EVERY  # days


@dataclass(frozen=True)
class ReliabilityPriors:
    """Statement weights, dependence between statements, reliability priors by kind and per-expert overrides."""

    weights: dict[str, float]
    kinds: dict[str, dict[str, float]]
    experts: dict[str, dict[str, float]] = field(default_factory=dict)
    dependence: dict[str, float] = field(
        default_factory=lambda: {k: float(v["value"]) for k, v in _DEPENDENCE_DEFAULTS.items()})


@dataclass(frozen=True)
class Priors:
    """Question definitions and reliability priors, from the store or from files."""

    questions: dict[str, QuestionSpec]
    reliability: ReliabilityPriors
    prior_set: str = "hand-set"  # the prior set applied (domain/prior_sets.py)
    learned_from: tuple[str, ...] = ()  # the questions whose outcomes that set was learned from


def _numbers(table: Any, spec: dict[str, tuple[float, float]], where: str,
             defaults: dict[str, Any] | None = None) -> dict[str, float]:
    if not isinstance(table, dict):
        raise PriorError(f"{where}: expected a table")
    unknown = sorted(set(table) - set(spec))
    if unknown:
        raise PriorError(f"{where}: unknown key {unknown[0]!r} (expected one of {', '.join(spec)})")
    table = {**(defaults or {}), **table}
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


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; unreadable or invalid files are a PriorError naming the file."""
    try:
        raw = read_bounded(path, "file", QUESTION_FILE_MAX_BYTES)
    except InputError as exc:
        raise PriorError(str(exc)) from None
    return _toml_of(raw, str(path))


def _toml_of(raw: bytes, where: str) -> dict[str, Any]:
    """A TOML file's bytes as a dict; invalid UTF-8 or TOML is a PriorError naming the file ``where``."""
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PriorError(f"{where}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise PriorError(f"{where}: cannot read: {exc}") from None


QUESTION_TABLES = {"question", "date_prior", "notice", "treaty"}


def _check_tables(data: dict[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(data) - QUESTION_TABLES)
    if unknown:
        raise InputError(f"{where}: unknown table {unknown[0]!r} (a question file has [question], [date_prior], [notice])")
    return data


def read_question_file(path: Path) -> dict[str, Any]:
    """A question file (as `forecast question add` takes it) as a dict; invalid TOML or an unknown table is an
    error naming the file."""
    return _check_tables(read_toml(path), str(path))


def parse_question_file(text: str, where: str) -> dict[str, Any]:
    """A question file's text as :func:`read_question_file` reads it (``where`` names it in errors)."""
    if len(text.encode("utf-8")) > QUESTION_FILE_MAX_BYTES:
        raise PriorError(f"{where}: over {QUESTION_FILE_MAX_BYTES} bytes")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PriorError(f"{where}: invalid TOML: {exc}") from None
    return _check_tables(data, where)


def parse_question_bytes(raw: bytes, where: str) -> dict[str, Any]:
    """A question file's bytes (an upload named ``where``) as :func:`read_question_file` reads the file."""
    if len(raw) > QUESTION_FILE_MAX_BYTES:
        raise PriorError(f"file {where!r} is {len(raw):,} bytes; the limit is {QUESTION_FILE_MAX_BYTES:,}")
    return _check_tables(_toml_of(raw, where), where)


_read = read_toml


def _expect_keys(data: dict[str, Any], keys: set[str], where: str, optional: set[str] = frozenset()) -> None:
    unknown = sorted(set(data) - keys - optional)
    if unknown:
        raise PriorError(f"{where}: unknown key {unknown[0]!r} (expected {', '.join(sorted(keys | optional))})")
    missing = sorted(keys - set(data))
    if missing:
        raise PriorError(f"{where}: missing key {missing[0]!r}")


def _question_fields(question: Any, where: str) -> dict[str, Any]:
    if not isinstance(question, dict):
        raise PriorError(f"{where}: [question] must be a table")
    _expect_keys(question, set(_QUESTION), f"{where}: [question]", set(_QUESTION_OPTIONAL))
    for key in _QUESTION:
        if not isinstance(question[key], str) or not question[key].strip():
            raise PriorError(f"{where}: [question] {key} must be non-empty text")
    for key in ("title", "criteria", "event", "trigger"):
        if key in question:
            try:
                validate.text(question[key], key)
            except InputError as exc:
                raise PriorError(f"{where}: [question] {exc}") from None
    for key, kind in _QUESTION_OPTIONAL.items():
        if key in question and (not isinstance(question[key], kind) or (kind is int and isinstance(question[key], bool))):
            raise PriorError(f"{where}: [question] {key} must be {kind.__name__}")
    low, high = REVIEW_EVERY_RANGE
    if not low <= question.get("review_every", DEFAULT_REVIEW_EVERY) <= high:
        raise PriorError(f"{where}: [question] review_every is a number of days from {low} to {high}, "
                         f"not {question['review_every']}")
    if not _SLUG_RE.match(question["slug"]):
        raise PriorError(f"{where}: [question] slug {question['slug']!r} must be lower-case letters, digits and hyphens")
    if question["kind"] not in QUESTION_KINDS:
        raise PriorError(f"{where}: [question] kind {question['kind']!r} is not supported (expected one of {', '.join(QUESTION_KINDS)})")
    tags = question.get("tags", [])
    if not all(isinstance(t, str) and _SLUG_RE.match(t) for t in tags):
        raise PriorError(f"{where}: [question] tags must be lower-case words (letters, digits, hyphens)")
    try:
        start, end = parse_month(question["horizon_start"]), parse_month(question["horizon_end"])
    except Exception as exc:  # noqa: BLE001 - reported with the file name
        raise PriorError(f"{where}: [question] {exc}") from None
    if end < start:
        raise PriorError(f"{where}: [question] horizon ends before it starts")
    if end - start > 12 * 100:
        raise PriorError(f"{where}: [question] a horizon longer than 100 years is not supported")
    if start < parse_month(HORIZON_EARLIEST) or end > parse_month(HORIZON_LATEST):
        raise PriorError(f"{where}: [question] the horizon must lie between {HORIZON_EARLIEST} and {HORIZON_LATEST}")
    if question.get("precluded_by") == question["slug"]:
        raise PriorError(f"{where}: [question] precluded_by names the question itself")
    return question


def _notice(data: dict[str, Any], where: str, recipe: dict[str, Any]) -> dict[str, Any] | None:
    if "treaty" in data and "notice" in data:
        raise PriorError(f"{where}: [treaty] is the old name of [notice]; give one of them, not both")
    if "treaty" in data:  # the name used before 0.2
        table = dict(data["treaty"])
        if "notice_months" in table:
            table["months"] = table.pop("notice_months")
        key = "treaty"
    elif "notice" in data:
        table, key = dict(data["notice"]), "notice"
    else:
        return None
    earliest = table.pop("earliest", None)
    defaults = _NOTICE_DEFAULTS | recipe.get("notice", {})
    notice: dict[str, Any] = _numbers(table, _NOTICE, f"{where}: [{key}]", defaults)
    if earliest is not None:
        try:
            parse_month(str(earliest))
        except Exception:  # noqa: BLE001
            raise PriorError(f"{where}: [{key}] earliest {earliest!r} must be a month YYYY-MM") from None
    notice["earliest"] = earliest
    return notice


def parse_question(data: dict[str, Any], where: str, recipes: dict[str, dict] | None = None) -> QuestionSpec:
    """Validate a question definition (a question file's tables); a missing [date_prior] takes the default recipe."""
    _expect_keys(data, {"question"}, where, {"date_prior", "treaty", "notice"})
    question = _question_fields(data["question"], where)
    recipe = (recipes if recipes is not None else load_recipes())[DEFAULT_RECIPE]
    date_prior, defaults = data.get("date_prior"), None
    if isinstance(date_prior, dict) and "recipe" in date_prior:  # the recipe, with any numbers the file sets itself
        if date_prior["recipe"] != DEFAULT_RECIPE:
            raise PriorError(f"{where}: [date_prior] unknown recipe {date_prior['recipe']!r} (known: {DEFAULT_RECIPE})")
        date_prior, defaults = {k: v for k, v in date_prior.items() if k != "recipe"}, recipe["date_prior"]
    return QuestionSpec(
        **{key: question[key].strip() for key in _QUESTION},
        date_prior=_numbers(recipe["date_prior"] if date_prior is None else date_prior, _DATE_PRIOR,
                            f"{where}: [date_prior]", {**_DATE_PRIOR_DEFAULTS, **(defaults or {})}),
        notice=_notice(data, where, recipe), source=where, event=question.get("event", "The event happens"),
        tags=tuple(question.get("tags", [])), trigger=question.get("trigger", ""),
        public_event=question.get("public_event", True), precluded_by=question.get("precluded_by"),
        review_every=question.get("review_every", DEFAULT_REVIEW_EVERY),
    )


def question_definition(spec: QuestionSpec) -> dict[str, Any]:
    """A spec back in the shape of a question file (numbers with their rationale are not kept: values only)."""
    return {k: v for k, v in asdict(spec).items() if k != "source"}


def spec_from_definition(definition: dict[str, Any]) -> QuestionSpec:
    """The spec stored with a question (see :func:`question_definition`); a notice rule stored before
    ``bind_probability`` existed takes the bundled recipe's value, a date prior stored before ``lapse_probability``
    existed none."""
    notice = definition.get("notice")
    if notice is not None and "bind_probability" not in notice:
        notice = {**notice, "bind_probability": DEFAULT_BIND_PROBABILITY}
    date_prior = {k: float(v["value"]) for k, v in _DATE_PRIOR_DEFAULTS.items()} | definition["date_prior"]
    return QuestionSpec(**{**definition, "date_prior": date_prior, "notice": notice,
                           "tags": tuple(definition.get("tags", ()))})


def load_question(path: Path) -> QuestionSpec:
    """Load and validate one question file."""
    return parse_question(read_toml(path), str(path))


def data_dir(name: str) -> Path:
    """A bundled data directory (priors, observations, casebook): inside the package when installed, else the repository's."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_data" / name
    return packaged if packaged.is_dir() else package.parent / name


def load_recipes(path: Path | None = None) -> dict[str, dict]:
    """The named date-prior recipes (``priors/recipes.toml``)."""
    data = read_toml(path or data_dir("priors") / "recipes.toml")
    recipes = data.get("recipe", {})
    if DEFAULT_RECIPE not in recipes:
        raise PriorError(f"{path or 'priors/recipes.toml'}: no [recipe.{DEFAULT_RECIPE}]")
    for name, recipe in recipes.items():
        _numbers(recipe.get("date_prior"), _DATE_PRIOR, f"recipes: [recipe.{name}.date_prior]", _DATE_PRIOR_DEFAULTS)
        _partial(recipe.get("notice", {}), _NOTICE, f"recipes: [recipe.{name}.notice]")
    return recipes


def _partial(table: Any, spec: dict[str, tuple[float, float]], where: str) -> None:
    """Check a table of defaults: known keys, each a number with its rationale and in range (none required)."""
    if not isinstance(table, dict):
        raise PriorError(f"{where}: expected a table")
    unknown = sorted(set(table) - set(spec))
    if unknown:
        raise PriorError(f"{where}: unknown key {unknown[0]!r} (expected one of {', '.join(spec)})")
    for key, entry in table.items():
        _number(entry, spec[key], f"{where}.{key}")


def load_reliability(path: Path) -> ReliabilityPriors:
    """Load and validate the reliability priors file."""
    return parse_reliability(read_toml(path), str(path))


def parse_reliability(data: dict[str, Any], path: str) -> ReliabilityPriors:
    """Validate reliability priors given as the tables of ``reliability.toml``."""
    _expect_keys(data, {"weights", "kinds", "experts"}, str(path), {"dependence"})
    kinds = data["kinds"]
    missing = sorted(set(EXPERT_KINDS) - set(kinds))
    if missing:
        raise PriorError(f"{path}: [kinds] has no prior for expert kind {missing[0]!r}")
    unknown = sorted(set(kinds) - set(EXPERT_KINDS))
    if unknown:
        raise PriorError(f"{path}: unknown expert kind {unknown[0]!r} (expected {', '.join(EXPERT_KINDS)})")
    return ReliabilityPriors(
        weights=_numbers(data["weights"], _WEIGHTS, f"{path}: [weights]", _WEIGHTS_DEFAULTS),
        kinds={k: _numbers(v, _KIND, f"{path}: [kinds.{k}]") for k, v in kinds.items()},
        experts={n: _numbers(v, _EXPERT, f"{path}: [experts.{n!r}]") for n, v in data["experts"].items()},
        dependence=_dependence(data.get("dependence", {}), f"{path}: [dependence]"),
    )


def _dependence(table: Any, where: str) -> dict[str, float]:
    numbers = _numbers(table, _DEPENDENCE, where, _DEPENDENCE_DEFAULTS)
    mean, sd = numbers["affiliation_correlation"], numbers["affiliation_correlation_sd"]
    if sd > 0 and sd**2 >= mean * (1 - mean):
        raise PriorError(f"{where}: affiliation_correlation_sd {sd} is too large for a correlation of mean {mean} "
                         f"(a Beta needs sd < {math.sqrt(mean * (1 - mean)):.3f})")
    return numbers


def load_priors(directory: Path) -> Priors:
    """Load ``reliability.toml`` and every ``questions/*.toml`` under ``directory``."""
    questions: dict[str, QuestionSpec] = {}
    recipes = load_recipes(directory / "recipes.toml" if (directory / "recipes.toml").exists() else None)
    for path in sorted((directory / "questions").glob("*.toml")):
        spec = parse_question(read_toml(path), str(path), recipes)
        if spec.slug in questions:
            raise PriorError(f"{path}: question {spec.slug!r} is defined twice")
        questions[spec.slug] = spec
    if not questions:
        raise PriorError(f"{directory}: no question files under questions/")
    return Priors(questions=questions, reliability=load_reliability(directory / "reliability.toml"))
