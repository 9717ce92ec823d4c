"""Phone numbers (DIDs): E.164 normalisation, and the numbers a workspace answers with what each one runs.

`normalize_number` turns a number as a person writes it ("+34 910 00 00 00", or "910 000 000" with region ES)
into E.164 ("+34910000000") with the `phonenumbers` package; `caller_number` reads a number as a trunk sends it
(national, `00`-prefixed or E.164 without its "+"), in the region of the number called (`Number.home_region`).
`build_numbers` builds the `numbers:` list of a workspace: each number's site, flow, language, time zone,
schedule and the prompts it plays when closed, checked against the catalog and the built schedules, every
problem reported at its data path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from callboard.core.errors import ValidationError
from callboard.flows.catalog import Catalog
from callboard.flows.problems import DataPath, Problem
from callboard.flows.schedule import Schedule, time_zone_problem

__all__ = ["InvalidNumberError", "Number", "build_numbers", "caller_number", "normalize_number"]


class InvalidNumberError(ValidationError):
    """Text that is not a valid phone number (in `region`, for a national number)."""

    error_id = "number_invalid"


def normalize_number(text: str, region: str | None = None) -> str:
    """The number in E.164 (`+34910000000`). A national number needs `region` (ISO 3166 code: ES, US)."""
    if region is not None and region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidNumberError(f"unknown region {region!r} (use a country code like ES)", number=text)
    try:
        parsed = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        hint = (
            ""
            if region or text.strip().startswith("+")
            else " (start it with + and the country code, or give a region)"
        )
        raise InvalidNumberError(f"{text!r} is not a phone number: {exc._msg}{hint}", number=text) from None
    if not phonenumbers.is_valid_number(parsed):
        where = phonenumbers.region_code_for_number(parsed) or f"+{parsed.country_code}"
        raise InvalidNumberError(f"{text!r} is not a valid number in {where}", number=text)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def caller_number(text: str, region: str | None) -> str | None:
    """A number as trunks send it (the caller's, or with no `region` the one called), in E.164: "+34610000001",
    the national "610000001" or the international "0034610000001" (dialled from `region`), or E.164 without
    its "+" ("34610000001"). None when it is not a valid number (a withheld caller, "anonymous", a SIP user
    name)."""
    text = text.strip()
    tries = [text] if text.startswith("+") else [*([text] if region else []), "+" + text]
    for candidate in tries:
        try:
            return normalize_number(candidate, region if not candidate.startswith("+") else None)
        except InvalidNumberError:
            continue
    return None


@dataclass(frozen=True, slots=True)
class Number:
    """A number the center answers: where its calls belong, the flow they run, and when it is open."""

    e164: str
    site: str
    flow: str
    language: str
    time_zone: str
    schedule: str | None = None
    closed_prompt: str = "closed"
    holiday_prompt: str = "holiday"
    region: str | None = None

    @property
    def home_region(self) -> str | None:
        """Where the number is (its `region`, else its country code's main region): a national caller number
        reaching it is read as dialled from there."""
        if self.region is not None:
            return self.region
        region = phonenumbers.region_code_for_number(phonenumbers.parse(self.e164))
        return region if region in phonenumbers.SUPPORTED_REGIONS else None  # not "001" (+800 and such)


_KEYS = frozenset(
    {"number", "region", "site", "flow", "language", "time_zone", "schedule", "closed_prompt", "holiday_prompt"}
)


def build_numbers(
    data: object, catalog: Catalog, schedules: Mapping[str, Schedule]
) -> tuple[list[Number], list[Problem]]:
    """The numbers of the `numbers:` list and every problem found; a number with a problem is left out. A
    schedule may be one of `schedules` or a name of `catalog.schedules` (one that did not build, whose
    problems are reported where it is defined)."""
    if not isinstance(data, list):
        return [], [Problem((), "numbers must be a list")]
    numbers: list[Number] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data):
        found: list[Problem] = []
        e164, number = _number(item, (index,), catalog, schedules, found)
        if e164 is not None:
            if e164 in seen:
                found.append(Problem((index, "number"), f"{e164} is listed twice (first at entry {seen[e164]})"))
            seen.setdefault(e164, index)
        problems.extend(found)
        if number is not None and not found:
            numbers.append(number)
    return numbers, problems


def _number(
    item: object, path: DataPath, catalog: Catalog, schedules: Mapping[str, Schedule], problems: list[Problem]
) -> tuple[str | None, Number | None]:
    """The number in E.164 when it is one, and the whole entry when it has no problem."""
    if not isinstance(item, dict):
        problems.append(Problem(path, "a number must be a mapping (number, site, flow, ...)"))
        return None, None
    for key in item:
        if key not in _KEYS:
            message = f"unknown key {key!r} (expected {', '.join(sorted(_KEYS))})"
            problems.append(Problem((*path, str(key)), message, at_key=True))
    before = len(problems)
    region = _optional_text(item, "region", path, problems)
    if region is not None and region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        problems.append(Problem((*path, "region"), f"unknown region {region!r} (use a country code like ES)"))
        region = None
    e164 = _e164(item.get("number"), region, (*path, "number"), problems)
    site = _required_text(item, "site", path, problems)
    flow = _required_text(item, "flow", path, problems)
    if flow is not None and flow not in catalog.flows:
        problems.append(Problem((*path, "flow"), f"no flow is named {flow!r}"))
    language = _optional_text(item, "language", path, problems) or "en"
    if language not in catalog.languages:
        known = ", ".join(sorted(catalog.languages))
        problems.append(Problem((*path, "language"), f"language {language!r} is not one of {known}"))
    schedule = _optional_text(item, "schedule", path, problems)
    if schedule is not None and schedule not in schedules and schedule not in catalog.schedules:
        problems.append(Problem((*path, "schedule"), f"no schedule is named {schedule!r}"))
    time_zone = _time_zone(item, path, schedules, problems)
    prompts = {}
    for key in ("closed_prompt", "holiday_prompt"):
        name = _optional_text(item, key, path, problems)
        if name is not None and name not in catalog.prompts:
            problems.append(Problem((*path, key), f"no prompt is named {name!r}"))
        if name is not None:
            prompts[key] = name
    if len(problems) > before:
        return e164, None
    assert e164 is not None and site is not None and flow is not None and time_zone is not None
    return e164, Number(
        e164, site, flow, language, time_zone, schedule, region=region.upper() if region else None, **prompts
    )


def _e164(value: object, region: str | None, path: DataPath, problems: list[Problem]) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(path, 'a number is required ("+34 910 000 000")'))
        return None
    try:
        return normalize_number(value, region)
    except InvalidNumberError as exc:
        problems.append(Problem(path, exc.message))
        return None


def _time_zone(
    item: Mapping[str, Any], path: DataPath, schedules: Mapping[str, Schedule], problems: list[Problem]
) -> str | None:
    """The number's own time zone, else its schedule's."""
    at, name = (*path, "time_zone"), item.get("schedule")
    if "time_zone" not in item and isinstance(name, str):
        if name in schedules:
            return schedules[name].time_zone
        problems.append(Problem(at, f"time_zone is required: schedule {name!r} cannot give its own"))
        return None
    problem = time_zone_problem(item.get("time_zone"), at)
    if problem is not None:
        problems.append(problem)
        return None
    return str(item["time_zone"])


def _required_text(item: Mapping[str, Any], key: str, path: DataPath, problems: list[Problem]) -> str | None:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        problems.append(Problem((*path, key), f"{key} is required"))
        return None
    return value


def _optional_text(item: Mapping[str, Any], key: str, path: DataPath, problems: list[Problem]) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(Problem((*path, key), f"{key} must be a name, not {value!r}"))
        return None
    return value
