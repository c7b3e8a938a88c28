"""Headless Chromium (Debian's package) driven by Playwright: load a page, collect errors, measure what does not
fit, screenshot.

``python -m tests.browser REPORT.html DIR`` writes DIR/report-1280.png and DIR/report-390.png (the docs'
screenshots) and prints what it measured.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# Every rendered element that reaches past either side of the viewport, and the page's scroll width.
_OVERFLOW = """() => {
  const width = window.innerWidth, found = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
      found.push(`${name} ${box.left.toFixed(1)}..${box.right.toFixed(1)}`);
    }
  }
  return [document.scrollingElement.scrollWidth, found];
}"""
# The size on screen, in CSS pixels, of every text of every figure: its font size in the SVG's units times the
# scale from those units to the screen (rotation included).
_FIGURE_FONTS = """() => [...document.querySelectorAll('figure svg text')].map(t => {
  const m = t.getScreenCTM();
  return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
})"""


@dataclass
class PageCheck:
    errors: list[str]
    requests: list[str]
    svg_widths: list[float]
    scroll_width: int  # document.scrollingElement.scrollWidth, the larger with every <details> closed or open
    viewport_width: int
    title: str
    overflowing: list[str] = field(default_factory=list)  # elements past the viewport, closed or open details
    figure_fonts: list[float] = field(default_factory=list)  # on-screen size (px) of each figure text
    probe: Any = None  # what the caller's script returned


def render(html: Path, screenshot: Path, width: int = 1000, full_page: bool = True, probe: str | None = None) -> PageCheck:
    """Open ``html`` in headless Chromium, record console errors and every request, take a screenshot, run the
    ``probe`` script if any, then measure overflow with every ``<details>`` as it is and opened."""
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
        viewport = page.evaluate("window.innerWidth")
        page.screenshot(path=str(screenshot), full_page=full_page)
        scroll, overflowing = page.evaluate(_OVERFLOW)
        fonts = page.evaluate(_FIGURE_FONTS)
        probed = page.evaluate(probe) if probe else None
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        scroll_open, overflowing_open = page.evaluate(_OVERFLOW)
        title = page.title()
        browser.close()
    return PageCheck(errors, requests, widths, max(scroll, scroll_open), viewport, title,
                     overflowing + [f"(details open) {x}" for x in overflowing_open], fonts, probed)


def main(report: str, out: str) -> None:
    from PIL import Image  # matplotlib's dependency

    for width in (1280, 390):
        path = Path(out) / f"report-{width}.png"
        check = render(Path(report), path, width=width)
        Image.open(path).convert("RGB").quantize(colors=256).save(path, optimize=True)  # a third of the bytes
        print(f"{width} px: scroll width {check.scroll_width}, {len(check.overflowing)} elements past the viewport, "
              f"smallest figure text {min(check.figure_fonts, default=0):.1f} px, errors {check.errors}")


if __name__ == "__main__":
    main(*sys.argv[1:])
