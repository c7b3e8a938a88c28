"""Report benchmark: `forecast report` in a fresh process, on the seed and on 2,000 statements (target <= 5 s).

    uv run python bench/bench_report.py [--screenshot reports/russia-iss-withdrawal-screenshot.png]

Each store has its run stored first; the reference is `python -c "import pymc"` timed in the same run.
Prints the time of each step in process (best of 3) and, optionally, saves Chromium screenshots of the
seed report at desktop width (the README's) and at phone width (beside it, `-phone.png`).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import QUESTION, ROOT, best, forecast, grow, timed  # noqa: E402  (bench/ is on the path as a script)

sys.path.insert(0, str(ROOT))
TARGET_S = 5.0


def steps(db: Path) -> str:
    from forecast.domain.questions import store_priors
    from forecast.report.content import report_content
    from forecast.report.figures import all_figures
    from forecast.report.render import to_html, to_markdown
    from forecast.runs.views import latest_run
    from forecast.store import open_store

    with open_store(str(db)).session() as session:
        priors = store_priors(session)
        run = latest_run(session, QUESTION)
        content_s, content = best(lambda: report_content(session, priors, run, QUESTION))
    figures_s, figures = best(lambda: all_figures(content))
    render_s, _ = best(lambda: (to_html(content, figures, "now"), to_markdown(content, {k: k for k in figures}, "now")))
    return (f"content with leave-one-out influence of {len(content['evidence'])} items {content_s:.2f} s, "
            f"figures {figures_s:.2f} s, HTML+Markdown {render_s:.3f} s")


def main() -> None:
    pymc_s = timed([sys.executable, "-c", "import pymc"])
    print(f"reference: python -c 'import pymc' {pymc_s:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in (("seed", 0), ("2,000 statements", 2000 - 66)):
            db, out = Path(tmp) / f"{extra}.db", Path(tmp) / f"reports-{extra}"
            forecast(db, "init")
            if extra:
                grow(db, extra)
            forecast(db, "run", QUESTION, "--quiet")
            command_s = timed([sys.executable, "-m", "forecast", "--db", str(db), "report", QUESTION, "--out", str(out)])
            print(f"[{name}] `forecast report` in a fresh process: {command_s:.2f} s (target <= {TARGET_S:.0f} s: "
                  f"{command_s / TARGET_S:.2f} of it; {command_s / pymc_s:.1f}x import pymc); {steps(db)}")
            if "--screenshot" in sys.argv and not extra:
                screenshots(next(out.glob("*.html")), Path(sys.argv[sys.argv.index("--screenshot") + 1]))


def screenshots(html: Path, target: Path) -> None:
    from tests.browser import render

    for path, width, full in ((target, 1000, True), (target.with_name(target.stem + "-phone.png"), 390, False)):
        page = render(html, path, width=width, full_page=full)
        print(f"screenshot {path} at {width} px ({path.stat().st_size} bytes; console errors: {len(page.errors)}; "
              f"horizontal overflow: {page.scroll_width > page.viewport_width})")


if __name__ == "__main__":
    main()
