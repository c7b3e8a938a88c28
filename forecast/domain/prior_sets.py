"""Prior sets: the shared hyperparameters every question takes unless its own file sets them, hand-set or learned.

A prior set is a flat table of values (``weights.firm``, ``kinds.official.mean``, ``recipe.annual_hazard``,
``notice.bind_probability``, ...) with its provenance. The store keeps every set it was given, in order, in
the ``store_setting`` row ``prior_sets``; the last is in force. Applying a set replaces the statement weights
and each expert kind's reliability mean, and, in every question whose file left them to the announced-exit
recipe, the hazard level and trend and the notice rule's compliance, lag and bind probability. A value a
question file gives itself is never replaced.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlmodel import Session

from ..errors import InputError, PriorError
from ..store.tables import StoreSetting
from ..store.vocab import EXPERT_KINDS
from .priors import Priors, QuestionSpec, data_dir

PRIOR_SETS_KEY = "prior_sets"
HAND_SET = "hand-set"
SHIPPED_FILE = "learned.json"  # in the bundled priors directory: the set learned from the whole casebook

# name -> (low, high): the ranges priors.py allows (bind probability below 1: a sure notice is not learned)
LEARNABLE: dict[str, tuple[float, float]] = {
    "weights.firm": (0.05, 10.0),
    "weights.hedged": (0.05, 10.0),
    "weights.half_life_years": (0.1, 100.0),
    "recipe.annual_hazard": (0.001, 0.99),
    "recipe.trend_per_year": (-3.0, 3.0),
    "recipe.lapse_probability": (0.0, 0.95),
    "notice.compliance_mean": (0.01, 0.99),
    "notice.lag_after_notice_months": (0.1, 120.0),
    "notice.bind_probability": (0.01, 0.999),
    **{f"kinds.{kind}.mean": (0.01, 0.99) for kind in EXPERT_KINDS},
}
# The groups `forecast learn --values` names: a learnable prior's first part. By default only the date prior's
# recipe and the notice rule are learned: on the casebook's development half, scored leave-one-question-out,
# learning the statement weights and the kinds' reliabilities as well scored worse (mean log score -1.567
# against -1.514; backtested, mean RPS 6.69 against 5.98 months): 25 questions teach them what carried-out
# exits look like, and lapsed threats pay for it (docs/learning.md).
GROUPS = ("recipe", "notice", "weights", "kinds")
DEFAULT_GROUPS = ("recipe", "notice")
_NOTICE_KEYS = ("compliance_mean", "lag_after_notice_months", "bind_probability")
RECIPE_KEYS = ("annual_hazard", "trend_per_year", "lapse_probability")  # the date-prior numbers a prior set learns


def check_values(values: dict[str, Any], where: str) -> dict[str, float]:
    """A set's values: known names, numbers within their ranges."""
    out = {}
    for name, value in values.items():
        if name not in LEARNABLE:
            raise PriorError(f"{where}: unknown prior {name!r} (expected one of {', '.join(LEARNABLE)})")
        low, high = LEARNABLE[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise PriorError(f"{where}: {name} = {value!r} is not a number in [{low}, {high}]")
        out[name] = float(value)
    return out


def hand_set_values(priors: Priors, recipe: dict[str, dict]) -> dict[str, float]:
    """The hand-set value of every learnable prior: the reliability priors and the announced-exit recipe."""
    values = {f"weights.{k}": v for k, v in priors.reliability.weights.items()}
    values |= {f"kinds.{k}.mean": v["mean"] for k, v in priors.reliability.kinds.items()}
    values |= {f"recipe.{k}": float(recipe["date_prior"][k]["value"]) for k in RECIPE_KEYS}
    values |= {f"notice.{k}": float(recipe["notice"][k]["value"]) for k in _NOTICE_KEYS}
    return values


def label(prior_set: dict[str, Any] | None) -> str:
    """How runs and `question show` name a set: ``hand-set`` or ``learned v3``."""
    if prior_set is None or not prior_set.get("values"):
        return HAND_SET if prior_set is None else f"{HAND_SET} v{prior_set['version']}"
    return f"learned v{prior_set['version']}"


def _left_to_recipe(raw: dict[str, Any]) -> set[str]:
    """The date-prior numbers a question's file leaves to the recipe: all without a [date_prior], those it does
    not set beside ``recipe = ...``, none when it sets its own numbers."""
    date_prior = raw.get("date_prior")
    if date_prior is None:
        return set(RECIPE_KEYS)
    if isinstance(date_prior, dict) and "recipe" in date_prior:
        return set(RECIPE_KEYS) - set(date_prior)
    return set()


def _question(spec: QuestionSpec, raw: dict[str, Any] | None, values: dict[str, float]) -> QuestionSpec:
    """A question with the set's values where its file left them to the recipe (a question without a stored
    file keeps its own numbers)."""
    if raw is None:
        return spec
    changes: dict[str, Any] = {}
    left = _left_to_recipe(raw)
    if left:
        recipe = {k: values[f"recipe.{k}"] for k in sorted(left) if f"recipe.{k}" in values}
        changes["date_prior"] = {**spec.date_prior, **recipe}
    if spec.notice is not None:
        own = raw.get("notice", raw.get("treaty", {}))
        notice = {k: values[f"notice.{k}"] for k in _NOTICE_KEYS if k not in own and f"notice.{k}" in values}
        changes["notice"] = {**spec.notice, **notice}
    return replace(spec, **changes)


def apply_values(priors: Priors, raw_files: dict[str, dict | None], values: dict[str, float],
                 name: str = HAND_SET, learned_from: tuple[str, ...] = ()) -> Priors:
    """``priors`` (hand-set) with a set's ``values`` applied; ``raw_files``: each question's file as stored."""
    reliability = priors.reliability
    weights = {k: values.get(f"weights.{k}", v) for k, v in reliability.weights.items()}
    kinds = {k: {**v, "mean": values.get(f"kinds.{k}.mean", v["mean"])} for k, v in reliability.kinds.items()}
    questions = {slug: _question(spec, raw_files.get(slug), values) for slug, spec in priors.questions.items()}
    return Priors(questions=questions, reliability=replace(reliability, weights=weights, kinds=kinds),
                  prior_set=name, learned_from=learned_from)


def prior_sets(session: Session) -> list[dict[str, Any]]:
    """Every prior set the store was given, oldest first (empty: hand-set priors only)."""
    row = session.get(StoreSetting, PRIOR_SETS_KEY)
    return [] if row is None else json.loads(row.value)["sets"]


def current_set(session: Session) -> dict[str, Any] | None:
    """The prior set in force, or None for the hand-set priors."""
    sets = prior_sets(session)
    return sets[-1] if sets else None


def apply_current(session: Session, priors: Priors, raw_files: dict[str, dict | None]) -> Priors:
    """The hand-set ``priors`` with the store's prior set in force applied."""
    current = current_set(session)
    if current is None:
        return priors
    values = check_values(current["values"], f"store: prior set v{current['version']}")
    if any(n.startswith("recipe.") for n in values) and "recipe.lapse_probability" not in values:
        values["recipe.lapse_probability"] = 0.0  # learned before the lapse existed: its hazard was learned without one
    return apply_values(priors, raw_files, values, label(current),
                        tuple(current.get("provenance", {}).get("questions", ())))


def add_set(session: Session, values: dict[str, float], provenance: dict[str, Any]) -> dict[str, Any]:
    """Store a new prior set (in force from now on) and return it; empty ``values``: back to the hand-set priors."""
    sets = prior_sets(session)
    entry = {"version": len(sets) + 1, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
             "values": check_values(values, "new prior set"), "provenance": provenance}
    _append(session, sets, entry)
    return entry


def _append(session: Session, sets: list[dict[str, Any]], entry: dict[str, Any]) -> None:
    """Store ``sets`` with ``entry`` after them (the store setting that holds every prior set)."""
    row = session.get(StoreSetting, PRIOR_SETS_KEY) or StoreSetting(key=PRIOR_SETS_KEY, value="{}")
    row.value = json.dumps({"sets": [*sets, entry]}, ensure_ascii=False, sort_keys=True)
    row.updated_at = dt.datetime.now(dt.UTC)
    session.add(row)
    session.flush()


def shipped_set(directory: Path | None = None) -> dict[str, Any] | None:
    """The prior set shipped with the package (learned from the whole casebook), if any."""
    path = (directory or data_dir("priors")) / SHIPPED_FILE
    if not path.exists():
        return None
    try:
        shipped = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PriorError(f"{path}: cannot read the shipped prior set: {exc}") from None
    check_values(shipped.get("values", {}), str(path))
    return shipped


def import_set(session: Session, entry: dict[str, Any]) -> bool:
    """Add a prior set from an export as it was (its version, time, values and provenance); False when the store
    has it already. A store whose set of that version differs is refused: the forecasts would not be the same."""
    sets = prior_sets(session)
    version = entry["version"]
    values = check_values(entry["values"], f"import: prior set v{version}")
    for known in sets:
        if known["version"] == version:
            if known["values"] != values:
                raise InputError(f"the store's prior set v{version} differs from the export's: import into a new "
                                 "store (`forecast --db NEW.db import FILE` makes one)")
            return False
    if version != len(sets) + 1:
        raise InputError(f"prior set v{version} of the export follows v{version - 1}, which the store lacks")
    _append(session, sets, {"version": version, "created_at": entry["created_at"], "values": values,
                             "provenance": entry.get("provenance") or {}})
    return True
