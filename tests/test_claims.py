"""The claim language: documented phrases, clear errors, and properties over random input."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecast.basics.months import month_ordinal as m
from forecast.basics.months import parse_day_or_month
from forecast.claims import Claim, check_informative, check_within_horizon, claim_mask, describe_claim, parse_claim
from forecast.claims.grammar import BEYOND_HORIZON, NEGATED_TERMS, PHRASES, SUFFIXES
from forecast.claims.scales import IPCC, KENT, LIKELIHOODS
from forecast.domain.priors import data_dir, load_priors
from forecast.errors import ClaimError, InputError
from forecast.inference.dataset import build_dataset, interval_mask
from forecast.store import open_store

from .conftest import QUESTION, REPORTER, log_args, snapshot

BEYOND = Claim(None, None, beyond_horizon=True)


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
        # the status quo lasting
        ("through 2027", Claim(m(2028, 1), None)),
        ("at least through 2027", Claim(m(2028, 1), None)),
        ("beyond 2026", Claim(m(2027, 1), None)),
        ("at least until 2028", Claim(m(2028, 1), None)),
        ("2028 or later", Claim(m(2028, 1), None)),
        ("2028 at the earliest", Claim(m(2028, 1), None)),
        ("2028 or earlier", Claim(None, m(2028, 12))),
        ("2028 at the latest", Claim(None, m(2028, 12))),
        # ranges
        ("2026-2027", Claim(m(2026, 1), m(2027, 12))),
        ("2026–2027", Claim(m(2026, 1), m(2027, 12))),
        ("2026 – 2027", Claim(m(2026, 1), m(2027, 12))),
        ("2026 to 2027", Claim(m(2026, 1), m(2027, 12))),
        ("from 2026 to 2027", Claim(m(2026, 1), m(2027, 12))),
        ("2026-06-2027-01", Claim(m(2026, 6), m(2027, 1))),
        ("Q4 2026 to H1 2027", Claim(m(2026, 10), m(2027, 6))),
        ("2025-01 .. open", Claim(m(2025, 1), None)),
        ("open .. 2028-12", Claim(None, m(2028, 12))),
        ("2025-01 .. 2026-03", Claim(m(2025, 1), m(2026, 3))),
        # periods
        ("Q1 2027", Claim(m(2027, 1), m(2027, 3))),
        ("by Q3 2027", Claim(None, m(2027, 9))),
        ("H1 2027", Claim(m(2027, 1), m(2027, 6))),
        ("after H2 2027", Claim(m(2028, 1), None)),
        ("early 2028", Claim(m(2028, 1), m(2028, 4))),
        ("mid-2028", Claim(m(2028, 5), m(2028, 8))),
        ("by mid 2028", Claim(None, m(2028, 8))),
        ("late 2028", Claim(m(2028, 9), m(2028, 12))),
        ("June 2027", Claim(m(2027, 6), m(2027, 6))),
        ("before Jun 2027", Claim(None, m(2027, 5))),
        ("Sept 2027", Claim(m(2027, 9), m(2027, 9))),
        # not within the horizon
        ("not within the horizon", BEYOND),
        ("after the horizon", BEYOND),
        ("beyond the horizon", BEYOND),
        ("never", BEYOND),
    ],
)
def test_documented_phrases(text: str, expected: Claim) -> None:
    assert parse_claim(text) == expected


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("around 2028", m(2027, 7), m(2029, 6)),  # a year: 6 months each side
        ("~2025", m(2024, 7), m(2026, 6)),
        ("about 2028-06", m(2028, 3), m(2028, 9)),  # anything shorter: 3 months
        ("approximately Q3 2027", m(2027, 4), m(2027, 12)),
        ("circa mid-2028", m(2028, 2), m(2028, 11)),
        ("by around 2028", None, m(2029, 6)),
        ("after ~2024", m(2024, 7), None),
        ("before about 2026", None, m(2026, 6)),
        ("around 2026-2028", m(2025, 7), m(2029, 6)),
        ("between 2026 and roughly 2028", m(2025, 7), m(2029, 6)),
    ],
)
def test_approximate_dates_widen_every_bound(text: str, start: int | None, end: int | None) -> None:
    assert parse_claim(text) == Claim(start, end, approximate=True)


def _published_value(published: str, source: str) -> float:
    """The probability a published range stands for: its midpoint (IPCC) or Kent's central figure."""
    numbers = [float(x) / 100 for x in re.findall(r"\d+", published)]
    return (numbers[0] + numbers[1]) / 2 if source == IPCC else numbers[0]


