"""Numbers said with system prompts: which prompt files to play, in order, to say 0 to 999,999 with a unit.

`compose(21, "ru", "minutes")` is `["n-21-noun", "minute-one"]` ("двадцать одна минута"): each name is a
system prompt (`system_prompts.py`, shipped as `voice/prompts/<language>/<name>.wav`). The grammar each
language needs:

- Russian: the unit's form follows the number's last two digits ("одна минута", "две минуты", "пять минут",
  11 to 14 always "минут"); "минута", "секунда" and "тысяча" are feminine, so 1 and 2 before them are
  "одна", "две"; "тысяча / тысячи / тысяч" the same way, and 1,000 is just "тысяча".
- Spanish: "uno" alone but "un" before a masculine noun and before "mil" ("un minuto", "veintiún minutos",
  "veintiún mil"); "cien" alone, "ciento" when more follows; 1,000 is just "mil".
- English: "one minute", "two minutes", "one thousand".

Units: "minutes", "seconds", and "position" (number N in line: the number alone, the counting form). The
module is pure; `words` gives the same as text for chat and for tests.
"""

from __future__ import annotations

from typing import Literal

from callboard.flows.system_prompts import NOUN_FORMS, SYSTEM_PROMPTS

__all__ = ["MAX_VALUE", "UNITS", "compose", "digits", "plural", "words"]

MAX_VALUE = 999_999
UNITS = ("minutes", "seconds", "position")
_UNIT_PROMPTS = {"minutes": "minute", "seconds": "second"}
_NOUN_FORMS = frozenset(NOUN_FORMS)

Plural = Literal["one", "few", "many"]


def plural(count: int, language: str) -> Plural:
    """The plural category a noun counted `count` times takes (CLDR's names; English and Spanish: one, many)."""
    if language == "ru":
        last, last_two = count % 10, count % 100
        if last == 1 and last_two != 11:
            return "one"
        if 2 <= last <= 4 and not 12 <= last_two <= 14:
            return "few"
        return "many"
    return "one" if count == 1 else "many"


def compose(value: int, language: str, unit: str | None = None) -> list[str]:
    """The system prompt names that say `value` (and its unit) in `language`, in order."""
    if language not in SYSTEM_PROMPTS:
        raise ValueError(f"numbers cannot be said in {language!r} (known: {', '.join(SYSTEM_PROMPTS)})")
    if unit is not None and unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r} (known: {', '.join(UNITS)})")
    if not 0 <= value <= MAX_VALUE:
        raise ValueError(f"{value} cannot be said: numbers from 0 to {MAX_VALUE:,} can")
    counted = unit in _UNIT_PROMPTS
    names = _number(value, language, counted)
    if unit is not None and counted:
        names.append(f"{_UNIT_PROMPTS[unit]}-{plural(value, language)}")
    return names


def words(value: int, language: str, unit: str | None = None) -> str:
    """The same as `compose`, as text ("veintiún minutos")."""
    texts = SYSTEM_PROMPTS.get(language, {})
    return " ".join(texts[name] for name in compose(value, language, unit))


def digits(text: str) -> list[str]:
    """A number read back digit by digit ("6 1 2 ..."), whatever is not a digit left out."""
    return [f"n-{char}" for char in text if "0" <= char <= "9"]


def _number(value: int, language: str, before_noun: bool) -> list[str]:
    if value == 0:
        return ["n-0"]
    thousands, rest = divmod(value, 1000)
    names: list[str] = []
    if thousands == 1 and language != "en":
        names.append("thousand-one")  # "mil", "тысяча": no "one"
    elif thousands:
        names += _below_thousand(thousands, before_noun=True)
        names.append(f"thousand-{plural(thousands, language)}")
    if rest:
        names += _below_thousand(rest, before_noun)
    return names


def _below_thousand(value: int, before_noun: bool) -> list[str]:
    hundreds, rest = divmod(value, 100)
    names = []
    if hundreds:
        names.append("n-1xx" if hundreds == 1 and rest else f"n-{hundreds}00")
    if rest:
        names.append(f"n-{rest}-noun" if before_noun and rest in _NOUN_FORMS else f"n-{rest}")
    return names
