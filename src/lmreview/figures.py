"""Figures that carry their denominator and the rows behind them.

Every number lmreview prints is one of these value objects: a :class:`Summary` of a numeric field over the
projects that have a value, or a :class:`Share` of a group among all projects. Each keeps the codes of the rows it
was computed from and the rule that produced it, so a reader can check it and the web UI can link it to its rows.
Values are exact (Decimal) and unrounded; rounding happens only when a figure is rendered.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True, slots=True)
class Summary:
    """n, total, mean, median, min and max of a field over the ``n`` of ``of`` rows that have a value."""

    field: str
    of: int
    n: int
    total: Decimal | None
    mean: Decimal | None
    median: Decimal | None
    min: Decimal | None
    max: Decimal | None
    rows: tuple[str, ...] = ()
    rule: str = ""

    @classmethod
    def of_values(cls, field: str, of: int, values: Sequence[tuple[str, Decimal]], rule: str = "") -> Summary:
        numbers = [v for _, v in values]
        if not numbers:
            return cls(field, of, 0, None, None, None, None, None, (), rule)
        total = sum(numbers, Decimal(0))
        return cls(
            field=field,
            of=of,
            n=len(numbers),
            total=total,
            mean=total / len(numbers),
            median=statistics.median(numbers),
            min=min(numbers),
            max=max(numbers),
            rows=tuple(code for code, _ in values),
            rule=rule,
        )

    def as_json(self, rows: bool = False) -> dict[str, object]:
        """The figures; with ``rows``, also the codes of the projects behind them (``"rows"``)."""
        data: dict[str, object] = {
            "n": self.n,
            "total": _num(self.total),
            "mean": _num(self.mean),
            "median": _num(self.median),
            "min": _num(self.min),
            "max": _num(self.max),
        }
        if rows:
            data["rows"] = list(self.rows)
        return data


@dataclass(frozen=True, slots=True)
class Share:
    """A group (a region, a year...) with its count of projects among ``of`` and its part of the budget."""

    value: str | None
    projects: int
    of: int
    budget_usd: Decimal | None
    budget_of: Decimal | None
    rows: tuple[str, ...] = field(default=())

    @property
    def pct(self) -> Decimal | None:
        return Decimal(100) * self.projects / self.of if self.of else None

    @property
    def budget_pct(self) -> Decimal | None:
        if self.budget_usd is None or not self.budget_of:
            return None
        return Decimal(100) * self.budget_usd / self.budget_of

    def as_json(self, rows: bool = False) -> dict[str, object]:
        """The figures; with ``rows``, also the codes of the group's projects (``"rows"``)."""
        data: dict[str, object] = {
            "value": self.value,
            "projects": self.projects,
            "pct": _num(self.pct),
            "budget_usd": _num(self.budget_usd),
            "budget_pct": _num(self.budget_pct),
        }
        if rows:
            data["rows"] = list(self.rows)
        return data


def _num(value: Decimal | None) -> float | int | None:
    """A JSON number: integers stay integers, other values become floats (unrounded to float precision)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def half_up(value: Decimal | float | int, places: int = 0) -> Decimal:
    """``value`` rounded half up (away from zero) to ``places`` decimals, as a reader rounds: 3.25 → 3.3,
    5.125 → 5.13. A float is taken as the decimal it prints as (0.125, not its binary neighbour)."""
    exact = (
        value if isinstance(value, Decimal) else Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    )
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt_number(value: Decimal | float | int | None, places: int = 0) -> str:
    """For display only: thousands separators and ``places`` decimals rounded half up; "–" for no value."""
    if value is None:
        return "–"
    return f"{half_up(value, places):,.{places}f}"


def fmt_pct(value: Decimal | float | int | None, places: int = 1) -> str:
    """A percentage rounded half up to ``places`` decimals: 12.5 → "13%" with ``places=0``."""
    return "–" if value is None else f"{half_up(value, places):.{places}f}%"


def fmt_quantity(value: Decimal | int | None) -> str:
    """An exact quantity without trailing zeros: months stored as 18.00 show as 18, 6.50 as 6.5."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 warning", "2 warnings"; ``many`` for irregular plurals."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
