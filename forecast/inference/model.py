"""The Bayesian model: a pure function of a :class:`~forecast.inference.dataset.Dataset` and the priors.

T (the event month, or "not within the horizon") is marginalised exactly by log-sum-exp over
bins (jointly over the two dates for a question and the question that precludes it); NUTS samples
only the continuous parameters (hazard level and trend per question, expert reliabilities), and
the posterior over T is the average over draws of the exact conditional.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

import numpy as np

from ..basics.progress import SILENT, Progress
from ..domain.priors import DEFAULT_BIND_PROBABILITY, Priors
from .dataset import Dataset
from .draws import Draws
from .parameters import PriorArrays, centred
from .preemption import TensorOps, by_precluder, links, star

MODEL_VERSION = "5"  # 5: a share of announcements is never acted on (hazard.with_lapse); 4: narrow claims gain


@dataclass(frozen=True)
class FitSettings:
    """Sampler settings, stored with every run."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 20220726
    sampler: str = "nutpie"
    cores: int = 2
    target_accept: float = 0.9
    retry_tune: int | None = None  # when set: a fit that fails its diagnostics is re-sampled once with this tuning


def config_hash(data: Dataset, priors: Priors, fixed_reliability: np.ndarray | None = None) -> str:
    """A hash of everything besides the evidence that determines the posterior."""
    payload = {
        "model_version": MODEL_VERSION,
        "questions": {q: asdict(priors.questions[q]) | {"source": ""} for q in data.questions},
        "reliability": asdict(priors.reliability),
        "fixed": None if fixed_reliability is None else np.round(fixed_reliability, 12).tolist(),
        "centred": centred(data),
        "default_bind_probability": DEFAULT_BIND_PROBABILITY,
        "prior_set": priors.prior_set,  # for notices on questions without a notice rule
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_model(data: Dataset, priors: Priors, fixed_reliability: np.ndarray | None = None):
    """The PyMC model. With ``fixed_reliability`` the reliabilities are constants, not parameters.

    The evidence enters through data containers (``w_in``, ``w_out``, ``record_right``,
    ``record_wrong``, ``constant_log``) so that a compiled model can be re-used for another dataset
    of the same shape.
    """
    import pymc as pm
    import pytensor.tensor as pt

    arrays = PriorArrays.from_priors(data, priors)
    coords = {"question": data.questions, "bin": np.arange(data.bins), "expert": data.experts, "kind": arrays.kinds}
    with pm.Model(coords=coords) as model:
        values = evidence_data(data, priors)
        constant = pm.Data("constant_log", values["constant_log"])
        alpha = pm.Normal("hazard_level", arrays.hazard_mu, arrays.hazard_sd, dims="question")
        beta = pm.Normal("hazard_trend", arrays.trend_mu, arrays.trend_sd, dims="question")
        log_prior, log_survival = _log_prior_t(pt, alpha, beta, data, arrays.lapse)
        evidence = constant
        if data.experts:
            containers = {k: pm.Data(k, values[k]) for k in ("w_in", "w_out", "record_right", "record_wrong")}
            reliability = _reliability(pm, pt, arrays, fixed_reliability, centred(data))
            log_r, log_not_r = pt.log(reliability), pt.log1p(-reliability)
            statements = pt.dot(log_r, containers["w_in"]) + pt.dot(log_not_r, containers["w_out"])
            evidence = evidence + statements.reshape((len(data.questions), data.bins))
            # Decided claims: r or 1 - r whatever T is, at full (undecayed) weight.
            pm.Potential("track_record", pt.dot(log_r, containers["record_right"])
                         + pt.dot(log_not_r, containers["record_wrong"]))
        total, p_t, preempted = _marginalise(pt, log_prior, log_survival, evidence, data)
        pm.Potential("evidence", total)
        pm.Deterministic("p_T", p_t, dims=("question", "bin"))
        pm.Deterministic("p_preempted", preempted, dims="question")
    return model


def _marginalise(pt, log_prior, log_survival, evidence, data: Dataset):
    """(log evidence, posterior over each question's bins, P(pre-empted) per question), T summed out exactly."""
    joint = log_prior + evidence
    per_question = pt.logsumexp(joint, axis=1)
    p_t = pt.special.softmax(joint, axis=1)
    preempted = pt.zeros(len(data.questions))
    linked: set[int] = set()
    total = 0.0
    for precluder, members in by_precluder(links(data.precluded_by, data.starts, data.n_months, data.bins)).items():
        log_z, marginals, pre = star(TensorOps(pt), log_prior, log_survival, evidence, precluder, members)
        total = total + log_z
        for q, log_p in marginals.items():
            linked.add(q)
            p_t = pt.set_subtensor(p_t[q], pt.exp(log_p))
        for q, log_p in pre.items():
            preempted = pt.set_subtensor(preempted[q], pt.exp(log_p))
    alone = np.array([q for q in range(len(data.questions)) if q not in linked], dtype=int)
    return total + pt.sum(per_question[alone]), p_t, preempted


def evidence_data(data: Dataset, priors: Priors) -> dict[str, np.ndarray]:
    """The values of the model's data containers for a dataset."""
    w_in, w_out = (w.reshape(len(data.experts), len(data.questions) * data.bins) for w in data.sufficient_stats())
    right, wrong = data.track_record()
    constant = np.where(data.valid, PriorArrays.from_priors(data, priors).constant_log, -np.inf)
    return {"w_in": w_in, "w_out": w_out, "record_right": right, "record_wrong": wrong, "constant_log": constant}


def _log_prior_t(pt, alpha, beta, data: Dataset, lapse: np.ndarray):
    """(log P(T = bin), log P(T >= bin)) under the discrete-time hazard, per question; padding bins of the first are -inf.

    P(T >= k) is the survival to month k; from the horizon's end on it is P(not within the horizon). A share
    ``lapse`` of each question's mass is beyond the horizon whatever the hazard (:func:`.hazard.with_lapse`).
    """
    years = np.arange(data.bins) / 12.0
    months = np.arange(data.bins)[None, :] < data.n_months[:, None]
    log_survive_year = -pt.softplus(alpha[:, None] + beta[:, None] * years[None, :])
    log_survive = log_survive_year / 12.0 * months  # log(1 - monthly hazard), 0 outside the horizon
    log_hazard = pt.log(-pt.expm1(log_survive_year / 12.0))
    before = pt.cumsum(log_survive, axis=1) - log_survive
    log_p = pt.switch(months, log_hazard + before, -np.inf)
    log_p = pt.set_subtensor(log_p[:, -1], pt.sum(log_survive, axis=1))
    if not np.any(lapse > 0):
        return log_p, before
    with np.errstate(divide="ignore"):
        kept, lapsed = np.log1p(-lapse)[:, None], np.log(lapse)[:, None]
    log_p = pt.set_subtensor((log_p + kept)[:, -1], pt.logaddexp(lapsed[:, 0], log_p[:, -1] + kept[:, 0]))
    return log_p, pt.logaddexp(lapsed, before + kept)


def _reliability(pm, pt, arrays: PriorArrays, fixed: np.ndarray | None, centre: bool):
    """Expert reliabilities: partial pooling within kind, kind means held above one half."""
    if fixed is not None:
        return pt.as_tensor_variable(np.asarray(fixed, dtype=float))
    mu, sd = pt.as_tensor_variable(arrays.own_mu), pt.as_tensor_variable(arrays.own_sd)
    if arrays.kinds:
        kind_mean = pm.TruncatedNormal("kind_mean", arrays.kind_mu, arrays.kind_sd, lower=0.0, dims="kind")
        spread = pm.HalfNormal("kind_spread", arrays.kind_spread, dims="kind")
        mu = arrays.pooled * kind_mean[arrays.expert_kind] + (1 - arrays.pooled) * mu
        sd = arrays.pooled * spread[arrays.expert_kind] + (1 - arrays.pooled) * sd
    if centre:
        logit_r = pm.Normal("logit_reliability", mu, sd, dims="expert")
    else:
        logit_r = mu + sd * pm.Normal("z", 0.0, 1.0, dims="expert")
    return pm.Deterministic("reliability", pm.math.sigmoid(logit_r), dims="expert")


class DateModel:
    """Build once, fit many times: a compiled model re-used for datasets of the same shape."""

    def __init__(self, data: Dataset, priors: Priors, fixed_reliability: np.ndarray | None = None) -> None:
        self.data, self.priors, self.fixed_reliability = data, priors, fixed_reliability
        self.config_hash = config_hash(data, priors, fixed_reliability)
        self._model = None
        self._compiled = None

    @property
    def model(self):
        """The PyMC model, built on first use (a cached nutpie compile does not need it)."""
        if self._model is None:
            self._model = build_model(self.data, self.priors, self.fixed_reliability)
        return self._model

    def fit(self, settings: FitSettings, data: Dataset | None = None, progress: Progress = SILENT):
        """Sample (optionally with another dataset's evidence); returns ArviZ's DataTree."""
        return self.fit_draws(settings, data, progress).to_datatree()

    def fit_draws(self, settings: FitSettings, data: Dataset | None = None, progress: Progress = SILENT) -> Draws:
        """Sample; returns the draws as arrays (posterior, sample statistics and prior), without ArviZ.

        ``progress`` hears of a compile and of nutpie's draws (summed over chains) as they are made.
        """
        if settings.sampler == "nutpie":
            return self._fit_nutpie(settings, data, progress)
        values = evidence_data(data, self.priors) if data is not None else None
        import pymc as pm

        from .compiled import prior_draws

        with self.model:
            if values is not None:
                pm.set_data({k: v for k, v in values.items() if k in self.model.named_vars})
            idata = pm.sample(
                draws=settings.draws, tune=settings.tune, chains=settings.chains, cores=settings.cores,
                random_seed=settings.seed, nuts_sampler="pymc", progressbar=False,
                compute_convergence_checks=False, target_accept=settings.target_accept,
                mp_ctx="forkserver",
            )
        draws = Draws.from_datatree(idata)
        draws.prior = prior_draws(self.model)
        return draws

    @property
    def hand_density(self) -> bool:
        """Whether nutpie samples with the hand-written log density (:mod:`forecast.inference.density.kernel`)."""
        from .density.layout import applies

        return applies(self.data)

    def sampler_data(self, data: Dataset) -> dict[str, np.ndarray]:
        """The arrays nutpie's compiled model reads: the evidence containers and, for the hand-written density,
        the model's structure."""
        values = evidence_data(data, self.priors)
        if self.hand_density:
            from .density.layout import structure_arrays

            values |= structure_arrays(data, self.priors, values, self.fixed_reliability)
        return values

    def compile(self, on_compile: Callable[[], None] = lambda: None):
        """The compiled model for nutpie, from the on-disk cache (compiled into it first when missing)."""
        from .compiled import compile_cached, compile_key
        from .density.layout import expanded_layout

        values = self.sampler_data(self.data)
        key = compile_key(self.config_hash, self.data, values)
        build = partial(build_model, self.data, self.priors, self.fixed_reliability)
        layout = expanded_layout(self.data, self.priors, self.fixed_reliability) if self.hand_density else None
        return compile_cached(key, build, values, on_compile, layout)

    def _fit_nutpie(self, settings: FitSettings, data: Dataset | None, progress: Progress) -> Draws:
        from .compiled import import_nutpie
        from .draws import from_nutpie_trace

        nutpie = import_nutpie()
        if self._compiled is None:
            self._compiled = self.compile(lambda: progress.stage("compiling the model"))
        compiled = self._compiled.compiled
        if data is not None:
            names = set(compiled.shared_data)
            compiled = compiled.with_data(**{k: v for k, v in self.sampler_data(data).items() if k in names})
        def report(chains) -> None:
            progress.sampling(sum(c.finished_draws for c in chains), sum(c.total_draws for c in chains),
                              any(c.tuning for c in chains))

        trace = nutpie.sample(
            compiled, draws=settings.draws, tune=settings.tune, chains=settings.chains, cores=settings.cores,
            seed=settings.seed, progress_bar=False, save_warmup=False, target_accept=settings.target_accept,
            return_raw_trace=True, progress_callback=report, progress_rate=100,
        )
        draws = from_nutpie_trace(trace, compiled.dims, compiled.coords, compiled.reparameterized_names)
        draws.prior = self._compiled.prior
        return draws
