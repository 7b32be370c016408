"""`lmreview.tables`: the parts the CLI tests cannot show well (see test_portfolio_import.py for the rest)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from lmreview.tables import column_letter, normalise_header, read_table, sniff_format


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA")],
)
def test_column_letter(index: int, letters: str) -> None:
    assert column_letter(index) == letters


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("code", "code"),
        (" Project Code ", "project_code"),
        ("Funding  Year", "funding_year"),
        ("Start-Date", "start_date"),
        ("NCE\u00a0months", "nce_months"),
        ("budget_usd", "budget_usd"),
        ("BUDGET - USD", "budget_usd"),
    ],
)
def test_normalise_header(header: str, key: str) -> None:
    assert normalise_header(header) == key


@pytest.mark.parametrize(
    ("data", "header", "row"),
    [
        (b"code,title\nA,x; y\n", ["code", "title"], ["A", "x; y"]),
        (b"code;title\nA;x, y\n", ["code", "title"], ["A", "x, y"]),
        (b"code\ttitle\nA\tx, y; z\n", ["code", "title"], ["A", "x, y; z"]),
        (b"code\nLM.0001\n", ["code"], ["LM.0001"]),
        (b"\xef\xbb\xbfcode;title\r\nA;x\r\n", ["code", "title"], ["A", "x"]),
        (
            "code\ttitle\r\nLM.0181\tMigrants' rights — Côte d'Ivoire\r\n".encode("utf-16"),
            ["code", "title"],
            ["LM.0181", "Migrants' rights — Côte d'Ivoire"],
        ),
    ],
    ids=["comma", "semicolon", "tab", "single-column", "bom-crlf", "excel-unicode-text-utf16"],
)
def test_delimiter_is_sniffed_from_the_header_line(data: bytes, header: list[str], row: list[str]) -> None:
    table = read_table(data, "t.csv")
    assert table.file_format == "csv"
    assert table.header == header
    assert table.rows == [(2, row)]


def test_csv_rows_are_numbered_by_line_and_padded_to_the_header() -> None:
    table = read_table(b'code,title,year,,\n\nA,"two\nlines"\n,,\nB,c,2014\n', "t.csv")
    assert table.header == ["code", "title", "year"]  # trailing empty header cells dropped
    assert table.header_row == 1
    assert table.rows == [(3, ["A", "two\nlines", ""]), (6, ["B", "c", "2014"])]


def test_xlsx_cells_become_the_text_a_csv_would_hold() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "int", "float", "year", "date", "midnight", "time", "bool", "none", "text"])
    sheet.append(
        [
            *("A", 70000, 6.5, 2014.0, dt.date(2014, 5, 1), dt.datetime(2014, 5, 1)),
            *(dt.datetime(2014, 5, 1, 10, 30), True, None, "  padded  "),
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "t.xlsx")
    assert table.file_format == "xlsx"
    assert table.rows == [
        (2, ["A", "70000", "6.5", "2014", "2014-05-01", "2014-05-01", "2014-05-01T10:30:00", "true", "", "padded"])
    ]


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"code,title\n", "projects.csv", "csv"),
        (b"code,title\n", "projects.txt", "csv"),
        (b"PK\x03\x04rest", "projects.csv", "xlsx"),  # the content decides, not the name
        (b'<?xml version="1.0"?><iati-activities/>', "projects.xml", "xml"),
        (b"\xef\xbb\xbf\n  <iati-activities/>", "projects.csv", "xml"),
    ],
)
def test_sniff_format(data: bytes, name: str, kind: str) -> None:
    assert sniff_format(data, name) == kind
