"""Shared helpers for the benchmarks."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "russia-iss-withdrawal"
BENCH_EXPERT = "Bench Expert"  # fictional: the benchmarks log invented statements only as fictional experts
CLAIMS = ("after 2024", "by 2030", "between 2027 and 2029", "not before 2028", "in 2031", "by 2026", "around 2029",
          "likely after 2030", "H2 2028", "no later than 2032", "not within the horizon", "before 2027-06")


def best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """(fastest wall time in seconds, last value) over ``repeat`` calls."""
    fastest, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest, value


def forecast(db: Path, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run the `forecast` command line in a fresh process against ``db``."""
    return subprocess.run([sys.executable, "-m", "forecast", "--db", str(db), *args], check=True, capture_output=True,
                          cwd=ROOT, text=True, **kwargs)


def timed(args: Sequence[str], repeat: int = 3, env: dict[str, str] | None = None) -> float:
    """Fastest wall time of a fresh process running ``args``."""
    return best(lambda: subprocess.run(list(args), check=True, capture_output=True, cwd=ROOT, env=env), repeat)[0]


def add_bench_expert(db: Path, name: str = BENCH_EXPERT) -> str:
    """Add the fictional expert the benchmark logs its statements as (through `forecast expert add`); its name."""
    forecast(db, "expert", "add", name, "--kind", "journalist", "--affiliation", "fixture, example.org", "--new",
             "--notes", "Fictional: made by a benchmark.")
    return name


def grow(db: Path, statements: int, seed: int = 1, experts: int = 20) -> None:
    """Add ``statements`` synthetic statements on the Russia-ISS question, spread over ``experts`` fictional experts
    added for them (an expert's second draw of the same day and claim is logged as a restatement)."""
    import random

    from forecast.domain.evidence import add_expert, log_statement
    from forecast.store import open_store
    from forecast.store.vocab import EXPERT_KINDS

    rng = random.Random(seed)
    with open_store(str(db)).session() as session:
        names = [f"Synthetic Expert {i + 1:02d}" for i in range(experts)]
        for i, name in enumerate(names):
            add_expert(session, name, EXPERT_KINDS[i % len(EXPERT_KINDS)], notes="Fictional: made by a benchmark.")
        for i in range(statements):
            log_statement(session, question=QUESTION, expert=rng.choice(names),
                          said_on=dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(2000)),
                          claim=rng.choice(CLAIMS), quote=f"synthetic statement {i}", source="benchmark",
                          strength=rng.choice(("firm", "hedged")), restatement=True)  # same day and claim: allowed
