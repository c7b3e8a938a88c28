"""The real web server (uvicorn) on a free loopback port, in a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    url: str
    app: Any  # the ASGI app; .bench is its Workbench

    @property
    def bench(self) -> Any:
        return self.app.bench


@contextmanager
def serving(db: str, **options: Any) -> Iterator[Served]:
    """Serve the store ``db`` (options as forecast.web.create_app takes them) until the block ends."""
    import uvicorn

    from forecast.store import open_store
    from forecast.web import create_app

    app = create_app(open_store(db, create=False), **options)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(10)
