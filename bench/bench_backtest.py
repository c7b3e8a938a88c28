"""Backtest benchmark on the seed data: time per as-of run, and the scored history shown in the README.

    uv run python bench/bench_backtest.py [--figure reports/russia-iss-withdrawal-backtest.svg]

Backtests russia-iss-withdrawal quarterly from 2022-07-01 to today (4 x 1000 draws, adaptive tuning),
prints the time per as-of run against its target (0.5 s once compiled), its CPU time (all threads), and
against a fresh model's first fit and `python -c "import pymc"` in the same run, and the scores.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import timed  # noqa: E402  (bench/ is on the path)

QUESTION = "russia-iss-withdrawal"


def main() -> None:
    from forecast.domain.priors import load_priors
    from forecast.domain.questions import question_by_slug
    from forecast.inference.dataset import build_dataset
    from forecast.inference.model import DateModel
    from forecast.io.seed import initialise
    from forecast.report.content import history
    from forecast.report.figures import backtest_figure
    from forecast.runs.fitting import fit_settings
    from forecast.runs.views import latest_run
    from forecast.scoring.backtest import backtest
    from forecast.scoring.calibration import MODEL
    from forecast.scoring.resolution import checkpoint_outcomes
    from forecast.scoring.scorecard import scorecard
    from forecast.store import open_store
    from forecast.store.tables import ForecastRun

    priors = load_priors(ROOT / "priors")
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "seed.db"))
        with store.session() as session:
            initialise(session)
            data = build_dataset(session, priors)
        start = time.perf_counter()
        DateModel(data, priors).fit_draws(fit_settings())
        fresh = time.perf_counter() - start
        start, cpu = time.perf_counter(), time.process_time()
        ids = backtest(store, priors, "russia-iss-withdrawal", dt.date(2022, 7, 1), "quarter", settings=fit_settings())
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
        with store.session() as session:
            fits = [session.get(ForecastRun, i).elapsed_seconds for i in ids]
            card = scorecard(session, priors, QUESTION)
            runs = history(session, QUESTION, latest_run(session, run_id=ids[-1]))
            question = question_by_slug(session, QUESTION)
            outcomes = {c.isoformat(): o for c, o in checkpoint_outcomes(session, question).items() if o is not None}
    pymc = timed([sys.executable, "-c", "import pymc"])
    per_run = total / len(ids)
    print(f"backtest: {len(ids)} as-of runs in {total:.1f} s, {per_run:.2f} s per as-of run (target <= 0.5 s once "
          f"compiled: ratio {per_run / 0.5:.2f}; fit and summary {min(fits):.2f}-{max(fits):.2f} s; CPU time "
          f"{cpu / len(ids):.2f} s per as-of run, all threads, which other work on the machine does not inflate); a "
          f"fresh model's first fit in this process {fresh:.1f} s; `python -c 'import pymc'` {pymc:.2f} s")
    print("| forecaster | scored forecasts | mean Brier | mean log score | time-averaged Brier |")
    print("| --- | --- | --- | --- | --- |")
    for row in card["by_forecaster"]:
        averaged = card["time_averaged"][row["forecaster"]]["mean"]
        print(f"| {row['forecaster']} | {row['n']} | {row['brier']:.4f} | {row['log']:.4f} | {averaged:.4f} |")
    model = card["time_averaged"][MODEL]["mean"]
    print(f"model time-averaged Brier {model:.4f}; beats: "
          + ", ".join(c["baseline"] for c in card["comparison"] if c["model_better"]))
    if "--figure" in sys.argv:
        target = Path(sys.argv[sys.argv.index("--figure") + 1])
        target.write_text(backtest_figure(runs, outcomes), encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
