"""A nutpie model whose compiled log density outlives the process.

nutpie compiles a PyMC model into two numba C callbacks (log density with gradient, and the
expansion to every traced variable). Its own callbacks capture per-process objects, so numba
cannot cache them and every process paid the full compile. Here the callbacks are generated as
source with no captured state (the data arrays arrive through nutpie's user-data record) and
compiled with numba's on-disk cache, keyed by everything the compiled code depends on.

A cache hit needs neither PyMC nor PyTensor: the model's layout (names, shapes, coordinates and
initial point) is kept beside numba's files as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..basics.files import write_with
from ..errors import ForecastError
from . import internals
from .tracing import model_layout, traced_functions
from .worker import ChildWorker

CACHE_FORMAT = "1"
PRIOR_DRAWS = 500
CACHE_ENV = "FORECAST_CACHE"

_LOGP_SRC = """
def logp_callback(dim, x_, out_, logp_, user_data_):
    if dim != {n_dim}:
        return -1
    try:
        record = carray(user_data_, ({record_len},), uint64)
{unpack}
        x = carray(x_, ({n_dim},))
        out = carray(out_, ({n_dim},))
        logp = carray(logp_, ())
        logp_val, grad = logp_fn(x, {args})
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:
        return 1
    return 0
"""

_EXPAND_SRC = """
def expand_callback(dim, expanded, x_, out_, user_data_):
    if dim != {n_dim} or expanded != {n_expanded}:
        return -1
    try:
        record = carray(user_data_, ({record_len},), uint64)
{unpack}
        x = carray(x_, ({n_dim},))
        out = carray(out_, ({n_expanded},))
        (values,) = expand_fn(x, {args})
        out[...] = values
    except Exception:
        return -2
    return 0
"""


def cache_dir() -> Path:
    """Where compiled models live: ``$FORECAST_CACHE``, else ``$XDG_CACHE_HOME/forecast``, else ``~/.cache/forecast``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "forecast"


@dataclass(frozen=True)
class SharedSlot:
    """A data container of the model, as nutpie's ``with_data`` looks it up (by name)."""

    name: str
    ndim: int


@lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """A hash of this package's source: any code change makes a new compile key (read once per process: the
    code a process runs does not change under it)."""
    root = Path(__file__).resolve().parents[1]  # the forecast package
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """Versions of everything that shapes the compiled code (read once per process)."""
    import platform
    from importlib.metadata import version

    return {"python": platform.python_version(), "machine": platform.machine(),
            **{name: version(name) for name in ("numpy", "numba", "pytensor", "pymc", "nutpie")}}


def _slots(layout: dict[str, Any]) -> list[SharedSlot]:
    seen = dict.fromkeys(SharedSlot(n, d) for n, d in layout["logp_shared"] + layout["expand_shared"])
    return list(seen)


def _unpack(slots: list[SharedSlot], used: list[list]) -> tuple[str, str]:
    """Source lines that view each data array through nutpie's user-data record, and the call's argument list."""
    count = len(slots)
    offsets, at = {}, 2 * count
    for slot in slots:
        offsets[slot.name] = at
        at += slot.ndim
    lines, args = [], []
    for name, ndim in used:
        index = next(i for i, s in enumerate(slots) if s.name == name)
        shape = ", ".join(f"record[{offsets[name] + d}]" for d in range(ndim)) + ("," if ndim == 1 else "")
        lines.append(f"        d{index} = carray(void_pointer(record[{index}]), ({shape}), float64)")
        args.append(f"d{index}")
    return "\n".join(lines), ", ".join(args)


def _callbacks(key: str, layout: dict[str, Any], logp_fn: Callable[..., Any] | None,
               expand_fn: Callable[..., Any] | None) -> list[Any]:
    """Both C callbacks, loaded from numba's cache or compiled into it."""
    import numba
    from nutpie.compile_pymc import address_as_void_pointer

    from . import numba_cache

    slots = _slots(layout)
    record_len = 2 * len(slots) + sum(s.ndim for s in slots)
    env = {"carray": numba.carray, "uint64": np.uint64, "float64": np.float64, "np": np,
           "void_pointer": address_as_void_pointer, "logp_fn": logp_fn, "expand_fn": expand_fn}
    out = []
    for name, template, used, signature in (
        ("logp", _LOGP_SRC, layout["logp_shared"], numba.types.int64(
            numba.types.uint64, *[numba.types.CPointer(numba.types.double)] * 3, numba.types.voidptr)),
        ("expand", _EXPAND_SRC, layout["expand_shared"], numba.types.int64(
            numba.types.uint64, numba.types.uint64, *[numba.types.CPointer(numba.types.double)] * 2,
            numba.types.voidptr)),
    ):
        unpack, args = _unpack(slots, used)
        source = template.format(n_dim=layout["n_dim"], n_expanded=layout["n_expanded"], record_len=record_len,
                                 unpack=unpack, args=args)
        out.append(numba_cache.cached_cfunc(source, f"{name}_callback", env, f"{key}-{name}", signature,
                                            cache_dir(), CACHE_FORMAT))
    return out


