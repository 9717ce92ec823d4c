"""Business hours: weekly shifts in a time zone, public and custom holidays, one-off overrides.

A `Schedule` answers one question, `state_at(instant)`: open, closed, or closed for a holiday (and until when).
Hours are wall-clock times in the schedule's time zone, so "09:00-14:00" means nine on the local clock on both
sides of a daylight-saving change. A day's hours come from, first match wins:

1. an override for that date (other hours, closed, or open all day);
2. a holiday (a custom date, then the public holidays of the `holidays` package): closed, status HOLIDAY;
3. the weekly hours of that weekday (a day not listed is closed).

Outside an override's hours on a date that is also a holiday, the status is HOLIDAY (the override opened part
of the holiday). A shift never crosses midnight: a night shift is "22:00-24:00" on one day and "00:00-06:00" on
the next, and the two join without a change in between. Public holidays are computed per year on first use
and cached. The module is pure: it takes instants (seconds since the epoch) and does no I/O.

`build_schedules` builds schedules from the list under a workspace's `schedules:` key and reports every problem
at its data path (see `problems.py`).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package

from callboard.flows.catalog import Catalog
from callboard.flows.problems import DataPath, Problem

__all__ = [
    "DAYS",
    "Holiday",
    "HoursFormatError",
    "HoursState",
    "HoursStatus",
    "Override",
    "Schedule",
    "Shift",
    "build_schedules",
    "time_zone_problem",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # in `date.weekday()` order
DAY_SECONDS = 86_400
LOOKAHEAD_DAYS = 31  # how far `state_at` looks for the next change before it gives `until=None`


class HoursStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    HOLIDAY = "holiday"


@dataclass(frozen=True, slots=True)
class HoursState:
    """The state at one instant: the holiday's name when closed for one, and the instant of the next change
    (None when nothing changes within `LOOKAHEAD_DAYS`)."""

    status: HoursStatus
    holiday: str | None = None
    until: float | None = None


class HoursFormatError(ValueError):
    """A shift that is not "HH:MM-HH:MM" with the end after the start."""


_SHIFT = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True, slots=True, order=True)
class Shift:
    """Open from `start` to `end`, in minutes after local midnight (`end` up to 1440, "24:00")."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Shift:
        match = _SHIFT.fullmatch(text)
        if match is None:
            raise HoursFormatError(f'{text!r} is not "HH:MM-HH:MM"')
        sh, sm, eh, em = (int(g) for g in match.groups())
        if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em != 0):
            raise HoursFormatError(f"{text!r} has a time that does not exist (00:00 to 23:59, or 24:00 as an end)")
        start, end = sh * 60 + sm, eh * 60 + em
        if end <= start:
            raise HoursFormatError(f"{text!r} ends before it starts (a shift cannot cross midnight)")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"

    def __contains__(self, second: float) -> bool:
        return self.start * 60 <= second < self.end * 60


@dataclass(frozen=True, slots=True)
class Holiday:
    """A custom holiday: closed all day, status HOLIDAY with this name."""

    date: date
    name: str


@dataclass(frozen=True, slots=True)
class Override:
    """One date with other hours than usual: `shifts` (empty: closed all day; 00:00-24:00: open all day)."""

    date: date
    shifts: tuple[Shift, ...]


@functools.lru_cache(maxsize=512)
def _public_holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    found = holidays_package.country_holidays(country, subdiv=subdivision, years=year)
    return MappingProxyType({day: str(name) for day, name in found.items()})


