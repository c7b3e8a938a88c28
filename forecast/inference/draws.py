"""Draws of a fit as plain arrays: posterior, sample statistics and prior, with their dims and coords.

A run stores these as a numpy archive (:func:`pack`, :func:`unpack`); ArviZ's DataTree is made only when
asked for (:meth:`Draws.to_datatree`), so fitting and storing a run need not import ArviZ.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# Sample statistics worth keeping, as nutpie and PyMC name them.
SAMPLE_STATS = ("diverging", "energy", "energy_error", "step_size", "n_steps", "depth", "tree_depth",
                "maxdepth_reached", "reached_max_treedepth", "mean_tree_accept", "acceptance_rate", "logp", "lp")
GROUPS = ("posterior", "sample_stats", "prior")


@dataclass
class Draws:
    """Arrays shaped (chain, draw, *dims) by group and variable name."""

    posterior: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray] = field(default_factory=dict)
    prior: dict[str, np.ndarray] = field(default_factory=dict)
    dims: dict[str, list[str]] = field(default_factory=dict)  # variable -> dims after (chain, draw)
    coords: dict[str, list[Any]] = field(default_factory=dict)

    def only(self, names: tuple[str, ...]) -> Draws:
        """The same draws with the posterior and prior cut to ``names``."""
        return Draws({k: v for k, v in self.posterior.items() if k in names}, self.sample_stats,
                     {k: v for k, v in self.prior.items() if k in names}, self.dims, self.coords)

    def to_datatree(self) -> Any:
        """ArviZ's DataTree with every non-empty group."""
        import arviz as az

        groups = {g: getattr(self, g) for g in GROUPS if getattr(self, g)}
        used = {d for name, dims in self.dims.items() for d in dims if any(name in v for v in groups.values())}
        coords = {k: v for k, v in self.coords.items() if k in used}
        dims = {k: v for k, v in self.dims.items() if any(k in g for g in groups.values())}
        return az.from_dict(groups, dims=dims, coords=coords)

    @classmethod
    def from_datatree(cls, tree: Any) -> Draws:
        """Draws from an ArviZ DataTree or InferenceData (PyMC's sampler)."""
        groups: dict[str, dict[str, np.ndarray]] = {}
        dims: dict[str, list[str]] = {}
        coords: dict[str, list[Any]] = {}
        for group in GROUPS:
            groups[group] = {}
            dataset = _group(tree, group)
            if dataset is None:
                continue
            for name in dataset.data_vars:
                if group == "sample_stats" and name not in SAMPLE_STATS:
                    continue
                groups[group][str(name)] = np.asarray(dataset[name].values)
                dims[str(name)] = [str(d) for d in dataset[name].dims[2:]]
            for dim in dataset.dims:
                if dim not in ("chain", "draw"):
                    coords[str(dim)] = [_plain(v) for v in dataset[dim].values]
        return cls(groups["posterior"], groups["sample_stats"], groups["prior"], dims, coords)


def _group(tree: Any, name: str) -> Any:
    try:
        return tree[name]
    except (KeyError, AttributeError):
        return None


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def from_nutpie_trace(trace: Any, dims: dict[str, tuple[str, ...]], coords: dict[str, Any],
                      drop: list[str]) -> Draws:
    """Draws from nutpie's raw (Arrow) trace, without ArviZ: tuning draws and ``drop`` left out."""
    from nutpie.sample import _add_arrow_data

    draw_batches, stat_batches = trace.get_arrow_trace()
    chains = len(draw_batches)
    tuning = [int(stats.column("tuning").to_numpy().sum()) for stats in stat_batches]
    length = max(batch.num_rows - t for batch, t in zip(draw_batches, tuning))
    posterior: dict[str, np.ndarray] = {}
    sample_stats: dict[str, np.ndarray] = {}
    found: dict[str, list[str]] = {}
    skip = [n for n in stat_batches[0].column_names if n not in SAMPLE_STATS]
    for chain, (batch, stats, t) in enumerate(zip(draw_batches, stat_batches, tuning)):
        _add_arrow_data(posterior, length, batch.slice(t), chain, chains, found, drop)
        _add_arrow_data(sample_stats, length, stats.slice(t), chain, chains, found, skip)
    names = {**{k: list(v) for k, v in dims.items()}, **{k: list(v) for k, v in found.items() if v}}
    return Draws(posterior, sample_stats, {}, names, {k: [_plain(v) for v in values] for k, values in coords.items()})


def pack(draws: Draws) -> bytes:
    """Numpy archive of every group, with dims and coords as JSON; stored, not deflated: the draws are float noise
    that deflate shrank by 8% (2.76 to 2.54 MB on the seed) for 85 ms of CPU time per run."""
    arrays = {f"{group}/{name}": np.asarray(value) for group in GROUPS for name, value in getattr(draws, group).items()}
    meta = {"dims": draws.dims, "coords": {k: [str(v) for v in values] for k, values in draws.coords.items()},
            "groups": [g for g in GROUPS if getattr(draws, g)]}
    buffer = io.BytesIO()
    save: Any = np.savez  # its stubs do not take array names as keywords
    save(buffer, **arrays, _meta=np.array(json.dumps(meta)))
    return buffer.getvalue()


def unpack(blob: bytes) -> Draws:
    """The groups stored by :func:`pack`; an archive from before groups (posterior only, dims with chain and draw)."""
    with np.load(io.BytesIO(blob)) as npz:
        meta = json.loads(str(npz["_meta"]))
        arrays = {k: npz[k] for k in npz.files if k != "_meta"}
    if "groups" not in meta:
        dims = {k: v[2:] for k, v in meta["dims"].items()}
        return Draws(arrays, dims=dims, coords=meta["coords"])
    groups: dict[str, dict[str, np.ndarray]] = {g: {} for g in GROUPS}
    for key, value in arrays.items():
        group, name = key.split("/", 1)
        groups[group][name] = value
    return Draws(groups["posterior"], groups["sample_stats"], groups["prior"], meta["dims"], meta["coords"])


def write_datatree(tree: Any, path: Path) -> Path:
    """Write an ArviZ DataTree as NetCDF (``.nc``, through h5netcdf) or Zarr (``.zarr``), whole or not at all,
    to a new name; refuses other names."""
    from ..basics.files import write_with
    from ..errors import InputError

    suffix = path.suffix.lower()
    if suffix not in (".nc", ".zarr"):
        raise InputError(f"cannot tell the format of {str(path)!r}: use a .nc or .zarr name")
    if suffix == ".nc":
        write_with(path, lambda temporary: tree.to_netcdf(temporary, engine="h5netcdf"), may_exist=False)
        return path

    def zarr(temporary: Path) -> None:
        with warnings.catch_warnings():  # xarray consolidates Zarr metadata, which Zarr 3 flags as outside its spec
            warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
            tree.to_zarr(temporary, mode="w")

    write_with(path, zarr, folder=True)
    return path
