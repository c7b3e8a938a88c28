"""The forecast on the real record: the article seed and the full 2021-2026 ISS evidence.

    uv run python bench/bench_realism.py                 # both stores, the bundled priors
    uv run python bench/bench_realism.py --set dependence.affiliation_correlation=0.3

Each store is built with `forecast init` and fitted with `forecast run --as-of 2026-11-25` (nutpie,
4 x 1000, the default seed) in a fresh process; the figures are read back with `forecast show --json`.
``--set TABLE.KEY=VALUE`` changes one number of a copy of priors/reliability.toml (to compare designs);
``--no-preemption`` drops ``precluded_by`` from the copy of the withdrawal question.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-25"
QUESTION, PRECLUDER = "russia-iss-withdrawal", "iss-retirement"
WATCH = ("John Logsdon", "Dmitry Rogozin", "Yury Borisov", "Dmitry Bakanov", "Bill Nelson", "Anatoly Zak")


def _priors(tmp: Path, changes: list[str], article: bool, preemption: bool) -> Path:
    priors = tmp / "priors"
    shutil.copytree(ROOT / "priors", priors)
    if not preemption:
        path = priors / "questions" / f"{QUESTION}.toml"
        path.write_text(re.sub(r"^precluded_by = .*$", "", path.read_text(), flags=re.M))
    if article:  # the article's question and its precluding question, no other evidence
        for path in (priors / "questions").glob("*.toml"):
            if path.stem not in (QUESTION, PRECLUDER):
                path.unlink()
    text = (priors / "reliability.toml").read_text()
    for change in changes:
        key, value = change.split("=")
        table, name = key.rsplit(".", 1)
        pattern = re.compile(rf"(\[{re.escape(table)}\][^\[]*?^{re.escape(name)} = \{{ value = )[^,]+", re.M | re.S)
        text, count = pattern.subn(rf"\g<1>{value}", text)
        if count != 1:
            raise SystemExit(f"no number {key} in reliability.toml")
    (priors / "reliability.toml").write_text(text)
    return priors


def _observations(tmp: Path, article: bool) -> Path:
    if not article:
        return ROOT / "observations"
    seed = tmp / "observations"
    seed.mkdir()
    for name in ("experts.toml", f"{QUESTION}.toml"):
        shutil.copy(ROOT / "observations" / name, seed)
    return seed


def _forecast(*args: str) -> str:
    done = subprocess.run(["uv", "run", "--frozen", "forecast", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout


def measure(changes: list[str], article: bool, preemption: bool = True) -> dict:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        db = str(tmp / "forecast.db")
        _forecast("--db", db, "init", "--priors", str(_priors(tmp, changes, article, preemption)),
                  "--observations", str(_observations(tmp, article)))
        _forecast("--db", db, "run", "--as-of", AS_OF)
        record = json.loads(_forecast("--db", db, "show", "--json"))
    out = {"diagnostics": f"R-hat {record['diagnostics']['max_rhat']:.3f}, "
                          f"{record['diagnostics']['divergences']} divergences"}
    for result in record["results"]:
        head = result["headline"]
        out[result["question"]] = {
            "P(before 2029-01-01)": head["checkpoints"]["2029-01-01"],
            "P(before 2031-01-01)": head["checkpoints"]["2031-01-01"],
            "P(not within the horizon)": head["not_within_horizon"],
            "P(pre-empted)": head.get("pre_empted"), "median": head["median"],
        }
    out["reliability"] = {r["expert"]: round(r["mean"], 3) for r in record["reliabilities"] if r["expert"] in WATCH}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", action="append", default=[], help="TABLE.KEY=VALUE in reliability.toml")
    parser.add_argument("--only", choices=["article", "record"])
    parser.add_argument("--no-preemption", action="store_true")
    args = parser.parse_args()
    for key, label in (("article", "article seed"), ("record", "full record")):
        if args.only not in (None, key):
            continue
        result = measure(args.set, article=key == "article", preemption=not args.no_preemption)
        flags = " ".join(args.set) + (" --no-preemption" if args.no_preemption else "")
        print(f"== {label} (as of {AS_OF}) {flags}")
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
