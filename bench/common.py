"""Shared helpers for the benchmarks."""

from __future__ import annotations

import time


def best(fn, repeat: int = 3):
    """(fastest wall time in seconds, last value) over ``repeat`` calls."""
    fastest, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest, value
