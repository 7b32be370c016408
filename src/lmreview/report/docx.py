"""DOCX through python-docx: real Word headings (Heading 1/2, so Word's navigation pane and table of contents work),
tables with a repeated header row and a caption, charts as PNG pictures with their alt text, a table of contents
field (Word fills in the page numbers when it updates fields) and page numbers in the footer.

The report walks the same outline as the HTML (``report.html.outline``), so numbers and captions agree.
"""

from __future__ import annotations

import copy
import io
import re
from typing import TYPE_CHECKING, Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from markdown_it import MarkdownIt
from markdown_it.token import Token

from lmreview.figures import fmt_number
from lmreview.report.html import Block, Cell, outline

if TYPE_CHECKING:
    from lmreview.analysis.review_report import Brief, ReviewReport
    from lmreview.report.charts import Chart

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
MUTED = RGBColor(0x55, 0x55, 0x55)


def _field(paragraph: Any, instruction: str, shown: str = "") -> None:
    """A Word field (PAGE, TOC...) in ``paragraph``, showing ``shown`` until Word updates it."""

    def char(kind: str) -> None:
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(element)

    char("begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    paragraph.add_run()._r.append(code)
    char("separate")
    paragraph.add_run(shown)
    char("end")


def _repeat_header(row: Any) -> None:
    properties = row._tr.get_or_add_trPr()
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    properties.append(element)


def _table(doc: Any, header: list[str], body: list[list[Cell]]) -> Any:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    first = body[0] if body else []
    for index, (cell, text) in enumerate(zip(table.rows[0].cells, header, strict=True)):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        if index < len(first) and first[index].num:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _repeat_header(table.rows[0])
    _small(table.rows[0].cells)
    # python-docx builds a row in about 2 ms (and reads every row of the table to find its cells), a 10,000-row
    # annex in tens of seconds: a row is built by it once for each shape (which cells are figures, which are empty),
    # and the rows of the same shape are copies of it with their texts set.
    shapes: dict[tuple[tuple[bool, bool], ...], Any] = {}
    tbl = table._tbl
    for row in body:
        shape = tuple((value.num, bool(value.text)) for value in row)
        plain = not any(_SPECIAL.search(value.text) for value in row)
        model = shapes.get(shape) if plain else None
        if model is not None:
            tr = copy.deepcopy(model)
            for tc, value in zip(tr.iterchildren(_TC), row, strict=True):
                if value.text:
                    tc.find(_TEXT).text = value.text
            tbl.append(tr)
            continue
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value.text
            if value.num:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _small(cells)
        if plain:
            shapes[shape] = tbl.tr_lst[-1]
    return table


_SPECIAL = re.compile(r"[\t\n\r]|^\s|\s$")  # tabs, breaks and edge spaces: python-docx writes them its own way
_TC = qn("w:tc")
_TEXT = f"{qn('w:p')}/{qn('w:r')}/{qn('w:t')}"


def _small(cells: Any) -> None:
    for cell in cells:
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(9)


def _caption(doc: Any, text: str) -> None:
    doc.add_paragraph(text, style="Caption")


def _note(doc: Any, text: str) -> None:
    run = doc.add_paragraph().add_run(text)
    run.font.size = Pt(8.5)
    run.font.color.rgb = MUTED


def _picture(doc: Any, chart: Chart) -> None:
    doc.add_picture(io.BytesIO(chart.png), width=Cm(16))
    inline = doc.inline_shapes[-1]._inline
    inline.docPr.set("descr", chart.alt)  # the alt text Word shows and screen readers read
    inline.docPr.set("title", chart.title)


def _thumbnails(doc: Any, block: Block) -> None:
    """The images received for a question, three to a row, each with its row and file name under it."""
    columns = 3
    table = doc.add_table(rows=(len(block.images) + columns - 1) // columns, cols=columns)
    for index, thumb in enumerate(block.images):
        cell = table.cell(index // columns, index % columns)
        paragraph = cell.paragraphs[0]
        width = Cm(4.5) if thumb.width >= thumb.height else Cm(4.5 * thumb.width / max(thumb.height, 1))
        paragraph.add_run().add_picture(io.BytesIO(thumb.jpeg), width=width)
        inline = paragraph.runs[-1]._r.xpath(".//wp:docPr")
        if inline:
            inline[0].set("descr", f"{thumb.filename}, sent for {thumb.unit}")
        label = cell.add_paragraph().add_run(f"{thumb.unit} · {thumb.filename}")
        label.font.size, label.font.color.rgb = Pt(8), MUTED


# --- Markdown --------------------------------------------------------------------------------------------------------


def _inline(paragraph: Any, token: Token) -> None:
    bold = italic = code = False
    for child in token.children or []:
        if child.type == "strong_open":
            bold = True
        elif child.type == "strong_close":
            bold = False
        elif child.type == "em_open":
            italic = True
        elif child.type == "em_close":
            italic = False
        elif child.type in ("text", "code_inline"):
            run = paragraph.add_run(child.content)
            run.bold, run.italic = bold or None, italic or None
            if child.type == "code_inline" or code:
                run.font.name = "Courier New"
        elif child.type == "softbreak":
            paragraph.add_run(" ")
        elif child.type == "hardbreak":
            paragraph.add_run().add_break()


def add_markdown(doc: Any, text: str, shift: int = 2) -> None:
    """Markdown as Word paragraphs: headings (``shift`` levels down), paragraphs, lists, quotes, code, tables."""
    tokens = _MD.parse(text)
    lists: list[list[int]] = []  # per open list: [next number] (0 for bullets)
    style: str | None = None
    quote = False
    rows: list[list[str]] | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            level = min(9, int(token.tag[1]) + shift)
            heading = doc.add_heading("", level=level)
            _inline(heading, tokens[index + 1])
            index += 2
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = int(str(token.attrs.get("start", 1))) if kind == "ordered_list_open" else 0
            lists.append([start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            depth = min(len(lists), 3)
            # numbers are written out: Word's own list numbering would run on from one list to the next
            style = ("List" if lists[-1][0] else "List Bullet") + ("" if depth == 1 else f" {depth}")
        elif kind == "blockquote_open":
            quote = True
        elif kind == "blockquote_close":
            quote = False
        elif kind == "table_open":
            rows = []
        elif kind == "tr_open" and rows is not None:
            rows.append([])
        elif kind == "inline" and rows is not None and tokens[index - 1].type in ("th_open", "td_open"):
            rows[-1].append(token.content)
        elif kind == "table_close" and rows:
            _table(doc, rows[0], [[Cell(c) for c in row] for row in rows[1:]])
            rows = None
        elif kind in ("fence", "code_block"):
            run = doc.add_paragraph().add_run(token.content.rstrip("\n"))
            run.font.name = "Courier New"
            run.font.size = Pt(9)
        elif kind == "inline" and rows is None:
            paragraph = doc.add_paragraph(style="Quote" if quote else style)
            if style is not None and lists and lists[-1][0]:
                paragraph.add_run(f"{lists[-1][0]}. ")
                lists[-1][0] += 1
                paragraph.paragraph_format.left_indent = Cm(0.63 * len(lists))
                paragraph.paragraph_format.first_line_indent = Cm(-0.63)
            _inline(paragraph, token)
            style = None
        index += 1


# --- the report and the brief ----------------------------------------------------------------------------------------


def _page_numbers(doc: Any) -> None:
    paragraph = doc.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph.add_run("Page ")
    _field(paragraph, "PAGE", "1")
    paragraph.add_run(" of ")
    _field(paragraph, "NUMPAGES", "1")


def _contents(doc: Any, headings: list[Block]) -> None:
    doc.add_paragraph("Contents", style="TOC Heading")
    paragraph = doc.add_paragraph()
    lines = [("    " if h.level == 2 else "") + f"{h.number} {h.text}" for h in headings]
    _field(paragraph, 'TOC \\o "1-2" \\h \\z \\u', "\n".join(lines))
    run = doc.add_paragraph().add_run("Word fills in the page numbers when you update the table (F9).")
    run.font.size, run.font.color.rgb, run.italic = Pt(8.5), MUTED, True


def render_docx(report: ReviewReport, charts: dict[str, Chart]) -> bytes:
    """The report as a Word document."""
    blocks = outline(report, charts)
    doc = Document()
    doc.core_properties.title = report.title
    doc.core_properties.subject = f"Review {report.review}, portfolio {report.portfolio}"
    doc.add_heading(report.title, level=0)
    period = f" · period {report.period}" if report.period else ""
    doc.add_paragraph(
        f"Review {report.review} · portfolio {report.portfolio}{period} · computed {report.generated.isoformat()}",
        style="Subtitle",
    )
    _contents(doc, [b for b in blocks if b.kind == "heading"])
    for b in blocks:
        if b.kind == "heading":
            doc.add_heading(f"{b.number} {b.text}", level=b.level)
        elif b.kind == "markdown":
            add_markdown(doc, b.text)
        elif b.kind == "paragraph":
            run = doc.add_paragraph().add_run(b.text)
            run.italic = b.placeholder or None
        elif b.kind == "facts":
            for term, cell in b.facts:
                paragraph = doc.add_paragraph()
                paragraph.add_run(f"{term}: ").bold = True
                paragraph.add_run(cell.text)
        elif b.kind == "table":
            _caption(doc, f"{b.number}. {b.text}")
            _table(doc, b.header, b.body)
            if b.note:
                _note(doc, b.note)
        elif b.kind == "figure" and b.chart is not None:
            _picture(doc, b.chart)
            _caption(doc, f"{b.number}. {b.text}")
        elif b.kind == "thumbnails" and b.images:
            _thumbnails(doc, b)
            _caption(doc, f"{b.number}. {b.text}")
    _page_numbers(doc)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def render_brief_docx(brief: Brief) -> bytes:
    """The evaluation brief as a Word document (seed 002's layout)."""
    doc = Document()
    doc.core_properties.title = f"Evaluation brief: {brief.title}"
    for section in doc.sections:
        section.top_margin = section.bottom_margin = Cm(1.6)
        section.left_margin = section.right_margin = Cm(1.8)
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading(brief.title.upper(), level=0)
    intro = doc.add_paragraph().add_run(
        "This brief sums up the main findings, conclusions and recommendations of the evaluation for the people who "
        "will act on them; the full report gives the details."
    )
    intro.italic = True
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for name, value in brief.header.items():
        cells = table.add_row().cells
        cells[0].text, cells[1].text = name, value
        cells[0].paragraphs[0].runs[0].bold = True
    doc.add_heading("Key findings & conclusions", level=1)
    if brief.general:
        add_markdown(doc, brief.general)
    for finding in brief.findings:
        paragraph = doc.add_paragraph()
        paragraph.add_run(finding.criterion).bold = True
        score = finding.score
        if score is not None and score.weighted is not None:
            top = f" of {finding.scale_top}" if finding.scale_top else ""
            run = paragraph.add_run(
                f" (weighted score {fmt_number(score.weighted, 1)}{top}; n = {len(score.scored)} sources)"
            )
            run.font.color.rgb = MUTED
        if finding.markdown:
            paragraph.add_run(":")
            add_markdown(doc, finding.markdown)
    doc.add_heading("Key recommendations", level=1)
    if brief.recommendations:
        add_markdown(doc, "\n".join(f"{number}. {item}" for number, item in enumerate(brief.recommendations, 1)))
    else:
        doc.add_paragraph("No recommendations have been written yet.").runs[0].italic = True
    _page_numbers(doc)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
