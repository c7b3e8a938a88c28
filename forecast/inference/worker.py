"""A long-lived child process that runs jobs one after another, so that what a job imports is imported once.

A job is a picklable function and its arguments, sent on the child's stdin (an 8-byte length, then the pickle);
the child answers each with one line on its stdout: "ok", or "error: " and the message. Anything a library prints
goes to the child's stderr, kept in a temporary file for the message when the child dies.
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..errors import ForecastError


def serve() -> None:
    """The child's loop: run each job from stdin and answer it, until stdin closes."""
    jobs, replies = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    while header := jobs.read(8):
        function, arguments = pickle.loads(jobs.read(int.from_bytes(header, "big")))  # noqa: S301  (from the parent)
        try:
            function(*arguments)
            reply = "ok"
        except Exception as error:  # the parent raises it
            reply = "error: " + (str(error).strip().splitlines() or [type(error).__name__])[0]
        replies.write(reply.encode() + b"\n")
        replies.flush()


class ChildWorker:
    """Runs jobs in a child process, started on the first job. The child ends after each job unless
    ``keep_alive`` is set (a process that runs many jobs, such as a benchmark, then pays the child's start and
    imports once; a long-lived server does not keep an idle child)."""

    def __init__(self, what: str) -> None:
        self.what = what  # for messages: "compiling the model"
        self.keep_alive = False
        self.process: subprocess.Popen | None = None
        self.errors: IO[bytes] | None = None
        self.lock = threading.Lock()  # one job at a time through the pipes (a server's threads may compile at once)
        atexit.register(self.close)

    def run(self, function: Callable[..., Any], *arguments: Any) -> None:
        """Run ``function(*arguments)`` in the child; a failure raises ForecastError with its first line."""
        with self.lock:
            self._run(function, arguments)

    def _run(self, function: Callable[..., Any], arguments: tuple) -> None:
        if self.process is not None and self.process.poll() is not None:
            self.close()  # the child died between jobs
        if self.process is None:
            self._start()
        assert self.process is not None and self.process.stdin is not None and self.process.stdout is not None
        job = pickle.dumps((function, arguments))
        try:
            self.process.stdin.write(len(job).to_bytes(8, "big") + job)
            self.process.stdin.flush()
            reply = self.process.stdout.readline().decode(errors="replace").strip()
        except OSError:
            reply = ""
        if reply == "ok":
            if not self.keep_alive:
                self.close()
            return
        message = reply.removeprefix("error: ") if reply else self._last_error_line()
        self.close()
        raise ForecastError(f"{self.what} failed: {message}")

    def _start(self) -> None:
        package_parent = str(Path(__file__).resolve().parents[2])
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-c", f"from {__name__} import serve; serve()"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, env=env)

    def _last_error_line(self) -> str:
        if self.process is not None:
            self.process.wait()
        if self.errors is None:
            return "no output"
        self.errors.seek(0)
        tail = self.errors.read().decode(errors="replace").strip().splitlines()[-1:]
        return tail[0] if tail else "no output"

    def close(self) -> None:
        """End the child (it exits when its stdin closes)."""
        if self.process is not None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait()
            self.process = None
        if self.errors is not None:
            self.errors.close()
            self.errors = None
