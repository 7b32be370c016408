"""Exact sums of money in SQL, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, func, type_coerce

SPLIT = 10**9  # see exact_sum


def exact_sum(value: Any) -> tuple[Any, Any]:
    """Two SQL sums whose combination (:func:`exact_total`) is the exact sum of a ``Scaled`` column: SQLite sums
    integers in 64 bits and stops at an overflow, which a few amounts at the edge of the column reach; the parts
    (whole billions of units, and the rest) stay far from it. The values are never negative (check constraints)."""
    raw = type_coerce(value, BigInteger)
    return func.sum(raw // SPLIT), func.sum(raw % SPLIT)


def exact_total(high: Any, low: Any, scale: int = 2) -> Decimal | None:
    if high is None:
        return None
    units = Decimal(1).scaleb(-scale)
    return (Decimal(int(high) * SPLIT + int(low)) * units).quantize(units)
