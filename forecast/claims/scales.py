"""Verbal probabilities: the words a claim may open with, and the probability each stands for.

IPCC terms take the midpoint of their range in the IPCC AR5 guidance note (Mastrandrea et al.
2010, Table 1; AR6 uses the same scale). Words the IPCC does not define take Sherman Kent's
"Words of Estimative Probability" (Studies in Intelligence 8(4), 1964). docs/claims.md prints the table.
"""

from __future__ import annotations

IPCC = "IPCC AR5 guidance note (Mastrandrea et al. 2010)"
KENT = "Kent (1964), words of estimative probability"

# term -> (probability, range as published, source)
LIKELIHOODS: dict[str, tuple[float, str, str]] = {
    "virtually certain": (0.995, "99-100%", IPCC),
    "extremely likely": (0.975, "95-100%", IPCC),
    "very likely": (0.95, "90-100%", IPCC),
    "likely": (0.83, "66-100%", IPCC),
    "most likely": (0.83, "66-100% (as 'likely')", IPCC),
    "more likely than not": (0.75, ">50-100%", IPCC),
    "about as likely as not": (0.5, "33-66% (centre 0.5, so it leans neither way)", IPCC),
    "unlikely": (0.165, "0-33%", IPCC),
    "very unlikely": (0.05, "0-10%", IPCC),
    "extremely unlikely": (0.025, "0-5%", IPCC),
    "exceptionally unlikely": (0.005, "0-1%", IPCC),
    "almost certainly": (0.93, "93% give or take about 6%", KENT),
    "almost certain": (0.93, "93% give or take about 6%", KENT),
    "highly likely": (0.93, "93% give or take about 6%", KENT),
    "probably": (0.75, "75% give or take about 12%", KENT),
    "probable": (0.75, "75% give or take about 12%", KENT),
    "chances about even": (0.5, "50% give or take about 10%", KENT),
    "chances are about even": (0.5, "50% give or take about 10%", KENT),
    "probably not": (0.3, "30% give or take about 10%", KENT),
    "highly unlikely": (0.07, "7% give or take about 5%", KENT),
    "almost certainly not": (0.07, "7% give or take about 5%", KENT),
}

TERMS_LONGEST_FIRST = sorted(LIKELIHOODS, key=len, reverse=True)
