"""The "Coded findings" part of the report: the code matrix of each codebook used in the review, as outline blocks
(so HTML, PDF, DOCX and XLSX print the same tables), and for the XLSX file the segments behind each count.

A report whose review has no coding says so in one sentence instead of printing an empty table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lmreview.figures import fmt_pct
from lmreview.report.xlsx_writer import clean

if TYPE_CHECKING:
    from lmreview.analysis.review_report import ReviewReport
    from lmreview.report.html import _Outline

TITLE = "Coded findings"
NOTHING_CODED = (
    "No answer or document of this review has been coded yet, so the report has no coded findings "
    "(see `lmreview coding` and the Coding page)."
)
SEGMENT_HEADER = ["code", "project", "source", "start", "end", "coder", "text", "memo"]


def coded_section(o: _Outline, report: ReviewReport) -> None:
    """A sub-section of the findings: one table per codebook, codes by the number of projects that carry them."""
    from lmreview.report.html import Cell

    o.sub_heading(TITLE)
    if not report.coded:
        o.paragraph(NOTHING_CODED)
        return
    o.paragraph(
        "Open answers and documents were coded with the codes of a codebook. A project has a code when a coding of "
        "it lies in the project's answers to the review or in a document about the project; each share is of the "
        "projects the coders had material for (a submitted questionnaire or a document in the library)."
    )
    for coded in report.coded:
        m = coded.matrix
        if coded.withheld:
            o.paragraph(
                f"Codebook {coded.codebook}: {len(coded.coders)} coders ({', '.join(coded.coders)}) have coded with it "
                "and do not see one another's codings yet; its counts appear here once the review manager opens "
                "the comparison (lmreview coding compare, or the Agreement page), so that they can be reconciled."
            )
            continue
        body = [
            [
                Cell(f.path),
                Cell(f"{f.units} of {f.of}", f.units, tuple(f.rows), True),
                Cell(fmt_pct(f.pct, 0), f.pct, num=True),
                Cell(str(f.segments), f.segments, num=True),
            ]
            for f in coded.coded
        ]
        unused = [f.code for f in m.codes if not f.units]
        note = f"Rule: {m.rule}."
        if unused:
            note += f" No project carries {', '.join(unused)}."
        book = coded.codebook + (f" ({coded.title})" if coded.title else "")
        o.table(
            f"Codes of codebook {book}: projects with each code (n = {m.of} projects with material; "
            f"% of {m.of}; {coded.codings} codings)",
            ["Code", "Projects", f"% of {m.of}", "Codings"],
            body,
            f"codes {coded.codebook}",
            note,
        )


def segment_sheets(report: ReviewReport) -> list[tuple[str, str, list[list[Any]]]]:
    """For the XLSX file: per codebook, (sheet name, title, rows) listing each segment behind a cell of its
    matrix — a coding of a document about two projects is listed under each."""
    sheets = []
    for coded in (c for c in report.coded if not c.withheld):
        rows: list[list[Any]] = [
            [s.code, s.project, s.source, s.start, s.end, s.coder, _clean(s.text), _clean(s.memo or "") or None]
            for s in coded.segments
        ]
        title = f"The segments behind each count of codebook {coded.codebook}: one line per coding and project"
        sheets.append((f"segments {coded.codebook}", title, rows))
    return sheets


def _clean(text: str) -> str:
    return clean(text)
