"""What every part of an IATI activity is read with: the file's problems, attributes, dates and numbers.

Split from :mod:`lmreview.portfolio.iati`, which maps an activity; :mod:`lmreview.portfolio.iati_budgets` reads its
budgets. Bad input never raises: it becomes a :class:`~lmreview.errors.Problem` located at ``FILE:LINE:PATH``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from lmreview.errors import Problem
from lmreview.portfolio.values import check_date

DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:\d{2})?$")
DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


class File:
    """The problems found so far and the line of every element, so that each message says where to look."""

    def __init__(self, filename: str, lines: dict[Element, int], generated: dt.date | None = None) -> None:
        self.filename = filename
        self.lines = lines
        self.problems: list[Problem] = []
        self.generated = generated  # the file's generated-datetime: the date its data is from

    def line(self, element: Element) -> int:
        return self.lines.get(element, 0)

    def error(self, at: Element, column: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.filename, self.line(at), column, message, severity))

    def warn(self, at: Element, column: str, message: str) -> None:
        self.error(at, column, message, "warning")


def read_date(f: File, parent: Element, child: str | None, column: str, name: str = "iso-date") -> dt.date | None:
    """The ``@iso-date`` (or ``@name``) of ``parent/child`` or of ``parent``; a datetime gives its date part."""
    element = parent.find(child) if child else parent
    if element is None:
        f.error(parent, column, f'<{child}> is missing; add it with iso-date="YYYY-MM-DD"')
        return None
    text = attr(element, name)
    if not text:
        f.error(element, column, f'the date is missing; write it as {name}="YYYY-MM-DD"')
        return None
    match = DATE.match(text)
    try:
        parsed = dt.date.fromisoformat(match[1]) if match else None
    except ValueError:
        parsed = None
    if parsed is None:
        f.error(element, column, f'"{text}" is not a date; write it as YYYY-MM-DD')
        return None
    try:
        return check_date(parsed, text)
    except ValueError as exc:
        f.error(element, column, str(exc))
        return None


def day(text: str) -> dt.date | None:
    """The date part of an ISO date or datetime attribute, or None."""
    match = DATE.match(text)
    try:
        return dt.date.fromisoformat(match[1]) if match else None
    except ValueError:
        return None


def attr(element: Element | None, name: str, default: str = "") -> str:
    return "" if element is None else (element.get(name) or default).strip()


def decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text) if DECIMAL.match(text) else None
    except InvalidOperation:
        return None


def currency(f: File, element: Element, column: str, text: str | None) -> str | None:
    if text is None:
        return None
    if not CURRENCY.match(text.strip()):
        f.error(element, column, f'"{text}" is not a currency code; write three capital letters (ISO 4217), e.g. USD')
        return None
    return text.strip()
