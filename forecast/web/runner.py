"""Re-forecasts started from a page: one at a time per server, in a background thread of the server
process (so imports, PyTensor's and numba's compiled code stay warm between runs), with the progress
the fit reports kept for the status page. A run started from the CLI at the same time is safe: fits
happen outside any transaction and each run is stored in its own write transaction."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConflictError, ForecastError
from ..store import Store


@dataclass
class RunState:
    """What the status page shows of the latest re-forecast."""

    question: str | None
    started: str
    stage: str = "starting"
    done: int = 0
    total: int = 0
    tuning: bool = False
    run_id: int | None = None
    error: str | None = None
    seconds: float | None = None
    finished: bool = False

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


@dataclass
class _Progress:
    """Receives the fit's progress (from the worker thread) into the shared state."""

    state: RunState
    lock: threading.Lock

    def stage(self, description: str) -> None:
        with self.lock:
            self.state.stage, self.state.done, self.state.total = description, 0, 0

    def steps(self, description: str, total: int) -> None:
        self.stage(description)

    def step(self, description: str) -> None:
        self.stage(description)

    def sampling(self, done: int, total: int, tuning: bool) -> None:
        with self.lock:
            self.state.stage = "tuning" if tuning else "sampling"
            self.state.done, self.state.total, self.state.tuning = done, total, tuning


@dataclass
class Runner:
    """Starts re-forecasts with fixed fit settings, one at a time."""

    store: Store
    settings: dict[str, Any] = field(default_factory=dict)  # draws, tune, chains, seed, sampler (as `forecast run`)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    state: RunState | None = None
    _thread: threading.Thread | None = None

    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, question: str | None) -> RunState:
        """Start a fit of every open question (``question``: the one the page is about); refused while one runs."""
        with self._lock:
            if self.busy():
                raise ConflictError("a re-forecast is already running in this server: wait for it to finish")
            self.state = RunState(question, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
            self._thread = threading.Thread(target=self._fit, args=(self.state,), name="forecast-run", daemon=True)
            self._thread.start()
            return self.state

    def snapshot(self) -> RunState | None:
        with self._lock:
            return None if self.state is None else RunState(**vars(self.state))

    def wait(self, timeout: float | None = None) -> None:
        """Until the current re-forecast ends (for tests and benchmarks)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _fit(self, state: RunState) -> None:
        from ..runs.fitting import fit_settings, run_forecast

        started = time.perf_counter()
        try:
            run_id = run_forecast(self.store, fit_settings(**self.settings), state.question,
                                  progress=_Progress(state, self._lock))
            outcome: dict[str, Any] = {"run_id": run_id, "stage": f"stored as run {run_id}"}
        except ForecastError as exc:
            outcome = {"error": str(exc), "stage": "failed"}
        except Exception as exc:  # noqa: BLE001  (shown as one line; the server keeps serving)
            outcome = {"error": f"the fit failed: {type(exc).__name__}: {exc}", "stage": "failed"}
        with self._lock:
            for key, value in outcome.items():
                setattr(state, key, value)
            state.seconds, state.finished = time.perf_counter() - started, True
