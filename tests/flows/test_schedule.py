from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from callboard.flows.catalog import Catalog
from callboard.flows.problems import Problem
from callboard.flows.schedule import (
    Holiday,
    HoursFormatError,
    HoursState,
    HoursStatus,
    Override,
    Schedule,
    Shift,
    build_schedules,
)

OPEN, CLOSED, HOLIDAY = HoursStatus.OPEN, HoursStatus.CLOSED, HoursStatus.HOLIDAY
MADRID, DENVER = ZoneInfo("Europe/Madrid"), ZoneInfo("America/Denver")


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def local(zone: ZoneInfo, *parts: int) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()


def every_day(text: str, zone: str = "Europe/Madrid", **kwargs: object) -> Schedule:
    return Schedule("s", zone, ((Shift.parse(text),),) * 7, **kwargs)


def built(data: dict[str, object]) -> Schedule:
    schedules, problems = build_schedules([{"name": "s", "time_zone": "Europe/Madrid", **data}], Catalog())
    assert problems == []
    return schedules["s"]


# --- Shifts -----------------------------------------------------------------------------------------------


def test_a_shift_parses_and_prints() -> None:
    assert Shift.parse("09:00-14:30") == Shift(540, 870)
    assert Shift.parse(" 9:05 - 24:00 ") == Shift(545, 1440)
    assert str(Shift(545, 1440)) == "09:05-24:00"


@pytest.mark.parametrize(
    "text", ["9-17", "09:00", "14:00-09:00", "10:00-10:00", "24:00-24:00", "09:60-10:00", "09:00-24:30"]
)
def test_a_bad_shift_is_refused(text: str) -> None:
    with pytest.raises(HoursFormatError):
        Shift.parse(text)


# --- Weekly hours -------------------------------------------------------------------------------------------


def test_split_shifts_open_close_and_say_until_when() -> None:
    schedule = built({"weekly": {"mon": ["09:00-14:00", "16:00-19:00"], "sat": ["10:00-14:00"]}})
    monday = 2026, 3, 2
    assert schedule.state_at(local(MADRID, *monday, 10)) == HoursState(OPEN, None, local(MADRID, *monday, 14))
    assert schedule.state_at(local(MADRID, *monday, 14)) == HoursState(CLOSED, None, local(MADRID, *monday, 16))
    assert schedule.state_at(local(MADRID, *monday, 18, 59, 59)).status is OPEN
    # After Monday's last shift the next opening is Saturday morning.
    assert schedule.state_at(local(MADRID, *monday, 19)).until == local(MADRID, 2026, 3, 7, 10)
    assert schedule.state_at(local(MADRID, 2026, 3, 3, 12)).status is CLOSED  # Tuesday is not listed


def test_a_night_shift_joins_across_midnight() -> None:
    schedule = built({"weekly": {"mon": ["22:00-24:00"], "tue": ["00:00-06:00"]}})
    assert schedule.state_at(local(MADRID, 2026, 3, 2, 23)) == HoursState(OPEN, None, local(MADRID, 2026, 3, 3, 6))


def test_a_schedule_that_never_changes_has_no_until() -> None:
    schedule = Schedule("s", "Europe/Madrid")
    assert schedule.state_at(utc(2026, 3, 2, 12)) == HoursState(CLOSED, None, None)


# --- Daylight saving time ------------------------------------------------------------------------------------


def test_madrid_spring_forward() -> None:
    schedule = every_day("09:00-17:00")  # CET (+1) until 2026-03-29 02:00, then CEST (+2)
    saturday_evening = utc(2026, 3, 28, 16, 30)  # 17:30 CET
    assert schedule.state_at(saturday_evening) == HoursState(CLOSED, None, utc(2026, 3, 29, 7))  # 09:00 CEST
    assert schedule.state_at(utc(2026, 3, 29, 6, 59, 59)).status is CLOSED
    assert schedule.state_at(utc(2026, 3, 29, 7)).status is OPEN
    assert schedule.state_at(utc(2026, 3, 29, 7)).until == utc(2026, 3, 29, 15)  # 17:00 CEST


