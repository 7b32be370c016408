"""How the portable archive (``store/backup.py``) writes each column's values: exact, and readable by any JSON tool.

Scaled decimals travel as the integers stored, datetimes in UTC ISO 8601, dates and times in ISO 8601, bytes in
base64, decimals and UUIDs as text, JSON columns as their JSON text (a JSON ``null`` stays distinct from SQL
``NULL``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    Time,
    Uuid,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from lmreview.store.base import Scaled


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str  # int | scaled | bool | text | date | datetime | time | bytes | json | decimal | float | uuid


def column_kind(column: Any) -> str:
    """How a column's values are written to an archive (see the module's docstring)."""
    kind = column.type
    if isinstance(kind, Scaled):
        return "scaled"
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    for cls, name in (
        (JSON, "json"),
        (LargeBinary, "bytes"),
        (Boolean, "bool"),
        (DateTime, "datetime"),
        (Date, "date"),
        (Time, "time"),
        (Integer, "int"),
        (Float, "float"),
        (Numeric, "decimal"),
        (Uuid, "uuid"),
    ):
        if isinstance(kind, cls):
            return name
    return "text"


RAW_TYPES: dict[str, TypeEngine[Any]] = {
    "int": Integer(),
    "scaled": BigInteger(),
    "bool": Boolean(),
    "date": Date(),
    "datetime": DateTime(timezone=True),
    "time": Time(),
    "bytes": LargeBinary(),
    "float": Float(),
    "decimal": Numeric(asdecimal=True),
    "text": Text(),
    "json": Text(),
    "uuid": Text(),
}


def utc(value: dt.datetime) -> dt.datetime:
    # SQLite keeps lmreview's UTC datetimes without their offset; PostgreSQL answers in the session's time zone.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def encode(kind: str, value: Any) -> Any:
    """A database value as a JSON value."""
    if value is None:
        return None
    if kind == "datetime":
        return utc(value).isoformat()
    if kind in ("date", "time"):
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind in ("decimal", "uuid"):
        return str(value)
    return value


def decode(kind: str, value: Any) -> Any:
    """The inverse of :func:`encode`; raises ValueError or TypeError on a value of the wrong shape."""
    if value is None:
        return None
    if kind in ("int", "scaled"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"expected an integer, found {value!r:.40}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, found {value!r:.40}")
        return value
    if kind == "datetime":
        return utc(dt.datetime.fromisoformat(value))
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "time":
        return dt.time.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "decimal":
        return Decimal(value)
    if kind == "uuid":
        return str(uuid.UUID(value))
    if kind == "float":
        return float(value)
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {value!r:.40}")
    if kind == "json":
        json.loads(value)
    return value