@pytest.mark.parametrize("term", sorted(LIKELIHOODS))
def test_verbal_probability_is_the_published_value(term: str) -> None:
    probability, published, source = LIKELIHOODS[term]
    claim = parse_claim(f"{term} by 2028")
    assert (claim.start, claim.end, claim.probability, claim.likelihood) == (None, m(2028, 12), probability, term)
    assert source in (IPCC, KENT)
    if term == "about as likely as not":  # 33-66% has midpoint 0.495, which would tip the claim to its complement
        assert probability == 0.5
    else:
        assert probability == pytest.approx(_published_value(published, source))


@pytest.mark.parametrize(
    ("text", "start", "end", "beyond", "probability"),
    [
        ("likely by 2028", None, m(2028, 12), False, 0.83),
        ("almost certainly after 2024", m(2025, 1), None, False, 0.93),
        ("unlikely before 2026", None, m(2025, 12), False, 0.165),
        ("most likely 2027-2028", m(2027, 1), m(2028, 12), False, 0.83),
        ("more likely than not by 2030", None, m(2030, 12), False, 0.75),
        ("about as likely as not by 2030", None, m(2030, 12), False, 0.5),
        ("probably not before 2026", m(2026, 1), None, False, 0.75),  # probably [not before 2026]
        ("probably not after 2024", m(2025, 1), None, False, 0.3),  # 'not after' is no phrase: probably not [after 2024]
        ("almost certainly not until at least 2030", m(2030, 1), None, False, 0.07),  # 'not until at least' is no phrase
        ("probably not 2028", m(2028, 1), m(2028, 12), False, 0.3),
        ("almost certainly not within the horizon", None, None, True, 0.93),
        ("very likely never", None, None, True, 0.95),
    ],
)
def test_verbal_probability_leads_the_claim(text, start, end, beyond, probability) -> None:
    parsed = parse_claim(text)
    assert (parsed.start, parsed.end, parsed.beyond_horizon, parsed.probability) == (start, end, beyond, probability)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty claim"),
        ("soon", "unknown phrase at 'soon'; expected e.g."),  # no word of the language is that close
        ("unlikly before 2030", "unknown phrase at 'unlikly' (did you mean 'unlikely'?); expected e.g."),
        ("befor 2030", "unknown phrase at 'befor' (did you mean 'before'?)"),
        ("betwen 2025 and 2027", "unknown phrase at 'betwen' (did you mean 'between'?)"),
        ("arround 2029", "unknown phrase at 'arround'; expected e.g."),
        ("in 2028 at the lates", "but not the rest: 'at the lates' (did you mean 'at the latest'?)$"),
        ("after 20x4", "understood 'after' but not '20x4'"),
        ("after 2024 or so", "understood 'after 2024' in claim 'after 2024 or so' but not the rest: 'or so'"),
        ("between 2027 and 2025", "ends before it starts"),
        ("2027-2025", "ends before it starts"),
        ("between 2025", "expected 'and YYYY'"),
        ("2028-13", "month 13 in '2028-13' is not between 1 and 12"),
        ("by 2027-13", "month 13 in '2027-13' is not between 1 and 12$"),  # no hint of a range back to 2013
        ("2026-H2", "'2026-H2' is not a period: write 'H2 2026' (the half or quarter before its year)"),
        ("by 2027-q3", "'2027-Q3' is not a period: write 'Q3 2027'"),
        ("70% by 2029", "claim '70% by 2029' starts with a probability: give it on its own (--probability 70%, "),
        ("2026-27", "month 27 in '2026-27' is not between 1 and 12 (for a range of years write 2026-2027)"),
        ("by", "understood 'by' but not 'nothing'"),
        ("until 2028", "'until 2028' is ambiguous: does the event happen by 2028 ('by 2028') or not before 2028 "
                       "('through 2027' / 'not before 2028')?"),
        ("Until 2028-06.", "'until 2028-06' is ambiguous: does the event happen by 2028-06 ('by 2028-06') or not "
                           "before 2028-06 ('through 2028-05' / 'not before 2028-06')?"),
        ("likely until Q3 2028", "('through 2028-06' / 'not before q3 2028')"),
        ("until the station is retired", "is ambiguous: write 'by PERIOD' (the event happens by then), "
                                         "'not before PERIOD' (it does not happen before then) or 'not within the horizon'"),
        ("likely", "understood 'likely' in claim 'likely' but no claim follows: expected e.g. 'likely by 2028'"),
        ("open .. open", "is open at both ends"),
        ("2026 to soon", "understood '2026 to' but not 'soon'"),
        ("2025 .. 2026 later", "understood the interval in '2025 .. 2026 later' but not the rest: 'later'"),
        ("after 2024 or later", "but not the rest: 'or later'"),
    ],
)
def test_errors_say_what_was_understood(text: str, message: str) -> None:
    pattern = re.escape(message.removesuffix("$")) + ("$" if message.endswith("$") else "")
    with pytest.raises(ClaimError, match=pattern):
        parse_claim(text)


