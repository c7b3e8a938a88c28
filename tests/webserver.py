"""The real web server (uvicorn) on a free loopback port, in a thread of the test process; and the docs'
screenshots of its pages.

``python -m tests.webserver DIR`` writes DIR/web-{portfolio,question,calibration}-{1280,390}.png from a
store of the article's seed (fixture runs, the question resolved) and prints what it measured.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .browser import _OVERFLOW, CHROMIUM_ARGS
from .conftest import INIT, QUESTION, invoke, store_exact_run


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


PAGES = {"portfolio": "/", "question": f"/questions/{QUESTION}", "calibration": "/calibration"}


def scored_store(db: str) -> str:
    """The article's seed with a backtest run as of mid-2025, a current run, and the question resolved (2026-12)."""
    assert invoke(db, *INIT).exit_code == 0
    store_exact_run(db, as_of=dt.date(2025, 6, 30), kind="backtest")
    store_exact_run(db)
    assert invoke(db, "resolve", QUESTION, "--date", "2026-12", "--source", "fixture, example.org").exit_code == 0
    return db


def screenshots(browser, url: str, folder, widths=(1280, 390)) -> dict[str, tuple[int, int, list[str]]]:
    """Each page at each width: (viewport width, scroll width, elements past the viewport), a PNG in ``folder``."""
    found = {}
    for width in widths:
        context = browser.new_context(viewport={"width": width, "height": 900})
        tab = context.new_page()
        for name, path in PAGES.items():
            tab.goto(url + path)
            tab.screenshot(path=str(folder / f"web-{name}-{width}.png"), full_page=name != "question")  # its top
            scroll, past = tab.evaluate(_OVERFLOW)
            found[f"{name}-{width}"] = (width, scroll, past)
        context.close()
    return found



def main(out: str) -> None:
    from PIL import Image  # matplotlib's dependency
    from playwright.sync_api import sync_playwright

    db = scored_store(str(Path(tempfile.mkdtemp(prefix="forecast-web-")) / "forecast.db"))
    with serving(db) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        measured = screenshots(browser, server.url, Path(out))
        browser.close()
    for name, (width, scroll, past) in measured.items():
        path = Path(out) / f"web-{name}.png"
        Image.open(path).convert("RGB").quantize(colors=256).save(path, optimize=True)
        print(f"{name}: scroll width {scroll} of {width}, {len(past)} elements past the viewport")


if __name__ == "__main__":
    main(*sys.argv[1:])
