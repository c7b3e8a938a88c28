"""Scores against independent implementations (scoringrules, properscoring, scikit-learn), used only here."""

from __future__ import annotations

import numpy as np
import properscoring as ps
import pytest
import scoringrules as sr
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, log_loss

from forecast.scoring.rules import (
    bootstrap_difference, brier, cluster_bootstrap, log_score, murphy, pit_coverage, pit_histogram, reliability_diagram,
    rps, time_average)

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


def _terms_sum(parts: dict) -> float:
    return (parts["reliability"] - parts["resolution"] + parts["uncertainty"] + parts["within_bin_variance"]
            - parts["within_bin_covariance"])


def test_murphy_decomposition_by_hand() -> None:
    """Stephenson, Coelho and Jolliffe (2008), worked by hand with two bins, [0, 0.5) and [0.5, 1].

    Forecasts 0.1, 0.3 (bin 1: mean 0.2, outcomes 0, 1: frequency 0.5) and 0.6, 1.0 (bin 2: mean 0.8,
    outcomes 1, 1: frequency 1); base rate 3/4.
      Brier = (0.01 + 0.49 + 0.16 + 0) / 4 = 0.165
      reliability = (2 (0.2 - 0.5)^2 + 2 (0.8 - 1)^2) / 4 = (0.18 + 0.08) / 4 = 0.065
      resolution = (2 (0.5 - 0.75)^2 + 2 (1 - 0.75)^2) / 4 = 0.25 / 4 = 0.0625
      uncertainty = 0.75 x 0.25 = 0.1875
      within-bin variance = ((-0.1)^2 + 0.1^2 + (-0.2)^2 + 0.2^2) / 4 = 0.1 / 4 = 0.025
      within-bin covariance = 2 ((-0.1)(-0.5) + (0.1)(0.5) + (-0.2)(0) + (0.2)(0)) / 4 = 0.05
      0.065 - 0.0625 + 0.1875 + 0.025 - 0.05 = 0.165
    Grouped by distinct values instead (the old decomposition), reliability would be the Brier score itself.
    """
    parts = murphy(np.array([0.1, 0.3, 0.6, 1.0]), np.array([0.0, 1.0, 1.0, 1.0]), bins=2)
    expected = {"brier": 0.165, "reliability": 0.065, "resolution": 0.0625, "uncertainty": 0.1875,
                "within_bin_variance": 0.025, "within_bin_covariance": 0.05}
    assert {k: parts[k] for k in expected} == pytest.approx(expected, abs=1e-15)
    assert parts["reliability"] < parts["brier"]


@pytest.mark.parametrize(("p", "y"), [RANDOM, *EDGES])
def test_murphy_terms_add_up_to_the_brier_score(p, y) -> None:
    parts = murphy(p, y)
    assert _terms_sum(parts) == pytest.approx(parts["brier"], abs=1e-12)
    assert parts["brier"] == pytest.approx(brier_score_loss(y, p, labels=[0, 1]), abs=1e-12)


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=200), st.integers(1, 20))
def test_murphy_terms_add_up_on_any_data(pairs, bins: int) -> None:
    p, y = np.array([a for a, _ in pairs]), np.array([float(b) for _, b in pairs])
    parts = murphy(p, y, bins=bins)
    assert _terms_sum(parts) == pytest.approx(parts["brier"], abs=1e-12)
    assert min(parts["reliability"], parts["resolution"], parts["within_bin_variance"]) >= 0


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans(), st.integers(1, 4)), min_size=1, max_size=60),
       st.integers(1, 8))
def test_weighted_murphy_and_diagram_equal_the_rows_repeated(rows, bins: int) -> None:
    """Integer weights count a forecast that many times: the same terms (still adding up) and the same bin means."""
    p, y, w = (np.array([r[i] for r in rows], dtype=float) for i in range(3))
    weighted, repeated = murphy(p, y, bins, weights=w), murphy(np.repeat(p, w.astype(int)), np.repeat(y, w.astype(int)), bins)
    assert weighted == pytest.approx(repeated, abs=1e-12)
    assert _terms_sum(weighted) == pytest.approx(weighted["brier"], abs=1e-12)
    by_weight = reliability_diagram(p, y, bins, weights=w)
    by_count = reliability_diagram(np.repeat(p, w.astype(int)), np.repeat(y, w.astype(int)), bins)
    assert [v for r in by_weight for v in (r["forecast"], r["observed"])] == pytest.approx(
        [v for r in by_count for v in (r["forecast"], r["observed"])], abs=1e-12)