@pytest.mark.parametrize(("text", "refused"), [
    ("by 2040", True), ("after 2020", True), ("after 2022-06", True), ("not before 2022", True),
    ("by 2032", False), ("between 2030 and 2040", False), ("after 2022-07", False), ("never", False),
])
def test_a_claim_true_whatever_happens_is_refused(text: str, refused: bool) -> None:
    """Covering every month of the horizon 2022-07 .. 2032-12 and the time after it, a claim says nothing about when."""
    check = lambda: check_informative(parse_claim(text), m(2022, 7), m(2032, 12), text)  # noqa: E731
    if refused:
        with pytest.raises(ClaimError, match=f"^claim '{text}' .+ covers every month of the horizon 2022-07 to 2032-12 "
                                             "and the time after it, so it says nothing about when"):
            check()
    else:
        check()


def test_a_stored_claim_true_whatever_happens_counts_for_nothing(tmp_path) -> None:
    """A row a copy brought from a store made before `log` refused such claims: no weight in the date likelihood,
    and none in its expert's record (it would be borne out from the start)."""
    from forecast.domain.evidence import log_statement
    from forecast.domain.questions import store_priors

    from .conftest import INIT, invoke

    db = str(tmp_path / "v.db")
    assert invoke(db, *INIT).exit_code == 0
    store = open_store(db)
    with store.session() as session:
        for claim, uid in (("by 2040", "from-an-old-store"), ("by 2030", None)):
            log_statement(session, question=QUESTION, expert="Yury Borisov", said_on=dt.date(2023, 5, 2), claim=claim,
                          quote=f"A fixture quote: {claim}.", source="https://example.org/fixture", imported_uid=uid)
    with store.reader() as session:
        data = build_dataset(session, store_priors(session))
    weights = dict(zip(data.stmt_refs, zip(data.stmt_weight, data.stmt_record_weight)))
    vacuous, informative = weights[data.stmt_refs[-2]], weights[data.stmt_refs[-1]]
    assert vacuous == (0.0, 0.0) and informative[0] > 0


def test_claim_outside_horizon_is_refused() -> None:
    with pytest.raises(ClaimError, match="lies outside the horizon 2022-07 to 2032-12$"):
        check_within_horizon(parse_claim("before 2022"), m(2022, 7), m(2032, 12), "before 2022")
    with pytest.raises(ClaimError, match="to 2032-12; if it means the event does not happen by then, write 'not within"):
        check_within_horizon(parse_claim("after 2035"), m(2022, 7), m(2032, 12), "after 2035")
    check_within_horizon(parse_claim("not before 2040"), m(2022, 7), m(2040, 12), "not before 2040")
    check_within_horizon(BEYOND, m(2022, 7), m(2032, 12), "never")


def test_not_within_the_horizon_is_bounded_by_the_question() -> None:
    with pytest.raises(ValueError, match="pass horizon_end"):
        BEYOND.bounds()
    assert BEYOND.bounds(m(2032, 12)) == ("2033-01", None)
    assert parse_claim("by 2028").bounds(m(2032, 12)) == parse_claim("by 2028").bounds() == (None, "2028-12")
    mask = claim_mask(BEYOND, m(2022, 7), m(2032, 12))
    assert mask.shape == (126 + 1,) and mask.sum() == 1 and mask[-1]
    assert list(claim_mask(parse_claim("after 2032-10"), m(2032, 7), m(2032, 12))) == [False] * 4 + [True] * 3


