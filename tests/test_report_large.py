"""Reports of large portfolios: long tables page in a browser, and a PDF leaves an annex longer than its limit to
the XLSX file, with a note saying so (the limits are lowered here so that lm2016's 14 projects exceed them)."""

from __future__ import annotations

import io
import zipfile

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from lmreview.analysis.review_report import review_report
from lmreview.report import html, xlsx
from lmreview.store import Store
from tests.conftest import SAMPLES, Cli


@pytest.fixture
def report(cli: Cli, store: Store) -> html.ReviewReport:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    run = cli("review", "create", "r16", "--portfolio", "lm2016", "--template", "idf-lm-2016", "--title", "IDF 2016")
    assert run.exit_code == 0, run.stderr
    with store.session() as session:
        return review_report(session, "r16")


def _annex(soup: BeautifulSoup) -> BeautifulSoup:
    heading = next(h for h in soup.find_all("h2") if "Projects" in h.get_text() and "Annex" in h.get_text())
    return heading


def test_a_long_table_pages_in_the_browser_and_a_short_report_has_no_script(
    report: html.ReviewReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = BeautifulSoup(html.render_html(report, {}), "html.parser")
    assert short.find("script") is None
    assert short.find("table", attrs={"data-page-rows": True}) is None
    monkeypatch.setattr(html, "PAGE_ROWS", 10)
    soup = BeautifulSoup(html.render_html(report, {}), "html.parser")
    table = _annex(soup).find_next("table")
    assert table["data-page-rows"] == "10"
    assert len(table.select("tbody tr")) == 14  # every row is in the file; the script shows ten at a time
    script = soup.find("script")
    assert script is not None
    assert "data-page-rows" in script.get_text()


def test_a_pdf_leaves_a_long_annex_to_the_xlsx_file_with_a_note(
    report: html.ReviewReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = BeautifulSoup(html.render_print_html(report, {}), "html.parser")
    assert "LM.0153" in _annex(full).find_next("table").get_text()
    monkeypatch.setattr(html, "PDF_ANNEX_ROWS", 10)
    soup = BeautifulSoup(html.render_print_html(report, {}), "html.parser")
    after = _annex(soup).find_next(["p", "table", "h2"])
    assert after.name == "p"
    sheet = after.get_text().split('sheet "', 1)[1].split('"', 1)[0]
    assert after.get_text() == (
        f'The 14 projects of portfolio lm2016 are listed in the XLSX version of this report (sheet "{sheet}") and in '
        "its HTML version: a PDF prints an annex only up to 10 rows."
    )
    assert "LM.0153" in BeautifulSoup(html.render_html(report, {}), "html.parser").get_text()
    book = load_workbook(io.BytesIO(xlsx.render_xlsx(report, {})))
    codes = [row[0] for row in book[sheet].iter_rows(values_only=True)]  # the sheet the note names
    assert len([c for c in codes if str(c).startswith("LM.")]) == 14


def test_a_pdf_lists_the_first_projects_without_a_questionnaire_and_the_html_all(
    report: html.ReviewReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(html, "PDF_LIST_CODES", 3)
    missing = report.methodology.missing
    assert len(missing) == 14  # no questionnaire came back
    printed = BeautifulSoup(html.render_print_html(report, {}), "html.parser").get_text(" ")
    first = ", ".join(missing[:3])
    assert f"14 projects: {first}, … (all of them in the HTML version of this report)" in printed
    assert missing[3] not in printed.split("Projects without a submitted questionnaire", 1)[1].split("Questionnaire")[0]
    assert ", ".join(missing) in BeautifulSoup(html.render_html(report, {}), "html.parser").get_text(" ")


def test_the_xlsx_file_keeps_its_styles_widths_frozen_header_and_filter(report: html.ReviewReport) -> None:
    data = xlsx.render_xlsx(report, {})
    book = load_workbook(io.BytesIO(data))
    about = book["about"]
    facts = {row[0].value: row[1] for row in about.iter_rows()}
    assert facts["Projects"].value == 14
    assert facts["Response rate"].value == 0  # no questionnaire came back: 0 of 14
    assert facts["Response rate"].number_format == "0.0%"
    assert about["A1"].font.b
    # widths as Excel shows them (the file stores them with the cell padding Excel adds, under 1)
    assert about.column_dimensions["A"].width == pytest.approx(20, abs=1)
    assert about.column_dimensions["B"].width == pytest.approx(70, abs=1)
    table = book["Table 1 summaries"]
    assert table["A1"].value.startswith("Table 1. Budget, length incl. NCE")
    assert (table["A1"].font.b, table["A1"].font.sz) == (True, 12)
    assert [c.value for c in table[3]] == [None, "n", "Total", "Mean", "Median", "Min", "Max"]
    assert all(c.font.b for c in table[3])
    assert table.freeze_panes == "A4"
    longest = len("No-cost extensions (months)") + 2  # the longest value + 2
    assert table.column_dimensions["A"].width == pytest.approx(longest, abs=1)
    assert table.column_dimensions["B"].width == pytest.approx(8, abs=1)  # the narrowest a column gets
    assert [c.value for c in table[5]][:3] == ["Length incl. NCE (months)", 14, 256.5]
    sources = book["sources"]
    assert sources.auto_filter.ref == f"A3:F{sources.max_row}"
    with zipfile.ZipFile(io.BytesIO(data)) as package:  # the name Excel's filter buttons read
        workbook = package.read("xl/workbook.xml").decode()
    assert f'localSheetId="{len(book.sheetnames) - 1}" hidden="1">sources!$A$3:$F${sources.max_row}<' in workbook


def test_the_formats_of_one_build_lay_the_report_out_once(report: html.ReviewReport) -> None:
    drawn: dict[str, html.Chart] = {}
    blocks = html.outline(report, drawn)
    assert html.outline(report, drawn) is blocks  # the HTML, the XLSX and the DOCX of one build share it
    assert html.outline(report, {}) is not blocks  # other charts: laid out again
    printed = html.outline(report, drawn, annex_rows=10)
    assert printed is not blocks
    assert any("a PDF prints an annex only up to 10 rows" in b.text for b in printed)
    assert not any("a PDF prints an annex" in b.text for b in blocks)


def test_docx_tables_hold_every_row_as_python_docx_writes_it(report: html.ReviewReport) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from lmreview.report import docx

    document = Document(io.BytesIO(docx.render_docx(report, {})))
    annex = next(t for t in document.tables if t.rows[0].cells[0].text == "Code" and len(t.rows) == 15)
    codes = [row.cells[0].text for row in annex.rows[1:]]
    assert codes == [p.code for p in report.projects]
    budget = annex.rows[1].cells[3].paragraphs[0]
    assert budget.alignment == WD_ALIGN_PARAGRAPH.RIGHT  # a figure
    assert annex.rows[1].cells[7].paragraphs[0].alignment is None  # the title
    assert all(run.font.size.pt == 9 for row in annex.rows for c in row.cells for run in c.paragraphs[0].runs)

    # Rows of one shape are copies of the first: texts of other shapes (empty, a tab, a line break, edge spaces)
    # are written by python-docx itself.
    cells = [["A", "1"], ["", "2"], ["tab\there", "3"], ["two\nlines", "4"], [" edge ", "5"], ["B", ""], ["C", "6"]]
    body = [[html.Cell(text), html.Cell(number, num=True)] for text, number in cells]
    blank = Document()
    docx._table(blank, ["Text", "n"], body)
    saved = io.BytesIO()
    blank.save(saved)
    table = Document(io.BytesIO(saved.getvalue())).tables[0]
    assert [[c.text for c in row.cells] for row in table.rows[1:]] == [list(c) for c in cells]
    assert [row.cells[1].paragraphs[0].alignment for row in table.rows[1:]] == [WD_ALIGN_PARAGRAPH.RIGHT] * 7


def test_a_figure_of_more_projects_than_a_link_can_carry_links_to_its_own_rows_page(
    report: html.ReviewReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the web UI a figure links to its projects by their codes in the address; past LINK_CODES codes that
    address would be refused by a reverse proxy (414), so the figure links to its review's page of rows, named by a
    digest of its codes (the page is tested in test_report.py)."""
    linked = BeautifulSoup(html.render_html(report, {}, link_base=""), "html.parser")
    every = [a for a in linked.select("a.rows") if len(a["href"].split("codes=")[1].split(",")) == 14]
    assert every, "the report has figures standing for all 14 projects"
    monkeypatch.setattr(html, "LINK_CODES", 10)
    soup = BeautifulSoup(html.render_html(report, {}, link_base=""), "html.parser")
    by_codes = [a["href"] for a in soup.select("a.rows") if "codes=" in a["href"]]
    assert all(len(href.split("codes=")[1].split(",")) <= 10 for href in by_codes)
    pages = {a["href"] for a in soup.select("a.rows") if "/report/rows/" in a["href"]}
    every_codes = tuple(sorted(p.code for p in report.projects))
    assert f"/reviews/r16/report/rows/{html.figure_digest(every_codes)}" in pages
    assert len(soup.select("a.rows")) == len(linked.select("a.rows"))  # every figure still links
    laid_out = html.outline(report, {})
    assert {html.figure_digest(r) for r in html.figure_rows(laid_out) if len(r) > 10} == {
        href.rsplit("/", 1)[1] for href in pages
    }
    plain = BeautifulSoup(html.render_html(report, {}), "html.parser")  # a downloaded file links nothing
    assert not plain.select("a.rows")
