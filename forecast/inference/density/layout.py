"""The hand-written density's inputs and outputs, laid out as PyMC lays out the model.

Every input is a float64 array, so the density fits nutpie's user-data record unchanged: the
evidence containers of :func:`forecast.inference.model.evidence_data` and the model's structure from
:func:`structure_arrays`.
"""

from __future__ import annotations

import numpy as np

from ...domain.priors import Priors
from ...errors import ForecastError
from ..dataset import Dataset
from ..parameters import PriorArrays, centred
from ..preemption import links

SLOTS = (("w_in", 2), ("w_out", 2), ("record_right", 1), ("record_wrong", 1), ("constant_log", 2),
         ("question_consts", 2), ("kind_consts", 2), ("expert_consts", 2), ("link_consts", 2), ("layout_consts", 1))


def applies(data: Dataset) -> bool:
    """Whether the hand-written density covers this model (one with experts)."""
    return bool(data.experts)


def _free_kinds(data: Dataset, priors: Priors, fixed: np.ndarray | None) -> int:
    """How many kinds have their mean and spread as parameters (none when reliabilities are fixed)."""
    return 0 if fixed is not None else len(PriorArrays.from_priors(data, priors).kinds)


def value_layout(data: Dataset, priors: Priors, fixed: np.ndarray | None = None) -> list[list]:
    """The model's unconstrained parameters as PyMC lays them out: [name, start, stop] each."""
    n_q, n_k = len(data.questions), _free_kinds(data, priors, fixed)
    sizes = [("hazard_level", n_q), ("hazard_trend", n_q)]
    if n_k:
        sizes += [("kind_mean_interval__", n_k), ("kind_spread_log__", n_k)]
    if fixed is None:
        sizes.append(("logit_reliability" if centred(data) else "z", len(data.experts)))
    starts = np.cumsum([0] + [size for _, size in sizes])
    return [[name, int(start), int(start + size)] for (name, size), start in zip(sizes, starts)]


def expanded_layout(data: Dataset, priors: Priors, fixed: np.ndarray | None = None) -> list[list]:
    """What :func:`expand` returns, as PyMC lays it out: [name, start, stop] each."""
    values = value_layout(data, priors, fixed)
    n_q, n_e, n_k, at = len(data.questions), len(data.experts), _free_kinds(data, priors, fixed), values[-1][2]
    traced = [("kind_mean", n_k), ("kind_spread", n_k)] if n_k else []
    traced += [("reliability", n_e)] if fixed is None else []
    traced += [("p_T", n_q * data.bins), ("p_preempted", n_q)]
    for name, size in traced:
        values.append([name, at, at + size])
        at += size
    return values


def structure_arrays(data: Dataset, priors: Priors, evidence: dict[str, np.ndarray],
                     fixed: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The model's priors and layout as float arrays (empty tables padded to one row, with counts in the layout).

    With ``fixed`` reliabilities, these are constants and the only parameters are the hazards'. The
    density reads w_out as each question's statement weight less w_in; this checks that it is, on the
    ``evidence`` containers of :func:`forecast.inference.model.evidence_data`.
    """
    both = (evidence["w_in"] + evidence["w_out"]).reshape(len(data.experts), len(data.questions), data.bins)
    if not np.allclose(both, both[:, :, :1]):
        raise ForecastError("w_in + w_out must be constant across a question's bins for the hand-written density")
    arrays = PriorArrays.from_priors(data, priors)
    n_q, n_k, n_e, bins = len(data.questions), _free_kinds(data, priors, fixed), len(data.experts), data.bins
    kinds = np.column_stack([arrays.kind_mu, arrays.kind_sd, arrays.kind_spread]) if n_k else np.ones((1, 3))
    all_links = sorted(links(data.precluded_by, data.starts, data.n_months, bins), key=lambda link: link.precluder)
    link_rows = [np.concatenate([[link.dependent, link.precluder], link.cut]) for link in all_links]
    offsets = [0, n_q, 2 * n_q, 2 * n_q + n_k, 2 * n_q + 2 * n_k]
    return {
        "question_consts": np.column_stack([arrays.hazard_mu, arrays.hazard_sd, arrays.trend_mu, arrays.trend_sd,
                                            data.n_months, arrays.lapse]).astype(float),
        "kind_consts": kinds.astype(float),
        "expert_consts": np.column_stack([arrays.expert_kind, arrays.pooled, arrays.own_mu, arrays.own_sd,
                                          np.zeros(n_e) if fixed is None else fixed]).astype(float),
        "link_consts": np.array(link_rows, dtype=float) if link_rows else np.zeros((1, 2 + bins)),
        "layout_consts": np.array([*offsets, float(centred(data)), n_k, len(link_rows), float(fixed is not None)],
                                  dtype=float),
    }
