"""numba's on-disk cache for C callbacks generated from source, kept in forecast's cache directory.

numba caches a function by its source file; generated source has none, so a locator registered
here names the cache entry by a key the caller gives (which must cover everything compiled in).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

import numba
from numba.core.caching import CacheImpl, _CacheLocator


class _Entry(NamedTuple):
    """Where a generated function's cache lives and what names it."""

    key: str
    folder: Path
    stamp: str


_KEYS: WeakKeyDictionary[Callable, _Entry] = WeakKeyDictionary()


class _KeyedLocator(_CacheLocator):
    """Puts the cache of a generated function under forecast's cache directory, named by its key."""

    def __init__(self, py_func: Callable, py_file: str) -> None:
        self._py_func, self._py_file, self._entry = py_func, py_file, _KEYS[py_func]

    def get_cache_path(self) -> str:
        return str(self._entry.folder)

    def get_source_stamp(self) -> str:
        return self._entry.stamp

    def get_disambiguator(self) -> str:
        return self._entry.key

    @classmethod
    def from_function(cls, py_func: Callable, py_file: str) -> _KeyedLocator | None:
        return cls(py_func, py_file) if py_func in _KEYS else None


if _KeyedLocator not in CacheImpl._locator_classes:
    CacheImpl._locator_classes.insert(0, _KeyedLocator)


def cached_cfunc(source: str, name: str, env: dict[str, Any], key: str, signature: Any, folder: Path,
                 stamp: str) -> Any:
    """Compile ``name`` from ``source`` (globals ``env``) as a C callback, through numba's cache in ``folder``
    under ``key`` (``stamp`` changes with the cache's format and invalidates every entry)."""
    namespace = {**env, "__name__": __name__}
    exec(compile(source, f"<forecast-{name}>", "exec"), namespace)  # noqa: S102  (our own generated source)
    function = namespace[name]
    _KEYS[function] = _Entry(hashlib.sha256(f"{key}\n{source}".encode()).hexdigest()[:32], folder, stamp)
    return numba.cfunc(signature, cache=True)(function)
