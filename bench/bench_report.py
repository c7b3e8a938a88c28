"""Report benchmark: writing the seed report from an already stored run (target < 5 s).

    uv run python bench/bench_report.py [--screenshot reports/russia-iss-withdrawal-screenshot.png]

Prints the time of each step (best of 3) and the whole `forecast report` command in a fresh
process, against the 5 s target, and optionally saves a Chromium screenshot of the report.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import best  # noqa: E402  (bench/ is on the path when run as a script)
QUESTION = "russia-iss-withdrawal"


def main() -> None:
    from forecast.priors import load_priors
    from forecast.report.content import report_content
    from forecast.report.figures import all_figures
    from forecast.report.render import to_html, to_markdown
    from forecast.runs import latest_run
    from forecast.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        db, out = Path(tmp) / "seed.db", Path(tmp) / "reports"
        for args in (["init"], ["run", QUESTION]):
            subprocess.run([sys.executable, "-m", "forecast", "--db", str(db), *args], check=True, capture_output=True, cwd=ROOT)
        priors = load_priors(ROOT / "priors")
        with open_store(str(db)).session() as session:
            run = latest_run(session, QUESTION)
            content_s, content = best(lambda: report_content(session, priors, run, QUESTION))
        figures_s, figures = best(lambda: all_figures(content))
        render_s, _ = best(lambda: (to_html(content, figures, "now"), to_markdown(content, {k: k for k in figures}, "now")))
        command_s, _ = best(lambda: subprocess.run(
            [sys.executable, "-m", "forecast", "--db", str(db), "report", QUESTION, "--out", str(out)],
            check=True, capture_output=True, cwd=ROOT))
        print(f"report steps (in process): content with leave-one-out influence {content_s:.2f} s, "
              f"figures {figures_s:.2f} s, HTML+Markdown {render_s:.3f} s")
        print(f"`forecast report` in a fresh process: {command_s:.2f} s (target < 5 s: ratio {command_s / 5:.2f})")
        if "--screenshot" in sys.argv:
            from tests.browser import render

            target = Path(sys.argv[sys.argv.index("--screenshot") + 1])
            page = render(next(out.glob("*.html")), target, width=1000)
            print(f"screenshot {target} ({target.stat().st_size} bytes; console errors: {len(page.errors)})")


if __name__ == "__main__":
    main()
