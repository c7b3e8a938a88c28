"""Headless Chromium (Debian's package) driven by Playwright: load a page, collect errors, screenshot."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@dataclass
class PageCheck:
    errors: list[str]
    requests: list[str]
    svg_widths: list[float]
    scroll_width: int
    viewport_width: int
    title: str


def render(html: Path, screenshot: Path, width: int = 1000, full_page: bool = True) -> PageCheck:
    """Open ``html`` in headless Chromium, record console errors and every request, and take a screenshot."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is required (scripts/test installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html.resolve().as_uri(), wait_until="load")
        widths = [(svg.bounding_box() or {}).get("width", 0.0) for svg in page.query_selector_all("figure svg")]
        scroll, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        page.screenshot(path=str(screenshot), full_page=full_page)
        title = page.title()
        browser.close()
    return PageCheck(errors, requests, widths, scroll, viewport, title)
