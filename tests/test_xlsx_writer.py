"""The report's XLSX writer (report/xlsx_writer.py, on XlsxWriter): what it writes reads back in openpyxl as the
values it was given — text with XML's special characters, spaces and line breaks, numbers, Decimals, booleans,
dates, empty cells, many columns, sheet names that need quoting — and text XML cannot hold is cleaned instead of
failing the report."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from lmreview.report.xlsx_writer import BOLD, PERCENT, TITLE, Styled, Workbook, column_letter


def test_values_read_back_as_written() -> None:
    book = Workbook()
    sheet = book.create_sheet("values")
    sheet.append([Styled("A title", TITLE)])
    sheet.append([])
    sheet.append([Styled("name", BOLD), Styled("value", BOLD)])
    rows = [
        ["XML's specials", "a & b <c> \"d\" 'e'"],
        ["spaces kept", "  two before, one after "],
        ["a line break", "first\nsecond"],
        ["control characters", "bell\x07 and\x0b tab\tkept"],
        ["beyond Latin", "Côte d’Ivoire · 🌍 · 北京"],
        ["Decimal, whole", Decimal("1650000.00")],
        ["Decimal, not", Decimal("117857.1428571428571428571")],
        ["a large int", 2**53 + 1],
        ["a float", 0.1 + 0.2],
        ["booleans", True],
        ["a date", dt.date(2026, 12, 5)],
        ["not finite", float("nan")],
        ["empty", ""],
        ["none", None],
    ]
    for row in rows:
        sheet.append(row)
    sheet.append([None, None, Styled(0.853, PERCENT)])
    loaded = load_workbook(io.BytesIO(book.save()))["values"]
    assert (loaded["A1"].value, loaded["A1"].font.b, loaded["A1"].font.sz) == ("A title", True, 12)
    assert loaded["A2"].value is None
    assert [c.value for c in loaded[3]] == ["name", "value", None]  # the sheet is three columns wide
    read = {r[0]: r[1] for r in loaded.iter_rows(min_row=4, max_row=3 + len(rows), values_only=True)}
    assert read["XML's specials"] == "a & b <c> \"d\" 'e'"
    assert read["spaces kept"] == "  two before, one after "
    assert read["a line break"] == "first\nsecond"
    assert read["control characters"] == "bell and tab\tkept"  # openpyxl refused these, and the whole report
    assert read["beyond Latin"] == "Côte d’Ivoire · 🌍 · 北京"
    assert read["Decimal, whole"] == 1650000
    assert isinstance(read["Decimal, whole"], int)
    # numbers to 16 significant digits, as Excel writes them (it shows 15 and computes in doubles)
    assert read["Decimal, not"] == pytest.approx(117857.14285714286, rel=1e-15)
    assert read["a large int"] == pytest.approx(2**53, rel=1e-15)
    assert read["a float"] == pytest.approx(0.3, rel=1e-15)
    assert read["booleans"] is True
    assert read["a date"] == "2026-12-05"
    assert read["not finite"] == "nan"  # a spreadsheet has no NaN: written as text, not as a broken number
    assert read["empty"] is None
    assert read["none"] is None
    last = loaded[3 + len(rows) + 1]
    assert (last[2].value, last[2].number_format) == (0.853, "0.0%")


def test_wide_sheets_quoted_names_widths_panes_and_filters() -> None:
    book = Workbook()
    first = book.create_sheet("about")
    first.append(["x"])
    sheet = book.create_sheet("it's Table 2, by region")
    sheet.widths.update({1: 12, 2: 8.5})
    sheet.freeze = "A4"
    sheet.append([f"c{i}" for i in range(1, 101)])  # past the 64 column letters made in advance
    sheet.append([])
    sheet.append(list(range(1, 101)))
    sheet.auto_filter = "A3:CV3"
    data = book.save()
    loaded = load_workbook(io.BytesIO(data))
    assert loaded.sheetnames == ["about", "it's Table 2, by region"]
    wide = loaded["it's Table 2, by region"]
    assert (wide["CV1"].value, wide["CV3"].value, wide["BL3"].value) == ("c100", 100, 64)
    assert wide["A2"].value is None
    assert (wide.max_row, wide.max_column) == (3, 100)
    assert wide.freeze_panes == "A4"
    # the widths as Excel shows them (the file stores them with the cell padding Excel adds)
    assert wide.column_dimensions["A"].width == pytest.approx(12, abs=1)
    assert wide.column_dimensions["B"].width == pytest.approx(8.5, abs=1)
    assert wide.auto_filter.ref == "A3:CV3"
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        workbook = package.read("xl/workbook.xml").decode()
    name = '<definedName name="_xlnm._FilterDatabase" localSheetId="1" hidden="1">'
    assert name + "'it''s Table 2, by region'!$A$3:$CV$3<" in workbook
    assert [column_letter(n) for n in (1, 26, 27, 52, 53, 702, 703, 16384)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"
    ]  # fmt: skip


def test_frozen_panes_keep_rows_columns_or_both_in_view() -> None:
    book = Workbook()
    for freeze in ("A4", "B2", "C1", "A1"):
        sheet = book.create_sheet(freeze)
        sheet.freeze = freeze
        sheet.append(["a", "b", "c"])
    loaded = load_workbook(io.BytesIO(book.save()))
    assert [loaded[name].freeze_panes for name in ("A4", "B2", "C1", "A1")] == ["A4", "B2", "C1", None]
    wrong = Workbook()
    wrong.create_sheet("x").freeze = "4A"
    with pytest.raises(ValueError, match="'4A' is not a cell reference"):
        wrong.save()