def test_madrid_a_shift_starting_in_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    schedule = every_day("02:30-05:00")
    before = utc(2026, 3, 29, 0, 59, 59)  # 01:59:59 CET; the next second is 03:00 CEST
    assert schedule.state_at(before) == HoursState(CLOSED, None, utc(2026, 3, 29, 1))
    assert schedule.state_at(utc(2026, 3, 29, 1)) == HoursState(OPEN, None, utc(2026, 3, 29, 3))  # to 05:00 CEST


def test_madrid_fall_back() -> None:
    schedule = every_day("09:00-17:00")  # CEST (+2) until 2026-10-25 03:00, then CET (+1)
    assert schedule.state_at(utc(2026, 10, 24, 15, 30)) == HoursState(CLOSED, None, utc(2026, 10, 25, 8))
    assert schedule.state_at(utc(2026, 10, 25, 7, 59)).status is CLOSED  # 08:59 CET
    assert schedule.state_at(utc(2026, 10, 25, 8)) == HoursState(OPEN, None, utc(2026, 10, 25, 16))


def test_madrid_the_repeated_hour_follows_the_wall_clock() -> None:
    schedule = every_day("02:30-05:00")
    # 02:30 CEST opens; at 03:00 CEST the clock goes back to 02:00 CET, before the shift, and 02:30 CET reopens.
    assert schedule.state_at(utc(2026, 10, 25, 0, 30)) == HoursState(OPEN, None, utc(2026, 10, 25, 1))
    assert schedule.state_at(utc(2026, 10, 25, 1)) == HoursState(CLOSED, None, utc(2026, 10, 25, 1, 30))
    assert schedule.state_at(utc(2026, 10, 25, 1, 30)) == HoursState(OPEN, None, utc(2026, 10, 25, 4))


def test_denver_spring_forward() -> None:
    schedule = every_day("08:00-18:00", "America/Denver")  # MST (-7) until 2026-03-08 02:00, then MDT (-6)
    assert schedule.state_at(utc(2026, 3, 7, 15)) == HoursState(OPEN, None, utc(2026, 3, 8, 1))  # 08:00 to 18:00 MST
    assert schedule.state_at(utc(2026, 3, 8, 1)) == HoursState(CLOSED, None, utc(2026, 3, 8, 14))  # 08:00 MDT
    assert schedule.state_at(utc(2026, 3, 8, 13, 59)).status is CLOSED
    assert schedule.state_at(local(DENVER, 2026, 3, 8, 12)) == HoursState(OPEN, None, utc(2026, 3, 9, 0))


def test_denver_fall_back() -> None:
    schedule = every_day("08:00-18:00", "America/Denver")  # MDT (-6) until 2026-11-01 02:00, then MST (-7)
    assert schedule.state_at(utc(2026, 11, 1, 0)) == HoursState(CLOSED, None, utc(2026, 11, 1, 15))  # 08:00 MST
    assert schedule.state_at(utc(2026, 11, 1, 14, 30)).status is CLOSED  # 07:30 MST (08:30 by yesterday's offset)
    assert schedule.state_at(utc(2026, 11, 1, 15)) == HoursState(OPEN, None, utc(2026, 11, 2, 1))


# --- Holidays and overrides -----------------------------------------------------------------------------------


def test_a_public_holiday_beats_the_weekly_hours() -> None:
    schedule = built({"weekly": {"tue": ["09:00-17:00"]}, "holidays": {"country": "ES", "subdivision": "MD"}})
    epiphany = schedule.state_at(local(MADRID, 2026, 1, 6, 10))  # a Tuesday
    assert epiphany.status is HOLIDAY
    assert epiphany.holiday
    assert epiphany.until == local(MADRID, 2026, 1, 7)  # the holiday ends at midnight, closed until next Tuesday
    assert schedule.state_at(local(MADRID, 2026, 1, 13, 10)).status is OPEN
    assert schedule.state_at(local(MADRID, 2027, 1, 6, 10)).status is HOLIDAY  # another year, computed on demand


