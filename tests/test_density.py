"""The hand-written log density against PyTensor's, with its automatic gradient, at random points."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from forecast.inference.tracing import model_layout, traced_functions
from forecast.inference.density import kernel
from forecast.inference.density import layout as density
from forecast.inference.model import build_model, evidence_data
from forecast.inference.parameters import centred

from .worlds import World


def _world(root, shape: str) -> tuple:
    world = World(root)
    if shape in ("pair", "star"):
        world.question("a", start="2024-01", end="2028-12", hazard=0.3, trend=0.1, precluded_by="b", lapse=0.25)
        world.question("b", start="2023-07", end="2029-12", hazard=0.1, trend=0.5, lapse=0.4)
        if shape == "star":
            world.question("c", start="2024-06", end="2027-12", hazard=0.2, precluded_by="b", notice=False)
    else:
        world.question("a", start="2024-01", end="2028-12", hazard=0.3, trend=0.1, lapse=0.3)
        world.question("c", start="2022-01", end="2031-12", hazard=0.05, notice=False)
    world.own_prior("Dee")  # a per-expert prior, as the bundled priors give one real expert
    for name, kind in (("Ann", "analyst"), ("Bob", "official"), ("Dee", "official"), ("Cyd", "analyst")):
        world.expert(name, kind)
    world.say("a", "Ann", "by 2026", on="2024-06-01")
    world.say("a", "Dee", "not within the horizon", on="2024-06-01")
    world.say("a", "Cyd", "between 2025 and 2026", on="2024-05-01", strength="hedged")
    other = "b" if shape in ("pair", "star") else "c"
    world.say(other, "Bob", "between 2025 and 2026", on="2024-06-01")
    world.say(other, "Cyd", "after 2027", on="2024-06-01")
    if shape == "star":
        world.say("c", "Ann", "by 2025", on="2024-06-01")
        world.observe("c", "event-not-yet", on="2024-09-30")
    world.observe("a", "event-not-yet", on="2024-08-15")
    world.observe("a", "notice-given", on="2024-02-10")  # pending, revocable: a mixture in constant_log
    assert set(world.priors.reliability.experts) == {"Dee"}
    return world.dataset("2024-10-01"), world.priors


def _pytensor(data, priors, fixed=None):
    model = build_model(data, priors, fixed)
    function = model.logp_dlogp_function(ravel_inputs=True)
    function.set_extra_values({})
    assert [v.name for v in model.value_vars] == [name for name, _, _ in density.value_layout(data, priors, fixed)]
    return function, sum(int(np.prod(v.shape)) for v in model.initial_point().values())


def _hand(data, priors, function=kernel.logp_grad, fixed=None):
    evidence = evidence_data(data, priors)
    arrays = evidence | density.structure_arrays(data, priors, evidence, fixed)
    return lambda x: function(x, *(np.ascontiguousarray(arrays[name]) for name, _ in density.SLOTS))


def _fixed(data):
    return np.linspace(0.55, 0.85, len(data.experts))


@pytest.mark.parametrize("shape", ["alone", "pair", "star", "fixed"])
def test_expansion_matches_pytensor(tmp_path, shape):
    """Every traced variable (reliabilities, the posterior over T given the parameters, P(pre-empted)); laid out,
    without compiling nutpie's functions, exactly as nutpie lays them out."""
    data, priors = _world(tmp_path, "pair" if shape == "fixed" else shape)
    fixed = _fixed(data) if shape == "fixed" else None
    model = build_model(data, priors, fixed)
    layout, _, expand_fn = traced_functions(model)
    assert model_layout(model) == {k: v for k, v in layout.items() if k not in ("logp_shared", "expand_shared")}
    laid_out = [[n, *s] for n, s in zip(layout["names"], layout["slices"])]
    assert laid_out == density.expanded_layout(data, priors, fixed)
    values = evidence_data(data, priors)
    reference = lambda x: expand_fn(x, *(values[name] for name, _ in layout["expand_shared"]))[0]  # noqa: E731
    hand = _hand(data, priors, kernel.expand, fixed)
    rng = np.random.default_rng(11)
    for _ in range(4):
        x = rng.normal(0.0, 1.0, layout["n_dim"])
        np.testing.assert_allclose(hand(x)[0], reference(x), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("shape", ["alone", "pair", "star", "centred", "fixed"])
def test_matches_pytensor_log_density_and_gradient(tmp_path, shape):
    data, priors = _world(tmp_path, {"centred": "alone", "fixed": "star"}.get(shape, shape))
    if shape == "centred":  # many statements per expert: the centred parameterisation
        data = replace(data, stmt_weight=data.stmt_weight * 40)
        assert centred(data)
    fixed = _fixed(data) if shape == "fixed" else None
    reference, size = _pytensor(data, priors, fixed)
    hand = _hand(data, priors, fixed=fixed)
    rng = np.random.default_rng(7)
    points = [rng.normal(0.0, 1.0, size) for _ in range(6)]
    values = []
    for x in points:
        expected_logp, expected_grad = reference(x)
        logp, grad = hand(x)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-7, atol=1e-9)
        values.append((logp, float(expected_logp)))
    differences = np.array([[a - values[0][0], b - values[0][1]] for a, b in values[1:]])
    np.testing.assert_allclose(differences[:, 0], differences[:, 1], rtol=1e-9, atol=1e-9)  # equal up to a constant


def test_applies_to_models_with_experts(tmp_path):
    data, _ = _world(tmp_path, "alone")
    assert density.applies(data)
    assert not density.applies(replace(data, experts=[]))


def _log_prior_t_reference(alpha: float, beta: float, n: int, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """model._log_prior_t in NumPy: every month's exp and log computed afresh."""
    t = np.arange(bins)
    months = t < n
    log_survive_year = -np.logaddexp(0.0, alpha + beta * t / 12.0)
    log_survive = log_survive_year / 12.0 * months
    before = np.cumsum(log_survive) - log_survive
    with np.errstate(divide="ignore"):
        log_p = np.where(months, np.log(-np.expm1(log_survive_year / 12.0)) + before, -np.inf)
    log_p[-1] = log_survive.sum()
    return log_p, before


@pytest.mark.parametrize("alpha, beta", [(-3.0, 0.9), (2.5, -1.1), (-0.2, 0.0), (4.0, 0.3), (-30.0, 2.0), (0.0, -0.05)])
def test_hazard_prior_over_long_horizons_crossing_zero_with_months_ruled_out(alpha: float, beta: float) -> None:
    """The kernel's per-month recurrence for exp(-|logit hazard|) against a fresh exp per month, over 50 years (the
    logit crossing zero upwards, downwards, or not at); months the observations rule out are -inf, their survival kept."""
    n, bins = 600, 601
    constant_log = np.zeros(bins)
    constant_log[[0, 5, 6, 7, 300, 599]] = -np.inf
    log_p, before, slope = np.empty(bins), np.empty(bins), np.empty((bins, 2))
    kernel._log_prior_t(alpha, beta, n, constant_log, log_p, before, slope)
    expected_p, expected_before = _log_prior_t_reference(alpha, beta, n, bins)
    ruled_out = np.isneginf(constant_log[:n])
    assert np.all(np.isneginf(log_p[:n][ruled_out])) and np.all(slope[:n][ruled_out, 0] == 0.0)
    np.testing.assert_allclose(log_p[:n][~ruled_out], expected_p[:n][~ruled_out], rtol=1e-12)
    np.testing.assert_allclose(log_p[n:], expected_p[n:], rtol=1e-12)
    np.testing.assert_allclose(before, expected_before, rtol=1e-12, atol=1e-300)
