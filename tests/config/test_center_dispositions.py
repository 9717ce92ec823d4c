"""A workspace's `dispositions:` in the center file: read in order, bare codes as their own labels, errors at
their line and column, written back by `dump_center`, and absent (None) when the file has no such key."""

from __future__ import annotations

from test_center_errors import MINIMAL

from callboard.config.center import check_text, load_center_text
from callboard.config.dump import dump_center
from callboard.config.model import Disposition

WITH = MINIMAL.replace(
    "    workers:\n",
    "    dispositions:\n"
    "      - {code: sale, label: Sale, labels: {es: Venta, ru: Продажа}}\n"
    "      - no-answer\n"
    "    workers:\n",
    1,
)


def test_dispositions_are_read_in_order() -> None:
    (space,) = load_center_text(WITH, "c.yaml").workspaces
    assert space.dispositions == (
        Disposition("sale", "Sale", {"es": "Venta", "ru": "Продажа"}),
        Disposition("no-answer", "no-answer"),
    )
    (without,) = load_center_text(MINIMAL, "c.yaml").workspaces
    assert without.dispositions is None


def test_disposition_errors_point_at_the_value() -> None:
    wrong = "      - {code: sale}\n      - {code: 'not ok', colour: red}\n      - {}\n"
    text = WITH.replace("      - no-answer\n", wrong)
    assert [str(e) for e in check_text(text, "c.yaml")] == [
        "c.yaml:25:16: duplicate disposition code 'sale' (first defined at line 24)",
        "c.yaml:26:16: a disposition code is up to 64 letters, digits, '-' and '_'; got 'not ok'",
        "c.yaml:26:26: unknown key 'colour' in disposition; expected one of: code, label, labels",
        "c.yaml:27:9: missing required key 'code' in disposition",
    ]


def test_dispositions_are_written_back() -> None:
    center = load_center_text(WITH, "c.yaml")
    text = dump_center(center)
    assert "- {code: sale, label: Sale, labels: {es: Venta, ru: Продажа}}" in text
    assert load_center_text(text, "again.yaml") == center
