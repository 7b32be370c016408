"""`stream_table` reads a CSV row by row and finds the same rows and problems as `read_table` reading it whole."""

from __future__ import annotations

import pytest

from lmreview import tables
from lmreview.errors import BadInput

CASES = {
    "plain": b"code,title\nA.1,One\nA.2,Two\n",
    "empty rows and short rows": b"\n\ncode,title,budget\n\nA.1,One\nA.2,Two,5\n,,\n",
    "trailing empty header cells": b"code,title,,\nA.1,One,,\n",
    "too many values": b"code,title\nA.1,One,extra\nA.2,Two\nA.3,Three,,\n",
    "a control character": b"code,title\nA.1,Bell \x07 here\nA.2,Two\n",
    "an unclosed quote": b'code,title\nA.1,"One\nA.2,Two\n',
    "semicolons, BOM and CRLF": b'\xef\xbb\xbfcode;title\r\nA.1;One\r\nA.2;"Two; three"\r\n',
    "a quoted line break": b'code,title\nA.1,"One\nand more"\nA.2,Two\n',
    "header only": b"code,title\n",
    "nothing but empty rows": b"\n,,\n\n",
    "an unnamed column with values": b"code,,title\nA.1,x,One\n",
    "an unnamed column without values": b"code,,title\nA.1,,One\n",
    "a header with a control character": b"code,ti\x07tle\nA.1,One\n",
    "not UTF-8": b"code,title\nA.1,Caf\xe9\n",
    "NUL": b"code,title\nA.1,O\x00ne\n",
    "UTF-16": "code\ttitle\nA.1\tOne\n".encode("utf-16"),
}


def outcome(read: object) -> tuple[str, object]:
    try:
        return "ok", read()  # type: ignore[operator]
    except BadInput as exc:
        return "refused", [str(p) for p in exc.problems]


def streamed(data: bytes) -> object:
    stream = tables.stream_table(data, "f.csv")
    rows = list(stream.rows)
    if stream.problems:
        raise BadInput(stream.problems)
    if not rows and not stream.header:
        raise AssertionError("no header")
    return (stream.header, stream.header_row, rows)


def whole(data: bytes) -> object:
    table = tables.read_table(data, "f.csv")
    return (table.header, table.header_row, table.rows)


@pytest.mark.parametrize("name", list(CASES))
def test_stream_reads_what_read_table_reads(name: str) -> None:
    data = CASES[name]
    assert outcome(lambda: streamed(data)) == outcome(lambda: whole(data))


def test_stream_stops_at_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "MAX_ROWS", 3)
    data = b"code\n" + b"".join(f"A.{i}\n".encode() for i in range(10))
    assert outcome(lambda: streamed(data)) == outcome(lambda: whole(data))
    assert outcome(lambda: whole(data))[0] == "refused"


def workbook(rows: list[list[object]]) -> bytes:
    import datetime as dt
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append([dt.date(2014, 5, 1) if v == "DATE" else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX = {
    "typed cells": [["code", "title", "budget", "start"], ["A.1", "One", 70000.5, "DATE"], [None], ["A.2", "Two", 5]],
    "too many values": [["code", "title"], ["A.1", "One", "extra"], ["A.2", "Two"]],
    "an unnamed column with values": [["code", None, "title"], ["A.1", "x", "One"]],
    "header only": [["code", "title"]],
    "empty": [[None]],
}


@pytest.mark.parametrize("name", list(XLSX))
def test_stream_reads_a_workbook_as_read_table(name: str) -> None:
    data = workbook(XLSX[name])

    def streamed_xlsx() -> object:
        stream = tables.stream_table(data, "f.xlsx")
        rows = list(stream.rows)
        if stream.problems:
            raise BadInput(stream.problems)
        assert stream.file_format == "xlsx"
        return (stream.header, stream.header_row, rows)

    def whole_xlsx() -> object:
        table = tables.read_table(data, "f.xlsx")
        return (table.header, table.header_row, table.rows)

    assert outcome(streamed_xlsx) == outcome(whole_xlsx)
