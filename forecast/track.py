"""Claims against the record: which statements the observations have borne out or falsified."""

from __future__ import annotations

import numpy as np

from .dataset import Dataset

BORNE_OUT, FALSIFIED, OPEN = "borne out", "falsified", "open"


def feasible_bins(data: Dataset, q: int) -> np.ndarray:
    """Bins of question q that the hard observations still allow."""
    return np.isfinite(data.obs_log[q]) & data.valid[q]


def claim_status(data: Dataset, s: int) -> str:
    """A statement is falsified when no feasible bin is inside its interval, borne out when every one is."""
    feasible = feasible_bins(data, int(data.stmt_question[s]))
    inside = data.stmt_in[s] & feasible
    if not inside.any():
        return FALSIFIED
    if inside.sum() == feasible.sum():
        return BORNE_OUT
    return OPEN


def statuses(data: Dataset) -> dict[str, str]:
    """Status of every statement in the dataset, by reference."""
    return {ref: claim_status(data, s) for s, ref in enumerate(data.stmt_refs)}