@dataclass(frozen=True)
class Schedule:
    """Weekly hours (`weekly[0]` is Monday) in `time_zone`, with holidays and overrides."""

    name: str
    time_zone: str
    weekly: tuple[tuple[Shift, ...], ...] = ((),) * 7
    country: str | None = None  # public holidays of this country (the `holidays` package's code)
    subdivision: str | None = None
    holidays: tuple[Holiday, ...] = ()
    overrides: tuple[Override, ...] = ()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _holidays: Mapping[date, str] = field(init=False, repr=False, compare=False)
    _overrides: Mapping[date, tuple[Shift, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError(f"weekly hours need 7 days, not {len(self.weekly)}")
        object.__setattr__(self, "_zone", ZoneInfo(self.time_zone))
        object.__setattr__(self, "_holidays", MappingProxyType({h.date: h.name for h in self.holidays}))
        object.__setattr__(self, "_overrides", MappingProxyType({o.date: o.shifts for o in self.overrides}))

    def holiday_on(self, day: date) -> str | None:
        """The holiday's name on this local date, custom dates first; None on a working day."""
        custom = self._holidays.get(day)
        if custom is not None or self.country is None:
            return custom
        return _public_holidays(self.country, self.subdivision, day.year).get(day)

    def hours_on(self, day: date) -> tuple[tuple[Shift, ...], HoursStatus, str | None]:
        """The day's shifts, and the status and holiday name outside them."""
        holiday = self.holiday_on(day)
        closed = HoursStatus.CLOSED if holiday is None else HoursStatus.HOLIDAY
        override = self._overrides.get(day)
        if override is not None:
            return override, closed, holiday
        if holiday is not None:
            return (), closed, holiday
        return self.weekly[day.weekday()], closed, None

    def state_at(self, instant: float) -> HoursState:
        status, holiday = self._plain_state(instant)
        until = None
        for candidate in self._changes_after(instant, (status, holiday)):
            if self._plain_state(candidate) != (status, holiday):
                until = candidate
                break
        return HoursState(status, holiday, until)

    def _plain_state(self, instant: float) -> tuple[HoursStatus, str | None]:
        local = datetime.fromtimestamp(instant, self._zone)
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        shifts, closed, holiday = self.hours_on(local.date())
        if any(second in shift for shift in shifts):
            return HoursStatus.OPEN, None
        return closed, holiday

    def _changes_after(self, instant: float, now: tuple[HoursStatus, str | None]) -> Iterator[float]:
        """Every instant after `instant` where the state could change from `now`, in order: each shift edge
        and midnight (both occurrences of a wall time repeated when the clocks go back), and each UTC offset
        change. A day closed all day in the state of `now` holds none."""
        first = datetime.fromtimestamp(instant, self._zone).date()
        for offset in range(LOOKAHEAD_DAYS + 1):
            day = first + timedelta(days=offset)
            shifts, closed, holiday = self.hours_on(day)
            if not shifts and (closed, holiday) == now:
                continue
            minutes = {0, 1440} | {m for s in shifts for m in (s.start, s.end)}
            candidates = {self._instant(day, m * 60, fold) for m in minutes for fold in (0, 1)}
            candidates.update(self._offset_changes(day))
            yield from sorted(c for c in candidates if c > instant)

    def _instant(self, day: date, second: int, fold: int) -> float:
        wall = datetime(day.year, day.month, day.day) + timedelta(seconds=second)
        return wall.replace(tzinfo=self._zone, fold=fold).timestamp()

    def _offset_changes(self, day: date) -> list[float]:
        start, end = self._instant(day, 0, 0) - 3600, self._instant(day, DAY_SECONDS, 1) + 3600
        if self._offset(start) == self._offset(end):
            return []
        low, high = int(start), int(end)  # the offset changes once in (low, high]: bisect to the second
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset(middle) == self._offset(low):
                low = middle
            else:
                high = middle
        return [float(high)]

    def _offset(self, instant: float) -> timedelta | None:
        return datetime.fromtimestamp(instant, self._zone).utcoffset()


# --- Building from data -----------------------------------------------------------------------------------

_KEYS = frozenset({"name", "time_zone", "weekly", "holidays", "dates", "overrides"})
_HOLIDAY_KEYS = frozenset({"country", "subdivision"})
_DATE_KEYS = frozenset({"date", "name"})
_OVERRIDE_KEYS = frozenset({"date", "hours", "closed", "open"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def time_zone_problem(value: object, path: DataPath) -> Problem | None:
    """A problem when `value` is not a time zone name the system knows (`Europe/Madrid`)."""
    if not isinstance(value, str) or not value:
        return Problem(path, "a time zone name is required (like Europe/Madrid)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return Problem(path, f"unknown time zone {value!r} (use a name like Europe/Madrid)")
    return None


def build_schedules(data: object, catalog: Catalog) -> tuple[dict[str, Schedule], list[Problem]]:
    """The schedules of the `schedules:` list by name, and every problem found. A schedule with a problem is
    left out of the result (its problems say why). `catalog` is taken for symmetry with the other builders:
    schedules refer to no other name."""
    del catalog
    problems: list[Problem] = []
    built: dict[str, Schedule] = {}
    if not isinstance(data, list):
        return built, [Problem((), "schedules must be a list")]
    seen: set[str] = set()
    for index, item in enumerate(data):
        found: list[Problem] = []
        schedule = _schedule(item, (index,), found)
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str):
            if name in seen:
                found.append(Problem((index, "name"), f"schedule {name!r} is defined twice"))
            seen.add(name)
        problems.extend(found)
        if schedule is not None and not found:
            built[schedule.name] = schedule
    return built, problems


def _schedule(item: object, path: DataPath, problems: list[Problem]) -> Schedule | None:
    if not isinstance(item, dict):
        problems.append(Problem(path, "a schedule must be a mapping (name, time_zone, weekly, ...)"))
        return None
    _unknown_keys(item, _KEYS, path, problems)
    name = item.get("name")
    if not isinstance(name, str) or not name:
        problems.append(Problem((*path, "name"), "a schedule needs a name"))
    zone_problem = time_zone_problem(item.get("time_zone"), (*path, "time_zone"))
    if zone_problem is not None:
        problems.append(zone_problem)
    weekly = _weekly(item.get("weekly", {}), (*path, "weekly"), problems)
    country, subdivision = _public(item.get("holidays"), (*path, "holidays"), problems)
    custom = _dates(item.get("dates", []), (*path, "dates"), problems)
    overrides = _overrides(item.get("overrides", []), (*path, "overrides"), problems)
    if problems:
        return None
    assert isinstance(name, str)
    return Schedule(name, str(item["time_zone"]), weekly, country, subdivision, custom, overrides)


def _unknown_keys(item: Mapping[Any, Any], known: frozenset[str], path: DataPath, problems: list[Problem]) -> None:
    for key in item:
        if key not in known:
            expected = ", ".join(sorted(known))
            problems.append(Problem((*path, str(key)), f"unknown key {key!r} (expected {expected})", at_key=True))


def _weekly(value: object, path: DataPath, problems: list[Problem]) -> tuple[tuple[Shift, ...], ...]:
    days: list[tuple[Shift, ...]] = [()] * 7
    if value is None:
        return tuple(days)
    if not isinstance(value, dict):
        problems.append(Problem(path, "weekly must map days (mon ... sun) to lists of hours"))
        return tuple(days)
    for key, hours in value.items():
        if key not in DAYS:
            problems.append(Problem((*path, str(key)), f"unknown day {key!r} (use {' '.join(DAYS)})", at_key=True))
            continue
        days[DAYS.index(key)] = _shifts(hours, (*path, key), problems)
    return tuple(days)


def _shifts(value: object, path: DataPath, problems: list[Problem]) -> tuple[Shift, ...]:
    """A list of "HH:MM-HH:MM" (or one such string), sorted; an overlap is reported at the later entry."""
    if value is None:
        return ()
    entries: list[tuple[DataPath, object]]
    if isinstance(value, str):
        entries = [(path, value)]
    elif isinstance(value, list):
        entries = [((*path, i), v) for i, v in enumerate(value)]
    else:
        problems.append(Problem(path, 'hours must be a list of "HH:MM-HH:MM"'))
        return ()
    parsed: list[tuple[Shift, DataPath]] = []
    for at, text in entries:
        if not isinstance(text, str):
            problems.append(Problem(at, f'{text!r} is not "HH:MM-HH:MM" (quote it in YAML)'))
            continue
        try:
            parsed.append((Shift.parse(text), at))
        except HoursFormatError as exc:
            problems.append(Problem(at, str(exc)))
    by_start = sorted(parsed, key=lambda pair: pair[0])
    for number, (shift, at) in enumerate(by_start[1:], 1):
        before = max((earlier for earlier, _ in by_start[:number]), key=lambda s: s.end)
        if shift.start < before.end:
            problems.append(Problem(at, f"{shift} overlaps {before}"))
    return tuple(shift for shift, _ in by_start)


def _public(value: object, path: DataPath, problems: list[Problem]) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        problems.append(Problem(path, "holidays must be a mapping: {country: ES, subdivision: MD}"))
        return None, None
    _unknown_keys(value, _HOLIDAY_KEYS, path, problems)
    country, subdivision = value.get("country"), value.get("subdivision")
    if not isinstance(country, str) or not country:
        problems.append(Problem((*path, "country"), "a country code is required (like ES)"))
        return None, None
    if subdivision is not None and not isinstance(subdivision, str):
        problems.append(Problem((*path, "subdivision"), f"{subdivision!r} is not a subdivision code (like MD)"))
        return None, None
    supported = holidays_package.list_supported_countries()
    if country not in supported:
        problems.append(Problem((*path, "country"), f"no public holidays are known for country {country!r}"))
        return None, None
    if subdivision is not None:
        try:
            holidays_package.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            known = ", ".join(supported[country]) or "none"
            message = f"country {country} has no subdivision {subdivision!r} (known: {known})"
            problems.append(Problem((*path, "subdivision"), message))
            return None, None
    return country, subdivision


def _date(value: object, path: DataPath, problems: list[Problem]) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # YAML reads an unquoted 2026-12-24 as a date
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(Problem(path, f'{value!r} is not a date "YYYY-MM-DD"'))
    return None


def _dates(value: object, path: DataPath, problems: list[Problem]) -> tuple[Holiday, ...]:
    if not isinstance(value, list):
        problems.append(Problem(path, "dates must be a list of {date, name}"))
        return ()
    found: dict[date, Holiday] = {}
    for index, entry in enumerate(value):
        at = (*path, index)
        if not isinstance(entry, dict):
            problems.append(Problem(at, "a holiday date must be a mapping {date, name}"))
            continue
        _unknown_keys(entry, _DATE_KEYS, at, problems)
        day = _date(entry.get("date"), (*at, "date"), problems)
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            problems.append(Problem((*at, "name"), "a holiday date needs a name"))
            continue
        if day is None:
            continue
        if day in found:
            problems.append(Problem((*at, "date"), f"{day} is listed twice"))
        found[day] = Holiday(day, name)
    return tuple(found.values())


def _overrides(value: object, path: DataPath, problems: list[Problem]) -> tuple[Override, ...]:
    if not isinstance(value, list):
        problems.append(Problem(path, "overrides must be a list of {date, hours | closed | open}"))
        return ()
    found: dict[date, Override] = {}
    for index, entry in enumerate(value):
        at = (*path, index)
        if not isinstance(entry, dict):
            problems.append(Problem(at, "an override must be a mapping {date, hours | closed | open}"))
            continue
        _unknown_keys(entry, _OVERRIDE_KEYS, at, problems)
        day = _date(entry.get("date"), (*at, "date"), problems)
        shifts = _override_shifts(entry, at, problems)
        if day is None or shifts is None:
            continue
        if day in found:
            problems.append(Problem((*at, "date"), f"{day} has two overrides"))
        found[day] = Override(day, shifts)
    return tuple(found.values())


def _override_shifts(entry: Mapping[str, object], at: DataPath, problems: list[Problem]) -> tuple[Shift, ...] | None:
    given = [key for key in ("hours", "closed", "open") if key in entry]
    if len(given) != 1:
        problems.append(Problem(at, "an override needs exactly one of hours, closed: true, open: true"))
        return None
    key = given[0]
    if key == "hours":
        return _shifts(entry["hours"], (*at, "hours"), problems)
    if entry[key] is not True:
        problems.append(Problem((*at, key), f"{key} can only be true (leave the override out otherwise)"))
        return None
    return () if key == "closed" else (Shift(0, 1440),)