def _user_data(slots: list[SharedSlot], values: dict[str, np.ndarray]) -> tuple[dict, np.ndarray]:
    from nutpie.compile_pymc import update_user_data

    shared = {}
    for slot in slots:
        array = np.array(values[slot.name], dtype=np.float64, order="C", copy=True)
        if array.ndim != slot.ndim:
            raise ValueError(f"data {slot.name!r} must have rank {slot.ndim}")
        array.flags.writeable = False
        shared[slot.name] = array
    dtype = np.dtype([("shared", [
        ("data", [(s.name, np.uintp) for s in slots]),
        ("size", [(s.name, np.uintp) for s in slots]),
        ("shape", [(s.name, np.uint, (s.ndim,)) for s in slots]),
    ])])
    return shared, update_user_data(np.zeros((), dtype=dtype), shared)


def _initial_point(base: np.ndarray) -> Callable[[int], np.ndarray]:
    """The model's support point, jittered by U(-1, 1) per coordinate on the unconstrained scale."""

    def initial_point(seed: int | None = None) -> np.ndarray:
        return base + np.random.default_rng(seed).uniform(-1.0, 1.0, base.size)

    return initial_point


def _load(key: str, layout: dict[str, Any]) -> list | None:
    """Both callbacks from numba's cache, or None when they are not there (never compiled, or stale).

    The hand-written density's callbacks serve every model shape; numba compiles them into its cache
    on their first import (in the child process that compiles a model).
    """
    if layout.get("hand"):
        from .density.kernel import callbacks

        return list(callbacks())
    try:
        return _callbacks(key, layout, None, None)
    except Exception:  # without the cached code, numba tries to compile the placeholder and fails
        return None


