"""Defer a heavy import until the module is used.

nutpie imports ArviZ (and through it SciPy's statistics and Matplotlib) at the top of its sampling
module, for output that a run does not ask for. Putting a stand-in under the name first lets
``import arviz`` succeed at once; the real module is imported on first attribute access, after which
the stand-in forwards to it and ``sys.modules`` holds the real one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

# Attributes that tools probe on every module in sys.modules (inspect.getmodule, warnings): answering
# them must not import the real module, least of all in the middle of importing one of its dependencies.
_PROBES = frozenset({"__file__", "__cached__", "__warningregistry__", "__builtins__"})


class _StandIn(types.ModuleType):
    """A module that imports the real one the first time anything is read from it."""

    def __getattr__(self, attr: str) -> Any:
        if attr in _PROBES:
            raise AttributeError(attr)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def defer_import(name: str) -> None:
    """Make ``import name`` cheap until the module is used (a no-op once it is imported)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _StandIn(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in
