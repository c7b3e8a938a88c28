"""SQLModel tables: the current shape of the store.

Migrations (``migrations.py``) create and evolve this shape; a test checks that a fully
migrated store has exactly these columns.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from ..basics.months import utc_now
from .types import JSONText
from .vocab import (  # noqa: F401  (re-exported)
    DATE_PRECISIONS,
    EXPERT_KINDS,
    NOT_WITHIN_HORIZON,
    OBSERVATION_KINDS,
    QUESTION_STATUSES,
    QUOTE_KINDS,
    STRENGTHS,
)


class SchemaMigration(SQLModel, table=True):
    """A named migration applied to this store."""

    __tablename__ = "schema_migration"
    name: str = Field(primary_key=True)
    applied_at: dt.datetime = Field(default_factory=utc_now)


class Question(SQLModel, table=True):
    """A forecasting question on a monthly grid."""

    __tablename__ = "question"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True)
    title: str
    criteria: str
    kind: str = "date"
    horizon_start: str  # YYYY-MM
    horizon_end: str  # YYYY-MM
    status: str = "open"
    resolution: str | None = None  # YYYY-MM or NOT_WITHIN_HORIZON
    resolution_source: str | None = None
    resolved_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utc_now)
    event: str = "The event happens"  # subject of report sentences
    tags: str = "[]"  # JSON list
    definition: str | None = None  # JSON: the validated question file (priors included); None in pre-0004 stores
    version: int = 1
    resolved_by: str | None = None  # who resolved or annulled it; "unknown" for resolutions before 0009


class ResolutionChange(SQLModel, table=True):
    """A resolution undone (append-only): the question's resolution as it stood, why and by whom it was reopened."""

    __tablename__ = "resolution_change"
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id")
    kind: str = "reopen"
    status: str  # what the question was: resolved | annulled
    resolution: str | None = None  # YYYY-MM or NOT_WITHIN_HORIZON (None when annulled)
    resolution_source: str | None = None
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None
    reason: str
    created_at: dt.datetime = Field(default_factory=utc_now)
    author: str = "unknown"  # who reopened it


class QuestionVersion(SQLModel, table=True):
    """Every definition a question has had (append-only): the first from `question add`, later ones from edits."""

    __tablename__ = "question_version"
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id")
    version: int
    definition: str  # JSON
    note: str = ""
    created_at: dt.datetime = Field(default_factory=utc_now)
    author: str = "unknown"  # who added or edited the question


class StoreSetting(SQLModel, table=True):
    """Store-wide settings kept as JSON, such as the reliability priors."""

    __tablename__ = "store_setting"
    key: str = Field(primary_key=True)
    value: str  # JSON
    updated_at: dt.datetime = Field(default_factory=utc_now)


class Expert(SQLModel, table=True):
    """Someone whose statements are evidence."""

    __tablename__ = "expert"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    aliases: str = Field(default="[]", sa_type=JSONText)  # JSON list of alternative names
    role: str = ""
    affiliation: str = ""
    kind: str = "other"
    notes: str = ""
    created_at: dt.datetime = Field(default_factory=utc_now)
    author: str = "unknown"  # who added the expert


class ExpertChange(SQLModel, table=True):
    """A rename or merge of an expert (append-only): expert rows never change, so old rows name who they named."""

    __tablename__ = "expert_change"
    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id")
    kind: str  # rename | merge
    name: str  # rename: the new name; merge: the name the expert is merged into (as it was then)
    into_id: int | None = Field(default=None, foreign_key="expert.id")  # merge: the expert it now counts as
    note: str = ""
    created_at: dt.datetime = Field(default_factory=utc_now)
    author: str = "unknown"  # who renamed or merged ("unknown": made before 0010)


class Statement(SQLModel, table=True):
    """A dated claim by an expert, encoded as a month interval. Append-only."""

    __tablename__ = "statement"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(unique=True)
    question_id: int = Field(foreign_key="question.id")
    expert_id: int = Field(foreign_key="expert.id")
    said_on: dt.date
    date_precision: str = "day"
    quote: str
    source: str
    claim_text: str
    claim_start: str | None = None  # YYYY-MM, None = open
    claim_end: str | None = None  # YYYY-MM, None = open
    probability: float | None = None
    strength: str = "firm"
    rationale: str = ""
    logged_at: dt.datetime = Field(default_factory=utc_now)
    retracted_at: dt.datetime | None = None
    retraction_reason: str | None = None
    superseded_by_id: int | None = Field(default=None, foreign_key="statement.id")
    quote_kind: str = "verbatim"  # verbatim | paraphrase
    url: str = ""
    author: str = "unknown"  # who logged it ("unknown": logged before 0009)
    retracted_by: str | None = None  # who retracted or superseded it


class Observation(SQLModel, table=True):
    """A hard, dated fact about the event. Append-only."""

    __tablename__ = "observation"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(unique=True)
    question_id: int = Field(foreign_key="question.id")
    observed_on: dt.date
    date_precision: str = "day"
    kind: str
    source: str
    note: str = ""
    logged_at: dt.datetime = Field(default_factory=utc_now)
    retracted_at: dt.datetime | None = None
    retraction_reason: str | None = None
    superseded_by_id: int | None = Field(default=None, foreign_key="observation.id")
    effective_on: dt.date | None = None  # notice-given / notice-extended: when the exit can take effect
    url: str = ""
    author: str = "unknown"  # who logged it ("unknown": logged before 0009)
    retracted_by: str | None = None  # who retracted or superseded it


class ForecastRun(SQLModel, table=True):
    """One fit of the model to the evidence as of a date. Append-only."""

    __tablename__ = "forecast_run"
    id: int | None = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(default_factory=utc_now)
    kind: str = "full"  # full | backtest
    as_of: dt.date
    known_at: dt.datetime
    questions: str = Field(sa_type=JSONText)  # JSON list of slugs fitted jointly
    seed: int
    sampler: str
    settings: str = Field(sa_type=JSONText)  # JSON FitSettings
    code_version: str
    model_version: str
    config_hash: str
    evidence_fingerprint: str
    evidence: str = Field(sa_type=JSONText)  # JSON list of evidence uids used
    diagnostics: str = Field(sa_type=JSONText)  # JSON
    converged: bool
    elapsed_seconds: float
    reliabilities: str = Field(sa_type=JSONText)  # JSON list of per-expert summaries
    posterior: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ForecastResult(SQLModel, table=True):
    """One question's distribution from a run."""

    __tablename__ = "forecast_result"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="forecast_run.id")
    question_id: int = Field(foreign_key="question.id")
    monthly: str = Field(sa_type=JSONText)  # JSON list: each horizon month, then "not within the horizon"
    prior_monthly: str = Field(sa_type=JSONText)  # JSON list, same layout
    cdf_bands: str = Field(sa_type=JSONText)  # JSON {quantile: list} of the cumulative distribution across draws
    headline: str = Field(sa_type=JSONText)  # JSON: checkpoints, not_within_horizon, median, intervals
