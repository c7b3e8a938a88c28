"""Learning the shared priors on the casebook's development half, scored leave-one-question-out.

    uv run python bench/learning.py [--half development] [--every quarter] [--out bench/learning-results.json]

Loads the half's questions into a temporary store and scores, with the exact path (reliabilities at their
kinds' means), the mean log probability each question's forecasts gave its outcome period, as of each
quarter from its horizon start to the day before its outcome became known:

- with the hand-set priors;
- with priors learned from the whole half (in sample: an upper bound, not a result);
- with priors learned from the half without the question scored (leave-one-question-out, the honest figure);

with the paired difference and its 90% bootstrap interval over questions. Then, with the hand-set priors
otherwise, how the score moves with one knob at a time (statement under-reaction: the weights' common scale,
the recency half-life, the reliability of every kind). Writes the per-question leave-one-out sets to --out
(``bench/casebook.py --learned FILE`` backtests each question with the set learned without it).
``--learn recipe,notice,weights,kinds`` learns every group (bench/learning-results-all-values.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GRIDS = {
    "weights scale (firm and hedged times)": [0.5, 1.0, 2.0, 3.0, 4.0],
    "weights.half_life_years": [1.0, 2.0, 4.0, 8.0],
    "every kind's reliability mean": [0.55, 0.65, 0.75, 0.85],
}


def interval(differences: list[float], seed: int = 0) -> tuple[float, float]:
    """90% bootstrap interval of the mean over questions."""
    rng = np.random.default_rng(seed)
    values = np.array(differences)
    means = values[rng.integers(0, len(values), (2000, len(values)))].mean(axis=1)
    return float(np.quantile(means, 0.05)), float(np.quantile(means, 0.95))


def grid_values(knob: str, value: float, hand: dict[str, float]) -> dict[str, float]:
    if knob.startswith("weights scale"):
        return {"weights.firm": hand["weights.firm"] * value, "weights.hedged": hand["weights.hedged"] * value}
    if knob.startswith("every kind"):
        return {k: value for k in hand if k.startswith("kinds.")}
    return {knob: value}


def load_cases(half_name: str, every: str):
    """The half's casebook questions in a temporary store: (hand-set priors, stored files, questions, cases)."""
    from sqlmodel import select

    from forecast.domain.questions import raw_files, store_priors
    from forecast.io.casebook import casebook_files, half, load
    from forecast.scoring.learning import learning_cases, resolved_questions
    from forecast.store import open_store
    from forecast.store.tables import Question

    paths = [p for p in casebook_files() if half(p.stem) == half_name]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "learn.db"))
        with store.session() as session:
            load(session, paths)
        with store.reader() as session:
            base = store_priors(session, hand_set=True)
            questions = resolved_questions(session)
            return base, raw_files(list(session.exec(select(Question)))), questions, learning_cases(
                session, base, questions, every)


def leave_one_out(cases, base, raw, names, hand, whole, questions) -> tuple[dict, dict]:
    """Each question's set learned without it (started from the whole half's), and its score under that set."""
    from forecast.domain.prior_sets import apply_values
    from forecast.scoring.learning import fit_values, mean_log_score

    sets, scores = {}, {}
    for k, q in enumerate(questions, start=1):
        own = [c for c in cases if c.slug == q.slug]
        sets[q.slug] = fit_values([c for c in cases if c.slug != q.slug], base, raw, names, hand, start=whole)
        scores[q.slug] = mean_log_score(own, apply_values(base, raw, sets[q.slug]))[0] if own else float("nan")
        print(f"[{k}/{len(questions)}] {q.slug}: learned without it {scores[q.slug]:.3f}", flush=True)
    return sets, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=("development",), default="development",
                        help="Only the development half: the test half is scored once, by bench/casebook.py.")
    parser.add_argument("--every", choices=("month", "quarter", "year"), default="quarter")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "learning-results.json")
    from forecast.domain.prior_sets import DEFAULT_GROUPS

    parser.add_argument("--learn", default=",".join(DEFAULT_GROUPS), metavar="GROUPS",
                        help="The groups of values learned, comma-separated, of recipe, notice, weights, kinds (default "
                             "as `forecast learn`: recipe,notice; the others stay hand-set).")
    args = parser.parse_args()

    from forecast.domain.prior_sets import apply_values, hand_set_values
    from forecast.domain.priors import DEFAULT_RECIPE, load_recipes
    from forecast.scoring.learning import fit_values, learnable_names, mean_log_score

    began = time.perf_counter()
    base, raw, questions, cases = load_cases(args.half, args.every)
    hand = hand_set_values(base, load_recipes()[DEFAULT_RECIPE])
    groups = tuple(args.learn.split(","))
    names = learnable_names(base, cases, groups)
    per_hand = mean_log_score(cases, apply_values(base, raw, {}))[1]
    print(f"{len(questions)} {args.half} questions, {len(cases)} dated forecasts; hand-set mean log score "
          f"{np.mean(list(per_hand.values())):.3f}", flush=True)
    knobs = {knob: {str(v): mean_log_score(cases, apply_values(base, raw, grid_values(knob, v, hand)))[0] for v in grid}
             for knob, grid in GRIDS.items()}
    for knob, scores in knobs.items():
        print(f"  {knob}: " + ", ".join(f"{v} -> {s:.3f}" for v, s in scores.items()), flush=True)
    whole = fit_values(cases, base, raw, names, hand)
    per_whole = mean_log_score(cases, apply_values(base, raw, whole))[1]
    print(f"learned on the whole half (in sample): {np.mean(list(per_whole.values())):.3f}\n  "
          + ", ".join(f"{n} {hand[n]:g} -> {v:.3g}" for n, v in whole.items()), flush=True)
    loqo, per_loqo = leave_one_out(cases, base, raw, names, hand, whole, questions)
    scored = [s for s in per_loqo if s in per_hand]
    diff = [per_loqo[s] - per_hand[s] for s in scored]
    low, high = interval(diff)
    print(f"\nleave-one-question-out: mean log score {np.mean([per_loqo[s] for s in scored]):.3f} against hand-set "
          f"{np.mean([per_hand[s] for s in scored]):.3f}; difference {np.mean(diff):+.3f} (90% interval over "
          f"questions {low:+.3f} .. {high:+.3f}); better on {sum(d > 0 for d in diff)} of {len(diff)} questions; "
          f"{time.perf_counter() - began:.0f} s")
    args.out.write_text(json.dumps({
        "half": args.half, "every": args.every, "learned_groups": sorted(groups), "questions": [q.slug for q in questions], "forecasts": len(cases),
        "hand_set": {n: hand[n] for n in names}, "whole_half": whole, "leave_one_out": loqo,
        "score": {"hand_set": per_hand, "in_sample": per_whole, "leave_one_out": per_loqo,
                  "difference": [float(np.mean(diff)), low, high]},
        "knobs": knobs}, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
