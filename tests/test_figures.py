"""Figures as a reader sees them: rounded half up, whatever the type they come as."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lmreview.figures import fmt_number, fmt_pct, half_up


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (Decimal("3.25"), 1, "3.3"),  # sustainability of the demo review
        (Decimal("3.75"), 1, "3.8"),  # efficiency
        (Decimal("5.125"), 1, "5.1"),  # relevance, in the brief
        (Decimal("5.125"), 2, "5.13"),  # relevance, on the ratings page
        (Decimal("2.5"), 0, "3"),
        (Decimal("0.125"), 2, "0.13"),
        (5.125, 2, "5.13"),  # a float from JSON: the decimal it prints as, not its binary neighbour
        (2.675, 2, "2.68"),
        (1234567.5, 0, "1,234,568"),
        (7, 2, "7.00"),
        (None, 1, "–"),
    ],
)
def test_numbers_round_half_up(value: Decimal | float | int | None, places: int, shown: str) -> None:
    assert fmt_number(value, places) == shown


def test_percentages_round_half_up() -> None:
    assert fmt_pct(Decimal("12.5"), 0) == "13%"
    assert fmt_pct(Decimal("84.25")) == "84.3%"
    assert fmt_pct(62.5, 0) == "63%"
    assert fmt_pct(None) == "–"
    assert half_up(Decimal("-2.5")) == Decimal(-3)  # away from zero, the same for losses