def test_pit_histogram_and_coverage_by_hand() -> None:
    """Three forecasts' steps [F(y-), F(y)]: [0, 0.5] spreads over bins 1-3 of 5 (0.4, 0.4, 0.2), [0.6, 1.0]
    over bins 4-5 (0.5, 0.5), and a step of width 0 at 0.3 (the outcome given no probability) counts whole in
    bin 2. In the central 50% band [0.25, 0.75]: 0.25 / 0.5, 0.15 / 0.4 and 1."""
    ranges = np.array([[0.0, 0.5], [0.6, 1.0], [0.3, 0.3]])
    np.testing.assert_allclose(pit_histogram(ranges, bins=5), [0.4, 0.4 + 1, 0.2, 0.5, 0.5], atol=1e-12)
    np.testing.assert_allclose(pit_coverage(ranges, 0.5), [0.5, 0.375, 1.0], atol=1e-12)


def test_pit_matches_the_randomised_pit_drawn() -> None:
    """Against the randomised PIT itself (Czado, Gneiting and Held 2009): a uniform draw on each step."""
    rng = np.random.default_rng(5)
    low = rng.random(40) * 0.8
    ranges = np.column_stack([low, np.minimum(1.0, low + rng.random(40) * 0.6)])
    u = ranges[:, :1] + rng.random((40, 200_000)) * (ranges[:, 1:] - ranges[:, :1])
    np.testing.assert_allclose(pit_coverage(ranges, 0.8), ((u >= 0.1) & (u <= 0.9)).mean(axis=1), atol=0.005)
    drawn = np.stack([np.histogram(row, bins=5, range=(0, 1))[0] for row in u]) / u.shape[1]
    np.testing.assert_allclose(pit_histogram(ranges, bins=5), drawn.sum(axis=0), atol=0.02)


def test_a_calibrated_forecaster_with_a_lump_covers_at_the_level_by_pit_not_by_whole_months() -> None:
    """Forecasts with a lump on their last bin (as "not within the horizon"), outcomes drawn from them: the PIT
    coverage is the level, while the central interval of whole bins holds the outcome more often than the level."""
    rng = np.random.default_rng(8)
    pit_share, contained = [], []
    for _ in range(3000):
        lump = rng.uniform(0.2, 0.6)
        monthly = np.append(rng.dirichlet(np.ones(24)) * (1 - lump), lump)
        outcome = rng.choice(25, p=monthly)
        cdf = np.cumsum(monthly)
        step = np.array([[cdf[outcome] - monthly[outcome], cdf[outcome]]])
        pit_share.append(pit_coverage(step, 0.5)[0])
        low, high = np.searchsorted(cdf, 0.25), np.searchsorted(cdf, 0.75)
        contained.append(low <= outcome <= high)
    assert np.mean(pit_share) == pytest.approx(0.5, abs=0.02)
    assert np.mean(contained) > 0.6


def test_murphy_binned_terms_match_sklearn_calibration_curve() -> None:
    """Reliability and resolution from scikit-learn's bins (its mean forecast and frequency per bin, with counts)."""
    from sklearn.calibration import calibration_curve

    p, y = RANDOM
    observed, forecast = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.histogram(p, bins=10, range=(0, 1))[0]
    counts = counts[counts > 0]
    parts = murphy(p, y, bins=10)
    assert parts["reliability"] == pytest.approx(np.sum(counts * (forecast - observed) ** 2) / len(p), abs=1e-12)
    assert parts["resolution"] == pytest.approx(np.sum(counts * (observed - y.mean()) ** 2) / len(p), abs=1e-12)
    assert parts["reliability"] < parts["brier"] / 2  # 500 distinct forecasts: no longer the Brier score itself


def test_cluster_bootstrap_resamples_questions_not_their_checkpoints() -> None:
    """Repeating every value of a question 50 times (its checkpoints, which move together) must not narrow the
    interval; resampling the values one by one would narrow it about sevenfold."""
    rng = np.random.default_rng(3)
    per_question = rng.normal(0.0, 1.0, size=12)
    alone = cluster_bootstrap(per_question)
    repeated, questions = np.repeat(per_question, 50), np.repeat(np.arange(12), 50)
    clustered = cluster_bootstrap(repeated, questions)
    naive = cluster_bootstrap(repeated)
    assert clustered[0] == pytest.approx(alone[0]) and clustered[1:] == pytest.approx(alone[1:], abs=1e-12)
    assert (naive[2] - naive[1]) < 0.3 * (clustered[2] - clustered[1])
    a, b = rng.normal(size=30), rng.normal(size=30)
    assert bootstrap_difference(a, b) == pytest.approx(cluster_bootstrap(a - b))


def test_cluster_bootstrap_matches_scipy_on_one_value_per_question() -> None:
    from scipy import stats

    values = np.random.default_rng(4).exponential(size=40)
    mean, low, high = cluster_bootstrap(values, draws=20_000)
    theirs = stats.bootstrap((values,), np.mean, confidence_level=0.9, n_resamples=20_000, method="percentile",
                             random_state=1).confidence_interval
    assert mean == pytest.approx(values.mean())
    assert (low, high) == pytest.approx((theirs.low, theirs.high), abs=0.02)


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
