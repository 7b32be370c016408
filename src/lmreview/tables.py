"""Reading a table from a CSV or XLSX file, for every importer that takes one.

:func:`read_table` returns the header and the data rows with their row numbers (the line in a CSV, the row in the
sheet), or raises :class:`~lmreview.errors.BadInput` listing what is wrong with the file as a whole. It never lets a
library's exception reach the user: wrong encodings, binary files, corrupt or oversized workbooks and zip bombs
become one clear message each.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lmreview.errors import BadInput, Problem
from lmreview.text import text_problem

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # all members of an XLSX together
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MiB
MAX_ROWS = 200_000

_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(slots=True)
class Table:
    filename: str
    file_format: str  # "csv" | "xlsx"
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def sniff_format(data: bytes, filename: str) -> str:
    """ "csv", "xlsx" or "xml", from the content first and the name second; raises BadInput otherwise."""
    name = filename.lower()
    head = data[:2048]
    if not data.strip():
        raise BadInput([Problem(filename, 0, "-", "the file is empty")])
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(_XLS_MAGIC):
        raise BadInput([Problem(filename, 0, "-", "this is an old Excel 97-2003 .xls file; save it as .xlsx")])
    if name.endswith((".xlsx", ".xlsm")):
        raise BadInput([Problem(filename, 0, "-", "this is not an XLSX workbook (it is not a zip file)")])
    if data.startswith(_UTF16_BOMS):  # Excel's "Unicode Text": UTF-16, tab-separated
        return "csv"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        return "xml"
    if head.startswith(b"%PDF"):
        raise BadInput([Problem(filename, 0, "-", "this is a PDF; export the table as CSV or XLSX")])
    if b"\x00" in head:
        raise BadInput([Problem(filename, 0, "-", "this is a binary file, not a CSV (UTF-8) or XLSX table")])
    return "csv"


def read_table(data: bytes, filename: str) -> Table:
    kind = sniff_format(data, filename)
    if kind == "xlsx":
        return _read_xlsx(data, filename)
    if kind == "xml":
        raise BadInput([Problem(filename, 0, "-", "this is an XML file, not a CSV or XLSX table")])
    return _read_csv(data, filename)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, filename: str) -> str:
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise BadInput(
                [Problem(filename, 0, "-", f"the file starts as UTF-16 but byte {exc.start} is not; save it as UTF-8")]
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        byte = data[exc.start : exc.start + 1].hex()
        raise BadInput(
            [
                Problem(
                    filename,
                    line,
                    "-",
                    f"the file is not UTF-8 (byte 0x{byte} on line {line}); save it as "
                    "'CSV UTF-8 (Comma delimited)' in Excel, or convert it to UTF-8",
                )
            ]
        ) from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(data: bytes, filename: str) -> Table:
    text = _decode(data, filename)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise BadInput([Problem(filename, line, "-", "the file contains NUL characters")])
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line), strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1  # the line where the record being read began: where an unclosed quote opened
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if len(rows) > MAX_ROWS:
                raise BadInput([Problem(filename, start, "-", f"more than {MAX_ROWS} rows")])
            rows.append((start, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise BadInput(
            [
                Problem(
                    filename,
                    start,
                    "-",
                    f"the CSV cannot be read here ({exc}); check for an unclosed quote",
                )
            ]
        ) from None
    return _split_header(rows, filename, "csv")


def check_zip(data: bytes, filename: str, kind: str = "an XLSX workbook", folder: str = "xl/") -> None:
    """Refuse an Office file (``kind``, whose parts are in ``folder``) that is no zip, or that would expand too much
    (a zip bomb): any member over 1 MiB more than MAX_RATIO times its packed size, or MAX_UNCOMPRESSED in all."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise BadInput([Problem(filename, 0, "-", f"this is not {kind} (a damaged zip file)")]) from None
    with archive:
        names = set(archive.namelist())
        if "[Content_Types].xml" not in names or not any(n.startswith(folder) for n in names):
            raise BadInput([Problem(filename, 0, "-", f"this zip file is not {kind}")])
        total = 0
        for info in archive.infolist():
            total += info.file_size
            big = info.file_size > 1024 * 1024
            if big and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise BadInput(
                    [
                        Problem(
                            filename,
                            0,
                            "-",
                            f"refused: {info.filename} expands {info.file_size // max(info.compress_size, 1)}"
                            " times (a zip bomb?)",
                        )
                    ]
                )
        if total > MAX_UNCOMPRESSED:
            raise BadInput(
                [
                    Problem(
                        filename,
                        0,
                        "-",
                        f"refused: the {kind.split()[-1]} expands to {total // 1024 // 1024} MiB "
                        f"(limit {MAX_UNCOMPRESSED // 1024 // 1024} MiB)",
                    )
                ]
            )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return str(Decimal(repr(value)))
    return str(value).strip()