def test_a_regional_holiday_needs_its_subdivision() -> None:
    national = built({"weekly": {"sat": ["09:00-17:00"]}, "holidays": {"country": "ES"}})
    madrid = built({"weekly": {"sat": ["09:00-17:00"]}, "holidays": {"country": "ES", "subdivision": "MD"}})
    dos_de_mayo = local(MADRID, 2026, 5, 2, 10)  # a Saturday: the Community of Madrid's day
    assert national.state_at(dos_de_mayo).status is OPEN
    assert madrid.state_at(dos_de_mayo).status is HOLIDAY


def test_custom_dates_and_overrides() -> None:
    schedule = built(
        {
            "weekly": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
            "dates": [
                {"date": "2026-12-24", "name": "Christmas Eve"},
                {"date": date(2026, 12, 28), "name": "Inocentes"},
            ],
            "overrides": [
                {"date": "2026-12-28", "hours": ["09:00-13:00"]},
                {"date": "2026-12-30", "closed": True},
                {"date": "2027-01-03", "open": True},
            ],
        }
    )
    assert schedule.state_at(local(MADRID, 2026, 12, 24, 10)) == HoursState(
        HOLIDAY, "Christmas Eve", local(MADRID, 2026, 12, 25)
    )
    # The override opens part of a holiday; outside its hours the holiday shows.
    assert schedule.state_at(local(MADRID, 2026, 12, 28, 10)) == HoursState(OPEN, None, local(MADRID, 2026, 12, 28, 13))
    assert schedule.state_at(local(MADRID, 2026, 12, 28, 14)).holiday == "Inocentes"
    assert schedule.state_at(local(MADRID, 2026, 12, 29, 10)).status is OPEN
    assert schedule.state_at(local(MADRID, 2026, 12, 30, 10)) == HoursState(
        CLOSED, None, local(MADRID, 2026, 12, 31, 9)
    )
    assert schedule.state_at(local(MADRID, 2027, 1, 3, 3)) == HoursState(
        OPEN, None, local(MADRID, 2027, 1, 4)
    )  # Sunday


def test_an_override_beats_a_public_holiday() -> None:
    schedule = Schedule(
        "s",
        "Europe/Madrid",
        country="ES",
        holidays=(Holiday(date(2026, 1, 5), "Eve of Epiphany"),),
        overrides=(Override(date(2026, 1, 6), (Shift(0, 1440),)),),
    )
    assert schedule.state_at(local(MADRID, 2026, 1, 5, 12)) == HoursState(
        HOLIDAY, "Eve of Epiphany", local(MADRID, 2026, 1, 6)
    )
    assert schedule.state_at(local(MADRID, 2026, 1, 6, 12)) == HoursState(OPEN, None, local(MADRID, 2026, 1, 7))


# --- Building from data ------------------------------------------------------------------------------------------


def problems_of(data: object) -> list[Problem]:
    return build_schedules(data, Catalog())[1]


def test_the_example_builds() -> None:
    schedules, problems = build_schedules(
        [
            {
                "name": "madrid",
                "time_zone": "Europe/Madrid",
                "weekly": {"mon": ["09:00-14:00", "16:00-19:00"], "sat": ["10:00-14:00"]},
                "holidays": {"country": "ES", "subdivision": "MD"},
                "dates": [{"date": "2026-12-24", "name": "Christmas Eve"}],
                "overrides": [{"date": "2026-12-31", "hours": ["09:00-13:00"]}, {"date": "2027-01-02", "closed": True}],
            },
            {"name": "denver", "time_zone": "America/Denver", "weekly": {"fri": "08:00-24:00"}},
        ],
        Catalog(),
    )
    assert problems == []
    assert sorted(schedules) == ["denver", "madrid"]
    assert schedules["madrid"].weekly[0] == (Shift(540, 840), Shift(960, 1140))
    assert schedules["denver"].weekly[4] == (Shift(480, 1440),)


