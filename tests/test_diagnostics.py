"""R-hat and bulk/tail ESS in NumPy equal ArviZ's on the same draws."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from forecast.inference import diagnostics

RNG = np.random.default_rng(0)
CASES = {
    "independent": RNG.normal(size=(4, 1000)),
    "autocorrelated": np.cumsum(RNG.normal(size=(4, 1000)), axis=1) * 0.05 + RNG.normal(size=(4, 1000)),
    "one chain stuck higher": RNG.normal(size=(4, 500)) + np.array([[0.0], [0.0], [0.0], [0.8]]),
    "ties, odd length": np.round(RNG.normal(size=(3, 401)), 1),
    "two chains": RNG.gamma(2.0, size=(2, 300)),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_arviz(name: str) -> None:
    draws = CASES[name]
    table = az.summary(az.from_dict({"posterior": {"x": draws}}), round_to="none")
    assert diagnostics.rhat(draws) == pytest.approx(float(table["r_hat"].iloc[0]), rel=1e-10)
    assert diagnostics.ess_bulk(draws) == pytest.approx(float(table["ess_bulk"].iloc[0]), rel=1e-10)
    assert diagnostics.ess_tail(draws) == pytest.approx(float(table["ess_tail"].iloc[0]), rel=1e-10)
    assert diagnostics.mcse_mean(draws) == pytest.approx(float(table["mcse_mean"].iloc[0]), rel=1e-10)


@pytest.mark.parametrize("name", CASES)
def test_summary_shares_ranks_without_changing_a_number(name: str) -> None:
    draws = CASES[name]
    assert diagnostics.summary({"x": draws}) == {"max_rhat": diagnostics.rhat(draws),
                                                 "min_ess_bulk": diagnostics.ess_bulk(draws),
                                                 "min_ess_tail": diagnostics.ess_tail(draws)}


def test_summary_takes_the_worst_scalar() -> None:
    good, bad = CASES["independent"], CASES["one chain stuck higher"]
    worst = diagnostics.summary({"a": good[:, :500, None], "b": np.stack([good[:, :500], bad], axis=-1)})
    assert worst["max_rhat"] == pytest.approx(diagnostics.rhat(bad))
    assert worst["min_ess_bulk"] == pytest.approx(min(diagnostics.ess_bulk(good[:, :500]), diagnostics.ess_bulk(bad)))
    assert worst["max_rhat"] > 1.01
