"""Casebook benchmark: every resolved casebook question backtested quarterly and scored against baselines.

    uv run python bench/casebook.py [--half development|test|all] [--only SLUG ...] [--jobs N] [--draws 500]
        [--chains 2] [--out FILE.json] [--learned FILE.json]

With ``--learned FILE`` (written by ``bench/learning.py``), each question is backtested with the prior set
learned without its outcome (leave-one-question-out within the half learned on; the whole half's set for
the other half); without it, with the hand-set priors.
Each question is backtested in a store of its own (its evidence only), quarterly from its horizon
start to the day before its outcome became known (`backtest`'s default end: later forecasts are
never scored, so they are not made), and scored.
Questions run in parallel processes (``--jobs``, default one per core; each samples its chains on one
core). Prints the wall time and, per half of the declared split: the mean ranked probability score
of the monthly distribution (months) and the time-averaged Brier score on yearly checkpoints, per
forecaster, each with the paired difference to the model and its 90% bootstrap interval over
questions; the binned Murphy decomposition and reliability diagram of all checkpoint forecasts, pooled and with
each question counting once (a question that never resolved is backtested longer), 50%/80% coverage (of the
whole-month intervals, and by PIT) and the PIT histogram of resolved dates (mid-step, and spread over each
outcome's step), each with its 90% interval over questions. Every interval resamples
questions, never the checkpoints or as-of dates of one question (they move together).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASELINES = ("prior", "prior and observations", "linear pool", "latest statement", "experts alone (mean)",
             "best expert (hindsight)")


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


def learned_set(learned: dict | None, slug: str) -> tuple[dict, list[str]] | None:
    """The prior set a question is backtested with (from ``bench/learning.py``'s output): for a question of the
    half it was learned on, the set learned without it; for any other, the set learned from the whole half."""
    if learned is None:
        return None
    if slug in learned["leave_one_out"]:
        return learned["leave_one_out"][slug], [q for q in learned["questions"] if q != slug]
    return learned["whole_half"], list(learned["questions"])


def backtest_question(path: Path, settings, learned: dict | None = None) -> dict:
    """Backtest one casebook question in a fresh store (with the prior set ``learned_set`` gives it, if any) and
    return its scores and raw rows."""
    from forecast.domain.questions import store_priors
    from forecast.io.casebook import backtest_span, half, load
    from forecast.scoring.backtest import backtest
    from forecast.scoring.calibration import MODEL, OBSERVED
    from forecast.scoring.scorecard import scorecard
    from forecast.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "case.db"))
        with store.session() as session:
            load(session, [path])
            chosen = learned_set(learned, path.stem)
            if chosen is not None:
                from forecast.domain.prior_sets import add_set

                add_set(session, chosen[0], {"questions": chosen[1], "method": "bench/learning.py"})
            priors = store_priors(session)
        slug = next(iter(priors.questions))
        spec = priors.questions[slug]
        with store.session() as session:
            from forecast.domain.questions import question_by_slug

            resolution = question_by_slug(session, slug).resolution
        start, _ = backtest_span(spec.horizon_start, resolution, spec.horizon_end)
        began = time.perf_counter()  # to the default end: the day before the outcome became known (never scored later)
        finished: list[float] = []
        ids = backtest(store, priors, slug, start, "quarter", settings=settings,
                       on_run=lambda day, run_id: finished.append(time.perf_counter()))
        with store.session() as session:
            card = scorecard(session, priors, slug)
    model_rows = [r for r in card["checkpoint_scores"] if r["forecaster"] == MODEL]
    facts_rows = [r for r in card["checkpoint_scores"] if r["forecaster"] == OBSERVED]
    return {"slug": slug, "half": half(slug), "resolution": resolution, "runs": len(ids),
            "seconds": finished[-1] - began, "first_seconds": finished[0] - began, "scores": _per_question(card),
            "checkpoints": [(r["p"], r["outcome"]) for r in model_rows],
            "facts_checkpoints": [(r["p"], r["outcome"]) for r in facts_rows],
            "pit": [d["pit"] for d in card["date_scores"] if d["forecaster"] == MODEL],
            "pit_ranges": [d["pit_range"] for d in card["date_scores"] if d["forecaster"] == MODEL],
            "coverage": card["coverage"]}


BOOTSTRAP_DRAWS = 2000
MURPHY_TERMS = ("brier", "reliability", "resolution", "uncertainty", "within_bin_variance", "within_bin_covariance")
CALIBRATION_BINS = 5  # the reliability diagram's bins and the Murphy decomposition's


def over_questions(results: list[dict], statistic, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A statistic of the pooled questions (a vector) and its 90% interval [2, k], resampling whole questions."""
    from forecast.scoring.rules import cluster_draws

    value = np.asarray(statistic(results), dtype=float)
    samples = np.array([statistic([results[i] for i in row])
                        for row in cluster_draws(len(results), BOOTSTRAP_DRAWS, seed)], dtype=float)
    return value, np.nanquantile(samples, [0.05, 0.95], axis=0)


def _pooled(results: list[dict], key: str = "checkpoints", by_question: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Every question's checkpoint (forecast, outcome) pairs, and their weights: 1 each, or with ``by_question``
    1 / (the question's count), so that each question counts once whatever the length of its backtest (a question
    that never resolved is backtested to its horizon's end, one that resolved only until its outcome)."""
    chunks = [np.array(r[key], dtype=float).reshape(-1, 2) for r in results]
    pairs = np.vstack(chunks) if chunks else np.zeros((0, 2))
    weights = np.concatenate([np.full(len(c), 1 / len(c) if by_question else 1.0) for c in chunks if len(c)] or [[]])
    return pairs, weights


def _murphy_terms(results: list[dict], by_question: bool = False) -> list[float]:
    from forecast.scoring.rules import murphy

    pairs, weights = _pooled(results, by_question=by_question)
    if not len(pairs):
        return [float("nan")] * len(MURPHY_TERMS)
    parts = murphy(pairs[:, 0], pairs[:, 1], bins=CALIBRATION_BINS, weights=weights)
    return [parts[t] for t in MURPHY_TERMS]


def _calibration(results: list[dict], key: str, by_question: bool) -> dict:
    """The binned Murphy decomposition and reliability diagram of ``key``'s checkpoint forecasts."""
    from forecast.scoring.rules import murphy, reliability_diagram

    pairs, weights = _pooled(results, key, by_question)
    return {"murphy": murphy(pairs[:, 0], pairs[:, 1], bins=CALIBRATION_BINS, weights=weights),
            "reliability_diagram": reliability_diagram(pairs[:, 0], pairs[:, 1], bins=CALIBRATION_BINS,
                                                       weights=weights)}


def _pit_coverage_rates(results: list[dict]) -> list[float]:
    from forecast.scoring.rules import pit_coverage

    ranges = np.array([p for r in results for p in r["pit_ranges"]], dtype=float).reshape(-1, 2)
    return [float(pit_coverage(ranges, level).mean()) if len(ranges) else float("nan") for level in (0.5, 0.8)]


def _coverage_rates(results: list[dict]) -> list[float]:
    rates = []
    for level in ("50%", "80%"):
        hit = sum(r["coverage"][level]["contained"] for r in results)
        total = hit + sum(r["coverage"][level]["missed"] for r in results)
        rates.append(hit / total if total else float("nan"))
    return rates


def _pit_shares(results: list[dict]) -> np.ndarray:
    counts = np.histogram([p for r in results for p in r["pit"]], bins=5, range=(0, 1))[0]
    return counts / counts.sum() if counts.sum() else np.full(5, np.nan)


def summarise(results: list[dict]) -> dict:
    """Per forecaster: mean scores over questions, and the paired model-minus-baseline difference with its interval
    over questions; the Murphy terms, coverage and PIT of the pooled forecasts, each with its interval over questions."""
    from forecast.scoring.rules import bootstrap_difference, pit_histogram

    out: dict = {"questions": len(results), "forecasters": {}}
    for metric in ("rps", "brier"):
        model = np.array([r["scores"]["model"][metric] for r in results])
        for name in ("model", *BASELINES):
            values = np.array([r["scores"][name][metric] for r in results])
            row = out["forecasters"].setdefault(name, {})
            row[metric] = float(values.mean())
            if name != "model":  # one value per question: the bootstrap resamples questions
                mean, low, high = bootstrap_difference(model, values)
                row[f"{metric}_difference"] = [mean, low, high]
    pairs, _ = _pooled(results)
    out["checkpoint_forecasts"] = len(pairs)
    if len(pairs):
        for prefix, by_question in (("", False), ("question_weighted_", True)):
            for who, key in (("", "checkpoints"), ("facts_", "facts_checkpoints")):
                parts = _calibration(results, key, by_question)
                out[f"{prefix}{who}murphy"], out[f"{prefix}{who}reliability_diagram"] = (
                    parts["murphy"], parts["reliability_diagram"])
            _, interval = over_questions(results, partial(_murphy_terms, by_question=by_question))
            out[f"{prefix}murphy_interval"] = {t: interval[:, i].tolist() for i, t in enumerate(MURPHY_TERMS)}
    out["pit_histogram"] = np.histogram([p for r in results for p in r["pit"]], bins=5, range=(0, 1))[0].tolist()
    _, pit_interval = over_questions(results, _pit_shares)
    out["pit_share_interval"] = pit_interval.T.tolist()
    ranges = np.array([p for r in results for p in r["pit_ranges"]], dtype=float).reshape(-1, 2)
    out["pit_histogram_spread"] = pit_histogram(ranges, bins=5).round(1).tolist()
    rates, interval = over_questions(results, _pit_coverage_rates)
    out["pit_coverage"] = {level: {"rate": float(rates[i]), "interval": interval[:, i].tolist()}
                           for i, level in enumerate(("50%", "80%"))}
    rates, interval = over_questions(results, _coverage_rates)
    out["coverage"] = {level: {"contained": sum(r["coverage"][level]["contained"] for r in results),
                               "missed": sum(r["coverage"][level]["missed"] for r in results),
                               "rate": float(rates[i]), "interval": interval[:, i].tolist()}
                       for i, level in enumerate(("50%", "80%"))}
    return out


def print_summary(name: str, summary: dict) -> None:
    heading = name if " " in name else f"{name} half"
    print(f"\n### {heading}: {summary['questions']} questions, {summary['checkpoint_forecasts']} checkpoint forecasts\n")
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
        _print_calibration(summary, "", "pooled: every checkpoint counts once")
        _print_calibration(summary, "question_weighted_", "each question counts once, its checkpoints sharing it")
    print("PIT of resolved dates (5 bins), at the middle of each outcome's step: " + " ".join(map(str, summary["pit_histogram"]))
          + "; share per bin, 90% interval over questions: "
          + ", ".join(f"{low:.2f}..{high:.2f}" for low, high in summary["pit_share_interval"]))
    print("PIT of resolved dates (5 bins), each forecast spread over its outcome's step (Czado, Gneiting and Held "
          "2009): " + " ".join(f"{v:.1f}" for v in summary["pit_histogram_spread"]))
    print("Interval coverage (90% interval over questions): " + "; ".join(
        f"{level} {c['contained']}/{c['contained'] + c['missed']} = {c['rate']:.2f} "
        f"({c['interval'][0]:.2f} .. {c['interval'][1]:.2f})" for level, c in summary["coverage"].items()))
    print("Coverage by PIT (a central interval that may split the outcome's month or lump; a calibrated forecaster's "
          "is the level): " + "; ".join(f"{level} {c['rate']:.2f} ({c['interval'][0]:.2f} .. {c['interval'][1]:.2f})"
                                        for level, c in summary["pit_coverage"].items()))


def _print_calibration(summary: dict, prefix: str, how: str) -> None:
    from forecast.scoring.rules import murphy_text

    print(f"\nCalibration of the checkpoint forecasts, {how}:")
    print(f"Murphy decomposition of the model: {murphy_text(summary[prefix + 'murphy'])}")
    print("90% intervals over questions: " + "; ".join(
        f"{t.replace('_', ' ')} {low:.3f} .. {high:.3f}" for t, (low, high) in summary[prefix + "murphy_interval"].items()))
    for who, key in (("the model", "reliability_diagram"), ("the prior and observations", "facts_reliability_diagram")):
        print(f"Reliability of {who} (forecast bin: count, mean forecast, observed frequency): " + "; ".join(
            f"{r['bin'][0]:.1f}-{r['bin'][1]:.1f}: {r['count']}, {r['forecast']:.2f}, {r['observed']:.2f}"
            for r in summary[prefix + key]))
    print(f"Murphy decomposition of the prior and observations: {murphy_text(summary[prefix + 'facts_murphy'])}")


def run_all(paths: list[Path], settings, jobs: int, learned: dict | None = None) -> list[dict]:
    """Backtest every question, ``jobs`` at a time in separate processes (one core each), in the order given."""
    began, done = time.perf_counter(), {}

    def report(k: int, path: Path, r: dict) -> None:
        print(f"[{k}/{len(paths)}] {path.stem} ({r['half']}): {r['runs']} runs in {r['seconds']:.0f} s "
              f"({r['seconds'] / r['runs']:.2f} s per as-of date); {time.perf_counter() - began:.0f} s so far",
              file=sys.stderr, flush=True)

    from forecast.inference.compiled import keep_compiler_running  # one compiling child per job, not per question

    if jobs <= 1:
        keep_compiler_running()
        for k, path in enumerate(paths, 1):
            done[path] = backtest_question(path, settings, learned)
            report(k, path, done[path])
    else:
        one_core = replace(settings, cores=1)
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=keep_compiler_running) as pool:
            futures = {pool.submit(backtest_question, path, one_core, learned): path for path in paths}
            for k, future in enumerate(as_completed(futures), 1):
                done[futures[future]] = future.result()
                report(k, futures[future], done[futures[future]])
    return [done[path] for path in paths]


def _listed(path: Path) -> list[str]:
    """The slugs in a question list: one a line, blank lines and ``#`` comments skipped."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("development", "test", "all"), default="all")
    parser.add_argument("--only", action="append", metavar="SLUG", help="Only this question (repeatable).")
    parser.add_argument("--only-file", type=Path, metavar="FILE",
                        help="Only the questions listed in FILE (one slug a line, # comments); also summarised together.")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="Questions at a time (default: cores).")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "casebook-results.json")
    parser.add_argument("--learned", type=Path, metavar="FILE",
                        help="bench/learning.py's output: backtest each question with the prior set learned without it.")
    args = parser.parse_args()
    learned = json.loads(args.learned.read_text()) if args.learned else None
    chosen = set(args.only or []) | set(_listed(args.only_file) if args.only_file else [])
    from forecast.inference.model import FitSettings
    from forecast.io.casebook import DEVELOPMENT, TEST, casebook_files, half

    settings = FitSettings(draws=args.draws, tune=args.draws, chains=args.chains, seed=20220726, cores=2)
    files = casebook_files()
    paths = [p for p in files if (args.half == "all" or half(p.stem) == args.half) and (not chosen or p.stem in chosen)]
    missing = chosen - {p.stem for p in files}
    if missing:
        parser.error(f"not in the casebook: {', '.join(sorted(missing))}")
    began = time.perf_counter()
    results = run_all(paths, settings, args.jobs, learned)
    wall = time.perf_counter() - began
    halves = {h: [r for r in results if r["half"] == h] for h in (TEST, DEVELOPMENT)}
    summaries = {h: summarise(rs) for h, rs in halves.items() if rs}
    if args.only_file and len(halves) == 2 and all(halves.values()):
        summaries["all listed questions"] = summarise(results)
    runs, busy = sum(r["runs"] for r in results), sum(r["seconds"] for r in results)
    first = sum(r["first_seconds"] for r in results)
    print(f"Casebook benchmark: {len(results)} questions, {runs} backtest runs ({args.chains} x {args.draws} draws) in "
          f"{wall:.0f} s wall time with {args.jobs} parallel jobs (backtests alone {busy:.0f} s, "
          f"{busy / max(runs, 1):.2f} s per as-of date in a job; each question's first as-of date, which compiles "
          f"its model or loads it from the cache, {first / len(results):.2f} s on average, every later one "
          f"{(busy - first) / max(runs - len(results), 1):.2f} s)")
    for name, summary in summaries.items():
        print_summary(name, summary)
    args.out.write_text(json.dumps({"settings": vars(args) | {"out": str(args.out)}, "wall_seconds": wall,
                                    "summaries": summaries, "questions": results}, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
