"""Pre-emption: a question's event can happen in month t only if its precluding event has not happened by t.

For a question a precluded by b, T_a is the month a would happen while b's event is still ahead
and T_b the month of b's event; the observable outcome of a is T_a when T_a < T_b and "not within
the horizon" otherwise (pre-empted first), so P(a happens in t) = P(T_a = t, T_b > t). Evidence on a
speaks of the observable outcome; evidence on b of T_b. Summing over T_b's bins i:

    Z = sum_i g_b(i) prod_a [ C_a(i) + S_a(i) e^{E_a(beyond)} ]

with g_b = prior x evidence of b, C_a(i) = sum over a's months t before T_b of prior x evidence of a,
and S_a(i) = the prior probability that T_a is at or after T_b (a's own beyond bin included).
C_a and S_a are cumulative log-sum-exps gathered where T_b falls on a's grid, linear in the bins;
a's marginal uses a masked bins x bins matrix, outside the sampler's gradient. The same code runs
on numpy (the exact path) and on PyTensor (the model): ``ops`` supplies ``lse``, ``lcse``,
``logaddexp``, ``concat`` and ``empty`` (the log of an empty sum).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MASKED = -np.inf


@dataclass(frozen=True)
class Link:
    """Question ``dependent`` precluded by question ``precluder``, on the common bins (rows: T_b's bin i)."""

    dependent: int
    precluder: int
    cut: np.ndarray  # [bins] int: T_b = i on a's grid, clipped to [0, n_a]: a's months before it can still happen
    before: np.ndarray  # [bins, bins] 0 / -inf: a's month t is strictly before T_b = i (for the marginals only)
    within: np.ndarray  # [bins] 0 / -inf: T_b = i falls within a's horizon (a is pre-empted)


def links(precluded_by: np.ndarray | None, starts: np.ndarray, n_months: np.ndarray, bins: int) -> list[Link]:
    """The links of every precluded question (``precluded_by[q]`` is the precluder's index, or -1)."""
    if precluded_by is None:
        return []
    out = []
    rows = np.arange(bins)
    for a, b in enumerate(precluded_by):
        if b < 0:
            continue
        n_a, n_b = int(n_months[a]), int(n_months[b])
        cut = np.where(rows < n_b, np.clip(rows + int(starts[b]) - int(starts[a]), 0, n_a), n_a)  # b's beyond: never
        before = (rows[None, :] < n_a) & (rows[None, :] < cut[:, None])
        within = np.where(cut < n_a, 0.0, MASKED)
        out.append(Link(a, int(b), cut, np.where(before, 0.0, MASKED), within))
    return out


def _terms(ops, log_prior, log_survival, evidence, link: Link):
    """(term_a per T_b bin, log S_a per T_b bin): a's factor in Z given T_b, and a's prior survival to T_b.

    A cumulative sum and the survival, gathered at ``cut`` (linear in the bins, so cheap inside the sampler).
    """
    la, ea = log_prior[link.dependent], evidence[link.dependent]
    earlier = ops.concat([ops.empty, ops.lcse((la + ea)[:-1])])  # [k]: log sum over a's months t < k
    survive = log_survival[link.dependent][link.cut]
    return ops.logaddexp(earlier[link.cut], survive + ea[-1]), survive


def star(ops, log_prior, log_survival, evidence, precluder: int, members: list[Link]):
    """One precluder and the questions it precludes, jointly.

    ``log_survival[q, k]`` is log P(T_q >= k) under q's prior (its beyond bin included). Returns
    (log Z, {question: log marginal over its bins}, {dependent: log P(pre-empted)}); the dependents'
    marginals are of their observable outcome.
    """
    own = log_prior[precluder] + evidence[precluder]
    terms = [_terms(ops, log_prior, log_survival, evidence, link) for link in members]
    joint = own + sum(term for term, _ in terms)
    log_z = ops.lse(joint, 0)
    marginals, preempted = {precluder: joint - log_z}, {}
    for k, link in enumerate(members):
        rest = own + sum(term for m, (term, _) in enumerate(terms) if m != k)
        survive = terms[k][1]
        la, ea = log_prior[link.dependent], evidence[link.dependent]
        months = (la + ea) + ops.lse(rest[:, None] + link.before, 0)
        beyond = ea[-1] + ops.lse(rest + survive, 0)
        marginals[link.dependent] = ops.concat([months[:-1], beyond[None]]) - log_z
        preempted[link.dependent] = ea[-1] + ops.lse(rest + survive + link.within, 0) - log_z
    return log_z, marginals, preempted


def by_precluder(all_links: list[Link]) -> dict[int, list[Link]]:
    """Links grouped by their precluding question."""
    grouped: dict[int, list[Link]] = {}
    for link in all_links:
        grouped.setdefault(link.precluder, []).append(link)
    return grouped


class NumpyOps:
    """The numpy side of ``star``: log-sum-exp that returns -inf for an all -inf slice, exact cumulative sums."""

    empty = np.array([-np.inf])

    @staticmethod
    def lse(x, axis):
        x = np.asarray(x)
        peak = np.max(x, axis=axis, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0.0)
        with np.errstate(divide="ignore"):
            return np.squeeze(peak, axis) + np.log(np.sum(np.exp(x - peak), axis=axis))

    @staticmethod
    def lcse(x):
        return np.logaddexp.accumulate(x)

    logaddexp = staticmethod(np.logaddexp)
    concat = staticmethod(np.concatenate)


class TensorOps:
    """The PyTensor side of ``star``: finite logs of empty sums, so no -inf reaches a gradient."""

    empty = np.array([-1e30])

    def __init__(self, pt) -> None:
        self.pt = pt

    def lcse(self, x):
        """Cumulative log-sum-exp; terms below 1e-300 of the largest are dropped (no -inf, so no NaN gradients)."""
        from pytensor.gradient import disconnected_grad

        peak = disconnected_grad(self.pt.maximum(self.pt.max(x), -1e30))
        return self.pt.log(self.pt.cumsum(self.pt.exp(x - peak)) + 1e-300) + peak

    def lse(self, x, axis):
        return self.pt.logsumexp(x, axis=axis)

    def logaddexp(self, x, y):
        return self.pt.logaddexp(x, y)

    def concat(self, parts):
        return self.pt.concatenate(parts)
