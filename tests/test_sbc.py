"""Simulation-based calibration: draw the world from the prior, fit, check the posterior ranks are uniform.

PIT of the true date (randomised for a discrete T) and the ranks of the true reliabilities among
posterior draws must be uniform; each is tested at the 1% level.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from forecast.dataset import Dataset
from forecast.model import DateModel, FitSettings

from .worlds import World

N_MONTHS, N_SIMS, PER_EXPERT, P_OBSERVED = 48, 150, 2, 0.3
KINDS = ["analyst"] * 3 + ["journalist"] * 3
SETTINGS = FitSettings(draws=500, tune=500, chains=2, seed=0)


def _truncated_normal(rng, mu: float, sd: float) -> float:
    while True:
        x = rng.normal(mu, sd)
        if x > 0:
            return x


def simulate(rng, priors) -> tuple[Dataset, int, np.ndarray]:
    """One world from the prior: (dataset, true bin, true reliabilities)."""
    spec = priors.questions["q"].date_prior
    alpha = rng.normal(np.log(spec["annual_hazard"] / (1 - spec["annual_hazard"])), spec["hazard_sd_logit"])
    beta = rng.normal(spec["trend_per_year"], spec["trend_sd"])
    annual = 1 / (1 + np.exp(-(alpha + beta * np.arange(N_MONTHS) / 12)))
    monthly = 1 - (1 - annual) ** (1 / 12)
    alive = np.concatenate([[1.0], np.cumprod(1 - monthly)])
    p = np.append(monthly * alive[:-1], alive[-1])
    t = int(rng.choice(N_MONTHS + 1, p=p / p.sum()))
    logit_r = []
    for kind in sorted(set(KINDS)):
        k = priors.reliability.kinds[kind]
        mu = _truncated_normal(rng, np.log(k["mean"] / (1 - k["mean"])), k["mean_sd_logit"])
        spread = abs(rng.normal(0, k["spread_logit"]))
        logit_r += [mu + spread * rng.normal() for e in KINDS if e == kind]
    r = 1 / (1 + np.exp(-np.array(logit_r)))
    masks, experts = [], []
    for e, r_e in enumerate(r):
        for _ in range(PER_EXPERT):
            cut = int(rng.integers(1, N_MONTHS + 1))
            after = np.arange(N_MONTHS + 1) >= cut
            mask = after if (after[t] == (rng.random() < r_e)) else ~after
            masks.append(mask)
            experts.append(e)
    obs = np.zeros(N_MONTHS + 1)
    seen = int(rng.integers(0, N_MONTHS))
    if rng.random() >= P_OBSERVED:
        pass  # no observation in this world (decided independently of T)
    elif t >= seen:
        obs[:seen] = -np.inf  # still participating at month `seen`
    else:
        obs[np.arange(N_MONTHS + 1) != t] = -np.inf  # withdrawn in month t
    data = Dataset(
        questions=["q"], starts=np.array([24288]), n_months=np.array([N_MONTHS]), obs_log=obs[None, :],
        notice_threshold=np.array([-1]), experts=[f"E{i}" for i in range(6)], expert_kinds=KINDS,
        stmt_question=np.zeros(len(masks), dtype=int), stmt_expert=np.array(experts),
        stmt_weight=np.ones(len(masks)), stmt_in=np.array(masks), stmt_refs=[], as_of=dt.date(2024, 1, 1),
        known_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), fingerprint="sbc",
    )
    return data, t, r


def _ranks(world_priors, fit_priors, sims: int) -> tuple[list[float], list[float]]:
    """Randomised PITs of the true dates and ranks of the true reliabilities over ``sims`` worlds."""
    rng = np.random.default_rng(2026)
    model = None
    pits, ranks = [], []
    for sim in range(sims):
        data, t, r = simulate(rng, world_priors)
        model = model or DateModel(data, fit_priors)
        idata = model.fit(replace(SETTINGS, seed=sim), data)
        p = idata.posterior["p_T"].mean(("chain", "draw")).values[0]
        pits.append(p[:t].sum() + rng.random() * p[t])
        draws = idata.posterior["reliability"].values.reshape(-1, 6)[::10]
        ranks += list((draws < r).mean(axis=0))
    return pits, ranks


@pytest.fixture
def world(tmp_path) -> World:
    world = World(tmp_path)
    world.question("q", start="2024-01", end="2027-12", hazard=0.2, hazard_sd=0.5, trend=0.0, trend_sd=0.2)
    world.question("wrong", start="2024-01", end="2027-12", hazard=0.5, hazard_sd=0.5, trend=0.0, trend_sd=0.2)
    return world


@pytest.mark.slow
def test_simulation_based_calibration(world) -> None:
    pits, ranks = _ranks(world.priors, world.priors, N_SIMS)
    assert stats.kstest(pits, "uniform").pvalue > 0.01, np.histogram(pits, bins=10, range=(0, 1))[0]
    counts = np.histogram(ranks, bins=10, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > 0.01, counts


@pytest.mark.slow
def test_calibration_check_has_power_against_a_wrong_prior(world) -> None:
    """Negative control: fitting with a hazard prior of 0.5 a year to worlds drawn with 0.2 must fail the check."""
    priors = world.priors
    wrong = replace(priors, questions={"q": priors.questions["wrong"]})
    pits, _ = _ranks(priors, wrong, 80)
    assert stats.kstest(pits, "uniform").pvalue < 0.001
