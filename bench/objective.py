"""Is `forecast learn`'s objective proper? Outcomes drawn from the recipe at a known hazard, scored two ways.

    uv run python bench/objective.py [--questions 20000]

Each simulated question has a four-year horizon, yearly as-of dates while its outcome is not yet known (a
public event, no statements), and its date drawn from the announced-exit recipe at an annual hazard of 0.45
with the recipe's lapse share. For a grid of hazards it prints the mean over questions of (a) each question's
log scores averaged over the dates it had (the objective before model version 5) and (b) their sum over the
number of dates in the whole horizon (the objective since). A proper objective is highest at the true 0.45.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MONTHS, DATES, TRUE_HAZARD = 48, (0, 12, 24, 36), 0.45


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=20_000)
    args = parser.parse_args()
    from forecast.domain.priors import DEFAULT_RECIPE, load_recipes
    from forecast.inference.hazard import date_prior_marginal

    recipe = {k: v["value"] for k, v in load_recipes()[DEFAULT_RECIPE]["date_prior"].items()}
    truth = np.exp(date_prior_marginal({**recipe, "annual_hazard": TRUE_HAZARD}, MONTHS))
    outcomes = np.random.default_rng(3).choice(MONTHS + 1, size=args.questions, p=truth / truth.sum())
    print(f"{args.questions} outcomes drawn at an annual hazard of {TRUE_HAZARD}, lapse {recipe['lapse_probability']}")
    print("hazard  averaged over the dates it had  summed over the horizon's dates / 4")
    for hazard in (0.3, 0.4, 0.45, 0.5, 0.6, 0.8):
        log_p = date_prior_marginal({**recipe, "annual_hazard": hazard}, MONTHS)
        later = np.logaddexp.accumulate(log_p[::-1])[::-1]  # log P(T >= month)
        scores = [[log_p[t] - later[k] for k in DATES if k <= t] for t in outcomes]
        averaged = np.mean([np.mean(s) for s in scores])
        proper = np.mean([np.sum(s) / len(DATES) for s in scores])
        print(f"{hazard:6.2f}  {averaged:30.4f}  {proper:37.4f}")


if __name__ == "__main__":
    main()
