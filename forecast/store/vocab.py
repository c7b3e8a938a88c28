"""The fixed vocabularies of the store (kept free of imports so the CLI starts fast)."""

QUESTION_STATUSES = ("open", "resolved", "annulled")
QUESTION_KINDS = ("date", "binary")
EXPERT_KINDS = ("official", "agency", "analyst", "journalist", "advocate", "other")
STRENGTHS = ("firm", "hedged")
DATE_PRECISIONS = ("day", "month", "year")
QUOTE_KINDS = ("verbatim", "paraphrase")
NOT_WITHIN_HORIZON = "not-within-horizon"

# Observation kinds that read for any question, each with what it means.
OBSERVATION_MEANINGS = {
    "event-not-yet": "the event had not happened as of this date",
    "event": "the event happened (took effect) in this date's month",
    "notice-given": "formal notice was given on this date; the event can take effect only after the notice period",
    "notice-revoked": "a notice given earlier was withdrawn on this date",
    "notice-extended": "a pending notice period was extended on this date, to --effective",
    "no-notice-as-of": "no formal notice had been given as of this date",
    "annulled": "the question was annulled (left out of fitting and scoring)",
}
OBSERVATION_KINDS = tuple(OBSERVATION_MEANINGS)
# Names used by earlier versions (and the ISS seed), accepted on input and migrated in stores.
OBSERVATION_ALIASES = {
    "still-participating": "event-not-yet",
    "withdrawn": "event",
    "formal-notice": "notice-given",
    "no-formal-notice": "no-notice-as-of",
}
OBSERVATION_INPUTS = OBSERVATION_KINDS + tuple(OBSERVATION_ALIASES)


def canonical_observation_kind(kind: str) -> str:
    """The current name of an observation kind (old names map to new ones; unknown names pass through)."""
    return OBSERVATION_ALIASES.get(kind, kind)
