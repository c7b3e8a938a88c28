"""The glossary: one text for each diagnostic and score term, shown in every report and in docs/glossary.md.

Plain text only (no markup), so that each output escapes it its own way. ``docs/glossary.md`` is
:func:`glossary_page` written out; ``tests/test_report.py`` checks that the page and a report's
glossary section say the same.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    key: str  # the anchor: the report's entry is #glossary-<key>
    term: str
    text: str


GLOSSARY: tuple[Entry, ...] = (
    Entry("median", "Median date and intervals",
          "The median is the month by which the forecast's probability of the event first reaches 50%. An "
          "80% interval runs from the month it reaches 10% to the month it reaches 90% (50% and 95% "
          "intervals likewise). \"Not by 2032-12\" means that point lies beyond the question's horizon: the "
          "forecast does not reach that probability within it."),
    Entry("draws", "Uncertainty across the model's draws",
          "The model's answer is a set of draws from its posterior, each a complete forecast under one "
          "plausible setting of the experts' reliabilities and the date prior. The headline probability is "
          "their average. The range that holds the middle 80% of the draws' probabilities says how settled "
          "that number is given the evidence; it is not a range of dates, and a wide range does not make "
          "the average less usable as a probability."),
    Entry("instant-headline", "Instant headline",
          "The headline computed at once after each change, exactly and without sampling, from all the evidence "
          "logged now, with every expert's reliability held fixed (at the last full run's posterior means, or "
          "at their kind's prior before any run). A full run instead learns the reliabilities from the track "
          "records and averages over them, so the two can differ by a few points; when they differ by 2 points or "
          "more, the log says what the run said. The full run's headline is the forecast to quote; a re-forecast "
          "brings it up to date with the evidence."),
    Entry("effective-weight", "Effective weight",
          "How much one statement counts in the model, after every rule: its strength (firm or hedged), "
          "times a recency decay that halves its weight every half-life, measured back from the forecast's "
          "as-of date, times a factor for any stated probability (|logit p| / logit 0.9, p counted within 1% "
          "to 99%; below 50% the claim counts for the opposite). The dependence rules then apply: "
          "restatements of one claim by one expert count little more than once, a claim an expert has since "
          "replaced gets 0, and "
          "experts of one affiliation share their weight. The numbers are in the reliability priors. Once "
          "observations decide a claim (borne out or falsified) it no longer moves the date; the weight "
          "shown is then what it counts for in the expert's track record."),
    Entry("expert-reliability", "Reliability of an expert",
          "The probability the model gives that an expert's claim is right: one statement alone, with only "
          "the date prior besides, puts that much of the probability in the period it names, so a claim of "
          "one month moves the forecast more than a claim of ten years, which held much of it already (a "
          "claim of a period the prior already gives more than that is read as weaker, and lowers it). It "
          "starts from a "
          "prior for the expert's kind (agency, official, analyst, ...) and is learned from the claims the "
          "record has borne out or falsified, on every question. Not the same as the Murphy reliability "
          "of the forecasts."),
    Entry("pre-emption", "Pre-emption",
          "A question can name another whose event precludes it: Russia cannot withdraw from a space station "
          "that has been retired. Its event can then happen in a month only if the precluding event has "
          "not happened by then. \"Pre-empted\" is the probability that the precluding event comes first, "
          "within the horizon; it is part of the probability that the event does not happen by the "
          "horizon's end."),
    Entry("rhat", "R-hat",
          "A convergence check of the sampler: it compares the spread of the draws within each chain with "
          "the spread between chains (rank-normalised split R-hat, Vehtari et al. 2021). It is close to 1 "
          "when the chains agree. A run whose largest R-hat over the model's parameters is above 1.01 is "
          "flagged as not converged: its numbers may change on a re-run."),
    Entry("ess", "ESS (effective sample size)",
          "How many independent draws the sampler's correlated draws are worth. Bulk ESS is for the centre "
          "of each parameter's distribution, tail ESS for its 11% and 89% quantiles. A run whose smallest "
          "ESS is below 100 per chain (at most 400) is flagged as not converged: too few to pin down "
          "intervals."),
    Entry("divergences", "Divergences",
          "Steps where the sampler's simulated trajectory broke down, usually where the posterior curves "
          "sharply. Even a few mean part of the posterior may have been explored badly, so a run with any "
          "is flagged as not converged."),
    Entry("brier", "Brier score",
          "(p - y)^2 for a forecast probability p and the outcome y (1 if it happened, 0 if not), averaged "
          "over forecasts. Lower is better: 0 is perfect, always saying 50% scores 0.25. Each checkpoint "
          "(\"before 2029-01-01\") of each stored run is one forecast. The time-averaged Brier score weighs "
          "each forecast by how long it was the latest before its checkpoint was known."),
    Entry("log-score", "Log score",
          "Minus the natural logarithm of the probability a forecast gave to what happened. Lower is better: "
          "0 for a certainty that proved right, 0.69 for 50%, infinite for a certainty that proved wrong."),
    Entry("rps", "RPS (ranked probability score)",
          "A score for the whole date distribution of a resolved question: the sum over the months of the "
          "horizon, and a last bin for \"not by the horizon's end\", of the squared difference between the "
          "forecast's cumulative probability and the outcome's (0 before the month it happened, 1 from "
          "then on). Lower is better; probability close to the true month is rewarded, not only probability "
          "on it. With monthly bins it is the discrete CRPS, in months."),
    Entry("pit", "PIT (probability integral transform)",
          "The forecast's cumulative probability at the outcome of a resolved question. The outcome is a "
          "month (or \"not within the horizon\"), so the forecast's cumulative probability steps at it, from "
          "P(before it) to P(before it) + P(it); the PIT histogram spreads each forecast evenly over that step "
          "(Czado, Gneiting and Held 2009). For a calibrated forecaster the histogram fills evenly; a pile-up "
          "near 0 or 1 means the outcomes kept falling in the forecasts' tails, a pile-up in the middle that "
          "the forecasts were too wide. Taking each step at its middle instead would pile a large lump (such as "
          "a 40% chance of no exit) into the middle even for a calibrated forecaster."),
    Entry("coverage", "Coverage",
          "How often the forecasts' 50% and 80% intervals contained the date that happened: a calibrated "
          "forecaster's 80% intervals contain it about 80% of the time. An interval of an unresolved "
          "question counts as missed once an observation shows the date falls after it, and as "
          "undetermined until then. Intervals of whole months contain the outcome more often than their "
          "level even for a calibrated forecaster, most where one month or \"not within the horizon\" holds "
          "much of the probability; coverage by PIT (the share of each outcome's step inside the central "
          "band, e.g. 0.25 to 0.75 for 50%) is the level itself for a calibrated forecaster."),
    Entry("murphy", "Murphy decomposition",
          "The Brier score of a set of forecasts split into parts (Murphy 1973), with the forecasts grouped "
          "into probability bins (0-10%, 10-20%, ...): Brier = reliability - resolution + uncertainty + "
          "within-bin variance - within-bin covariance, exactly (Stephenson, Coelho and Jolliffe 2008). The "
          "last two terms correct for the forecasts within a bin not all being the same number; they are "
          "usually small."),
    Entry("murphy-reliability", "Reliability (Murphy)",
          "The part of the Brier score due to miscalibration: for each probability bin, the squared gap "
          "between its mean forecast and how often those forecasts came true, weighted by how many forecasts "
          "fell in it. Lower is better; 0 means the forecasts meant what they said."),
    Entry("resolution", "Resolution (Murphy)",
          "The part of the Brier score earned by telling cases apart: for each probability bin, the squared "
          "gap between how often its forecasts came true and how often the event came true over all "
          "forecasts, weighted by how many forecasts fell in it. Higher is better; it is subtracted."),
    Entry("uncertainty", "Uncertainty (Murphy)",
          "The Brier score of always forecasting the overall frequency f of the outcome: f (1 - f). It "
          "depends only on the outcomes, not on the forecaster; it is what the other two parts are "
          "measured against."),
)

BY_KEY = {entry.key: entry for entry in GLOSSARY}
