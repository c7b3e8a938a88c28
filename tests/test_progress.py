"""Progress shows on a terminal (stderr a TTY), and nowhere else: not in pipes, not under CliRunner, not with --quiet."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PROJECT, QUESTION, copy_store

FIT = ["--draws", "200", "--tune", "200", "--chains", "2", "--seed", "4"]
STORED = (0, 1)  # `run`'s exit codes for a stored run: 1 when it is flagged, as so few draws may be
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_terminal(args: list[str]) -> tuple[int, str]:
    """Run ``forecast ARGS`` with stdout and stderr on a pseudo-terminal; returns (exit code, text without ANSI codes)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "forecast", *args], stdin=follower, stdout=follower,
                            stderr=follower, cwd=PROJECT, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(), ANSI.sub("", b"".join(chunks).decode(errors="replace"))


@pytest.fixture
def store(fitted_db: Path, tmp_path: Path) -> Path:
    return copy_store(fitted_db, tmp_path / "store.db")


def test_run_shows_tuning_and_sampling_on_a_terminal(store: Path) -> None:
    code, text = on_terminal(["--db", str(store), "run", *FIT])
    assert code in STORED, text
    assert "tuning" in text and "sampling" in text and "/800" in text  # 2 chains x (200 + 200) draws
    assert "Diagnostics: max R-hat" in text


def test_quiet_shows_no_progress_on_a_terminal(store: Path) -> None:
    code, text = on_terminal(["--db", str(store), "run", *FIT, "--quiet"])
    assert code in STORED and "Diagnostics: max R-hat" in text
    assert "/800" not in text and "sampling" not in text


def test_no_progress_in_pipes(store: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "forecast", "--db", str(store), "run", *FIT], capture_output=True,
                          text=True, cwd=PROJECT)
    assert done.returncode in STORED, done.stderr
    assert done.stderr == "" and "/800" not in done.stdout and done.stdout.startswith(("Run 2 (full)", "WARNING"))


def test_no_progress_under_clirunner(run, store: Path) -> None:
    result = run("run", *FIT, db=store)
    assert result.exit_code in STORED and result.stderr == "" and "/800" not in result.output
    assert "Run 2 (full)" in result.output


def test_backtest_counts_dates_with_an_eta(store: Path) -> None:
    code, text = on_terminal(["--db", str(store), "backtest", QUESTION, "--from", "2022-07", "--to", "2022-12",
                              "--every", "quarter", *FIT])
    assert code in STORED, text
    assert "date 1 of 2 (as of 2022-07-01)" in text and "date 2 of 2 (as of 2022-10-01)" in text and "ETA" in text
    assert "Stored 2 backtest runs" in text