def test_problems_are_found_at_their_paths() -> None:
    problems = problems_of(
        [
            {
                "name": "a",
                "time_zone": "Europe/Madird",
                "colour": "red",
                "weekly": {"mo": ["09:00-14:00"], "tue": ["09:00-14:00", "13:00-15:00", "14:00-12:00"], "wed": [900]},
                "holidays": {"country": "XX"},
                "dates": [{"date": "2026-13-01", "name": "Nope"}, {"date": "2026-12-24"}],
                "overrides": [
                    {"date": "2026-12-31", "closed": True, "hours": ["09:00-13:00"]},
                    {"date": "2026-12-30", "closed": False},
                ],
            },
            {"name": "a", "time_zone": "UTC", "holidays": {"country": "ES", "subdivision": "ZZ", "region": "x"}},
            "b",
        ]
    )
    located = {(p.path, p.at_key) for p in problems}
    assert located == {
        ((0, "time_zone"), False),
        ((0, "colour"), True),
        ((0, "weekly", "mo"), True),
        ((0, "weekly", "tue", 1), False),  # overlaps 09:00-14:00
        ((0, "weekly", "tue", 2), False),  # ends before it starts
        ((0, "weekly", "wed", 0), False),
        ((0, "holidays", "country"), False),
        ((0, "dates", 0, "date"), False),
        ((0, "dates", 1, "name"), False),
        ((0, "overrides", 0), False),
        ((0, "overrides", 1, "closed"), False),
        ((1, "name"), False),  # defined twice
        ((1, "holidays", "region"), True),
        ((1, "holidays", "subdivision"), False),
        ((2,), False),
    }
    messages = {p.path: p.message for p in problems}
    assert "Europe/Madird" in messages[(0, "time_zone")]
    assert "overlaps" in messages[(0, "weekly", "tue", 1)]
    assert "twice" in messages[(1, "name")]
    assert "ZZ" in messages[(1, "holidays", "subdivision")]


def test_a_schedule_with_problems_is_left_out_and_others_built() -> None:
    schedules, problems = build_schedules(
        [{"name": "bad", "time_zone": "Nowhere/City"}, {"name": "good", "time_zone": "UTC"}], Catalog()
    )
    assert list(schedules) == ["good"]
    assert [p.path for p in problems] == [(0, "time_zone")]


def test_more_problems() -> None:
    assert [p.path for p in problems_of({"name": "x"})] == [()]
    assert [p.path for p in problems_of([{"time_zone": "UTC"}])] == [(0, "name")]
    assert [p.path for p in problems_of([{"name": "x"}])] == [(0, "time_zone")]
    duplicated = problems_of(
        [
            {
                "name": "x",
                "time_zone": "UTC",
                "dates": [{"date": "2026-01-01", "name": "a"}, {"date": "2026-01-01", "name": "b"}],
            }
        ]
    )
    assert [p.path for p in duplicated] == [(0, "dates", 1, "date")]
    contained = problems_of(
        [{"name": "x", "time_zone": "UTC", "weekly": {"mon": ["09:00-18:00", "10:00-11:00", "12:00-13:00"]}}]
    )
    assert [p.path for p in contained] == [(0, "weekly", "mon", 1), (0, "weekly", "mon", 2)]


def test_a_closed_schedule_changes_at_a_holiday() -> None:
    schedule = Schedule("s", "Europe/Madrid", holidays=(Holiday(date(2026, 3, 19), "San José"),))
    assert schedule.state_at(local(MADRID, 2026, 3, 2, 12)) == HoursState(CLOSED, None, local(MADRID, 2026, 3, 19))
    assert schedule.state_at(local(MADRID, 2026, 3, 19, 12)) == HoursState(
        HOLIDAY, "San José", local(MADRID, 2026, 3, 20)
    )
    assert schedule.state_at(local(MADRID, 2026, 3, 20, 12)).until is None  # nothing changes within a month
