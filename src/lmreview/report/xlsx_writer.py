"""The report's workbook, written by XlsxWriter in its constant-memory mode: each row goes to the sheet's file as it
is appended, without an object per cell.

openpyxl (even in write-only mode) builds a cell object and an XML element for every value: about 10 µs a cell, and
the workbook of a 10,000-project report has 400,000 to 900,000 cells. XlsxWriter (BSD) writes the same sheets,
styles, column widths, frozen header and auto-filter (with its hidden ``_xlnm._FilterDatabase`` name) in a fraction
of that time, in files that Excel, LibreOffice and openpyxl all open. This module is the small interface the report
uses: text, numbers, booleans, and four styles (``NORMAL``, ``BOLD``, ``TITLE``, ``PERCENT``). Text is cleaned of
the control characters XML cannot hold (openpyxl refused such a value, and the whole report with it); a number that
is not finite is written as text (a spreadsheet has no NaN); dates as their ISO text, as the other formats show them.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

NORMAL, BOLD, TITLE, PERCENT = 0, 1, 2, 3  # the styles a value can be written with (``Styled``)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
_CELL = re.compile(r"([A-Z]{1,3})([1-9]\d*)")


@dataclass(frozen=True, slots=True)
class Styled:
    """A value written with one of the styles (``BOLD``, ``TITLE``, ``PERCENT``)."""

    value: Any
    style: int


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def clean(text: str) -> str:
    """``text`` without the control characters XML cannot hold (a title pasted from elsewhere may carry one)."""
    return _ILLEGAL.sub("", text) if _ILLEGAL.search(text) else text


@dataclass
class Sheet:
    """One worksheet: set ``widths`` (column number -> width), ``freeze`` (the top-left cell that scrolls: "A4" keeps
    rows 1-3 in view, "B2" the first row and column; "A1" freezes nothing) and ``auto_filter`` ("A3:F100") at any
    time before the workbook is saved; ``append`` a row of values (or ``Styled`` values) at a time."""

    name: str
    book: Workbook
    sheet: Worksheet
    widths: dict[int, float] = field(default_factory=dict)
    freeze: str | None = None
    auto_filter: str | None = None
    count: int = 0  # rows appended, empty ones included

    def append(self, values: Iterable[Any]) -> None:
        row = self.count
        self.count += 1
        sheet, formats = self.sheet, self.book.formats
        for column, value in enumerate(values):
            style = None
            kind = type(value)
            if kind is Styled:
                value, style = value.value, formats[value.style]
                kind = type(value)
            if value is None or value == "":  # no cell (a styled one keeps its style)
                if style is not None:
                    sheet.write_blank(row, column, None, style)
            elif kind is str:
                sheet.write_string(row, column, clean(value), style)
            elif kind is int or kind is float:
                self._number(row, column, value, style)
            else:
                self._other(row, column, value, style)

    def _number(self, row: int, column: int, value: float, style: Format | None) -> None:
        if math.isfinite(value):
            self.sheet.write_number(row, column, value, style)
        else:
            self.sheet.write_string(row, column, str(value), style)

    def _other(self, row: int, column: int, value: Any, style: Format | None) -> None:
        if isinstance(value, bool):
            self.sheet.write_boolean(row, column, value, style)
        elif isinstance(value, Decimal) and value.is_finite():
            whole = value == value.to_integral_value()
            self.sheet.write_number(row, column, int(value) if whole else float(value), style)
        elif isinstance(value, int | float):
            self._number(row, column, value, style)
        elif isinstance(value, dt.date | dt.datetime):
            self.sheet.write_string(row, column, value.isoformat(), style)
        else:
            self.sheet.write_string(row, column, clean(str(value)), style)

    def finish(self) -> None:
        """Column widths, the frozen pane and the filter, written when the workbook is saved."""
        for column, width in self.widths.items():
            self.sheet.set_column(column - 1, column - 1, width)
        if self.freeze:
            left, top = _split(self.freeze)
            if left or top:
                self.sheet.freeze_panes(top, left)
        if self.auto_filter:
            first, _, last = self.auto_filter.partition(":")
            (top, left), (bottom, right) = _cell(first), _cell(last or first)
            self.sheet.autofilter(top, left, bottom, right)


class Workbook:
    """Sheets in the order they are created; ``save()`` returns the XLSX file."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._book = xlsxwriter.Workbook(
            self._buffer, {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
        )
        self.formats: dict[int, Format | None] = {
            NORMAL: None,
            BOLD: self._book.add_format({"bold": True}),
            TITLE: self._book.add_format({"bold": True, "font_size": 12}),
            PERCENT: self._book.add_format({"num_format": "0.0%"}),
        }
        self.sheets: list[Sheet] = []

    def create_sheet(self, name: str) -> Sheet:
        sheet = Sheet(name, self, self._book.add_worksheet(name))
        self.sheets.append(sheet)
        return sheet

    def save(self) -> bytes:
        for sheet in self.sheets:
            sheet.finish()
        self._book.close()
        return self._buffer.getvalue()


def _cell(reference: str) -> tuple[int, int]:
    """The 0-based (row, column) of a cell reference: B4 -> (3, 1)."""
    found = _CELL.fullmatch(reference)
    if found is None:
        raise ValueError(f"{reference!r} is not a cell reference such as A4")
    letters, digits = found.groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(digits) - 1, column - 1


def _split(cell: str) -> tuple[int, int]:
    """The columns and rows a frozen pane keeps in view when ``cell`` is the first that scrolls: B4 -> (1, 3)."""
    row, column = _cell(cell)
    return column, row
