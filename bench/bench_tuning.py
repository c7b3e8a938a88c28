"""Tuning-length study: do shorter tuning runs keep the fits healthy and the numbers within Monte Carlo error?

    uv run python bench/bench_tuning.py [--tunes 300 500] [--seeds 3] [--questions 10] [--out FILE.json]

Fits the seed (`forecast init`, as of today) and the first ``--questions`` casebook questions of the
*development* half (never the test half), each in a store of its own as of the day before its outcome
became known (a backtest's last date: the most evidence). Per question, one long reference fit
(tune 2000, 4 x 4000 draws), then each candidate tuning length for ``--seeds`` seeds at the run's
draws and chains (4 x 1000), re-sampled with RETRY_TUNE when the first fit fails the diagnostics
gate, as `forecast run` does. Prints, per question and tuning length: the worst first-attempt R-hat,
bulk/tail ESS and divergences over the seeds, how many seeds were re-sampled, and the largest
|candidate - reference| of the headline probability (by the horizon's end) and of the yearly
probabilities, in units of the combined Monte Carlo standard error of the two estimates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

REFERENCE = {"tune": 2000, "draws": 4000}


def datasets(limit: int, tmp: Path) -> list[tuple[str, object, object]]:
    """(slug, dataset, priors) for the seed and the first ``limit`` development-half casebook questions."""
    from common import QUESTION, forecast

    from forecast.domain.questions import store_priors
    from forecast.inference.dataset import build_dataset
    from forecast.io.casebook import DEVELOPMENT, casebook_files, half, load
    from forecast.scoring.backtest import default_end
    from forecast.store import open_store

    seed = tmp / "seed.db"
    forecast(seed, "init")
    store = open_store(str(seed), create=False)
    with store.reader() as session:
        priors = store_priors(session)
        out = [(QUESTION, build_dataset(session, priors), priors)]
    for path in [p for p in casebook_files() if half(p.stem) == DEVELOPMENT][:limit]:
        store = open_store(str(tmp / f"{path.stem}.db"))
        with store.session() as session:
            load(session, [path])
        slug = path.stem
        as_of, _ = default_end(store, slug)
        with store.reader() as session:
            priors = store_priors(session)
            out.append((slug, build_dataset(session, priors, as_of), priors))
    return out


def estimates(draws, data, q: int) -> dict[str, tuple[float, float]]:
    """(posterior mean, its Monte Carlo standard error) of the headline and yearly probabilities of question ``q``."""
    from forecast.inference.diagnostics import mcse_mean

    p_t = draws.posterior["p_T"][:, :, q, :]  # (chain, draw, bin)
    start, n = int(data.starts[q]), int(data.n_months[q])
    per_draw = {"headline": 1.0 - p_t[:, :, -1]}
    for offset in range(n):
        year = str((start + offset) // 12)
        per_draw[year] = per_draw.get(year, 0.0) + p_t[:, :, offset]
    return {name: (float(values.mean()), mcse_mean(values)) for name, values in per_draw.items()}


def z_score(got: tuple[float, float], ref: tuple[float, float]) -> float:
    """(candidate - reference) in units of their combined MCSE; 0 for a probability that is the same constant in
    every draw of both (a year the evidence rules out)."""
    error, scale = got[0] - ref[0], float(np.hypot(got[1], ref[1]))
    if scale == 0.0:
        return 0.0 if abs(error) < 1e-12 else float("inf")
    return error / scale


def fit(model, data, priors, settings):
    """(first-attempt diagnostics, final draws, whether it was re-sampled), re-sampling once as `forecast run` does."""
    from forecast.runs.fitting import RETRY_TUNE, diagnostics

    draws = model.fit_draws(settings, data)
    first = diagnostics(draws, settings)
    if first["problems"]:
        draws = model.fit_draws(replace(settings, tune=RETRY_TUNE), data)
    return first, draws, bool(first["problems"])


def study(tunes: list[int], seeds: int, limit: int) -> list[dict]:
    from forecast.inference.model import DateModel
    from forecast.runs.fitting import diagnostics, fit_settings

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for slug, data, priors in datasets(limit, Path(tmp)):
            model, q = DateModel(data, priors), data.questions.index(slug)
            reference = fit_settings(REFERENCE["draws"], REFERENCE["tune"], 4, seed=1)
            ref_draws = model.fit_draws(reference, data)
            ref = estimates(ref_draws, data, q)
            row = {"question": slug, "experts": len(data.experts), "questions": len(data.questions),
                   "reference": diagnostics(ref_draws, reference), "candidates": {}}
            for tune in tunes:
                fits = []
                for s in range(seeds):
                    first, draws, retried = fit(model, data, priors, fit_settings(1000, tune, 4, seed=100 + s))
                    got = estimates(draws, data, q)
                    z = {k: z_score(got[k], ref[k]) for k in ref}
                    fits.append({"seed": 100 + s, "diagnostics": first, "retried": retried, "z": z,
                                 "estimates": got})
                row["candidates"][str(tune)] = fits
            row["reference_estimates"] = ref
            rows.append(row)
            print_row(row, tunes)
    return rows


def print_header(tunes: list[int]) -> None:
    print("| question | tune | max R-hat | min ESS bulk / tail | divergences | re-sampled | max abs z headline "
          "| max abs z yearly |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")


def print_row(row: dict, tunes: list[int]) -> None:
    ref = row["reference"]
    print(f"| {row['question']} | {REFERENCE['tune']} (reference, 4 x {REFERENCE['draws']}) | {ref['max_rhat']:.3f} "
          f"| {ref['min_ess_bulk']:.0f} / {ref['min_ess_tail']:.0f} | {ref['divergences']} | | | |")
    for tune in tunes:
        fits = row["candidates"][str(tune)]
        d = [f["diagnostics"] for f in fits]
        z_head = max(abs(f["z"]["headline"]) for f in fits)
        z_year = max(abs(v) for f in fits for k, v in f["z"].items() if k != "headline")
        print(f"| | {tune} | {max(x['max_rhat'] for x in d):.3f} | {min(x['min_ess_bulk'] for x in d):.0f} / "
              f"{min(x['min_ess_tail'] for x in d):.0f} | {sum(x['divergences'] for x in d)} | "
              f"{sum(f['retried'] for f in fits)} of {len(fits)} | {z_head:.2f} | {z_year:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, nargs="+", default=[300, 500])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--questions", type=int, default=10, help="development-half casebook questions")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; z = (candidate - reference) / combined MCSE\n")
    print_header(args.tunes)
    rows = study(args.tunes, args.seeds, args.questions)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1, default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
