"""Sampler-settings study: do shorter tuning runs, or a lower target acceptance (longer steps, shorter trees),
keep the fits healthy and the numbers within Monte Carlo error?

    uv run python bench/bench_tuning.py [--tunes 300 500] [--target-accepts 0.9] [--seeds 3] [--first-seed 100]
        [--questions 10] [--out FILE.json]

Fits the seed (`forecast init`, as of today) and the first ``--questions`` casebook questions of the
*development* half (never the test half), each in a store of its own as of the day before its outcome
became known (a backtest's last date: the most evidence). Per question, one long reference fit
(tune 2000, 4 x 4000 draws, target acceptance 0.9), then each candidate (tuning length, target acceptance) for
``--seeds`` seeds at the run's
draws and chains (4 x 1000), re-sampled with RETRY_TUNE when the first fit fails the diagnostics
gate, as `forecast run` does. Prints, per question and candidate: the worst first-attempt R-hat,
bulk/tail ESS and divergences over the seeds, how many seeds were re-sampled, and the largest
|candidate - reference| of the headline probability (by the horizon's end) and of the yearly
probabilities, in units of the combined Monte Carlo standard error of the two estimates; and, pooled, the
mean wall time of a fit.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
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


def candidate_label(tune: int, target_accept: float) -> str:
    return f"{tune} at {target_accept:g}"


def study(tunes: list[int], target_accepts: list[float], seeds: range, limit: int) -> list[dict]:
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
            for tune, target_accept in [(t, a) for t in tunes for a in target_accepts]:
                fits = []
                for seed in seeds:
                    started = time.perf_counter()
                    settings = replace(fit_settings(1000, tune, 4, seed=seed), target_accept=target_accept)
                    first, draws, retried = fit(model, data, priors, settings)
                    seconds = time.perf_counter() - started
                    got = estimates(draws, data, q)
                    fits.append({"seed": seed, "diagnostics": first, "retried": retried, "estimates": got,
                                 "seconds": seconds})
                row["candidates"][candidate_label(tune, target_accept)] = fits
            row["reference_estimates"] = ref
            rows.append(row)
            print_row(row)
    return rows


def print_header() -> None:
    print("| question | tune at target acceptance | max R-hat | min ESS bulk / tail | divergences | re-sampled | max abs z headline "
          "| max abs z yearly |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")


def _z(row: dict, fit: dict) -> dict[str, float]:
    ref = row["reference_estimates"]
    return {k: z_score(tuple(fit["estimates"][k]), tuple(ref[k])) for k in ref}


def print_row(row: dict) -> None:
    ref = row["reference"]
    print(f"| {row['question']} | {REFERENCE['tune']} (reference, 4 x {REFERENCE['draws']}) | {ref['max_rhat']:.3f} "
          f"| {ref['min_ess_bulk']:.0f} / {ref['min_ess_tail']:.0f} | {ref['divergences']} | | | |")
    for tune, fits in row["candidates"].items():
        d = [f["diagnostics"] for f in fits]
        z = [_z(row, f) for f in fits]
        z_year = max(abs(v) for one in z for k, v in one.items() if k != "headline")
        print(f"| | {tune} | {max(x['max_rhat'] for x in d):.3f} | {min(x['min_ess_bulk'] for x in d):.0f} / "
              f"{min(x['min_ess_tail'] for x in d):.0f} | {sum(x['divergences'] for x in d)} | "
              f"{sum(f['retried'] for f in fits)} of {len(fits)} | {max(abs(one['headline']) for one in z):.2f} "
              f"| {z_year:.2f} |", flush=True)


def print_pooled(rows: list[dict]) -> None:
    """Per tuning length, over every question and seed: how the z values spread (about N(0, 1) when unbiased)."""
    print("\n| tune at target acceptance | fits | re-sampled | divergences | headline: rms z, abs z > 2, max "
          "| yearly: rms z, abs z > 2, abs z > 3, max | mean s per fit |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for tune in rows[0]["candidates"]:
        fits = [(row, f) for row in rows for f in row["candidates"][tune]]
        z = [_z(row, f) for row, f in fits]
        head = np.array([one["headline"] for one in z])
        years = np.array([v for one in z for k, v in one.items() if k != "headline" and v != 0.0])
        print(f"| {tune} | {len(fits)} | {sum(f['retried'] for _, f in fits)} | "
              f"{sum(f['diagnostics']['divergences'] for _, f in fits)} | {np.sqrt(np.mean(head ** 2)):.2f}, "
              f"{int((abs(head) > 2).sum())} of {head.size}, {abs(head).max():.2f} | {np.sqrt(np.mean(years ** 2)):.2f}, "
              f"{int((abs(years) > 2).sum())} of {years.size}, {int((abs(years) > 3).sum())}, {abs(years).max():.2f} | "
              f"{_mean_seconds([f for _, f in fits])} |")


def _mean_seconds(fits: list[dict]) -> str:
    """The mean wall time of the fits, or "not measured" (studies saved before it was kept)."""
    seconds = [f["seconds"] for f in fits if "seconds" in f]
    return f"{np.mean(seconds):.2f}" if len(seconds) == len(fits) else "not measured"


def merged(paths: list[Path]) -> list[dict]:
    """The rows of several saved studies (other seeds, the same reference), candidates joined per question."""
    rows: dict[str, dict] = {}
    for path in paths:
        for row in json.loads(path.read_text(encoding="utf-8")):
            if row["question"] not in rows:
                rows[row["question"]] = row
                continue
            for tune, fits in row["candidates"].items():
                rows[row["question"]]["candidates"].setdefault(tune, []).extend(fits)
    return list(rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, nargs="+", default=[300, 500])
    parser.add_argument("--target-accepts", type=float, nargs="+", default=[0.9])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--questions", type=int, default=10, help="development-half casebook questions")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--tables", type=Path, nargs="+", help="print the tables of saved studies (--out files)")
    args = parser.parse_args()
    print("z = (candidate - reference) / combined MCSE\n")
    print_header()
    if args.tables:
        rows = merged(args.tables)
        for row in rows:
            print_row(row)
    else:
        rows = study(args.tunes, args.target_accepts, range(args.first_seed, args.first_seed + args.seeds), args.questions)
        if args.out:
            args.out.write_text(json.dumps(rows, indent=1, default=float), encoding="utf-8")
    print_pooled(rows)


if __name__ == "__main__":
    main()
