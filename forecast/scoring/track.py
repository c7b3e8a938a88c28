"""Claims against the record: which statements the observations have borne out or falsified."""

from __future__ import annotations

from ..inference.dataset import Dataset

BORNE_OUT, FALSIFIED, OPEN = "borne out", "falsified", "open"
_STATUS = {1: BORNE_OUT, -1: FALSIFIED, 0: OPEN}


def claim_status(data: Dataset, s: int) -> str:
    """A statement is falsified when no feasible bin is inside its interval, borne out when every one is."""
    return _STATUS[int(data.decided[s])]


def statuses(data: Dataset) -> dict[str, str]:
    """Status of every statement in the dataset, by reference."""
    return dict(zip(data.stmt_refs, (_STATUS[int(d)] for d in data.decided)))
