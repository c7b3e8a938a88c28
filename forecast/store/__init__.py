"""The store: SQLModel tables, migrations and sessions."""

from .engine import Store, open_store, resolve_url
from .tables import Expert, Observation, Question, SchemaMigration, Statement

__all__ = ["Expert", "Observation", "Question", "SchemaMigration", "Statement", "Store", "open_store", "resolve_url"]
