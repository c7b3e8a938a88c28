"""The claim language: documented phrases, clear errors, and properties over random input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecast.claims import Claim, check_within_horizon, parse_claim
from forecast.errors import ClaimError
from forecast.months import month_ordinal as m


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("after 2024", Claim(m(2025, 1), None)),
        ("After 2024.", Claim(m(2025, 1), None)),
        ("after 2024-06", Claim(m(2024, 7), None)),
        ("from 2025", Claim(m(2025, 1), None)),
        ("by 2028", Claim(None, m(2028, 12))),
        ("by end of 2028", Claim(None, m(2028, 12))),
        ("by the end of 2028", Claim(None, m(2028, 12))),
        ("before 2026-06", Claim(None, m(2026, 5))),
        ("before 2026", Claim(None, m(2025, 12))),
        ("not before 2030", Claim(m(2030, 1), None)),
        ("no earlier than 2030", Claim(m(2030, 1), None)),
        ("until at least 2030", Claim(m(2030, 1), None)),
        ("in 2025", Claim(m(2025, 1), m(2025, 12))),
        ("between 2025 and 2027", Claim(m(2025, 1), m(2027, 12))),
        ("between 2025-03 and 2025-09", Claim(m(2025, 3), m(2025, 9))),
        ("2028-06", Claim(m(2028, 6), m(2028, 6))),
        ("2028", Claim(m(2028, 1), m(2028, 12))),
        ("  IN   2025 ", Claim(m(2025, 1), m(2025, 12))),
    ],
)
def test_documented_phrases(text: str, expected: Claim) -> None:
    assert parse_claim(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty claim"),
        ("soon", "unknown phrase at 'soon'"),
        ("after 20x4", "understood 'after' but not '20x4'"),
        ("after 2024 or so", "understood 'after 2024' in claim 'after 2024 or so' but not the rest: 'or so'"),
        ("between 2027 and 2025", "ends before it starts"),
        ("between 2025", "expected 'and YYYY'"),
        ("2028-13", "month 13 in '2028-13' is not between 1 and 12"),
        ("by", "understood 'by' but not 'nothing'"),
    ],
)
def test_errors_say_what_was_understood(text: str, message: str) -> None:
    with pytest.raises(ClaimError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_claim(text)


def test_claim_outside_horizon_is_refused() -> None:
    with pytest.raises(ClaimError, match="lies outside the horizon 2022-07 to 2032-12"):
        check_within_horizon(parse_claim("before 2022"), m(2022, 7), m(2032, 12), "before 2022")
    check_within_horizon(parse_claim("not before 2040"), m(2022, 7), m(2040, 12), "not before 2040")


years = st.integers(min_value=1900, max_value=2200)
months = st.integers(min_value=1, max_value=12)


@given(years, months)
def test_after_and_by_partition_the_timeline(year: int, month: int) -> None:
    after, by = parse_claim(f"after {year}-{month:02d}"), parse_claim(f"by {year}-{month:02d}")
    assert after.start == by.end + 1 and after.end is None and by.start is None


@given(years, months)
def test_before_and_not_before_partition_the_timeline(year: int, month: int) -> None:
    before, not_before = parse_claim(f"before {year}-{month:02d}"), parse_claim(f"not before {year}-{month:02d}")
    assert not_before.start == before.end + 1 == m(year, month)


@given(years, years)
def test_between_covers_both_years(a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    claim = parse_claim(f"between {low} and {high}")
    assert (claim.start, claim.end) == (m(low, 1), m(high, 12))
    assert claim.end - claim.start + 1 == 12 * (high - low + 1)


@given(years, st.sampled_from(["in", "during", ""]))
def test_a_year_is_twelve_months(year: int, phrase: str) -> None:
    claim = parse_claim(f"{phrase} {year}")
    assert claim.end - claim.start == 11


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_claim_error(text: str) -> None:
    try:
        claim = parse_claim(text)
    except ClaimError as exc:
        assert str(exc)
    else:
        assert claim.start is not None or claim.end is not None
        if claim.start is not None and claim.end is not None:
            assert claim.start <= claim.end