def read_sheets(
    data: bytes, filename: str, *, first_only: bool = False
) -> list[tuple[str, list[tuple[int, list[str]]]]]:
    """The sheets of an XLSX workbook, in order: each one's name and rows as text with their row numbers."""
    check_zip(data, filename)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise BadInput(
            [Problem(filename, 0, "-", f"the workbook cannot be read ({type(exc).__name__}: {exc})")]
        ) from None
    sheets: list[tuple[str, list[tuple[int, list[str]]]]] = []
    try:
        if not workbook.worksheets:
            raise BadInput([Problem(filename, 0, "-", "the workbook has no sheet")])
        for sheet in workbook.worksheets[:1] if first_only else workbook.worksheets:
            rows: list[tuple[int, list[str]]] = []
            try:
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    if number > MAX_ROWS + 1:
                        raise BadInput([Problem(filename, number, "-", f"more than {MAX_ROWS} rows")])
                    rows.append((number, [_cell_text(v) for v in values]))
            except BadInput:
                raise
            except Exception as exc:
                raise BadInput(
                    [Problem(filename, 0, "-", f"the sheet {sheet.title} cannot be read ({type(exc).__name__})")]
                ) from None
            sheets.append((str(sheet.title), rows))
    finally:
        workbook.close()
    return sheets


def _read_xlsx(data: bytes, filename: str) -> Table:
    _name, rows = read_sheets(data, filename, first_only=True)[0]
    return _split_header(rows, filename, "xlsx")


def read_workbook(data: bytes, filename: str) -> dict[str, Table]:
    """Every non-empty sheet of an XLSX workbook as a table, by sheet name (errors name ``FILE:SHEET``)."""
    tables: dict[str, Table] = {}
    for name, rows in read_sheets(data, filename):
        if any(any(cells) for _, cells in rows):
            table = _split_header(rows, f"{filename}:{name}", "xlsx")
            tables[name] = table
    return tables


def _split_header(rows: list[tuple[int, list[str]]], filename: str, kind: str) -> Table:
    rows = [(n, cells) for n, cells in rows if any(cells)]
    if not rows:
        raise BadInput([Problem(filename, 0, "-", "the file is empty: no header and no rows")])
    header_row, header = rows[0]
    while header and not header[-1]:
        header.pop()
    problems = []
    for index, name in enumerate(header):
        if problem := text_problem(name):
            problems.append(Problem(filename, header_row, "-", f"the name of column {index + 1} {problem}"))
        if not name and any(index < len(cells) and cells[index] for _, cells in rows[1:]):
            column = column_letter(index) if kind == "xlsx" else str(index + 1)
            problems.append(Problem(filename, header_row, "-", f"column {column} has values but no name"))
    table = Table(filename, kind, header, header_row)
    for number, cells in rows[1:]:
        if len(cells) > len(header):
            extra = cells[len(header) :]
            if any(extra):
                problems.append(
                    Problem(
                        filename,
                        number,
                        "-",
                        f"this row has {len(header) + max(i for i, c in enumerate(extra) if c) + 1}"
                        f" values but the header has {len(header)} columns",
                    )
                )
                continue
            cells = cells[: len(header)]
        # One search over the row (joined by spaces, which are no problem); cell by cell only when it finds one.
        bad = (
            [(i, p) for i, cell in enumerate(cells) if (p := text_problem(cell, multiline=True))]
            if text_problem(" ".join(cells), multiline=True)
            else []
        )
        for index, problem in bad:
            problems.append(Problem(filename, number, header[index] or column_letter(index), f"the value {problem}"))
        if bad:
            continue
        table.rows.append((number, cells + [""] * (len(header) - len(cells))))
    if problems:
        raise BadInput(problems)
    return table


@dataclass(slots=True)
class TableStream:
    """A table whose rows are read as they are consumed (:func:`stream_table`): the problems of a row (too many
    values, characters no text may hold) are added to ``problems`` and the row is left out, as :func:`read_table`
    would have refused the file for them."""

    filename: str
    file_format: str
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[str]]]
    problems: list[Problem] = field(default_factory=list)


