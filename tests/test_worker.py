"""The child process that compiles models: jobs run in it one after another, failures come back as one-line
errors, and it lives on between jobs only when asked to (a benchmark), never idle under a server."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from forecast.errors import ForecastError
from forecast.inference.worker import ChildWorker


@pytest.fixture
def worker():
    made = ChildWorker("running the job")
    yield made
    made.close()


def test_a_kept_child_runs_job_after_job_and_what_they_print_never_reaches_the_replies(worker, tmp_path: Path) -> None:
    worker.keep_alive = True
    worker.run(print, "a library's chatter on stdout")
    first = worker.process.pid
    worker.run(Path.write_text, tmp_path / "out.txt", "written in the child")
    assert worker.process.pid == first and worker.process.pid != os.getpid()
    assert (tmp_path / "out.txt").read_text() == "written in the child"


def test_by_default_the_child_ends_after_each_job(worker, tmp_path: Path) -> None:
    worker.run(Path.write_text, tmp_path / "out.txt", "x")
    assert worker.process is None and (tmp_path / "out.txt").exists()


@pytest.mark.parametrize("keep_alive", [True, False])
def test_a_failing_job_raises_one_line_and_the_next_job_gets_a_new_child(worker, tmp_path: Path, keep_alive) -> None:
    worker.keep_alive = keep_alive
    with pytest.raises(ForecastError, match=r"^running the job failed: \[Errno 2\] No such file or directory: '/no/such"):
        worker.run(Path.read_text, Path("/no/such/file"))
    assert worker.process is None
    worker.run(Path.write_text, tmp_path / "after.txt", "y")
    assert (tmp_path / "after.txt").read_text() == "y"


def test_a_child_that_dies_is_reported_and_replaced(worker, tmp_path: Path) -> None:
    worker.keep_alive = True
    with pytest.raises(ForecastError, match="^running the job failed: no output$"):
        worker.run(os._exit, 3)
    worker.run(Path.write_text, tmp_path / "after.txt", "z")
    assert (tmp_path / "after.txt").read_text() == "z"


@pytest.mark.parametrize("keep_alive", [True, False])
def test_jobs_from_several_threads_take_turns_and_each_gets_its_own_answer(worker, keep_alive) -> None:
    worker.keep_alive = keep_alive

    def one(k: int) -> str:
        try:
            worker.run(time.sleep, 0.02) if k % 2 else worker.run(Path.read_text, Path(f"/no/such/{k}"))
        except ForecastError as error:
            return "failed" if f"/no/such/{k}'" in str(error) else f"someone else's error: {error}"
        return "ok"

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(one, range(16)))
    assert answers == ["failed", "ok"] * 8
