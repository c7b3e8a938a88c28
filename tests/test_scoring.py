"""Scores against independent implementations (scoringrules, properscoring, scikit-learn), used only here."""

from __future__ import annotations

import numpy as np
import properscoring as ps
import pytest
import scoringrules as sr
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, log_loss

from forecast.scoring.rules import brier, log_score, murphy, reliability_diagram, rps, time_average

RNG = np.random.default_rng(42)
RANDOM = (RNG.random(500), (RNG.random(500) < 0.4).astype(float))
EDGES = [
    (np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])),  # certain forecasts, right and wrong
    (np.array([0.3, 0.3, 0.3]), np.array([1.0, 1.0, 1.0])),  # all one class
    (np.array([0.7]), np.array([0.0])),  # a single run
]


@pytest.mark.parametrize(("p", "y"), [RANDOM, *EDGES])
def test_brier_matches_scoringrules_and_sklearn(p, y) -> None:
    np.testing.assert_allclose(brier(p, y), sr.brier_score(y, p), atol=1e-12)
    np.testing.assert_allclose(brier(p, y), ps.brier_score(y, p), atol=1e-12)
    assert brier(p, y).mean() == pytest.approx(brier_score_loss(y, p, labels=[0, 1]), abs=1e-12)


@pytest.mark.parametrize(("p", "y"), [RANDOM, *EDGES])
def test_log_score_matches_scoringrules(p, y) -> None:
    ours, theirs = log_score(p, y), sr.log_score(y, p)
    assert np.array_equal(np.isinf(ours), np.isinf(theirs))
    np.testing.assert_allclose(ours[np.isfinite(ours)], theirs[np.isfinite(theirs)], atol=1e-12)


def test_log_score_matches_sklearn_where_finite() -> None:
    p, y = RANDOM
    assert log_score(p, y).mean() == pytest.approx(log_loss(y, p, labels=[0, 1]), rel=1e-9)


@given(st.integers(2, 30), st.integers(0, 10_000), st.booleans())
def test_rps_matches_scoringrules(k: int, seed: int, certain: bool) -> None:
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.ones(k), size=5)
    if certain:
        probabilities = np.eye(k)[rng.integers(0, k, size=5)]
    outcome = rng.integers(0, k, size=5)
    onehot = np.eye(k)[outcome]
    np.testing.assert_allclose(rps(probabilities, outcome), sr.rps_score(onehot, probabilities, onehot=True), atol=1e-12)


def test_rps_is_crps_of_the_discrete_date_distribution() -> None:
    """With unit-spaced months, RPS equals properscoring's CRPS of an ensemble drawn from the distribution."""
    probabilities = np.array([0.1, 0.2, 0.3, 0.4])
    members = np.repeat(np.arange(4), (probabilities * 1000).astype(int)).astype(float)
    for outcome in range(4):
        assert rps(probabilities, outcome) == pytest.approx(ps.crps_ensemble(float(outcome), members), abs=1e-9)


@pytest.mark.parametrize(("p", "y"), [RANDOM, *EDGES])
def test_murphy_decomposition_adds_up(p, y) -> None:
    parts = murphy(p, y)
    assert parts["brier"] == pytest.approx(parts["reliability"] - parts["resolution"] + parts["uncertainty"], abs=1e-12)
    assert parts["brier"] == pytest.approx(brier_score_loss(y, p, labels=[0, 1]), abs=1e-12)


def test_reliability_diagram_matches_sklearn_calibration_curve() -> None:
    from sklearn.calibration import calibration_curve

    p, y = RANDOM
    rows = reliability_diagram(p, y, bins=10)
    observed, forecast = calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose([r["observed"] for r in rows], observed, atol=1e-12)
    np.testing.assert_allclose([r["forecast"] for r in rows], forecast, atol=1e-12)
    assert sum(r["count"] for r in rows) == 500
    assert all(r["band"][0] <= r["forecast"] <= r["band"][1] for r in rows)


def test_time_average_weights_by_how_long_each_forecast_stood() -> None:
    assert time_average([0, 10, 30], [1.0, 0.0, 0.5], 40) == pytest.approx((10 * 1 + 20 * 0 + 10 * 0.5) / 40)
    assert time_average([0, 10], [1.0, 0.0], 5) == pytest.approx(1.0)  # the second forecast came too late
