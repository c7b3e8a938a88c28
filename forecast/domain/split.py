"""The casebook's declared development/test split, by a hash of each question's slug."""

from __future__ import annotations

import hashlib

DEVELOPMENT, TEST = "development", "test"
HALVES = (DEVELOPMENT, TEST)


def half(slug: str) -> str:
    """The declared split: development when the first hex digit of sha256(slug) is even, else test."""
    return DEVELOPMENT if int(hashlib.sha256(slug.encode()).hexdigest()[0], 16) % 2 == 0 else TEST
