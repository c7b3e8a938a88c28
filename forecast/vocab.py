"""The fixed vocabularies of the store (kept free of imports so the CLI starts fast)."""

QUESTION_STATUSES = ("open", "resolved", "annulled")
EXPERT_KINDS = ("official", "agency", "analyst", "journalist", "advocate", "other")
STRENGTHS = ("firm", "hedged")
DATE_PRECISIONS = ("day", "month", "year")
OBSERVATION_KINDS = ("still-participating", "no-formal-notice", "formal-notice", "withdrawn", "annulled")
NOT_WITHIN_HORIZON = "not-within-horizon"
