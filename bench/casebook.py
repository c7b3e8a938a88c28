"""Casebook benchmark: every resolved casebook question backtested quarterly and scored against baselines.

    uv run python bench/casebook.py [--half development|test|all] [--draws 500] [--chains 2] [--out FILE.json]

Each question is backtested in a store of its own (its evidence only), quarterly from its horizon
start to its resolution, and scored (forecasts made after the outcome was known are not scored).
Prints, per half of the declared split: the mean ranked probability score of the monthly
distribution (months) and the time-averaged Brier score on yearly checkpoints, per forecaster, each
with the paired difference to the model and its 90% bootstrap interval over questions; the
calibration of all checkpoint forecasts; the PIT histogram of resolved dates; 50%/80% coverage.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASELINES = ("prior", "linear pool", "latest statement", "experts alone (mean)", "best expert (hindsight)")


def _per_question(card: dict) -> dict[str, dict[str, float]]:
    """Mean RPS and time-averaged Brier per forecaster for one question's scorecard."""
    rps: dict[str, list[float]] = {}
    for row in card["date_scores"]:
        rps.setdefault(row["forecaster"], []).append(row["rps"])
    out = {}
    for name, entry in card["time_averaged"].items():
        out[name] = {"brier": float(np.mean(list(entry["checkpoints"].values()))),
                     "rps": float(np.mean(rps[name])) if name in rps else float("nan")}
    experts = [v for k, v in out.items() if k.startswith("expert: ")]
    if experts:
        out["experts alone (mean)"] = {m: float(np.mean([e[m] for e in experts])) for m in ("brier", "rps")}
        out["best expert (hindsight)"] = {m: float(np.min([e[m] for e in experts])) for m in ("brier", "rps")}
    else:
        out["experts alone (mean)"] = out["best expert (hindsight)"] = out["prior"]
    return out


def backtest_question(path: Path, settings) -> dict:
    """Backtest one casebook question in a fresh store and return its scores and raw rows."""
    from forecast.domain.questions import store_priors
    from forecast.io.casebook import backtest_span, half, load
    from forecast.scoring.backtest import backtest
    from forecast.scoring.calibration import MODEL
    from forecast.scoring.scorecard import scorecard
    from forecast.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "case.db"))
        with store.session() as session:
            load(session, [path])
            priors = store_priors(session)
        slug = next(iter(priors.questions))
        spec = priors.questions[slug]
        with store.session() as session:
            from forecast.domain.questions import question_by_slug

            resolution = question_by_slug(session, slug).resolution
        start, end = backtest_span(spec.horizon_start, resolution, spec.horizon_end)
        began = time.perf_counter()
        ids = backtest(store, priors, slug, start, "quarter", end, settings)
        with store.session() as session:
            card = scorecard(session, priors, slug)
    model_rows = [r for r in card["checkpoint_scores"] if r["forecaster"] == MODEL]
    return {"slug": slug, "half": half(slug), "resolution": resolution, "runs": len(ids),
            "seconds": time.perf_counter() - began, "scores": _per_question(card),
            "checkpoints": [(r["p"], r["outcome"]) for r in model_rows],
            "pit": [d["pit"] for d in card["date_scores"] if d["forecaster"] == MODEL],
            "coverage": card["coverage"]}


