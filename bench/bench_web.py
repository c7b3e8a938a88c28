"""Web workbench benchmark (`forecast serve`), each time against a reference measured in the same run.

    uv run python bench/bench_web.py

- the question page on 2,000 statements (target <= 200 ms server time), against the seed's page;
- a statement logged through the form with the instant headline before and after (target <= 150 ms);
- a re-forecast of the seed question in the warm server (target <= 1.5 s), against a fresh `forecast run`
  process with the same settings and the compile caches filled (the faster of two).
Requests go over loopback HTTP to the real server (uvicorn in a thread of this process).
"""

from __future__ import annotations

import http.cookiejar
import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import QUESTION, add_bench_expert, best, forecast, grow, timed  # noqa: E402  (bench/ is on the path)

PAGE_TARGET_S, LOG_TARGET_S, RUN_TARGET_S = 0.2, 0.15, 1.5


def client() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def get(opener: urllib.request.OpenerDirector, url: str) -> str:
    with opener.open(url) as response:
        return response.read().decode()


def page_times(db: Path) -> tuple[float, float]:
    """(first view, fastest of three later views) of the question page, in seconds."""
    from tests.webserver import serving

    with serving(str(db)) as server:
        opener = client()
        first = time.perf_counter()
        get(opener, f"{server.url}/questions/{QUESTION}")
        first = time.perf_counter() - first
        return first, best(lambda: get(opener, f"{server.url}/questions/{QUESTION}"))[0]


def log_time(db: Path) -> float:
    """Fastest of three statements posted through the form (the response shows the headline before and after)."""
    from tests.webserver import serving

    expert = add_bench_expert(db)
    with serving(str(db)) as server:
        opener = client()
        page = get(opener, f"{server.url}/questions/{QUESTION}/statement")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        times = []
        for i in range(3):
            fields = {"csrf_token": token, "expert": expert, "date": f"2023-04-0{i + 1}", "claim": "not before 2028",
                      "quote": f"benchmark statement {i}", "source": "benchmark"}
            started = time.perf_counter()
            body = opener.open(f"{server.url}/questions/{QUESTION}/statement",
                               urllib.parse.urlencode(fields).encode()).read().decode()
            times.append(time.perf_counter() - started)
            assert 'id="headline-after"' in body, body[:500]
        return min(times)


def warm_run_time(db: Path, settings: dict, warm_runs: int = 5) -> tuple[float, float]:
    """(first re-forecast: loading the compiled model, the median of the next ``warm_runs``: warm) in the server,
    seconds each as the worker measured it (the median, as one run varies by about 0.1 s on a quiet machine)."""
    from tests.webserver import serving

    with serving(str(db), fit=settings) as server:
        seconds = []
        for _ in range(1 + warm_runs):
            server.bench.runner.start(QUESTION)
            server.bench.runner.wait()
            state = server.bench.runner.snapshot()
            assert state.error is None, state.error
            seconds.append(state.seconds)
        return seconds[0], float(np.median(seconds[1:]))


def main() -> None:
    from tests.conftest import store_exact_run

    with tempfile.TemporaryDirectory() as tmp:
        seed, large = Path(tmp) / "seed.db", Path(tmp) / "large.db"
        for db in (seed, large):
            forecast(db, "init")
        grow(large, 2000 - 66)
        for db in (seed, large):
            store_exact_run(db)
        seed_first, seed_page = page_times(seed)
        large_first, large_page = page_times(large)
        print(f"question page, seed: first {seed_first * 1000:.0f} ms, then {seed_page * 1000:.0f} ms")
        print(f"question page, 2,000 statements: first {large_first * 1000:.0f} ms, then {large_page * 1000:.0f} ms "
              f"(target <= {PAGE_TARGET_S * 1000:.0f} ms: {large_page / PAGE_TARGET_S:.2f} of it; "
              f"{large_page / seed_page:.1f}x the seed's page)")
        logged = log_time(seed)
        print(f"statement logged with the instant headline before and after, seed: {logged * 1000:.0f} ms "
              f"(target <= {LOG_TARGET_S * 1000:.0f} ms: {logged / LOG_TARGET_S:.2f} of it)")
        settings = {"draws": 1000, "chains": 4}
        # the faster of two: the first process may compile the model into the caches a later one only reads
        fresh = timed([sys.executable, "-m", "forecast", "--db", str(seed), "run", QUESTION, "--quiet"], repeat=2)
        first, warm = warm_run_time(seed, settings)
        print(f"re-forecast of the seed in the server: first {first:.2f} s, warm {warm:.2f} s (median of 5; target <= "
              f"{RUN_TARGET_S:.1f} s: {warm / RUN_TARGET_S:.2f} of it); fresh `forecast run` process {fresh:.2f} s "
              f"({fresh / warm:.1f}x the warm server)")


if __name__ == "__main__":
    main()
