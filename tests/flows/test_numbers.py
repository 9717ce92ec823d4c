from __future__ import annotations

import pytest

from callboard.core.errors import ValidationError
from callboard.flows.catalog import Catalog
from callboard.flows.numbers import InvalidNumberError, Number, build_numbers, caller_number, normalize_number
from callboard.flows.schedule import Schedule

CATALOG = Catalog(
    prompts=frozenset({"closed", "holiday", "closed-madrid", "holiday-madrid"}),
    flows=frozenset({"main", "sales"}),
    schedules=frozenset({"madrid", "broken"}),
)
SCHEDULES = {"madrid": Schedule("madrid", "Europe/Madrid")}


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("+34 910 000 000", None, "+34910000000"),
        ("+34 (91) 000-00-00", None, "+34910000000"),
        ("910 000 000", "ES", "+34910000000"),
        ("910 000 000", "es", "+34910000000"),
        ("+1 (212) 555-0100", None, "+12125550100"),
        ("(212) 555-0100", "US", "+12125550100"),
        ("8 (495) 123-45-67", "RU", "+74951234567"),
    ],
)
def test_numbers_are_normalised_to_e164(text: str, region: str | None, e164: str) -> None:
    assert normalize_number(text, region) == e164


@pytest.mark.parametrize(
    ("text", "region", "says"),
    [
        ("910 000 000", None, "country code"),
        ("hello", None, "not a phone number"),
        ("+34 12", None, "not a valid number"),
        ("+1 212 555 010", None, "not a valid number"),
        ("910 000 000", "XX", "unknown region"),
        ("", "ES", "not a phone number"),
    ],
)
def test_an_invalid_number_is_refused_clearly(text: str, region: str | None, says: str) -> None:
    with pytest.raises(InvalidNumberError, match=says) as caught:
        normalize_number(text, region)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ValidationError)
    assert caught.value.error_id == "number_invalid"


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("+34 610 000 001", None, "+34610000001"),
        ("+34610000001", "US", "+34610000001"),  # E.164 is read as is, wherever it is dialled from
        ("610000001", "ES", "+34610000001"),  # national, read where the number called is
        (" 610000001 ", "ES", "+34610000001"),
        ("3035550100", "US", "+13035550100"),
        ("0034610000001", "ES", "+34610000001"),  # Spain's international prefix
        ("00 1 303 555 0100", "ES", "+13035550100"),
        ("011 34 610000001", "US", "+34610000001"),  # the US's
        ("34610000001", "ES", "+34610000001"),  # E.164 without its +: not a valid national number, so +
        ("34610000001", None, "+34610000001"),
        ("13035550100", "ES", "+13035550100"),
        ("34910000000", None, "+34910000000"),  # a called number as the Request-URI carries it
    ],
)
def test_a_caller_number_as_trunks_send_it_is_read_as_e164(text: str, region: str | None, e164: str) -> None:
    assert caller_number(text, region) == e164


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("anonymous", "ES"),  # withheld, as trunks send it
        ("unknown", "ES"),
        ("restricted", None),
        ("", "ES"),
        ("alice", "ES"),  # a SIP user name
        ("sip:alice", "ES"),
        ("12", "ES"),
        ("+34 12", None),
        ("6100000012345", "ES"),  # too long for Spain, and no valid number with a + either
        ("610000001", None),  # national, but read nowhere
        ("610000001", "XX"),  # not a region
    ],
)
def test_what_is_not_a_valid_number_is_no_caller_number(text: str, region: str | None) -> None:
    assert caller_number(text, region) is None


@pytest.mark.parametrize(
    ("e164", "region", "home"),
    [
        ("+34910000000", None, "ES"),  # the country code's main region
        ("+34910000000", "ES", "ES"),
        ("+13035550100", None, "US"),
        ("+14165550100", None, "CA"),  # +1 is shared: the area code says Canada
        ("+12125550100", "CA", "CA"),  # the number's own region wins
        ("+80012345678", None, None),  # international freephone: no region ("001") to read national numbers in
    ],
)
def test_a_numbers_home_region(e164: str, region: str | None, home: str | None) -> None:
    assert Number(e164, "site", "main", "en", "UTC", region=region).home_region == home