@pytest.mark.parametrize(
    ("claim", "event", "reading"),
    [
        ("from 2025", "Russia withdraws", "Russia does not withdraw before 2025-01"),
        ("by 2028", "Russia withdraws", "Russia withdraws by 2028-12"),
        ("2026-2027", "Russia withdraws", "Russia withdraws between 2026-01 and 2027-12"),
        ("June 2027", "Russia withdraws", "Russia withdraws in 2027-06"),
        ("never", "Russia withdraws", "Russia does not withdraw within the horizon"),
        ("likely by 2028", "Russia withdraws", "Russia withdraws by 2028-12 (likely, p = 0.83)"),
        ("around 2028", "Russia withdraws", "Russia withdraws between 2027-07 and 2029-06 (approximate)"),
        ("probably after ~2030", "NASA retires the ISS",
         "NASA does not retire the ISS before 2030-07 (approximate) (probably, p = 0.75)"),
        ("from 2025", "The event happens", "The event does not happen before 2025-01"),
        ("from 2025", "The United States pushes for an exit", "The United States does not push for an exit before 2025-01"),
        ("from 2025", "The station is retired", "The station is not retired before 2025-01"),
        ("from 2025", "Deorbit", "Deorbit in 2025-01 or later, or not within the horizon"),
        ("never", "Deorbit", "Deorbit: not within the horizon"),
    ],
)
def test_plain_words_reading(claim: str, event: str, reading: str) -> None:
    assert describe_claim(parse_claim(claim), event) == reading


# ---- properties over every documented phrase and period ----------------------------------------

years = st.integers(min_value=1900, max_value=2200)
months = st.integers(min_value=1, max_value=12)


@st.composite
def periods(draw) -> tuple[str, int, int]:
    """A period as an analyst would write it, with its first and last month worked out independently."""
    year = draw(years)
    kind = draw(st.sampled_from(["year", "month", "quarter", "half", "third", "name"]))
    if kind == "year":
        return str(year), m(year, 1), m(year, 12)
    if kind in ("month", "name"):
        month = draw(months)
        names = [f"{year}-{month:02d}", f"{calendar.month_name[month]} {year}", f"{calendar.month_abbr[month]} {year}"]
        return draw(st.sampled_from(names[:1] if kind == "month" else names[1:])), m(year, month), m(year, month)
    if kind == "quarter":
        q = draw(st.integers(1, 4))
        return f"Q{q} {year}", m(year, 3 * q - 2), m(year, 3 * q)
    if kind == "half":
        h = draw(st.integers(1, 2))
        return f"H{h} {year}", m(year, 6 * h - 5), m(year, 6 * h)
    word, first = draw(st.sampled_from([("early ", 1), ("mid-", 5), ("mid ", 5), ("late ", 9)]))
    return f"{word}{year}", m(year, first), m(year, first + 3)


def _expected(rule: str, first: int, last: int) -> tuple[int | None, int | None]:
    return {"lower-after": (last + 1, None), "lower-from": (first, None), "upper-through": (None, last),
            "upper-before": (None, first - 1), "within": (first, last)}[rule]


@given(st.sampled_from(sorted(PHRASES)), periods())
def test_every_phrase_and_period_parses(phrase: str, period: tuple[str, int, int]) -> None:
    text, first, last = period
    claim = parse_claim(f"{phrase} {text}")
    assert (claim.start, claim.end) == _expected(PHRASES[phrase], first, last)
    assert parse_claim(claim.label()) == claim


@given(st.sampled_from(sorted(SUFFIXES)), periods())
def test_every_suffix_and_period_parses(suffix: str, period: tuple[str, int, int]) -> None:
    text, first, last = period
    claim = parse_claim(f"{text} {suffix}")
    assert (claim.start, claim.end) == _expected(SUFFIXES[suffix], first, last)
    assert parse_claim(claim.label()) == claim


@given(periods(), periods(), st.sampled_from(["between {} and {}", "{}-{}", "{}–{}", "{} – {}", "{} to {}", "{} .. {}"]))
def test_every_range_form_covers_both_periods(a, b, form: str) -> None:
    (low, low_first, _), (high, _, high_last) = sorted([a, b], key=lambda p: (p[1], p[2]))
    if high_last < low_first:
        return
    claim = parse_claim(form.format(low, high))
    assert (claim.start, claim.end) == (low_first, high_last) and claim.start <= claim.end
    assert parse_claim(claim.label()) == claim


