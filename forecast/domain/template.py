"""A commented question file to fill in, with the bundled recipe's priors (read from the installed package)."""

from __future__ import annotations

import datetime as dt
import json

from ..basics import validate
from ..errors import InputError
from ..store.vocab import QUESTION_KINDS
from .prior_sets import shipped_set
from .priors import DEFAULT_RECIPE, load_recipes

HORIZON_YEARS = 10  # the template's horizon: from this month to the end of the year ten years on
TODO = "TODO: "  # the text fields the analyst must write, marked so they are easy to find

# What each number of a recipe means, for the comment above it.
MEANINGS = {
    "annual_hazard": "chance per year that the event happens, at the start of the horizon, if it is acted on",
    "hazard_sd_logit": "how unsure that level is (a standard deviation on the log-odds scale)",
    "trend_per_year": "how the yearly chance changes, per year, on the log-odds scale (below 0: it fades)",
    "trend_sd": "how unsure that trend is (a standard deviation)",
    "lapse_probability": "chance that the announcement is never acted on (all of it beyond the horizon)",
    "compliance_mean": "how often an exit goes through the notice clause rather than around it",
    "lag_after_notice_months": "months from the end of the notice period to the exit taking effect",
    "bind_probability": "chance that a formal notice is carried out rather than revoked",
}
_KIND_WORDS = {
    "date": 'a date question: "When will it happen?" (a month, or not within the horizon)',
    "binary": 'a yes/no question: "Will it happen before the horizon ends?"',
}


def _number(key: str, entry: dict, learned: float | None = None) -> list[str]:
    """One number of the recipe as a commented TOML line (uncommented, it overrides the store's prior set), its
    meaning above it, and the value the shipped prior set learned for it, if any."""
    lines = [f"# {key}: {MEANINGS[key]}"]
    if learned is not None:
        lines.append(f"#   learned from the casebook: {learned:.3g} "
                     "(the hand-set value below is used only if you uncomment it)")
    why = json.dumps(entry["why"], ensure_ascii=False)
    return [*lines, f"# {key} = {{ value = {entry['value']!r}, why = {why} }}"]


def _learned(section: str) -> dict[str, float]:
    """The shipped prior set's values for ``section`` ("recipe" or "notice"), by key."""
    shipped = shipped_set() or {}
    prefix = f"{section}."
    return {k.removeprefix(prefix): v for k, v in shipped.get("values", {}).items() if k.startswith(prefix)}


def question_template(slug: str, kind: str = "date", today: dt.date | None = None) -> str:
    """The text of a question file for ``slug``: every field with a comment, the text fields marked TODO, the
    horizon from this month over ten years, and the ``announced-exit`` recipe's priors with their rationales."""
    slug = validate.slug(slug)
    if kind not in QUESTION_KINDS:
        raise InputError(f"unknown question kind {kind!r} (expected one of: {', '.join(QUESTION_KINDS)})")
    today = today or dt.date.today()
    recipe = load_recipes()[DEFAULT_RECIPE]
    lines = [
        f"# Question {slug}: written by `forecast question new`. Replace each {TODO.strip()} text, check the",
        "# horizon and the priors, then: forecast question add THIS-FILE.toml",
        '# Every number is { value = ..., why = "one-line rationale" }; unknown keys are errors.',
        "",
        "[question]",
        f'slug = "{slug}"  # lower-case letters, digits and hyphens; how commands name the question',
        (f'title = "{TODO}When will ...?"  # the question as a reader sees it' if kind == "date" else
         f'title = "{TODO}Will ... before {today.year + HORIZON_YEARS + 1}?"  # the question as a reader sees it'),
        f'kind = "{kind}"  # {_KIND_WORDS[kind]}',
        f'event = "{TODO}Ruritania leaves the treaty"  # the subject of report sentences: "<event> by 2036-12: 20%"',
        f'horizon_start = "{today:%Y-%m}"  # the first month the event could happen in',
        f'horizon_end = "{today.year + HORIZON_YEARS}-12"  # the last; later counts as "not by" this month',
        'tags = []  # e.g. ["treaty-exit", "europe"]: lower-case words, for --tag',
        "# How it resolves: which month counts, and what if it has not happened by the horizon's end.",
        (f'criteria = """{TODO}Resolves to the month in which ... takes effect. Resolves "not within the horizon" '
         'if it has not happened by horizon_end."""' if kind == "date" else
         f'criteria = """{TODO}Resolves yes, in the month it happens, if ... takes effect by horizon_end; no (not '
         'within the horizon) if it has not."""'),
        '# trigger = "What made this a question: the announcement, with its date and source."',
        "# public_event = true  # false when the event could happen unseen (then every as-of date needs evidence)",
        '# precluded_by = "other-slug"  # a question whose event would make this one impossible',
        "",
        f"# The date prior: the bundled {DEFAULT_RECIPE!r} recipe (a government has announced it intends, or is",
        "# considering, to leave), with the numbers of the store's prior set in force (`forecast init` stores the",
        "# one learned from the casebook's resolved questions; `forecast learn --show` prints them). To set a",
        "# number yourself, uncomment its line: do it only with a reason you would defend, and say it in `why`.",
        "[date_prior]",
        f'recipe = "{DEFAULT_RECIPE}"',
    ]
    learned = _learned("recipe")
    for key, entry in recipe["date_prior"].items():
        lines += _number(key, entry, learned.get(key))
    lines += ["", "# A withdrawal clause with a notice period: uncomment the table and set `months`.",
              "# [notice]",
              '# months = { value = 12, why = "TODO: the article that sets the notice period." }',
              '# earliest = "YYYY-MM"  # the first month notice may be given, if the treaty says so']
    learned = _learned("notice")
    for key, entry in recipe.get("notice", {}).items():
        lines += _number(key, entry, learned.get(key))
    return "\n".join(lines) + "\n"