def test_a_national_caller_is_read_in_the_home_region_of_the_number_called() -> None:
    madrid = Number("+34910000000", "madrid", "main", "en", "Europe/Madrid")
    denver = Number("+13035550100", "denver", "main", "en", "America/Denver")
    assert caller_number("610000001", madrid.home_region) == "+34610000001"
    assert caller_number("3035550199", denver.home_region) == "+13035550199"
    assert caller_number("610000001", denver.home_region) is None  # not a US number


def test_the_example_builds_with_defaults() -> None:
    numbers, problems = build_numbers(
        [
            {
                "number": "+34 910 000 000",
                "region": "ES",
                "site": "madrid",
                "flow": "main",
                "language": "es",
                "time_zone": "Europe/Madrid",
                "schedule": "madrid",
                "closed_prompt": "closed-madrid",
                "holiday_prompt": "holiday-madrid",
            },
            {"number": "910 000 001", "region": "es", "site": "madrid", "flow": "sales", "schedule": "madrid"},
            {"number": "+1 212 555 0100", "site": "nyc", "flow": "main", "time_zone": "America/New_York"},
        ],
        CATALOG,
        SCHEDULES,
    )
    assert problems == []
    assert numbers == [
        Number(
            "+34910000000", "madrid", "main", "es", "Europe/Madrid", "madrid", "closed-madrid", "holiday-madrid", "ES"
        ),
        Number("+34910000001", "madrid", "sales", "en", "Europe/Madrid", "madrid", region="ES"),
        Number("+12125550100", "nyc", "main", "en", "America/New_York"),
    ]


def test_problems_are_found_at_their_paths() -> None:
    numbers, problems = build_numbers(
        [
            {"number": "910 000 000", "site": "madrid", "flow": "main", "time_zone": "Europe/Madrid"},
            {"number": "+34 910 000 009", "flow": "nope", "language": "fr", "schedule": "nope", "extension": 1},
            {
                "number": "+34 910 000 000",
                "site": "madrid",
                "flow": "main",
                "region": "XX",
                "time_zone": "Mars/Olympus",
            },
            {"number": "+34910000000", "site": "madrid", "flow": "main", "schedule": "madrid", "closed_prompt": "nope"},
            {"number": "+34 910 000 002", "site": "madrid", "flow": "main", "schedule": "broken"},
            {"site": "madrid", "flow": "main", "time_zone": "UTC"},
            "+34 910 000 003",
        ],
        CATALOG,
        SCHEDULES,
    )
    assert numbers == []
    located = {(p.path, p.at_key) for p in problems}
    assert located == {
        ((0, "number"), False),  # a national number without a region
        ((1, "extension"), True),
        ((1, "site"), False),
        ((1, "flow"), False),
        ((1, "language"), False),
        ((1, "schedule"), False),
        ((1, "time_zone"), False),
        ((2, "region"), False),
        ((2, "time_zone"), False),
        ((3, "closed_prompt"), False),
        ((3, "number"), False),  # the same number as entry 2 once normalised
        ((4, "time_zone"), False),  # a schedule that did not build cannot lend its time zone
        ((5, "number"), False),
        ((6,), False),
    }
    messages = {p.path: p.message for p in problems}
    assert "twice" in messages[(3, "number")]
    assert "'nope'" in messages[(1, "flow")]


def test_a_duplicate_is_reported_at_the_second_only() -> None:
    entry = {"site": "madrid", "flow": "main", "time_zone": "Europe/Madrid"}
    numbers, problems = build_numbers(
        [{"number": "+34 910 000 000", **entry}, {"number": "910000000", "region": "ES", **entry}], CATALOG, SCHEDULES
    )
    assert [n.e164 for n in numbers] == ["+34910000000"]
    assert [p.path for p in problems] == [(1, "number")]


def test_numbers_must_be_a_list() -> None:
    assert build_numbers({"number": "+34910000000"}, CATALOG, SCHEDULES)[1][0].path == ()
