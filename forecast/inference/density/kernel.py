"""The model's log density, its gradient and the expansion to every traced variable, in numba.

The same density as :func:`forecast.inference.model.build_model` on its unconstrained scale (up to a
constant): PyTensor's generated code for it spends most of its time between small array
operations, so the sampler calls this one instead. ``tests/test_density.py`` checks it against
PyTensor's log density, automatic gradient and expansion at random points. nutpie's two C
callbacks live here too (:func:`callbacks`), so numba's on-disk cache of them, keyed by this
file, goes stale whenever any of this code changes.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from numba import carray, cfunc, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .layout import SLOTS

NEG_INF = -np.inf


@njit(cache=True)
def _lae_share(a: float, b: float):
    """(log(exp(a) + exp(b)), exp(a) / (exp(a) + exp(b))); (-inf, 0) when both are -inf."""
    if a == NEG_INF:
        return b, 0.0
    if b == NEG_INF:
        return a, 1.0
    e = np.exp(-abs(a - b))
    return max(a, b) + np.log1p(e), (1.0 if a >= b else e) / (1.0 + e)


@njit(cache=True)
def _softplus(x: float) -> float:
    return max(x, 0.0) + np.log1p(np.exp(-abs(x)))


@njit(cache=True)
def _log_prior_t(alpha, beta, n, constant_log, log_p, before, slope):
    """log P(T = bin) and log P(T >= bin) under one question's hazard (as ``model._log_prior_t``).

    ``slope`` keeps what the gradient needs per month: d log P(T = t) / d(log monthly survival) is
    ``slope[t, 0]`` and d(log monthly survival) / d(logit yearly hazard) is ``slope[t, 1]``.
    A month the observations rule out (``constant_log`` -inf) needs only its survival: its log P(T = t)
    is -inf either way and its gradient weight 0. exp(-|h|) of the linear logit h steps by one
    factor per month while h keeps its sign (a fresh exp where it changes sign).
    """
    bins = log_p.size
    total = 0.0
    up, down = np.exp(beta / 12.0), np.exp(-beta / 12.0)  # exp(h) and exp(-h) grow by these per month
    e, positive = 0.0, False
    for t in range(bins):
        before[t] = total
        if t < n:
            h = alpha + beta * t / 12.0
            if t == 0 or (h >= 0) != positive:
                positive, e = h >= 0, np.exp(-abs(h))
            else:
                e *= down if positive else up
            u = -(max(h, 0.0) + np.log1p(e)) / 12.0  # log(1 - monthly hazard)
            slope[t, 1] = -(1.0 / (1.0 + e) if positive else e / (1.0 + e)) / 12.0
            if constant_log[t] == NEG_INF:
                log_p[t], slope[t, 0] = NEG_INF, 0.0
            else:
                em1 = np.expm1(u)
                log_p[t] = np.log(-em1) + total
                slope[t, 0] = (em1 + 1.0) / em1
            total += u
        else:
            log_p[t] = NEG_INF
    log_p[bins - 1] = total


@njit(cache=True)
def _lapse(lapse, log_p, before, share):
    """Mix a share ``lapse`` of never-acted-on mass into the beyond bin, in place (as ``hazard.with_lapse``).

    ``share[t]`` keeps the hazard branch's share of P(T >= t), and ``share[bins]`` its share of the beyond bin.
    """
    bins = log_p.size
    if lapse <= 0.0:
        share[:] = 1.0
        return
    kept, lapsed = np.log1p(-lapse), np.log(lapse)
    for t in range(bins - 1):
        log_p[t] += kept
        before[t], share[t] = _lae_share(before[t] + kept, lapsed)
    before[bins - 1], share[bins - 1] = _lae_share(before[bins - 1] + kept, lapsed)
    log_p[bins - 1], share[bins] = _lae_share(log_p[bins - 1] + kept, lapsed)


@njit(cache=True)
def _hazard_backward(n, slope, d_log_p, d_before):
    """(d alpha, d beta) from the gradients of log P(T = bin) and log P(T >= bin)."""
    bins = d_log_p.size
    d_alpha = d_beta = 0.0
    later = d_log_p[bins - 1]  # the beyond bin is the sum of every month's log survival
    for t in range(bins - 1, -1, -1):
        if t < n:
            d_h = (later + d_log_p[t] * slope[t, 0]) * slope[t, 1]
            d_alpha += d_h
            d_beta += d_h * t / 12.0
            later += d_log_p[t]
        later += d_before[t]
    return d_alpha, d_beta


@njit(cache=True)
def _lse_into(row, d_row) -> float:
    """log-sum-exp of a row; adds its softmax to ``d_row``."""
    top = row.max()
    if top == NEG_INF:
        return NEG_INF
    shifted = np.exp(row - top)
    total = shifted.sum()
    d_row += shifted / total
    return top + np.log(total)


@njit(cache=True)
def _earlier(row, new, old):
    """[k]: log of the sum of exp(row[t]) over t < k, for k up to the last bin (the beyond bin excluded).

    Fills each step's shares for :func:`_earlier_backward`: ``new[k]`` = exp(row[k - 1] - out[k]) (the newest
    term's share) and ``old[k]`` = exp(out[k - 1] - out[k]) = 1 - new[k], both without cancellation.
    """
    out = np.full(row.size, NEG_INF)
    new[0] = old[0] = 0.0
    for k in range(1, row.size):
        a, b = row[k - 1], out[k - 1]
        if a == NEG_INF and b == NEG_INF:
            new[k] = old[k] = 0.0
            continue
        e = np.exp(-abs(a - b))
        out[k] = max(a, b) + np.log1p(e)
        larger, smaller = 1.0 / (1.0 + e), e / (1.0 + e)
        new[k], old[k] = (larger, smaller) if a >= b else (smaller, larger)
    return out


@njit(cache=True)
def _earlier_backward(new, old, d_earlier, d_row) -> None:
    """Adds to ``d_row`` the gradient of sum_k d_earlier[k] x earlier[k]: d_row[t] gets sum over k > t of
    d_earlier[k] exp(row[t] - earlier[k]) = new[t + 1] x (d_earlier[t + 1] + old[t + 2] (d_earlier[t + 2] + ...)),
    from the shares :func:`_earlier` kept (each factor at most 1: no overflow, and no logarithm or exponential)."""
    run = 0.0  # sum over k >= m of d_earlier[k] x exp(earlier[m] - earlier[k])
    for m in range(new.size - 1, 0, -1):
        run = d_earlier[m] + (old[m + 1] * run if m + 1 < new.size else 0.0)
        d_row[m - 1] += new[m] * run


@njit(cache=True)
def _star(b, joint, ls, ev, deps, cuts, d_joint, d_ls, d_ev) -> float:
    """log Z of precluder ``b`` and its dependents, as ``preemption.star``; accumulates its gradients.

    ``joint``, ``ls``, ``ev`` are [Q, bins] log prior + evidence, log survival and evidence;
    ``d_joint`` gets the gradient for log prior + evidence, ``d_ls`` for the log survival and
    ``d_ev`` the extra gradient of the dependents' beyond bins (through their survival).
    """
    bins = joint.shape[1]
    last = bins - 1
    earlier = np.empty((deps.size, bins))
    share = np.empty((deps.size, bins))  # the share of a's months before T_b in a's term
    new, old = np.empty((deps.size, bins)), np.empty((deps.size, bins))
    total = joint[b].copy()
    for m in range(deps.size):
        a = deps[m]
        earlier[m] = _earlier(joint[a], new[m], old[m])
        for i in range(bins):
            c = cuts[m, i]
            term, share[m, i] = _lae_share(earlier[m, c], ls[a, c] + ev[a, last])
            total[i] += term
    weights = np.zeros(bins)
    log_z = _lse_into(total, weights)
    d_joint[b] += weights
    for m in range(deps.size):
        a = deps[m]
        d_earlier = np.zeros(bins)
        for i in range(bins):
            if weights[i] > 0.0:
                c = cuts[m, i]
                d_earlier[c] += weights[i] * share[m, i]
                through_survival = weights[i] * (1.0 - share[m, i])
                d_ls[a, c] += through_survival
                d_ev[a, last] += through_survival
        _earlier_backward(new[m], old[m], d_earlier, d_joint[a])
    return log_z


@njit(cache=True)
def _marginal(joint, ls, ev, link_consts, n_links, d_joint, d_ls, d_ev) -> float:
    """log P(evidence | parameters), T summed out per question (pre-empted pairs jointly)."""
    n_q = joint.shape[0]
    linked = np.zeros(n_q, dtype=np.bool_)
    total = 0.0
    start = 0
    while start < n_links:
        b = int(link_consts[start, 1])
        stop = start
        while stop < n_links and int(link_consts[stop, 1]) == b:
            stop += 1
        deps = link_consts[start:stop, 0].astype(np.int64)
        cuts = link_consts[start:stop, 2:].astype(np.int64)
        total += _star(b, joint, ls, ev, deps, cuts, d_joint, d_ls, d_ev)
        linked[b] = True
        linked[deps] = True
        start = stop
    for q in range(n_q):
        if not linked[q]:
            total += _lse_into(joint[q], d_joint[q])
    return total


@njit(cache=True)
def _normal(x, mu, sd):
    """(log N(x; mu, sd) up to a constant, d/dx, d/dsd)."""
    z = (x - mu) / sd
    return -0.5 * z * z - np.log(sd), -z / sd, (z * z - 1.0) / sd


@njit(cache=True)
def _reliability_prior(x, kind_consts, expert_consts, layout_consts, grad, log_r, log_not_r):
    """Log priors of the kind means, spreads and logit reliabilities (their gradients go to ``grad``).

    Fills log r and log (1 - r); returns the log prior and what :func:`_reliability_backward` needs.
    """
    n_e, n_k = expert_consts.shape[0], int(layout_consts[6])
    o_mean, o_spread, o_rel, is_centred = int(layout_consts[2]), int(layout_consts[3]), int(layout_consts[4]), layout_consts[5] > 0
    total = 0.0
    means, spreads = np.empty(max(n_k, 1)), np.empty(max(n_k, 1))
    mu, sd, raw = np.empty(n_e), np.empty(n_e), np.empty(n_e)
    if layout_consts[8] > 0:  # fixed reliabilities: constants, no prior
        for e in range(n_e):
            log_r[e], log_not_r[e] = np.log(expert_consts[e, 4]), np.log1p(-expert_consts[e, 4])
        return total, mu, sd, raw, means, spreads
    for k in range(n_k):
        means[k], spreads[k] = np.exp(x[o_mean + k]), np.exp(x[o_spread + k])
        z = (means[k] - kind_consts[k, 0]) / kind_consts[k, 1]
        total += -0.5 * z * z + x[o_mean + k]  # truncated normal (its normaliser is constant) + log Jacobian
        grad[o_mean + k] += -z / kind_consts[k, 1] * means[k] + 1.0
        z = spreads[k] / kind_consts[k, 2]
        total += -0.5 * z * z + x[o_spread + k]  # half-normal + log Jacobian
        grad[o_spread + k] += -z * z + 1.0
    for e in range(n_e):
        kind, pooled = int(expert_consts[e, 0]), expert_consts[e, 1] > 0
        mu[e] = means[kind] if pooled else expert_consts[e, 2]
        sd[e] = spreads[kind] if pooled else expert_consts[e, 3]
        raw[e] = x[o_rel + e]
        logit_r = raw[e] if is_centred else mu[e] + sd[e] * raw[e]
        log_r[e], log_not_r[e] = -_softplus(-logit_r), -_softplus(logit_r)
        total += _normal(raw[e], mu[e], sd[e])[0] if is_centred else -0.5 * raw[e] * raw[e]
    return total, mu, sd, raw, means, spreads


@njit(cache=True)
def _reliability_backward(d_logit_r, mu, sd, raw, means, spreads, expert_consts, layout_consts, grad) -> None:
    """Chains d/d logit r (likelihood and, when centred, the prior) to the unconstrained parameters."""
    if layout_consts[8] > 0:
        return
    o_mean, o_spread, o_rel, is_centred = int(layout_consts[2]), int(layout_consts[3]), int(layout_consts[4]), layout_consts[5] > 0
    for e in range(expert_consts.shape[0]):
        kind, pooled = int(expert_consts[e, 0]), expert_consts[e, 1] > 0
        if is_centred:
            _, d_x, d_sd = _normal(raw[e], mu[e], sd[e])
            grad[o_rel + e] += d_logit_r[e] + d_x
            d_mu = -d_x
        else:
            grad[o_rel + e] += -raw[e] + d_logit_r[e] * sd[e]
            d_mu, d_sd = d_logit_r[e], d_logit_r[e] * raw[e]
        if pooled:
            grad[o_mean + kind] += d_mu * means[kind]
            grad[o_spread + kind] += d_sd * spreads[kind]


@njit(cache=True)
def _statements(log_r, log_not_r, w_in, w_out, constant_log):
    """([Q, bins] evidence: observations plus every open statement's term, [E, Q] each expert's open weight).

    Every open statement counts in w_in or w_out at each bin, so w_out = (its weight on the question)
    - w_in: one matrix-vector product instead of two (and one back in :func:`_evaluate`).
    """
    n_q, bins = constant_log.shape
    weight = np.empty((log_r.size, n_q))
    for q in range(n_q):
        weight[:, q] = w_in[:, q * bins] + w_out[:, q * bins]
    flat = constant_log.copy().reshape(n_q * bins) + np.dot(log_r - log_not_r, w_in)
    per_question = np.dot(log_not_r, weight)
    for q in range(n_q):
        flat[q * bins:(q + 1) * bins] += per_question[q]
    return flat.reshape((n_q, bins)), weight


@njit(cache=True)
def _evaluate(x, w_in, w_out, record_right, record_wrong, constant_log, question_consts, kind_consts,
              expert_consts, link_consts, layout_consts):
    """The log density up to a constant, its gradient, and on the way the posterior over T given ``x``.

    The gradient of log Z with respect to a bin's log potential is that bin's posterior probability,
    so ``d_flat`` ([Q x bins]) is p_T (the dependents' beyond bins included) and ``d_ls`` holds each
    dependent's pre-empted mass at the survival bins it was gathered from.
    """
    n_q, bins = constant_log.shape
    n_e = expert_consts.shape[0]
    grad = np.zeros(x.size)
    log_r, log_not_r, d_logit_r = np.empty(n_e), np.empty(n_e), np.zeros(n_e)
    total, mu, sd, raw, means, spreads = _reliability_prior(x, kind_consts, expert_consts, layout_consts, grad,
                                                            log_r, log_not_r)
    total += np.dot(log_r, record_right) + np.dot(log_not_r, record_wrong)
    ev, weight = _statements(log_r, log_not_r, w_in, w_out, constant_log)
    lp, ls, slope = np.empty((n_q, bins)), np.empty((n_q, bins)), np.empty((n_q, bins, 2))
    share = np.empty((n_q, bins + 1))
    o_alpha, o_beta = int(layout_consts[0]), int(layout_consts[1])
    for q in range(n_q):
        mu_a, sd_a, mu_b, sd_b = question_consts[q, 0], question_consts[q, 1], question_consts[q, 2], question_consts[q, 3]
        a, b = x[o_alpha + q], x[o_beta + q]
        total += -0.5 * ((a - mu_a) / sd_a) ** 2 - 0.5 * ((b - mu_b) / sd_b) ** 2
        grad[o_alpha + q] += -(a - mu_a) / sd_a**2
        grad[o_beta + q] += -(b - mu_b) / sd_b**2
        _log_prior_t(a, b, int(question_consts[q, 4]), constant_log[q], lp[q], ls[q], slope[q])
        _lapse(question_consts[q, 5], lp[q], ls[q], share[q])
    d_joint, d_ls, d_ev = np.zeros((n_q, bins)), np.zeros((n_q, bins)), np.zeros((n_q, bins))
    total += _marginal(lp + ev, ls, ev, link_consts, int(layout_consts[7]), d_joint, d_ls, d_ev)
    for q in range(n_q):
        d_p, d_s = d_joint[q], d_ls[q]
        if question_consts[q, 5] > 0.0:  # through the lapse mixture to the hazard's own terms
            d_p, d_s = d_p.copy(), d_s * share[q, :bins]
            d_p[bins - 1] *= share[q, bins]
        d_a, d_b = _hazard_backward(int(question_consts[q, 4]), slope[q], d_p, d_s)
        grad[o_alpha + q] += d_a
        grad[o_beta + q] += d_b
    d_flat = (d_joint + d_ev).reshape(n_q * bins)
    through_in = np.dot(w_in, d_flat)
    d_log_r = record_right + through_in
    d_log_not_r = record_wrong + np.dot(weight, d_flat.reshape((n_q, bins)).sum(axis=1)) - through_in
    for e in range(n_e):
        r = np.exp(log_r[e])
        d_logit_r[e] = d_log_r[e] * (1.0 - r) - d_log_not_r[e] * r
    _reliability_backward(d_logit_r, mu, sd, raw, means, spreads, expert_consts, layout_consts, grad)
    return total, grad, d_flat, d_ls, log_r, means, spreads


@njit(cache=True)
def logp_grad(x, w_in, w_out, record_right, record_wrong, constant_log, question_consts, kind_consts,
              expert_consts, link_consts, layout_consts):
    """(log density up to a constant, its gradient) at the unconstrained point ``x``."""
    out = _evaluate(x, w_in, w_out, record_right, record_wrong, constant_log, question_consts, kind_consts,
                    expert_consts, link_consts, layout_consts)
    return out[0], out[1]


@njit(cache=True)
def expand(x, w_in, w_out, record_right, record_wrong, constant_log, question_consts, kind_consts,
           expert_consts, link_consts, layout_consts):
    """Every traced variable at ``x``, as PyMC lays them out (see :func:`expanded_layout`), in a 1-tuple."""
    _, _, p_t, d_ls, log_r, means, spreads = _evaluate(
        x, w_in, w_out, record_right, record_wrong, constant_log, question_consts, kind_consts, expert_consts,
        link_consts, layout_consts)
    n_q, n_k = question_consts.shape[0], int(layout_consts[6])
    preempted = np.zeros(n_q)
    for m in range(int(layout_consts[7])):
        a = int(link_consts[m, 0])
        preempted[a] = d_ls[a, :int(question_consts[a, 4])].sum()
    if layout_consts[8] > 0:
        return (np.concatenate((x, p_t, preempted)),)
    values = np.concatenate((x, means[:n_k], spreads[:n_k], np.exp(log_r), p_t, preempted))
    return (values,)


RECORD_LENGTH = 2 * len(SLOTS) + sum(ndim for _, ndim in SLOTS)  # nutpie's record: addresses, sizes, shapes
_SHAPES_AT = [2 * len(SLOTS) + sum(ndim for _, ndim in SLOTS[:k]) for k in range(len(SLOTS))]
W_IN, W_OUT, RIGHT, WRONG, CONSTANT, QUESTIONS, KINDS, EXPERTS, LINKS, LAYOUT = _SHAPES_AT


def _void_pointer_typing(typingctx, address):
    """The address held in a uint64, as a pointer."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


_void_pointer: Any = intrinsic(_void_pointer_typing)


@njit(cache=True)
def _inputs(user_data_):
    """The ten input arrays, viewed through nutpie's user-data record."""
    record = carray(user_data_, (RECORD_LENGTH,), np.uint64)
    return (carray(_void_pointer(record[0]), (record[W_IN], record[W_IN + 1]), np.float64),
            carray(_void_pointer(record[1]), (record[W_OUT], record[W_OUT + 1]), np.float64),
            carray(_void_pointer(record[2]), (record[RIGHT],), np.float64),
            carray(_void_pointer(record[3]), (record[WRONG],), np.float64),
            carray(_void_pointer(record[4]), (record[CONSTANT], record[CONSTANT + 1]), np.float64),
            carray(_void_pointer(record[5]), (record[QUESTIONS], record[QUESTIONS + 1]), np.float64),
            carray(_void_pointer(record[6]), (record[KINDS], record[KINDS + 1]), np.float64),
            carray(_void_pointer(record[7]), (record[EXPERTS], record[EXPERTS + 1]), np.float64),
            carray(_void_pointer(record[8]), (record[LINKS], record[LINKS + 1]), np.float64),
            carray(_void_pointer(record[9]), (record[LAYOUT],), np.float64))


def _logp_callback(dim, x_, out_, logp_, user_data_):
    try:
        i = _inputs(user_data_)
        value, grad = logp_grad(carray(x_, (dim,)), i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], i[9])
        carray(logp_, ())[()] = value
        carray(out_, (dim,))[...] = grad
        if not np.all(np.isfinite(grad)):
            return 3
        if not np.isfinite(value):
            return 4
    except Exception:
        return 1
    return 0


def _expand_callback(dim, expanded, x_, out_, user_data_):
    try:
        i = _inputs(user_data_)
        (values,) = expand(carray(x_, (dim,)), i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8], i[9])
        if values.size != expanded:
            return -1
        carray(out_, (expanded,))[...] = values
    except Exception:
        return -2
    return 0


@cache
def callbacks() -> tuple:
    """nutpie's (log density with gradient, expansion) C callbacks: one pair for every model shape.

    They read each array's address and shape from the record and the parameter count from nutpie's
    call, so a new model shape needs no numba compile; numba keeps them in its cache beside this file.
    """
    logp = cfunc(types.int64(types.uint64, *[types.CPointer(types.double)] * 3, types.voidptr), cache=True)
    expanded = cfunc(types.int64(types.uint64, types.uint64, *[types.CPointer(types.double)] * 2, types.voidptr),
                     cache=True)
    return logp(_logp_callback), expanded(_expand_callback)
