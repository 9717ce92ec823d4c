from __future__ import annotations

from pathlib import Path

import pytest

import callboard.voice
from callboard.flows.say import MAX_VALUE, compose, digits, plural, words
from callboard.flows.system_prompts import LANGUAGES, SYSTEM_PROMPTS

PROMPTS = Path(callboard.voice.__file__).parent / "prompts"
LARGER = [1001, 1999, 2000, 2021, 5555, 10_000, 11_011, 21_000, 21_001, 99_999, 100_000, 101_101, 121_001, 500_500]
LARGER += [999_999, MAX_VALUE]


@pytest.mark.parametrize(
    ("value", "unit", "said"),
    [
        (0, "minutes", "zero minutes"),
        (1, "minutes", "one minute"),
        (2, "minutes", "two minutes"),
        (21, "seconds", "twenty-one seconds"),
        (1, "position", "one"),
        (15, None, "fifteen"),
        (100, None, "one hundred"),
        (342, None, "three hundred forty-two"),
        (1000, None, "one thousand"),
        (1001, "seconds", "one thousand one seconds"),
        (100_000, None, "one hundred thousand"),
        (999_999, None, "nine hundred ninety-nine thousand nine hundred ninety-nine"),
    ],
)
def test_english(value: int, unit: str | None, said: str) -> None:
    assert words(value, "en", unit) == said


@pytest.mark.parametrize(
    ("value", "unit", "said"),
    [
        (0, "minutes", "cero minutos"),
        (1, "minutes", "un minuto"),
        (1, "position", "uno"),
        (1, None, "uno"),
        (2, "seconds", "dos segundos"),
        (16, None, "dieciséis"),
        (21, "minutes", "veintiún minutos"),
        (21, "position", "veintiuno"),
        (22, None, "veintidós"),
        (31, "minutes", "treinta y un minutos"),
        (45, None, "cuarenta y cinco"),
        (100, None, "cien"),
        (100, "minutes", "cien minutos"),
        (101, None, "ciento uno"),
        (101, "minutes", "ciento un minutos"),
        (115, None, "ciento quince"),
        (500, None, "quinientos"),
        (777, None, "setecientos setenta y siete"),
        (1000, None, "mil"),
        (1001, None, "mil uno"),
        (2000, None, "dos mil"),
        (21_000, None, "veintiún mil"),
        (100_000, None, "cien mil"),
        (101_000, None, "ciento un mil"),
        (121_001, "minutes", "ciento veintiún mil un minutos"),
        (999_999, None, "novecientos noventa y nueve mil novecientos noventa y nueve"),
    ],
)
def test_spanish(value: int, unit: str | None, said: str) -> None:
    assert words(value, "es", unit) == said


@pytest.mark.parametrize(
    ("value", "unit", "said"),
    [
        (0, "minutes", "ноль минут"),
        (1, "minutes", "одна минута"),
        (2, "minutes", "две минуты"),
        (4, "seconds", "четыре секунды"),
        (5, "minutes", "пять минут"),
        (11, "minutes", "одиннадцать минут"),
        (12, "minutes", "двенадцать минут"),
        (14, "seconds", "четырнадцать секунд"),
        (21, "minutes", "двадцать одна минута"),
        (22, "minutes", "двадцать две минуты"),
        (25, "minutes", "двадцать пять минут"),
        (111, "minutes", "сто одиннадцать минут"),
        (112, "seconds", "сто двенадцать секунд"),
        (122, "seconds", "сто двадцать две секунды"),
        (1, "position", "один"),
        (2, "position", "два"),
        (21, "position", "двадцать один"),
        (200, None, "двести"),
        (1000, None, "тысяча"),
        (1000, "minutes", "тысяча минут"),
        (1001, "minutes", "тысяча одна минута"),
        (2000, None, "две тысячи"),
        (5000, None, "пять тысяч"),
        (11_000, None, "одиннадцать тысяч"),
        (21_000, None, "двадцать одна тысяча"),
        (22_000, None, "двадцать две тысячи"),
        (101_000, None, "сто одна тысяча"),
        (999_999, None, "девятьсот девяносто девять тысяч девятьсот девяносто девять"),
    ],
)
def test_russian(value: int, unit: str | None, said: str) -> None:
    assert words(value, "ru", unit) == said


def test_prompt_names() -> None:
    assert compose(21, "ru", "minutes") == ["n-21-noun", "minute-one"]
    assert compose(21, "ru", "position") == ["n-21"]
    assert compose(1000, "es") == ["thousand-one"]
    assert compose(1000, "en") == ["n-1-noun", "thousand-one"]
    assert compose(101, "es") == ["n-1xx", "n-1"]
    assert compose(100, "es") == ["n-100"]
    assert digits("+34 61-2") == ["n-3", "n-4", "n-6", "n-1", "n-2"]


def test_russian_plural_categories() -> None:
    assert [plural(n, "ru") for n in (0, 1, 2, 4, 5, 11, 12, 14, 20, 21, 22, 25, 101, 111, 112, 122)] == [
        *("many", "one", "few", "few", "many", "many", "many", "many", "many", "one", "few", "many"),
        *("one", "many", "many", "few"),
    ]
    assert [plural(n, "en") for n in (0, 1, 2, 21)] == ["many", "one", "many", "many"]


@pytest.mark.parametrize(
    ("value", "language", "unit"), [(-1, "en", None), (MAX_VALUE + 1, "en", None), (5, "fr", None), (5, "en", "hours")]
)
def test_what_cannot_be_said(value: int, language: str, unit: str | None) -> None:
    with pytest.raises(ValueError):
        compose(value, language, unit)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_name_composed_is_a_shipped_prompt(language: str) -> None:
    shipped = {path.stem for path in (PROMPTS / language).glob("*.wav") if path.stat().st_size > 44}
    needed: set[str] = set()
    for value in [*range(1001), *LARGER]:
        for unit in (None, "minutes", "seconds", "position"):
            needed.update(compose(value, language, unit))
    needed.update(digits("0123456789"))
    assert needed <= set(SYSTEM_PROMPTS[language])
    assert needed <= shipped, sorted(needed - shipped)
