"""A small XLSX writer for the report's workbook: sheets of values written as SpreadsheetML text, straight into the
zip file, without an object per cell.

openpyxl (even in write-only mode) builds a cell object and an XML element for every value: about 10 µs a cell, and
the workbook of a 10,000-project report has 400,000 to 900,000 cells. This writer makes the parts openpyxl makes for
the same workbook (shared strings, a style sheet, column widths, a frozen header, an auto-filter with its hidden
``_xlnm._FilterDatabase`` name), in the element order of the SpreadsheetML schema, in about a fifth of the time; the
tests read its files back with openpyxl. It knows only what the report uses: text, numbers, booleans, and four
styles (``NORMAL``, ``BOLD``, ``TITLE``, ``PERCENT``). Text is cleaned of the control characters XML cannot hold
(openpyxl refused such a value, and the whole report with it).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

NORMAL, BOLD, TITLE, PERCENT = 0, 1, 2, 3  # the indexes of the cell formats of STYLES
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

STYLES = (
    _XML + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%"/></numFmts>'
    '<fonts count="3">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="12"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


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
    return _ILLEGAL.sub("", text)


def _text(text: str) -> str:
    text = escape(clean(text))
    if text != text.strip() or "\n" in text:
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


def quote_sheet(name: str) -> str:
    """A sheet name as a formula or a defined name refers to it: quoted unless it is letters, digits and _."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
        return name
    return "'" + name.replace("'", "''") + "'"


@dataclass
class Sheet:
    """One worksheet: set ``widths`` (column number -> width), ``freeze`` (the top-left cell that scrolls: "A4" keeps
    rows 1-3 in view, "B2" the first row and column; "A1" freezes nothing),
    ``auto_filter`` ("A3:F100") before writing; ``append`` a row of values (or ``Styled`` values) at a time."""

    name: str
    book: Workbook
    widths: dict[int, float] = field(default_factory=dict)
    freeze: str | None = None
    auto_filter: str | None = None
    rows: list[str] = field(default_factory=list)
    count: int = 0  # rows appended, empty ones included
    columns: int = 0  # the widest row, in cells

    def append(self, values: Iterable[Any]) -> None:
        self.count += 1
        number = self.count
        strings = self.book.strings
        letters = self.book.letters
        cells = []
        width = 0
        for index, value in enumerate(values):
            if index >= len(letters):
                self.book.more_letters(index)
            kind = type(value)
            style = 0
            if kind is Styled:
                value, style = value.value, value.style
                kind = type(value)
            if value is None or value == "":  # no cell, as openpyxl writes them
                if style:
                    cells.append(f'<c r="{letters[index]}{number}" s="{style}"/>')
                    width = index + 1
                continue
            width = index + 1
            s = f' s="{style}"' if style else ""
            if kind is str:
                found = strings.get(value)
                if found is None:
                    found = strings[value] = len(strings)
                cells.append(f'<c r="{letters[index]}{number}"{s} t="s"><v>{found}</v></c>')
            elif kind is int:
                cells.append(f'<c r="{letters[index]}{number}"{s}><v>{value}</v></c>')
            else:
                cells.append(self._other(f"{letters[index]}{number}", s, value))
        if cells:
            self.rows.append(f'<row r="{number}">{"".join(cells)}</row>')
            if width > self.columns:
                self.columns = width

    def _other(self, ref: str, s: str, value: Any) -> str:
        if isinstance(value, bool):
            return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, Decimal) and value.is_finite():
            value = int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, int):
            return f'<c r="{ref}"{s}><v>{int(value)}</v></c>'
        if isinstance(value, float) and math.isfinite(value):
            return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        return f'<c r="{ref}"{s} t="s"><v>{self.book.string_index(str(value))}</v></c>'

    def xml(self) -> Iterable[str]:
        last = f"{column_letter(max(self.columns, 1))}{max(self.count, 1)}"
        yield _XML + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        yield f'<dimension ref="A1:{last}"/>' if self.count else '<dimension ref="A1"/>'
        selected = ' tabSelected="1"' if self.book.sheets[0] is self else ""
        left, top = _split(self.freeze) if self.freeze else (0, 0)
        if left or top:
            pane = "bottomRight" if left and top else "topRight" if left else "bottomLeft"
            splits = (f' xSplit="{left}"' if left else "") + (f' ySplit="{top}"' if top else "")
            yield (
                f'<sheetViews><sheetView{selected} workbookViewId="0">'
                f'<pane{splits} topLeftCell="{self.freeze}" activePane="{pane}" state="frozen"/>'
                f'<selection pane="{pane}" activeCell="{self.freeze}" sqref="{self.freeze}"/>'
                "</sheetView></sheetViews>"
            )
        else:
            yield f'<sheetViews><sheetView{selected} workbookViewId="0"/></sheetViews>'
        yield '<sheetFormatPr defaultRowHeight="15"/>'
        if self.widths:
            cols = "".join(
                f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in sorted(self.widths.items())
            )
            yield f"<cols>{cols}</cols>"
        yield "<sheetData>"
        for start in range(0, len(self.rows), 5000):
            yield "".join(self.rows[start : start + 5000])
        yield "</sheetData>"
        if self.auto_filter:
            yield f'<autoFilter ref="{self.auto_filter}"/>'
        yield '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>'


