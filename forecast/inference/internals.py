"""The private entry points of nutpie, numba, PyMC and PyTensor that the compiled model relies on.

They are not public API, so ``pyproject.toml`` bounds those libraries below their next minor release.
:func:`require` checks a group of them before use, so a library that moved one gives a one-line error
naming it, not an ``AttributeError`` deep in a fit or a crash in generated code.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

from ..errors import ForecastError


@dataclass(frozen=True)
class EntryPoint:
    """``module.name``, and the parameters (or dataclass fields) the project passes it."""

    module: str
    name: str
    parameters: tuple[str, ...] = ()

    def problem(self) -> str | None:
        """What is missing, or None."""
        try:
            found = getattr(importlib.import_module(self.module), self.name)
        except ImportError:
            return f"{self.module} cannot be imported"
        except AttributeError:
            return f"{self.module}.{self.name} is gone"
        if not self.parameters:
            return None
        try:
            known = set(inspect.signature(found).parameters)
        except (TypeError, ValueError):
            return f"{self.module}.{self.name} has no readable signature"
        missing = [p for p in self.parameters if p not in known]
        return f"{self.module}.{self.name} no longer takes {', '.join(missing)}" if missing else None


# Used on every fit: loading cached callbacks into a nutpie model and sampling it.
SAMPLING = (
    EntryPoint("nutpie.compile_pymc", "CompiledPyMCModel", (
        "_n_dim", "dims", "_coords", "_shapes", "compiled_logp_func", "compiled_expand_func", "initial_point_func",
        "shared_data", "shared_var_keys", "user_data", "n_expanded", "shape_info", "logp_func", "expand_func",
        "reparameterized_names")),
    EntryPoint("nutpie.compile_pymc", "address_as_void_pointer"),
    EntryPoint("nutpie.compile_pymc", "update_user_data"),
    EntryPoint("nutpie", "sample", (
        "draws", "tune", "chains", "cores", "seed", "progress_bar", "save_warmup",
        "return_raw_trace", "progress_callback", "progress_rate")),
    EntryPoint("nutpie.sample", "_add_arrow_data"),
    EntryPoint("numba.core.caching", "CacheImpl"),
    EntryPoint("numba.core.caching", "_CacheLocator"),
)
# Used when a model shape is compiled for the first time: tracing the PyMC model.
TRACING = (
    EntryPoint("nutpie.compile_pymc", "_make_functions", ("mode", "compute_grad", "join_expanded",
                                                         "pymc_initial_point_fn")),
    EntryPoint("nutpie.compile_pymc", "_prepare_dims_and_coords"),
    EntryPoint("pymc.initial_point", "make_initial_point_fn", ("model", "jitter_rvs", "return_transformed")),
    EntryPoint("pytensor.gradient", "disconnected_grad"),
)
# Used instead of TRACING when the hand-written density replaces nutpie's compiled functions.
LAYOUT = (
    EntryPoint("nutpie.compile_pymc", "_compute_shapes"),
    EntryPoint("nutpie.compile_pymc", "_rv_dict_to_flat_array_wrapper", ("fn", "names", "shapes")),
    EntryPoint("nutpie.compile_pymc", "_prepare_dims_and_coords"),
    EntryPoint("pymc.initial_point", "make_initial_point_fn", ("model", "jitter_rvs", "return_transformed")),
)
_CHECKED: set[tuple[EntryPoint, ...]] = set()


def problems(entry_points: tuple[EntryPoint, ...]) -> list[str]:
    """Every missing entry point of the group, in words."""
    return [p for p in (e.problem() for e in entry_points) if p is not None]


def require(entry_points: tuple[EntryPoint, ...]) -> None:
    """Refuse to go on when a library no longer has what the compiled model uses (checked once a process)."""
    if entry_points in _CHECKED:
        return
    found = problems(entry_points)
    if found:
        raise ForecastError(f"an incompatible nutpie, numba, PyMC or PyTensor is installed ({'; '.join(found)}): "
                            "install the versions pyproject.toml allows (uv sync)")
    _CHECKED.add(entry_points)