def _read_layout(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def prior_draws(model: Any, draws: int = PRIOR_DRAWS, seed: int = 0) -> dict[str, np.ndarray]:
    """Draws of the model's free parameters (and deterministic reliabilities) from their prior, shaped (1, draw, ...)."""
    import pymc as pm

    names = [v.name for v in model.free_RVs] + [n for n in ("reliability",) if n in model.named_vars]
    with warnings.catch_warnings():  # PyTensor's numba backend draws truncated normals in object mode, and says so
        warnings.filterwarnings("ignore", message="Numba will use object mode", category=UserWarning)
        # FAST_COMPILE: the same draws as the default backend (to the last bit or two), without compiling a
        # numba function that 500 draws do not repay (0.3 s instead of 1.8 s)
        values = pm.draw([model[n] for n in names], draws=draws, random_seed=seed, mode="FAST_COMPILE")
    return {name: np.asarray(v)[None] for name, v in zip(names, values)}


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    save: Any = np.savez  # its stubs do not take array names as keywords
    with open(path, "wb") as file:
        save(file, **arrays)


def import_nutpie() -> Any:
    """nutpie, with ArviZ deferred until something uses it (nutpie imports it for output a run does not ask for)."""
    from ..basics.deferred import defer_import

    defer_import("arviz")
    import nutpie

    return nutpie


def compile_job(cache_folder: str, key: str, build: Callable[[], Any], hand_layout: list[list] | None) -> None:
    """In a child process: build the model, compile both callbacks into the cache in ``cache_folder`` (the parent's,
    which may change between jobs), save its prior draws and layout.

    With ``hand_layout`` (every traced variable as :mod:`forecast.inference.density.layout` lays them out), the log density
    and the expansion are the hand-written ones; PyTensor then only lays out the model and draws its prior.
    """
    from ..basics.deferred import defer_import

    defer_import("arviz")  # nutpie imports it for output a compile never makes (3 s of the child's 10)
    os.environ[CACHE_ENV] = cache_folder
    model = build()
    if hand_layout is not None:
        from .density.layout import SLOTS

        layout = model_layout(model)
        laid_out = [[name, *where] for name, where in zip(layout["names"], layout["slices"])]
        if laid_out != hand_layout:
            raise ForecastError(f"the model's variables {laid_out} are not laid out as the density's {hand_layout}")
        layout["logp_shared"] = layout["expand_shared"] = [list(slot) for slot in SLOTS]
        layout["hand"] = True
        _load(key, layout)  # the first import compiles the shared callbacks into numba's cache
    else:
        layout, logp_fn, expand_fn = traced_functions(model)
        _callbacks(key, layout, logp_fn, expand_fn)
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    prior = prior_draws(model)
    write_with(folder / f"prior-{key}.npz", lambda path: _save_npz(path, prior))
    write_with(folder / f"model-{key}.json", lambda path: path.write_text(json.dumps(layout), encoding="utf-8"))


_COMPILER = ChildWorker("compiling the model")


def keep_compiler_running() -> None:
    """Keep the compiling child for this process's later compiles (PyMC imported once, not once per model)."""
    _COMPILER.keep_alive = True


def _compile_in_child(key: str, build: Callable[[], Any], hand_layout: list[list] | None) -> None:
    """Compile in another process, so that this one loads exactly the cached code a later process will load.

    (A compile and a later load of the same model can differ in the last bits, which would make the
    draws of a seed depend on whether the cache was warm; the child also keeps PyMC out of this process.)
    """
    _COMPILER.run(compile_job, str(cache_dir()), key, build, hand_layout)


@dataclass(frozen=True)
class CachedModel:
    """A compiled model ready for ``nutpie.sample``, and draws from its prior."""

    compiled: Any  # nutpie's CompiledPyMCModel
    prior: dict[str, np.ndarray]


def compile_cached(key: str, build: Callable[[], Any], values: dict[str, np.ndarray],
                   on_compile: Callable[[], None] = lambda: None, hand_layout: list[list] | None = None) -> CachedModel:
    """The compiled model for ``key``, from the on-disk cache (compiled into it first when missing).

    ``key`` must change whenever anything compiled into the model changes; ``build`` (picklable) makes
    the PyMC model; ``values`` are the data containers' current arrays, which stay outside the compiled
    code; ``hand_layout`` selects the hand-written log density (see :func:`compile_job`).
    """
    layout_path = cache_dir() / f"model-{key}.json"
    layout = _read_layout(layout_path)
    callbacks = _load(key, layout) if layout is not None else None
    if callbacks is None:
        on_compile()
        _compile_in_child(key, build, hand_layout)
        layout = _read_layout(layout_path)
        callbacks = _load(key, layout) if layout is not None else None
    if layout is None or callbacks is None:
        raise ForecastError(f"the compiled model did not reach the cache in {cache_dir()}")
    with np.load(cache_dir() / f"prior-{key}.npz") as npz:
        prior = {name: npz[name] for name in npz.files}
    return CachedModel(_nutpie_model(layout, callbacks, values), prior)


def _nutpie_model(layout: dict[str, Any], callbacks: list, values: dict[str, np.ndarray]) -> Any:
    import pandas as pd

    internals.require(internals.SAMPLING)
    from nutpie.compile_pymc import CompiledPyMCModel

    slots = _slots(layout)
    shared, user_data = _user_data(slots, values)
    names, shapes = layout["names"], [tuple(s) for s in layout["shapes"]]
    return CompiledPyMCModel(
        _n_dim=layout["n_dim"], dims={k: tuple(v) for k, v in layout["dims"].items()},
        _coords={k: pd.Index(v) for k, v in layout["coords"].items()}, _shapes=dict(zip(names, shapes)),
        compiled_logp_func=callbacks[0], compiled_expand_func=callbacks[1],
        initial_point_func=_initial_point(np.array(layout["initial_point"])), shared_data=shared,
        shared_var_keys={s: s.name for s in slots}, user_data=user_data, n_expanded=layout["n_expanded"],
        shape_info=(names, [slice(a, b) for a, b in layout["slices"]], shapes), logp_func=None, expand_func=None,
        reparameterized_names=layout["reparameterized"],
    )


def compile_key(config: str, data: Any, values: dict[str, np.ndarray]) -> str:
    """The cache key of a model: its configuration hash, the dataset's layout, the code and the libraries.

    Evidence enters only through the data containers (``values``), so only their shapes count here.
    """
    payload = {
        "format": CACHE_FORMAT, "config": config, "questions": list(data.questions),
        "n_months": [int(n) for n in data.n_months], "experts": list(data.experts),
        "kinds": list(data.expert_kinds), "shapes": {k: list(v.shape) for k, v in sorted(values.items())},
        "source": source_fingerprint(), "libraries": library_versions(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]