class Workbook:
    """Sheets in the order they are created; ``save()`` returns the XLSX file."""

    def __init__(self) -> None:
        self.sheets: list[Sheet] = []
        self.strings: dict[str, int] = {}
        self.letters = [column_letter(n) for n in range(1, 65)]  # the letters of each column, A at 0

    def create_sheet(self, name: str) -> Sheet:
        sheet = Sheet(name, self)
        self.sheets.append(sheet)
        return sheet

    def more_letters(self, index: int) -> None:
        """``letters`` long enough for the column at 0-based ``index``."""
        while index >= len(self.letters):
            self.letters.append(column_letter(len(self.letters) + 1))

    def string_index(self, text: str) -> int:
        found = self.strings.get(text)
        if found is None:
            found = self.strings[text] = len(self.strings)
        return found

    def save(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as package:
            package.writestr("[Content_Types].xml", self._content_types())
            package.writestr(
                "_rels/.rels",
                _XML + f'<Relationships xmlns="{_PACKAGE_RELS}">'
                f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
                "</Relationships>",
            )
            package.writestr("xl/workbook.xml", self._workbook())
            package.writestr("xl/_rels/workbook.xml.rels", self._workbook_rels())
            package.writestr("xl/styles.xml", STYLES)
            for number, sheet in enumerate(self.sheets, start=1):
                with package.open(f"xl/worksheets/sheet{number}.xml", "w") as out:
                    for part in sheet.xml():
                        out.write(part.encode("utf-8"))
                sheet.rows = []  # written: the memory can go
            with package.open("xl/sharedStrings.xml", "w") as out:
                count = len(self.strings)
                out.write((_XML + f'<sst xmlns="{_MAIN}" count="{count}" uniqueCount="{count}">').encode())
                texts = list(self.strings)  # in index order (dicts keep insertion order)
                for start in range(0, count, 5000):
                    out.write("".join(f"<si>{_text(t)}</si>" for t in texts[start : start + 5000]).encode("utf-8"))
                out.write(b"</sst>")
        return buffer.getvalue()

    def _content_types(self) -> str:
        sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{sheet_type}"/>'
            for n in range(1, len(self.sheets) + 1)
        )
        office = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        return (
            _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{office}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{office}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{office}.sharedStrings+xml"/>'
            f"{sheets}</Types>"
        )

    def _workbook(self) -> str:
        sheets = "".join(
            f'<sheet name={quoteattr(s.name)} sheetId="{n}" r:id="rId{n}"/>' for n, s in enumerate(self.sheets, start=1)
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
            f"{escape(quote_sheet(s.name))}!{_absolute(s.auto_filter)}</definedName>"
            for n, s in enumerate(self.sheets)
            if s.auto_filter
        )
        return (
            _XML + f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><workbookPr/>'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets>" + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>"
        )

    def _workbook_rels(self) -> str:
        n = len(self.sheets)
        sheets = "".join(
            f'<Relationship Id="rId{i}" Type="{_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        return (
            _XML + f'<Relationships xmlns="{_PACKAGE_RELS}">{sheets}'
            f'<Relationship Id="rId{n + 1}" Type="{_RELS}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{n + 2}" Type="{_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        )


def _split(cell: str) -> tuple[int, int]:
    """The columns and rows a frozen pane keeps in view when ``cell`` is the first that scrolls: B4 -> (1, 3)."""
    found = re.fullmatch(r"([A-Z]{1,3})([1-9]\d*)", cell)
    if found is None:
        raise ValueError(f"{cell!r} is not a cell reference such as A4")
    letters, digits = found.groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return column - 1, int(digits) - 1


def _absolute(ref: str) -> str:
    """A1:F9 -> $A$1:$F$9."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":"))