def summarise(results: list[dict]) -> dict:
    """Per forecaster: mean scores over questions, and the paired model-minus-baseline difference with its interval."""
    from forecast.scoring.rules import bootstrap_difference, murphy, reliability_diagram

    out: dict = {"questions": len(results), "forecasters": {}}
    for metric in ("rps", "brier"):
        model = np.array([r["scores"]["model"][metric] for r in results])
        for name in ("model", *BASELINES):
            values = np.array([r["scores"][name][metric] for r in results])
            row = out["forecasters"].setdefault(name, {})
            row[metric] = float(values.mean())
            if name != "model":
                mean, low, high = bootstrap_difference(model, values)
                row[f"{metric}_difference"] = [mean, low, high]
    pairs = np.array([c for r in results for c in r["checkpoints"]]).reshape(-1, 2)
    out["checkpoint_forecasts"] = len(pairs)
    if len(pairs):
        out["murphy"] = murphy(pairs[:, 0], pairs[:, 1])
        out["reliability_diagram"] = reliability_diagram(pairs[:, 0], pairs[:, 1], bins=5)
    out["pit_histogram"] = np.histogram([p for r in results for p in r["pit"]], bins=5, range=(0, 1))[0].tolist()
    out["coverage"] = {level: {k: sum(r["coverage"][level][k] for r in results) for k in ("contained", "missed")}
                       for level in ("50%", "80%")}
    return out


def print_summary(name: str, summary: dict) -> None:
    print(f"\n### {name} half: {summary['questions']} questions, {summary['checkpoint_forecasts']} checkpoint forecasts\n")
    print("| forecaster | mean RPS (months) | model - it (90% interval) | time-averaged Brier | model - it (90% interval) |")
    print("| --- | --- | --- | --- | --- |")
    for forecaster, row in summary["forecasters"].items():
        cells = [forecaster]
        for metric in ("rps", "brier"):
            cells.append(f"{row[metric]:.3f}")
            diff = row.get(f"{metric}_difference")
            cells.append("" if diff is None else f"{diff[0]:+.3f} ({diff[1]:+.3f} .. {diff[2]:+.3f})")
        print("| " + " | ".join(cells) + " |")
    if "murphy" in summary:
        m = summary["murphy"]
        print(f"\nMurphy decomposition of the model's checkpoint Brier {m['brier']:.3f}: reliability "
              f"{m['reliability']:.3f}, resolution {m['resolution']:.3f}, uncertainty {m['uncertainty']:.3f}")
        print("Calibration (forecast bin: count, mean forecast, observed frequency): " + "; ".join(
            f"{r['bin'][0]:.1f}-{r['bin'][1]:.1f}: {r['count']}, {r['forecast']:.2f}, {r['observed']:.2f}"
            for r in summary["reliability_diagram"]))
    print("PIT of resolved dates (5 bins): " + " ".join(map(str, summary["pit_histogram"])))
    print("Interval coverage: " + "; ".join(f"{level} {c['contained']}/{c['contained'] + c['missed']}"
                                           for level, c in summary["coverage"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("development", "test", "all"), default="all")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "casebook-results.json")
    args = parser.parse_args()
    from forecast.inference.model import FitSettings
    from forecast.io.casebook import DEVELOPMENT, TEST, casebook_files, half

    settings = FitSettings(draws=args.draws, tune=args.draws, chains=args.chains, seed=20220726, cores=2)
    paths = [p for p in casebook_files() if args.half == "all" or half(p.stem) == args.half]
    began, results = time.perf_counter(), []
    for k, path in enumerate(paths, 1):
        results.append(backtest_question(path, settings))
        done = time.perf_counter() - began
        print(f"[{k}/{len(paths)}] {path.stem} ({results[-1]['half']}): {results[-1]['runs']} runs in "
              f"{results[-1]['seconds']:.0f} s; ETA {done / k * (len(paths) - k):.0f} s", file=sys.stderr, flush=True)
    halves = {h: [r for r in results if r["half"] == h] for h in (TEST, DEVELOPMENT)}
    summaries = {h: summarise(rs) for h, rs in halves.items() if rs}
    print(f"Casebook benchmark: {len(results)} questions, {sum(r['runs'] for r in results)} backtest runs "
          f"({args.chains} x {args.draws} draws) in {time.perf_counter() - began:.0f} s")
    for name, summary in summaries.items():
        print_summary(name, summary)
    args.out.write_text(json.dumps({"settings": vars(args) | {"out": str(args.out)}, "summaries": summaries,
                                    "questions": results}, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
