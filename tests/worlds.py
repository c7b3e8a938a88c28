"""Synthetic worlds for model tests: a priors directory and a real store filled through the domain API."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from forecast.domain.evidence import add_expert, log_observation, log_statement
from forecast.domain.priors import data_dir
from forecast.domain.questions import add_question, set_reliability_priors, store_priors
from forecast.store import open_store

QUESTION_TOML = """
[question]
slug = "{slug}"
title = "Synthetic question {slug}"
kind = "date"
horizon_start = "{start}"
horizon_end = "{end}"
criteria = "Synthetic."
public_event = {public}
{extra}

[date_prior]
annual_hazard = {{ value = {hazard}, why = "test" }}
hazard_sd_logit = {{ value = {hazard_sd}, why = "test" }}
trend_per_year = {{ value = {trend}, why = "test" }}
trend_sd = {{ value = {trend_sd}, why = "test" }}
lapse_probability = {{ value = {lapse}, why = "test" }}

{notice}"""
NOTICE_TOML = """
[notice]
compliance_mean = {{ value = {compliance}, why = "test" }}
months = {{ value = {months}, why = "test" }}
lag_after_notice_months = {{ value = 6.0, why = "test" }}
{bind}"""


@dataclass
class World:
    """A store and priors directory for synthetic questions."""

    root: Path
    questions: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.root / "priors" / "questions").mkdir(parents=True)
        shutil.copy(data_dir("priors") / "reliability.toml", self.root / "priors" / "reliability.toml")
        self.store = open_store(str(self.root / "world.db"))

    def question(self, slug: str, start: str = "2024-01", end: str = "2028-12", hazard: float = 0.15,
                 hazard_sd: float = 0.5, trend: float = 0.0, trend_sd: float = 0.2, compliance: float = 0.8,
                 public: bool = True, notice: bool = True, notice_months: int = 12,
                 precluded_by: str | None = None, bind: float | None = None, recipe: bool = False,
                 lapse: float = 0.0) -> None:
        """A synthetic question; ``bind`` sets its notice's bind probability (None: the recipe's); ``recipe``: no
        [date_prior] of its own (it takes the announced-exit recipe, or a prior set's values); ``lapse``: the share
        of its announcements never acted on."""
        extra = f'precluded_by = "{precluded_by}"' if precluded_by else ""
        bound = "" if bind is None else f'bind_probability = {{ value = {bind}, why = "test" }}\n'
        text = QUESTION_TOML.format(slug=slug, start=start, end=end, hazard=hazard, hazard_sd=hazard_sd, trend=trend,
                                    trend_sd=trend_sd, lapse=lapse, public=str(public).lower(), extra=extra,
                                    notice=NOTICE_TOML.format(compliance=compliance, months=notice_months, bind=bound)
                                    if notice else "")
        if recipe:
            text = re.sub(r"\[date_prior\]\n(.*\n){5}", "", text)
        (self.root / "priors" / "questions" / f"{slug}.toml").write_text(text)
        with self.store.session() as session:
            add_question(session, tomllib.loads(text), slug, precluder_later=True)  # the dataset checks the pair
        self.questions[slug] = (start, end)

    def reliability_values(self, **values: float) -> None:
        """Store reliability priors whose [weights] or [dependence] numbers are replaced by ``values``."""
        path = self.root / "priors" / "reliability.toml"
        text = path.read_text()
        for key, value in values.items():
            text, count = re.subn(rf"^{key} = {{ value = [^,]+,", f"{key} = {{ value = {value},", text, flags=re.M)
            assert count == 1, key
        path.write_text(text)
        with self.store.session() as session:
            set_reliability_priors(session, path)

    def own_prior(self, name: str, like: str = "Dmitry Rogozin") -> None:
        """Store reliability priors in which the fictional expert ``name`` has the per-expert prior that the bundled
        priors give the real expert ``like`` (so a world exercises per-expert priors without a real person's name)."""
        path = self.root / "priors" / "reliability.toml"
        text, count = re.subn(rf'^\[experts\."{re.escape(like)}"\]$', f'[experts."{name}"]', path.read_text(), flags=re.M)
        assert count == 1, like
        path.write_text(text)
        with self.store.session() as session:
            set_reliability_priors(session, path)

    def expert(self, name: str, kind: str = "analyst", affiliation: str = "") -> None:
        with self.store.session() as session:
            add_expert(session, name, kind, affiliation=affiliation)

    def say(self, question: str, expert: str, claim: str, on: str = "2024-01-01", strength: str = "firm",
            probability: float | None = None, tag: str = "") -> None:
        with self.store.session() as session:
            log_statement(session, question=question, expert=expert, said_on=dt.date.fromisoformat(on), claim=claim,
                          quote=f"{claim} {tag}", source="synthetic", strength=strength, probability=probability,
                          today=dt.date(2100, 1, 1), restatement=True)  # worlds say many things on one day

    def observe(self, question: str, kind: str, on: str) -> None:
        with self.store.session() as session:
            log_observation(session, question=question, kind=kind, observed_on=dt.date.fromisoformat(on),
                            source="synthetic", today=dt.date(2100, 1, 1))

    @property
    def priors(self):
        with self.store.session() as session:
            return store_priors(session)

    def dataset(self, as_of: str = "2024-01-01", questions: list[str] | None = None,
                exclude: frozenset[str] = frozenset()):
        from forecast.inference.dataset import build_dataset

        with self.store.session() as session:
            return build_dataset(session, self.priors, dt.date.fromisoformat(as_of), questions=questions, exclude=exclude)
