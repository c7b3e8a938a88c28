"""The claim language: what people say about the month T of an event, turned into a :class:`Claim`.

A claim bounds T by an interval of months (inclusive ordinals, see :mod:`forecast.basics.months`; ``None``
on either side is an open end) or says T is not within the horizon; it may carry a verbal
probability and be approximate. The grammar is documented in docs/claims.md.

- :mod:`.periods`: years, months, quarters, halves, early/mid/late, month names, approximate dates
- :mod:`.scales`: verbal probabilities (IPCC, Kent)
- :mod:`.grammar`: phrases, ranges and :func:`parse_claim`
- :mod:`.claim`: :class:`Claim`, its grid bins (:func:`claim_mask`) and plain-words reading
"""

from .claim import BEYOND_LABEL, Claim, check_informative, check_within_horizon, claim_mask, describe_claim
from .grammar import EXAMPLES, parse_claim

__all__ = ["BEYOND_LABEL", "EXAMPLES", "Claim", "check_informative", "check_within_horizon", "claim_mask", "describe_claim",
           "parse_claim"]
