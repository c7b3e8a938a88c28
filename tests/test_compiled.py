"""The compiled model is cached on disk: a later process loads it (no compile, no PyMC, ArviZ deferred)
and draws exactly the same numbers; the cached code computes what PyMC computes, with any evidence."""

from __future__ import annotations

import ctypes
import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from forecast.domain.questions import store_priors
from forecast.inference.compiled import compile_cached, compile_key
from forecast.inference.dataset import build_dataset
from forecast.inference.model import DateModel, build_model, evidence_data
from forecast.store import open_store

from .conftest import PROJECT

FIT = """
import json, sys
from forecast.inference.dataset import build_dataset
from forecast.inference.model import DateModel, FitSettings
from forecast.basics.progress import Silent
from forecast.domain.questions import store_priors
from forecast.store import open_store

class Heard(Silent):
    stages = []
    def stage(self, description):
        self.stages.append(description)

with open_store(sys.argv[1]).session() as session:
    priors = store_priors(session)
    data = build_dataset(session, priors)
heard = Heard()
draws = DateModel(data, priors).fit_draws(FitSettings(draws=100, tune=100, chains=2, seed=3), progress=heard)
loaded = {name: type(sys.modules.get(name)).__name__ for name in ("pymc", "pytensor.tensor.random.op", "arviz")}
print(json.dumps({"stages": heard.stages, "modules": loaded, "scipy.stats": "scipy.stats" in sys.modules,
                  "draws": draws.posterior["hazard_level"].ravel().tolist(), "prior": sorted(draws.prior)}))
"""


def fit_in_a_new_process(db: Path, cache: Path) -> dict:
    # A cold forecast cache; the user's HOME keeps PyTensor's own compile cache warm, as on any machine that has
    # compiled before (a cold one adds half a minute of C compiles that say nothing about forecast's cache).
    env = {"FORECAST_CACHE": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    done = subprocess.run([sys.executable, "-c", FIT, str(db)], capture_output=True, text=True, cwd=PROJECT, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.slow  # a second process: run by `bash scripts/test --all` and CI
def test_a_later_process_loads_the_compiled_model_and_draws_the_same(seeded: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = fit_in_a_new_process(seeded, cache)
    assert cold["stages"] == ["compiling the model"]
    assert sorted(p.suffix for p in cache.iterdir() if p.name.startswith(("model-", "prior-"))) == [".json", ".npz"]
    warm = fit_in_a_new_process(seeded, cache)
    assert warm["stages"] == []  # nothing compiled
    assert warm["draws"] == cold["draws"]  # bit for bit: the compiling process samples with the cached code too
    for result in (cold, warm):
        assert result["modules"]["pymc"] == "NoneType"  # PyMC stays in the compiling child
        assert result["modules"]["arviz"] == "_StandIn" and not result["scipy.stats"]
        assert result["prior"] == ["hazard_level", "hazard_trend", "kind_mean", "kind_spread", "reliability", "z"]


def _logp(compiled, point: np.ndarray) -> tuple[float, np.ndarray]:
    def ptr(a: np.ndarray):
        return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))

    grad, value = np.zeros_like(point), np.zeros(())
    code = compiled.compiled_logp_func.ctypes(point.size, ptr(point), ptr(grad), ptr(value), compiled.user_data.ctypes.data)
    assert code == 0
    return float(value), grad


def test_cached_code_equals_pymc_for_other_evidence(seeded: Path) -> None:
    # The session's cache, warm from the other fits of the seed: the cold path is the test above's.
    with open_store(str(seeded)).session() as session:
        priors = store_priors(session)
        now = build_dataset(session, priors)
        then = build_dataset(session, priors, dt.date(2022, 7, 27), experts=now.experts)
    model = DateModel(now, priors)
    key = compile_key(model.config_hash, now, evidence_data(now, priors))
    assert key == compile_key(DateModel(then, priors).config_hash, then, evidence_data(then, priors))
    cached = compile_cached(key, partial(build_model, now, priors, None), evidence_data(now, priors))
    compiled = cached.compiled.with_data(**{k: v for k, v in evidence_data(then, priors).items() if k in cached.compiled.shared_data})
    reference = build_model(then, priors)
    logp = reference.compile_logp(jacobian=True)
    names, slices, shapes = compiled.shape_info
    rng = np.random.default_rng(0)
    for _ in range(5):
        point = rng.normal(scale=0.5, size=compiled.n_dim)
        values = {n: point[s].reshape(shape) for n, s, shape in zip(names, slices, shapes) if s.stop <= compiled.n_dim}
        assert _logp(compiled, point)[0] == pytest.approx(float(logp(values)), rel=1e-9)


def test_the_key_follows_the_priors_not_the_evidence(seeded: Path) -> None:
    with open_store(str(seeded)).session() as session:
        priors = store_priors(session)
        data = build_dataset(session, priors)
    key = compile_key(DateModel(data, priors).config_hash, data, evidence_data(data, priors))
    kinds = {k: {**v, "mean": 0.7} for k, v in priors.reliability.kinds.items()}
    other = replace(priors, reliability=replace(priors.reliability, kinds=kinds))
    assert compile_key(DateModel(data, other).config_hash, data, evidence_data(data, other)) != key
    fewer = replace(data, stmt_weight=data.stmt_weight * 0.5)
    assert compile_key(DateModel(fewer, priors).config_hash, fewer, evidence_data(fewer, priors)) == key


DEFERRED = """
import sys
from forecast.basics.deferred import defer_import
defer_import("arviz")
import arviz_base  # probes every module's __file__ while it imports (lazy_loader, inspect.getmodule)
assert type(sys.modules["arviz"]).__name__ == "_StandIn"
import arviz
import numpy
tree = arviz.from_dict({"posterior": {"x": numpy.zeros((1, 2))}})
assert type(sys.modules["arviz"]).__name__ == "module" and arviz.from_dict is sys.modules["arviz"].from_dict
print(list(tree.children))
"""


def test_deferred_arviz_survives_introspection_and_loads_on_use() -> None:
    done = subprocess.run([sys.executable, "-c", DEFERRED], capture_output=True, text=True, cwd=PROJECT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['posterior']"