@given(st.sampled_from(["around", "about", "approximately", "circa", "roughly", "~"]),
       st.sampled_from(["", "by", "after", "before", "from", "not before", "through", "in"]), periods())
def test_approximate_claims_contain_the_exact_claim(marker: str, phrase: str, period: tuple[str, int, int]) -> None:
    text, first, last = period
    exact = parse_claim(f"{phrase} {text}")
    approximate = parse_claim(f"{phrase} {marker} {text}")
    widening = 6 if last - first == 11 else 3
    assert approximate.approximate and not exact.approximate
    if exact.start is not None:
        assert approximate.start == exact.start - widening
    if exact.end is not None:
        assert approximate.end == exact.end + widening


def _parses(text: str) -> bool:
    try:
        parse_claim(text)
    except ClaimError:
        return False
    return True


@given(st.sampled_from(sorted(LIKELIHOODS)), st.sampled_from([*sorted(PHRASES), "never"]), periods())
def test_a_verbal_probability_keeps_the_interval(term: str, phrase: str, period: tuple[str, int, int]) -> None:
    body = "never" if phrase == "never" else f"{phrase} {period[0]}"
    plain, qualified = parse_claim(body), parse_claim(f"{term} {body}")
    if term in NEGATED_TERMS and _parses(f"not {body}"):
        term, plain = term.removesuffix(" not"), parse_claim(f"not {body}")  # probably [not before X]
    assert (qualified.start, qualified.end, qualified.beyond_horizon) == (plain.start, plain.end, plain.beyond_horizon)
    assert (qualified.probability, qualified.likelihood) == (LIKELIHOODS[term][0], term)
    assert parse_claim(f"{term} {qualified.label()}") == qualified


@given(st.sampled_from(sorted(PHRASES)), periods(), st.integers(2000, 2100), st.integers(0, 240))
def test_claim_mask_matches_the_stored_interval_on_the_grid(phrase, period, start_year, length) -> None:
    claim = parse_claim(f"{phrase} {period[0]}")
    start, end = m(start_year, 1), m(start_year, 1) + length
    try:
        check_within_horizon(claim, start, end, phrase)
    except ClaimError:
        return
    mask = claim_mask(claim, start, end)
    assert mask.any()
    assert (mask == interval_mask(*claim.bounds(end), start, length + 1, length + 2)).all()
    assert (claim_mask(BEYOND, start, end) == interval_mask(*BEYOND.bounds(end), start, length + 1, length + 2)).all()


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


@given(years)
def test_until_is_always_refused_with_both_readings(year: int) -> None:
    with pytest.raises(ClaimError, match=f"'by {year}'.*'through {year - 1}' / 'not before {year}'"):
        parse_claim(f"until {year}")


_WORDS = [*PHRASES, *SUFFIXES, *LIKELIHOODS, *BEYOND_HORIZON, "until", "between", "and", "open", "..", "-", "–",
          "to", "around", "~", "2028", "2027-06", "Q3", "H1", "mid-2028", "early", "June", "2026", "13", "soon"]


@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(_WORDS), max_size=6).map(" ".join)))
def test_any_text_parses_or_raises_claim_error(text: str) -> None:
    try:
        claim = parse_claim(text)
    except ClaimError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert claim.beyond_horizon or claim.start is not None or claim.end is not None
        if claim.start is not None and claim.end is not None:
            assert claim.start <= claim.end
        assert claim.probability is None or 0 < claim.probability < 1


# ---- month dates on the command line ----------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "month_end", "expected"),
    [
        ("2022-12", False, (dt.date(2022, 12, 1), "month")),
        ("2022-12", True, (dt.date(2022, 12, 31), "month")),
        ("2024-02", True, (dt.date(2024, 2, 29), "month")),
        ("2022-12-05", True, (dt.date(2022, 12, 5), "day")),
    ],
)
def test_day_or_month(text: str, month_end: bool, expected: tuple) -> None:
    assert parse_day_or_month(text, month_end=month_end) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("2022-13", "malformed date '2022-13': month 13 is not between 1 and 12"),
     ("2022", "malformed date '2022': expected YYYY-MM-DD or YYYY-MM"),
     ("2022-02-30", "malformed date '2022-02-30': day is out of range for month")],
)
def test_day_or_month_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse_day_or_month(text)