def stream_table(data: bytes, filename: str) -> TableStream:
    """The table of a CSV file or of a workbook's first sheet row by row, without a list of its rows; the same rows
    and problems as :func:`read_table` (whose BadInput for the file as a whole comes when the row that shows it is
    read). A UTF-16 text, a file with NUL characters and a header with an unnamed column or a bad name are read
    whole by :func:`read_table` (their checks need the whole file) and streamed from the list."""
    kind = sniff_format(data, filename)
    clean = False  # True when no cell can hold a character no text may hold (the whole file has none)
    if kind == "xlsx":
        rows = _xlsx_rows(data, filename)
    elif kind != "csv" or data.startswith(_UTF16_BOMS) or b"\x00" in data:
        return _streamed(read_table(data, filename))
    else:
        text = _decode(data, filename)
        clean = text_problem(text, multiline=True) is None
        first_line = text.split("\n", 1)[0]
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line), strict=True)
        rows = _csv_rows(reader, filename)
    first = next(((number, cells) for number, cells in rows if any(cells)), None)
    if first is None:
        raise BadInput([Problem(filename, 0, "-", "the file is empty: no header and no rows")])
    header_row, header = first
    while header and not header[-1]:
        header.pop()
    if not all(header) or any(text_problem(name) for name in header):
        rows.close()  # type: ignore[attr-defined]
        return _streamed(read_table(data, filename))  # the header's problems, with every row's, as read_table
    stream = TableStream(filename, kind, header, header_row, iter(()))
    stream.rows = _checked_rows(rows, stream, clean=clean)
    return stream


def _xlsx_rows(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    """The rows of a workbook's first sheet as text, read as they are consumed (openpyxl's read-only mode); the
    checks and messages of :func:`read_sheets`."""
    check_zip(data, filename)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise BadInput(
            [Problem(filename, 0, "-", f"the workbook cannot be read ({type(exc).__name__}: {exc})")]
        ) from None
    try:
        if not workbook.worksheets:
            raise BadInput([Problem(filename, 0, "-", "the workbook has no sheet")])
        sheet = workbook.worksheets[0]
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > MAX_ROWS + 1:
                    raise BadInput([Problem(filename, number, "-", f"more than {MAX_ROWS} rows")])
                yield number, [_cell_text(v) for v in values]
        except BadInput:
            raise
        except Exception as exc:
            raise BadInput(
                [Problem(filename, 0, "-", f"the sheet {sheet.title} cannot be read ({type(exc).__name__})")]
            ) from None
    finally:
        workbook.close()


def _streamed(table: Table) -> TableStream:
    return TableStream(table.filename, table.file_format, table.header, table.header_row, iter(table.rows))


def _csv_rows(reader: Any, filename: str) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV reader with the line each starts on, stripped; BadInput as :func:`_read_csv` raises it."""
    count = 0
    start = 1
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            if count > MAX_ROWS:
                raise BadInput([Problem(filename, start, "-", f"more than {MAX_ROWS} rows")])
            count += 1
            yield start, [c.strip() for c in cells]
    except csv.Error as exc:
        raise BadInput(
            [Problem(filename, start, "-", f"the CSV cannot be read here ({exc}); check for an unclosed quote")]
        ) from None


def _checked_rows(
    rows: Iterator[tuple[int, list[str]]], stream: TableStream, *, clean: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """The data rows after the header, checked as :func:`_split_header` checks them (their text not again when the
    whole file is ``clean``)."""
    header, filename = stream.header, stream.filename
    width = len(header)
    for number, cells in rows:
        if not any(cells):
            continue
        if len(cells) > width:
            extra = cells[width:]
            if any(extra):
                stream.problems.append(
                    Problem(
                        filename,
                        number,
                        "-",
                        f"this row has {width + max(i for i, c in enumerate(extra) if c) + 1}"
                        f" values but the header has {width} columns",
                    )
                )
                continue
            cells = cells[:width]
        if not clean and text_problem(" ".join(cells), multiline=True):
            bad = [(i, p) for i, cell in enumerate(cells) if (p := text_problem(cell, multiline=True))]
            for index, problem in bad:
                stream.problems.append(
                    Problem(filename, number, header[index] or column_letter(index), f"the value {problem}")
                )
            if bad:
                continue
        yield number, cells if len(cells) == width else cells + [""] * (width - len(cells))


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def normalise_header(name: str) -> str:
    """Header names compare case-insensitively, with spaces and hyphens read as underscores."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def workbook_bytes(workbook: Any) -> bytes:
    """An openpyxl workbook saved as .xlsx, every text written as text. openpyxl takes any value that starts with
    "=" for a formula: a coded segment, a label, a title or a recommendation that begins with one would reach Excel
    or LibreOffice as a formula they compute (or run), and show something else than what was written."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
