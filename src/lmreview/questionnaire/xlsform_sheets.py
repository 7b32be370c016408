"""The sheets of an XLSForm as rows of text: an ``.xlsx`` workbook, an Excel 97-2003 ``.xls`` workbook (read with
xlrd, as pyxform reads it) or pyxform's Markdown tables.

Only rows with content count: a sheet whose formatting reaches row 1,048,576 (``A1:AMJ1048576``, as LibreOffice
writes it) is read as the rows it holds, quickly, and a sheet with too many real rows is named in the message.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

from lmreview.errors import BadInput, Problem

Rows = list[tuple[int, dict[str, str]]]
MAX_FORM_ROWS = 20_000  # rows with content in one sheet: far beyond any questionnaire
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FORMATS = "an XLSForm is an .xlsx or .xls workbook (Excel), or pyxform's Markdown tables (.md)"


def read_markdown(text: str, filename: str) -> dict[str, Rows]:
    """pyxform's Markdown tables: ``| survey |`` opens a sheet, ``| | col | col |`` rows follow (first = header)."""
    sheets: dict[str, Rows] = {}
    header: list[str] | None = None
    current: str | None = None
    row = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("|"):
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if cells and cells[0]:
            current, header, row = cells[0].lower(), None, 0
            sheets.setdefault(current, [])
            continue
        if current is None:
            raise BadInput([Problem(filename, 0, "-", "a Markdown XLSForm starts with a sheet name: | survey |")])
        cells = cells[1:]
        row += 1
        if header is None:
            header = cells
            continue
        sheets[current].append((row, {h: c for h, c in zip(header, cells, strict=False) if h and c}))
    return sheets


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    return str(value).strip()


class _Sheet:
    """The rows with content of one sheet, counted as they come."""

    def __init__(self, filename: str, name: str) -> None:
        self.filename, self.name = filename, name
        self.rows: list[tuple[int, list[str]]] = []

    def add(self, number: int, values: list[str]) -> None:
        if not any(values):
            return
        if len(self.rows) >= MAX_FORM_ROWS:
            message = f"the sheet {self.name} has more than {MAX_FORM_ROWS:,} rows with content; is it a questionnaire?"
            raise BadInput([Problem(f"{self.filename}:{self.name}", number, "-", message)])
        self.rows.append((number, values))


def _xlsx_sheets(data: bytes, filename: str) -> list[_Sheet]:
    from openpyxl import load_workbook

    from lmreview.tables import check_zip

    check_zip(data, filename)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        message = f"the workbook cannot be read ({type(exc).__name__}: {exc})"
        raise BadInput([Problem(filename, 0, "-", message)]) from None
    sheets = []
    try:
        for worksheet in workbook.worksheets:
            sheet = _Sheet(filename, str(worksheet.title))
            try:
                worksheet.reset_dimensions()  # the rows the file holds, not the range its formatting declares
                for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                    sheet.add(number, [_text(v) for v in values])
            except BadInput:
                raise
            except Exception as exc:
                message = f"the sheet {worksheet.title} cannot be read ({type(exc).__name__})"
                raise BadInput([Problem(filename, 0, "-", message)]) from None
            sheets.append(sheet)
    finally:
        workbook.close()
    return sheets


def _xls_sheets(data: bytes, filename: str) -> list[_Sheet]:
    import xlrd  # type: ignore[import-untyped]

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd's errors for damaged or encrypted files
        message = f"this .xls workbook cannot be read ({type(exc).__name__}: {exc}); save it as .xlsx"
        raise BadInput([Problem(filename, 0, "-", message)]) from None
    sheets = []
    try:
        for index in range(book.nsheets):
            worksheet = book.sheet_by_index(index)
            sheet = _Sheet(filename, worksheet.name)
            for row in range(worksheet.nrows):
                values = []
                for cell in worksheet.row(row):
                    value = cell.value
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        value = xlrd.xldate.xldate_as_datetime(value, book.datemode)
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        value = bool(value)
                    values.append(_text(value))
                sheet.add(row + 1, values)
            sheets.append(sheet)
    finally:
        book.release_resources()
    return sheets


def xls_to_xlsx(data: bytes, filename: str) -> bytes:
    """An Excel 97-2003 workbook as XLSX: every sheet, each cell as the text lmreview reads from it."""
    from openpyxl import Workbook

    from lmreview.tables import workbook_bytes

    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in _xls_sheets(data, filename):
        target = workbook.create_sheet(sheet.name[:31])
        for number, values in sheet.rows:
            for column, value in enumerate(values, start=1):
                if value:
                    target.cell(row=number, column=column, value=value)
    return workbook_bytes(workbook)


def _by_name(sheets: list[_Sheet]) -> dict[str, Rows]:
    found: dict[str, Rows] = {}
    for sheet in sheets:
        if not sheet.rows:
            continue
        (_, header), body = sheet.rows[0], sheet.rows[1:]
        found[sheet.name.strip().lower()] = [
            (n, {h.strip(): c for h, c in zip(header, cells, strict=False) if h.strip() and c}) for n, cells in body
        ]
    return found


def read_source(data: bytes, filename: str) -> tuple[str, dict[str, Rows]]:
    """("xlsx" | "xls" | "md", the sheets by lower-case name, each as (row number, {header: text}) below its header)."""
    if not data.strip():
        raise BadInput([Problem(filename, 0, "-", "the file is empty")])
    if data.startswith(b"PK\x03\x04"):
        return "xlsx", _by_name(_xlsx_sheets(data, filename))
    if data.startswith(_XLS_MAGIC):
        return "xls", _by_name(_xls_sheets(data, filename))
    suffix = Path(filename).suffix.lower()
    if suffix in (".md", ".txt", ".markdown"):
        try:
            return "md", read_markdown(data.decode("utf-8-sig"), filename)
        except UnicodeDecodeError:
            raise BadInput([Problem(filename, 0, "-", "the Markdown form is not UTF-8")]) from None
    if suffix in (".xlsx", ".xls", ".xlsm"):
        message = (
            f"this {suffix} file is not an Excel workbook (it may be damaged, or another file renamed); {_FORMATS}"
        )
    elif suffix == ".csv":
        message = f"a CSV file holds one sheet, and an XLSForm needs its survey and choices sheets: {_FORMATS}"
    elif suffix in (".ods", ".xml"):
        message = f"{_FORMATS}; save the {suffix} file as .xlsx first"
    else:
        message = _FORMATS
    raise BadInput([Problem(filename, 0, "-", message)])
