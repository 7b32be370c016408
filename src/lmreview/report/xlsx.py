"""XLSX: the data of every table and figure of the report, one sheet each, unrounded, and a
``sources`` sheet listing, for each figure, the rows behind it (project codes and the submissions they come from).

A reader who doubts a figure filters ``sources`` by it and sees which projects were counted. The sheets follow the
report's outline (``report.html.outline``), so "Table 4" is the same table in every format. The file is written by
``report.xlsx_writer`` (values as SpreadsheetML text, no object per cell): the workbook of a 10,000-project report has
hundreds of thousands of cells.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lmreview.report.coded import SEGMENT_HEADER, segment_sheets
from lmreview.report.html import outline
from lmreview.report.xlsx_writer import BOLD, PERCENT, TITLE, Sheet, Styled, Workbook

if TYPE_CHECKING:
    from lmreview.analysis.review_report import ReviewReport
    from lmreview.report.charts import Chart

_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(wanted: str, taken: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\."""
    base = _BAD.sub(" ", wanted).strip().strip("'")[:31] or "sheet"
    name, number = base, 2
    while name.casefold() in taken:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name.casefold())
    return name


def _value(value: Decimal | int | str | None) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _write(
    sheet: Sheet,
    title: str,
    header: list[str],
    rows: list[list[Any]],
    widths: dict[int, int] | None = None,
    after: list[str] | None = None,
) -> None:
    """A sheet: its column widths (the longest value of each column, header included, between 8 and 60 unless
    ``widths`` gives one) and frozen panes, the title, the header and the rows, then ``after`` (notes, one a line)."""
    given = widths or {}
    for index, name in enumerate(header):
        if index + 1 in given:
            sheet.widths[index + 1] = given[index + 1]
            continue
        values = (row[index] for row in rows if index < len(row))
        longest = max([len(str(name)), *(len(v) if type(v) is str else len(str(v)) for v in values)])
        sheet.widths[index + 1] = min(max(longest + 2, 8), 60)
    sheet.freeze = "A4"
    sheet.append([Styled(title, TITLE)])
    sheet.append([])
    sheet.append([Styled(h, BOLD) for h in header])
    for row in rows:
        sheet.append(row)
    for line in after or []:
        sheet.append([])
        sheet.append([line])


def render_xlsx(report: ReviewReport, charts: dict[str, Chart]) -> bytes:
    """The report's tables and figures as a workbook, with the rows behind every figure."""
    workbook = Workbook()
    about = workbook.create_sheet("about")
    taken = {"about"}
    m = report.methodology
    facts = [
        ("Report", report.title),
        ("Review", report.review),
        ("Portfolio", report.portfolio),
        ("Period", report.period or ""),
        ("Computed", report.generated.isoformat()),
        ("Projects", m.projects),
        ("Questionnaire", f"{m.form} {m.form_version}" if m.form else ""),
        ("Projects answered", m.response.projects),
        ("Response rate", float(m.response.projects / m.response.of) if m.response.of else None),
        ("Sheets", "one per table and figure of the report, values unrounded; 'sources' lists the rows behind each"),
    ]
    about.widths.update({1: 20, 2: 70})
    for name, value in facts:
        about.append([Styled(name, BOLD), Styled(value, PERCENT) if name == "Response rate" else value])

    for block in outline(report, charts):
        if block.kind == "table":
            sheet = workbook.create_sheet(_sheet_name(f"{block.number} {block.sheet}", taken))
            rows = [[_value(c.value) if c.value is not None else c.text for c in row] for row in block.body]
            _write(sheet, f"{block.number}. {block.text}", block.header, rows, after=[block.note] if block.note else [])
        elif block.kind == "figure" and block.chart is not None:
            chart = block.chart
            sheet = workbook.create_sheet(_sheet_name(f"{block.number} {chart.key}", taken))
            names = [name for name, _ in chart.series]
            rows = [[label, *(_value(values[i]) for _, values in chart.series)] for i, label in enumerate(chart.labels)]
            _write(sheet, f"{block.number}. {chart.title}", ["", *names], rows, after=[chart.alt])

    for name, title, rows in segment_sheets(report):
        sheet = workbook.create_sheet(_sheet_name(name, taken))
        _write(sheet, title, SEGMENT_HEADER, rows, {3: 44, 7: 60, 8: 40})

    sources = workbook.create_sheet(_sheet_name("sources", taken))
    lines: list[list[Any]] = []
    for source in report.sources():
        figure, n, of, rule = source.figure, source.n, source.of, source.rule
        if not source.rows:
            lines.append([figure, n, of, None, None, rule])
        elif source.submissions:  # one for each row (the rows of a figure are distinct)
            pairs = zip(source.rows, source.submissions, strict=True)
            lines.extend([[figure, n, of, row, submission or None, rule] for row, submission in pairs])
        else:
            lines.extend([[figure, n, of, row, None, rule] for row in source.rows])
    sources.auto_filter = f"A3:F{len(lines) + 3}"
    _write(
        sources,
        "The rows behind each figure: one line per row (project code) and figure; n of 'of' is the figure",
        ["figure", "n", "of", "row", "submission", "rule"],
        lines,
        {1: 48, 4: 14, 5: 44, 6: 60},
    )
    return workbook.save()