def _stored(run, ref: str) -> dict:
    rows = json.loads(run("evidence", "list", "--all", "--json").output)
    return next(r for r in rows if r["ref"] == ref)


@pytest.mark.parametrize(
    ("extra", "date", "precision"),
    [([], "2022-12", "month"), (["--date-precision", "year"], "2022-12", "year"), ([], "2022-12-05", "day")],
)
def test_log_records_the_precision_of_a_month_date(run, seeded, extra, date, precision) -> None:
    logged = run(*log_args(date=date), *extra, "--no-update")
    assert logged.exit_code == 0, logged.output
    assert logged.output.startswith(f"Logged S9: {REPORTER} on {date if len(date) == 10 else date + '-01'}, ")
    observed = run("log", "observation", "--question", QUESTION, "--kind", "still-participating", "--date", date,
                   "--source", "crew roster", *extra, "--no-update")
    assert observed.exit_code == 0, observed.output
    assert (_stored(run, "S9")["date_precision"], _stored(run, "O10")["date_precision"]) == (precision, precision)


def test_month_ends_a_range_and_starts_one(run, seeded) -> None:
    def refs(*args: str) -> list[str]:
        return [r["ref"] for r in json.loads(run("evidence", "list", *args, "--json").output)]

    assert refs("--until", "2022-07") == refs("--until", "2022-07-31") != refs("--until", "2022-07-01")
    assert refs("--since", "2022-07") == refs("--since", "2022-07-01")


def test_log_stores_verbal_probability_and_beyond_horizon(run, seeded) -> None:
    likely = run(*log_args(claim="likely through 2027"), "--no-update")
    assert likely.output.splitlines() == [
        f"Logged S9: {REPORTER} on 2023-04-01, 'likely through 2027' -> 2028-01 .. open.",
        "Reads: Russia does not withdraw before 2028-01 (likely, p = 0.83).",
    ]
    explicit = run(*log_args(claim="likely by 2028", probability="0.6", quote="other"), "--no-update")
    assert explicit.output.splitlines()[1] == "Reads: Russia withdraws by 2028-12 (p = 0.6)."
    beyond = run(*log_args(claim="not within the horizon", quote="stays to the end"), "--no-update")
    assert beyond.output.splitlines() == [
        f"Logged S11: {REPORTER} on 2023-04-01, 'not within the horizon' -> 2033-01 .. open.",
        "Reads: Russia does not withdraw within the horizon.",
    ]
    assert [(_stored(run, r)["probability"], _stored(run, r)["interval"]) for r in ("S9", "S10", "S11")] == [
        (0.83, ["2028-01", None]), (0.6, [None, "2028-12"]), (None, ["2033-01", None])]
    with open_store(str(seeded)).session() as session:
        data = build_dataset(session, load_priors(data_dir("priors")), as_of=dt.date(2023, 4, 1))
    beyond_bins = data.stmt_in[data.stmt_refs.index("S11")]
    assert beyond_bins[-1] and beyond_bins.sum() == 1  # the model reads it as the "not within the horizon" bin only


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (log_args(claim="until 2028"), "Error: 'until 2028' is ambiguous: does the event happen by 2028 ('by 2028') "
                                       "or not before 2028 ('through 2027' / 'not before 2028')?\n"),
        (log_args(claim="after 2035"), "Error: claim 'after 2035' (2036-01 .. open) lies outside the horizon 2022-07 to 2032-12; "
                                       "if it means the event does not happen by then, write 'not within the horizon'\n"),
        (log_args(claim="by 2040"), "Error: claim 'by 2040' (open .. 2040-12) covers every month of the horizon 2022-07 to "
                                    "2032-12 and the time after it, so it says nothing about when: log what the speaker "
                                    "said about those months, if anything\n"),
        (log_args(date="2022-13"), "Error: Invalid value for '--date': malformed date '2022-13': "
                                   "month 13 is not between 1 and 12\n"),
        (["backtest", QUESTION, "--from", "2023-1"], "Error: Invalid value for '--from': malformed date '2023-1': "
                                                     "expected YYYY-MM-DD or YYYY-MM\n"),
    ],
)
def test_refused_claims_and_dates_write_nothing(run, seeded, db_path, args, message) -> None:
    before = snapshot(db_path)
    result = run(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)
    assert snapshot(db_path) == before
