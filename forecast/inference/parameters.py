"""The model's parameters laid out for a dataset: priors as arrays, and the choice of parametrisation.

Both the PyMC model (:mod:`.model`) and the hand-written density (:mod:`.density`) read these, so
they live below both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain.priors import Priors
from ..errors import PriorError
from .dataset import Dataset
from .hazard import date_prior_marginal

MIN_CLAIM_MASS = 1e-4  # a claim's prior mass is read within [this, 1 - this], so no interval gains without bound


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


@dataclass(frozen=True)
class PriorArrays:
    """The priors as arrays aligned with a dataset's questions and experts."""

    hazard_mu: np.ndarray
    hazard_sd: np.ndarray
    trend_mu: np.ndarray
    trend_sd: np.ndarray
    lapse: np.ndarray  # P(the announcement is never acted on): all its mass beyond the horizon
    kinds: list[str]
    kind_mu: np.ndarray
    kind_sd: np.ndarray
    kind_spread: np.ndarray
    expert_kind: np.ndarray  # index into kinds (0 for overridden experts)
    pooled: np.ndarray  # 1.0 if the expert is partially pooled within its kind, 0.0 if overridden
    own_mu: np.ndarray
    own_sd: np.ndarray
    constant_log: np.ndarray  # [Q, bins]: observations plus the integrated treaty-compliance term

    @classmethod
    def from_priors(cls, data: Dataset, priors: Priors) -> PriorArrays:
        missing = [q for q in data.questions if q not in priors.questions]
        if missing:
            raise PriorError(f"no prior for question {missing[0]!r}: add priors/questions/{missing[0]}.toml")
        specs = [priors.questions[q] for q in data.questions]
        overrides = priors.reliability.experts
        kinds = sorted({k for e, k in zip(data.experts, data.expert_kinds) if e not in overrides})
        kind_priors = [priors.reliability.kinds[k] for k in kinds]
        constant = data.obs_log.copy()
        for q, spec in enumerate(specs):
            if data.notice_threshold[q] >= 0 and spec.notice is not None:
                # No notice pending: a compliant party (probability c) cannot leave before the threshold.
                constant[q, : data.notice_threshold[q]] += np.log1p(-spec.notice["compliance_mean"])
        constant += _narrowness_log(data, priors)
        return cls(
            hazard_mu=np.array([_logit(s.date_prior["annual_hazard"]) for s in specs]),
            hazard_sd=np.array([s.date_prior["hazard_sd_logit"] for s in specs]),
            trend_mu=np.array([s.date_prior["trend_per_year"] for s in specs]),
            trend_sd=np.array([s.date_prior["trend_sd"] for s in specs]),
            lapse=np.array([s.date_prior["lapse_probability"] for s in specs]),
            kinds=kinds,
            kind_mu=np.array([_logit(k["mean"]) for k in kind_priors]),
            kind_sd=np.array([k["mean_sd_logit"] for k in kind_priors]),
            kind_spread=np.array([k["spread_logit"] for k in kind_priors]),
            expert_kind=np.array([kinds.index(k) if e not in overrides else 0
                                  for e, k in zip(data.experts, data.expert_kinds)], dtype=int),
            pooled=np.array([0.0 if e in overrides else 1.0 for e in data.experts]),
            own_mu=np.array([_logit(overrides[e]["mean"]) if e in overrides else 0.0 for e in data.experts]),
            own_sd=np.array([overrides[e]["sd_logit"] if e in overrides else 1.0 for e in data.experts]),
            constant_log=constant,
        )

    def prior_mean_reliability(self) -> np.ndarray:
        """Each expert's reliability at the centre of its prior (used by the fast path before any run)."""
        centre = np.where(self.pooled > 0, self.kind_mu[self.expert_kind] if len(self.kinds) else 0.0, self.own_mu)
        return 1 / (1 + np.exp(-centre))


def narrowness_units(data: Dataset, priors: Priors) -> np.ndarray:
    """[S, bins] what each statement gains, per unit of its weight, for narrowing its question's prior
    (docs/model.md, "Narrow claims").

    A statement whose interval holds m of its question's date prior (the hazard prior alone, before any
    observation) multiplies the months inside by m^(-g) and those outside by (1 - m)^(-g), g =
    ``weights.narrowness``, each to the power of its weight. With g = 1 one statement alone puts r of the
    probability in its interval, which is what its reliability r means (the logarithmic opinion pool relative to
    the prior); with g = 0 a claim moves its interval's odds by r / (1 - r) whatever its width. The factor does not
    involve r, so the model reads it as data, like an observation.
    """
    narrowness = priors.reliability.weights["narrowness"]
    units = np.zeros((len(data.stmt_question), data.bins))
    if narrowness == 0 or not len(units):
        return units
    prior = np.exp(np.stack([date_prior_marginal(priors.questions[slug].date_prior, int(data.n_months[q]), data.bins)
                             for q, slug in enumerate(data.questions)]))
    mass = np.clip((prior[data.stmt_question] * data.stmt_in).sum(axis=1), MIN_CLAIM_MASS, 1 - MIN_CLAIM_MASS)[:, None]
    return -narrowness * np.where(data.stmt_in, np.log(mass), np.log1p(-mass))


def _narrowness_log(data: Dataset, priors: Priors) -> np.ndarray:
    """[Q, bins] the open statements' :func:`narrowness_units`, weighted and summed by question."""
    out = np.zeros((len(data.questions), data.bins))
    weight = np.where(data.decided == 0, data.stmt_weight, 0.0)[:, None]
    np.add.at(out, data.stmt_question, weight * narrowness_units(data, priors))
    return out


CENTRED_FROM_WEIGHT = 20.0


def centred(data: Dataset) -> bool:
    """Centred reliabilities when the typical expert has made many statements, non-centred otherwise.

    Measured: at 100 statements per expert the non-centred form left kind means at ESS ~400 and
    R-hat 1.02; at 6 per expert the centred form diverged (26 divergences, R-hat 1.025).
    """
    if not data.experts:
        return False
    return float(np.median(data.expert_weights())) >= CENTRED_FROM_WEIGHT
