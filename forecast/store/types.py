"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

# jsonb has no NaN or infinities: they are stored as {"__float__": "NaN"} (or "Infinity", "-Infinity")
_NON_FINITE = "__float__"
_NON_FINITE_NAMES = ("NaN", "Infinity", "-Infinity")


def _untag_non_finite(value):
    if isinstance(value, dict):
        if value.keys() == {_NON_FINITE} and value[_NON_FINITE] in _NON_FINITE_NAMES:
            return float(value[_NON_FINITE])
        return {k: _untag_non_finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag_non_finite(v) for v in value]
    return value


class JSONText(sa.TypeDecorator):
    """A JSON document the models hold as text: ``VARCHAR`` on SQLite, ``jsonb`` on PostgreSQL.

    PostgreSQL keeps the values, not the text: keys come back in jsonb's order and spacing
    is normalised, so readers parse the text and never compare it byte for byte.
    """

    impl = sa.String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(sa.String())

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "postgresql":
            return value
        return json.loads(value, parse_constant=lambda name: {_NON_FINITE: name})

    def process_result_value(self, value, dialect):
        if value is None or dialect.name != "postgresql":
            return value
        return json.dumps(_untag_non_finite(value), ensure_ascii=False)
