"""A parsed claim: a month interval (or "not within the horizon"), its grid bins and its plain-words reading."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..basics.months import month_label
from ..errors import ClaimError

BEYOND_LABEL = "not within the horizon"
_AUXILIARIES = frozenset({"is", "was", "will", "can", "may", "would", "could"})
_IRREGULAR = {"has": "have", "does": "do", "goes": "go"}


@dataclass(frozen=True)
class Claim:
    """What a claim says about the event's month T.

    ``start``/``end`` bound T (inclusive month ordinals; ``None`` is an open end). A claim that the
    event does not happen within the horizon has ``beyond_horizon`` set and no bounds of its own:
    they depend on the question (see :meth:`bounds` and :func:`claim_mask`). ``probability`` is
    the chance the speaker gave the claim in words (``likely`` 0.83), ``likelihood`` those words.
    """

    start: int | None
    end: int | None
    beyond_horizon: bool = False
    approximate: bool = False
    probability: float | None = None
    likelihood: str | None = None

    def with_stated(self, stated: float | None, text: str) -> Claim:
        """The claim with the probability the speaker stated, which replaces its verbal one; refused when the
        two disagree on which side of even odds the claim is ('likely by 2029' with 0.2)."""
        if stated is None:
            return self
        if self.probability is not None and (self.probability - 0.5) * (stated - 0.5) < 0:
            raise ClaimError(f"claim {text.strip()!r} says {self.likelihood} ({self.probability:g}) but the stated "
                             f"probability is {stated:g}: keep one (drop {self.likelihood!r} from the claim, or the "
                             "probability)")
        return replace(self, probability=stated, likelihood=None)

    def label(self) -> str:
        """The interval, e.g. ``2025-01 .. open`` (itself valid claim language)."""
        if self.beyond_horizon:
            return BEYOND_LABEL
        low = month_label(self.start) if self.start is not None else "open"
        high = month_label(self.end) if self.end is not None else "open"
        return f"{low} .. {high}"

    def bounds(self, horizon_end: int | None = None) -> tuple[str | None, str | None]:
        """The interval as stored: ``YYYY-MM`` strings, ``None`` for an open end.

        "Not within the horizon" is stored as from the month after ``horizon_end``, open end,
        which covers exactly the question's last bin; it needs ``horizon_end``.
        """
        if self.beyond_horizon:
            if horizon_end is None:
                raise ValueError("a 'not within the horizon' claim is bounded by the question: pass horizon_end")
            return month_label(horizon_end + 1), None
        return (
            month_label(self.start) if self.start is not None else None,
            month_label(self.end) if self.end is not None else None,
        )


def claim_mask(claim: Claim, horizon_start: int, horizon_end: int) -> np.ndarray:
    """The bins a claim covers on a question's grid: each horizon month, then "not within the horizon".

    An open end, or an end past the horizon, covers the last bin; a beyond-horizon claim covers only it.
    """
    n = horizon_end - horizon_start + 1
    mask = np.zeros(n + 1, dtype=bool)
    if claim.beyond_horizon:
        mask[n] = True
        return mask
    low = claim.start - horizon_start if claim.start is not None else 0
    high = claim.end - horizon_start if claim.end is not None else n
    mask[max(low, 0): min(high, n - 1) + 1] = True
    mask[n] = high >= n
    return mask


def check_within_horizon(claim: Claim, horizon_start: int, horizon_end: int, text: str) -> None:
    """Raise unless the claim says something about the horizon's months (or its beyond bin)."""
    if claim.beyond_horizon:
        return
    low = claim.start if claim.start is not None else horizon_start
    high = claim.end if claim.end is not None else horizon_end
    horizon = f"{month_label(horizon_start)} to {month_label(horizon_end)}"
    if high < horizon_start or low > horizon_end or low > high:
        hint = f"; if it means the event does not happen by then, write '{BEYOND_LABEL}'" if low > horizon_end else ""
        raise ClaimError(f"claim {text!r} ({claim.label()}) lies outside the horizon {horizon}{hint}")


def check_informative(claim: Claim, horizon_start: int, horizon_end: int, text: str) -> None:
    """Raise if the claim covers every month of the horizon and the time after it (true whatever happens)."""
    if claim.beyond_horizon:
        return
    low = claim.start if claim.start is not None else horizon_start
    horizon = f"{month_label(horizon_start)} to {month_label(horizon_end)}"
    if low <= horizon_start and (claim.end is None or claim.end > horizon_end):
        raise ClaimError(f"claim {text!r} ({claim.label()}) covers every month of the horizon {horizon} and the "
                         "time after it, so it says nothing about when: log what the speaker said about those months, "
                         "if anything")


def _base_form(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith(("ches", "shes", "sses", "xes", "zes")):
        return verb[:-2]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    return verb[:-1]


def negate(event: str) -> str | None:
    """``Russia withdraws`` -> ``Russia does not withdraw``; None when no verb is recognised."""
    words = event.split()
    for i, word in enumerate(words[1:], 1):
        if word in _AUXILIARIES:
            return " ".join([*words[: i + 1], "not", *words[i + 1:]])
        if word.isalpha() and word.islower() and word.endswith("s") and not word.endswith("ss"):
            return " ".join([*words[:i], "does not", _base_form(word), *words[i + 1:]])
    return None


def _core_reading(claim: Claim, event: str) -> str:
    negated = negate(event)
    if claim.beyond_horizon:
        return f"{negated} within the horizon" if negated else f"{event}: {BEYOND_LABEL}"
    start = month_label(claim.start) if claim.start is not None else None
    end = month_label(claim.end) if claim.end is not None else None
    if end is None:
        return f"{negated} before {start}" if negated else f"{event} in {start} or later, or {BEYOND_LABEL}"
    if start is None:
        return f"{event} by {end}"
    return f"{event} in {start}" if start == end else f"{event} between {start} and {end}"


def describe_claim(claim: Claim, event: str) -> str:
    """The claim in plain words about ``event`` (a sentence such as ``Russia withdraws``).

    E.g. ``Russia does not withdraw before 2025-01``, ``Russia withdraws by 2028-12 (likely, p = 0.83)``.
    """
    text = _core_reading(claim, event)
    if claim.approximate:
        text += " (approximate)"
    if claim.probability is not None:
        words = f"{claim.likelihood}, " if claim.likelihood else ""
        text += f" ({words}p = {claim.probability:g})"
    return text
