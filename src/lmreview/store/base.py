"""Declarative base shared by every stage's tables, and column types that are exact on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, String, event, func, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from lmreview.errors import LmreviewError, NotFound
from lmreview.text import ONE_LINE_COLUMNS, BadText, stored_problem

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1  # PostgreSQL's INTEGER; SQLite stores more, but the two databases must agree

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Base.registry, "before_configured")
def _every_stage(_registry: object) -> None:
    """Before the ORM first configures its mappers (the first ORM query or flush of a process), every stage's
    models are imported, so that relationships and foreign keys between stages resolve whichever modules the
    command imported. A command that only reads with Core tables (``stats``) never configures the mappers and
    does not pay for importing the models it does not use (80 ms of a fresh process)."""
    import lmreview.store.registry  # noqa: F401


RowT = TypeVar("RowT")


def get_row(session: Session, model: type[RowT], row_id: object, message: str) -> RowT:
    """The row of ``model`` with id ``row_id``, or :class:`NotFound` with ``message``.

    An id outside 1..INT_MAX (or not an integer) is refused the same way before it reaches the database: SQLite
    would overflow on it and PostgreSQL raise, while no row can have it.
    """
    found = find_row(session, model, row_id)
    if found is None:
        raise NotFound(message)
    return found


def find_row(session: Session, model: type[RowT], row_id: object) -> RowT | None:
    """The row of ``model`` with id ``row_id``, or None; an id outside 1..INT_MAX (or not an integer) finds nothing
    and never reaches the database."""
    if isinstance(row_id, bool) or not isinstance(row_id, int) or not 1 <= row_id <= INT_MAX:
        return None
    return session.get(model, row_id)


class Scaled(TypeDecorator[Decimal]):
    """A Decimal stored as an integer count of 1/10**scale units.

    SQLite has no exact decimal type (NUMERIC becomes a float); an integer keeps money and months exact and
    sortable on both databases. Values with more decimals than ``scale`` are refused, not rounded.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale
        self._unit = Decimal(10) ** scale

    @property
    def limit(self) -> Decimal:
        """The largest magnitude the column stores: BIGINT's range divided by the scale."""
        return Decimal(BIGINT_MAX).scaleb(-self.scale)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be stored in this column, or None."""
        try:
            number = Decimal(value)
        except (ArithmeticError, ValueError, TypeError):
            return f"{value!r} is not a number"
        if not number.is_finite():
            return f"{value} is not a finite number"
        if abs(number) > self.limit:
            return f"{value} is outside the range this column stores (-{self.limit:,} to {self.limit:,})"
        if number != number.quantize(Decimal(1).scaleb(-self.scale)):
            return f"{value} has more than {self.scale} decimals"
        return None

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        problem = self.problem(value)
        if problem is not None:
            raise ValueError(problem)
        return int(Decimal(value).scaleb(self.scale))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / self._unit).quantize(Decimal(1).scaleb(-self.scale))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class UnstorableValue(LmreviewError):
    """A value no column of lmreview can hold (out of range, not finite); nothing was written."""

    status = 422


@event.listens_for(Session, "before_flush")
def _last_guard(session: Session, _context: Any, _instances: Any) -> None:
    """Nothing with a control character, and no amount a ``Scaled`` column cannot hold, reaches either database.

    The doors (CLI, web, imports) refuse such values with a located message first; this guard makes the two
    databases behave alike for any value that slipped past them.
    """
    for obj in (*session.new, *session.dirty):
        mapper = inspect(obj).mapper
        for attr in mapper.column_attrs:
            check_value(mapper.local_table.name, attr.columns[0], getattr(obj, attr.key, None))


def check_value(table: str, column: Any, value: Any) -> None:
    """Raise what :func:`_last_guard` raises for ``value`` in ``column`` (also for rows written in bulk by Core)."""
    if value is None:
        return
    what = f"{table}.{column.name}"
    if isinstance(column.type, Scaled):
        problem = column.type.problem(value)
        if problem is not None:
            raise UnstorableValue(f"{what}: {problem}")
    elif isinstance(column.type, Integer) and not isinstance(value, bool) and isinstance(value, int):
        top = BIGINT_MAX if isinstance(column.type, BigInteger) else INT_MAX
        if not -top - 1 <= value <= top:
            raise UnstorableValue(f"{what}: {value} is outside the range this column stores ({-top - 1} to {top})")
    elif isinstance(column.type, String | JSON):
        length = getattr(column.type, "length", None)
        if isinstance(value, str) and length is not None and len(value) > length:
            raise UnstorableValue(f"{what}: the text is {len(value)} characters long; at most {length} fit here")
        multiline = not (isinstance(column.type, String) and column.name in ONE_LINE_COLUMNS)
        problem = stored_problem(value, what, multiline=multiline)
        if problem is not None:
            raise BadText(problem)
