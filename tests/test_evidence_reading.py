"""Reading documents into the evidence library: each format, its structure (headings, paragraphs, list items,
table cells, no running headers or page numbers), its metadata, and every kind of bad file, through the CLI.

The files are written by the tests: PDFs by WeasyPrint (real text layers), DOCX by python-docx, HTML and text by
hand. The builders are imported by the other tests of the evidence library."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.conftest import Cli

REPORT_HTML = """<!doctype html><html><head><meta charset="utf-8">
<title>Final evaluation of the Safe Corridors project</title>
<style>
@page {{ size: A5; margin: 2cm 1.5cm; @top-center {{ content: "Safe Corridors final evaluation"; font-size: 8pt }}
        @bottom-center {{ content: "Page " counter(page); font-size: 8pt }} }}
body {{ font-family: sans-serif; font-size: 10pt }} h2 {{ break-before: page }}
</style></head><body>
<h1>Final evaluation of the Safe Corridors project</h1>
<p>Evaluation type: Final evaluation</p>
<p>Commissioned by: IOM Development Fund</p>
<p>Evaluators: Jane Ochieng, Marc Dubois</p>
<p>Final report date: March 2021</p>
<p>This report evaluates project LM.0181, which supported labour migrants travelling between Nepal and Qatar.</p>
<h2>1. Introduction</h2>
<p>The project trained recruitment agencies on ethical recruitment and the zero-fee principle.
Pre-departure orientation reached {n} prospective migrant workers in three districts.</p>
<h2>4.2 Findings on effectiveness</h2>
<p>Migrant workers who attended the orientation reported fewer recruitment fees than those who did not.</p>
<ul style="list-style: none; padding: 0"><li>• Orientation sessions were held in every district.</li>
<li>• A hotline answered questions about contracts.</li></ul>
<h2>Recommendation 1</h2>
<p>Extend the hotline to destination countries and publish its caseload every quarter.</p>
</body></html>"""


def make_pdf(path: Path, n: int = 1200, title: str | None = None) -> Path:
    from weasyprint import HTML

    html = REPORT_HTML.format(n=n)
    if title:
        html = html.replace("Safe Corridors", title)
    HTML(string=html).write_pdf(path)
    return path


def make_docx(path: Path, title: str = "Mid-term review of the Skills Partnership") -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.sections[0].header.paragraphs[0].text = "Skills Partnership mid-term review"
    document.add_heading(title, 0)
    document.add_paragraph("This mid-term evaluation was commissioned by the ILO in 2019 for project GLO/06/57/UKM.")
    document.add_heading("2. Skills recognition", 1)
    document.add_paragraph("Returnees had their skills certified by the national training authority.")
    document.add_paragraph("Certificates were recognised by employers in Jordan.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Indicator"
    table.cell(0, 1).text = "Result"
    table.cell(1, 0).text = "Workers certified"
    table.cell(1, 1).text = "Four hundred and twelve apprentices"
    document.save(str(path))
    return path


def make_html(path: Path) -> Path:
    path.write_text(
        "<html><head><title>Brief on seasonal workers</title><style>p { color: red }</style>"
        "<script>var secret = 'tracking-pixel-code';</script></head><body>"
        "<h1>Brief on seasonal workers</h1><p>Seasonal agricultural workers need portable pensions.</p>"
        "<script>document.write('injected-by-script')</script>"
        "<table><tr><th>Country</th><td>Morocco &amp; Spain</td></tr></table>"
        "<ul><li>Bilateral labour agreements</li></ul></body></html>",
        encoding="utf-8",
    )
    return path


def make_txt(path: Path) -> Path:
    path.write_text(
        "Lessons from the remittances pilot\n\n"
        "LESSONS LEARNED\n"
        "Digital remittance channels lowered transfer costs for diaspora households.\n",
        encoding="utf-8",
    )
    return path


def make_encrypted_pdf(path: Path, source: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt("secret-password")
    with path.open("wb") as out:
        writer.write(out)
    return path


def make_blank_pdf(path: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=300, height=400)
    with path.open("wb") as out:
        writer.write(out)
    return path


def make_zip_bomb_docx(path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (8 * 1024 * 1024))
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="session")
def library_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of good files, one of each format."""
    folder = tmp_path_factory.mktemp("library")
    make_pdf(folder / "safe-corridors.pdf")
    make_docx(folder / "skills.docx")
    make_html(folder / "brief.html")
    (folder / "notes").mkdir()
    make_txt(folder / "notes" / "remittances.txt")
    return folder


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory: pytest.TempPathFactory, library_files: Path) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    make_encrypted_pdf(folder / "encrypted.pdf", library_files / "safe-corridors.pdf")
    (folder / "damaged.pdf").write_bytes((library_files / "safe-corridors.pdf").read_bytes()[:600])
    (folder / "empty.txt").write_bytes(b"")
    make_blank_pdf(folder / "scan.pdf")
    make_zip_bomb_docx(folder / "bomb.docx")
    (folder / "latin1.txt").write_bytes("Migración laboral en Perú".encode("latin-1"))
    (folder / "fake.docx").write_bytes(b"this is plain text, not a DOCX")
    return folder


def documents(cli: Cli) -> list[dict[str, object]]:
    run = cli("evidence", "list", "--json")
    assert run.exit_code == 0, run.stderr
    result: list[dict[str, object]] = json.loads(run.stdout)
    return result


def test_each_format_is_read_with_its_metadata(cli: Cli, library_files: Path) -> None:
    run = cli("evidence", "add", str(library_files), "--jobs", "1")
    assert run.exit_code == 0, run.stderr
    assert "4 added, 0 already there, 0 refused" in run.stdout
    by_file = {d["file"]: d for d in documents(cli)}
    pdf = by_file["safe-corridors.pdf"]
    assert pdf["title"] == "Final evaluation of the Safe Corridors project"
    assert pdf["pages"] == 4
    assert pdf["type"] == "evaluation_report"
    assert pdf["evaluation_type"] == "final"
    assert pdf["organisation"] == "IOM Development Fund"
    assert pdf["evaluators"] == "Jane Ochieng, Marc Dubois"
    assert pdf["year"] == 2021
    assert pdf["project_codes"] == ["LM.0181"]
    docx = by_file["skills.docx"]
    assert docx["title"] == "Mid-term review of the Skills Partnership"
    assert (docx["evaluation_type"], docx["organisation"], docx["year"]) == ("mid-term", "ILO", 2019)
    assert docx["project_codes"] == ["GLO/06/57/UKM"]
    assert by_file["brief.html"]["title"] == "Brief on seasonal workers"
    assert by_file["remittances.txt"]["title"] == "Lessons from the remittances pilot"


def test_pdf_structure_leaves_out_running_headers_and_page_numbers(cli: Cli, library_files: Path) -> None:
    assert cli("evidence", "add", str(library_files / "safe-corridors.pdf")).exit_code == 0
    show = cli("evidence", "show", str(documents(cli)[0]["id"]))
    assert show.exit_code == 0, show.stderr
    outline = show.stdout.split("outline:")[1]
    assert "p. 2  1. Introduction" in outline
    assert "p. 3  4.2 Findings on effectiveness" in outline
    assert "p. 4  Recommendation 1" in outline
    # the running header is on every page but is no passage; neither is "Page 3"
    header = json.loads(cli("evidence", "search", '"Corridors final evaluation"', "--json").stdout)
    assert header == []
    assert json.loads(cli("evidence", "search", "page", "--json").stdout) == []
    # a paragraph wrapped over several lines is one passage, under its heading, on its page
    hits = json.loads(cli("evidence", "search", "orientation AND attended", "--json").stdout)
    assert [(h["page"], h["section"]) for h in hits] == [(3, "4.2 Findings on effectiveness")]
    assert hits[0]["snippet"] == (
        "Migrant workers who **attended** the **orientation** reported fewer recruitment fees than those who did not."
    )
    items = json.loads(cli("evidence", "search", "hotline", "--kind", "list_item", "--json").stdout)
    assert [h["snippet"] for h in items] == ["• A **hotline** answered questions about contracts."]


def test_docx_tables_headers_and_lists(cli: Cli, library_files: Path) -> None:
    assert cli("evidence", "add", str(library_files / "skills.docx")).exit_code == 0
    cells = json.loads(cli("evidence", "search", "apprentices", "--kind", "table_cell", "--json").stdout)
    assert [c["snippet"] for c in cells] == ["Four hundred and twelve **apprentices**"]
    assert cells[0]["section"] == "2. Skills recognition"
    items = json.loads(cli("evidence", "search", "employers", "--kind", "list_item", "--json").stdout)
    assert len(items) == 1
    # the running header of the DOCX is kept out of the passages
    assert json.loads(cli("evidence", "search", '"partnership mid-term review"', "--json").stdout) == []


def test_html_scripts_and_styles_are_not_text(cli: Cli, library_files: Path) -> None:
    assert cli("evidence", "add", str(library_files / "brief.html")).exit_code == 0
    for word in ("tracking", "injected", "color"):
        assert json.loads(cli("evidence", "search", word, "--json").stdout) == [], word
    cell = json.loads(cli("evidence", "search", "Morocco", "--json").stdout)
    assert [c["snippet"] for c in cell] == ["**Morocco** & Spain"]


def test_bad_files_are_refused_one_line_each_and_the_batch_goes_on(
    cli: Cli, library_files: Path, bad_files: Path
) -> None:
    run = cli("evidence", "add", str(bad_files), str(library_files / "brief.html"), "--jobs", "2")
    assert run.exit_code == 2
    assert "1 added, 0 already there, 7 refused" in run.stdout
    reasons = {Path(line.split(": ", 1)[0]).name: line.split(": ", 1)[1] for line in run.stderr.strip().splitlines()}
    assert re.fullmatch(r"refused: word/document.xml expands \d{3,} times \(a zip bomb\?\)", reasons.pop("bomb.docx"))
    assert reasons == {
        "encrypted.pdf": "the PDF is encrypted (it needs a password); save an unprotected copy",
        "damaged.pdf": "the PDF is damaged and cannot be read",
        "empty.txt": "the file is empty",
        "scan.pdf": "the PDF has no text layer (a scan?); run OCR on it first, then add it again",
        "latin1.txt": "the text is not valid UTF-8 (byte 8); save the file as UTF-8",
        "fake.docx": "this is not a DOCX document (not a zip file, or a damaged one)",
    }
    assert [d["file"] for d in documents(cli)] == ["brief.html"]


def test_duplicates_unknown_paths_and_formats(cli: Cli, library_files: Path, tmp_path: Path) -> None:
    txt = library_files / "notes" / "remittances.txt"
    assert cli("evidence", "add", str(txt)).exit_code == 0
    copy = tmp_path / "copy-of-remittances.txt"
    copy.write_bytes(txt.read_bytes())
    run = cli("evidence", "add", str(copy))
    assert run.exit_code == 0
    assert f"skipped {copy}: already in the library as document {documents(cli)[0]['id']}" in run.stdout
    sheet = tmp_path / "budget.xlsx"
    sheet.write_bytes(b"PK")
    run = cli("evidence", "add", str(tmp_path / "missing.pdf"), str(sheet))
    assert run.exit_code == 2
    assert f"{tmp_path / 'missing.pdf'}: no such file or folder" in run.stderr
    assert f"{sheet}: not a format lmreview reads (PDF, DOCX, TXT, Markdown, HTML)" in run.stderr
    assert len(documents(cli)) == 1


def test_too_many_pages_is_refused(cli: Cli, library_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmreview.evidence import reading

    monkeypatch.setattr(reading, "MAX_PAGES", 3)
    run = cli("evidence", "add", str(library_files / "safe-corridors.pdf"), "--jobs", "1")
    assert run.exit_code == 2
    assert "safe-corridors.pdf: the PDF has 4 pages; lmreview reads at most 3" in run.stderr
    assert documents(cli) == []


def test_a_folder_of_a_thousand_files_some_bad(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / ".cache" / "reports"  # a hidden folder named by the user is read; hidden files in it are not
    for n in range(1000):
        sub = folder / f"batch{n % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        if n % 100 == 7:
            (sub / f"report{n:04}.txt").write_bytes(b"\xff\xfe broken " * 5)
        else:
            (sub / f"report{n:04}.txt").write_text(f"Report {n}\n\nMigrant workers in district {n} were trained.\n")
    (folder / "notes.xlsx").write_bytes(b"left out: not a document format")
    (folder / ".hidden.txt").write_text("a hidden file is left out as well")
    run = cli("evidence", "add", str(folder), "--jobs", "2")
    assert run.exit_code == 2
    assert "990 added, 0 already there, 10 refused" in run.stdout
    refused = run.stderr.strip().splitlines()
    assert len(refused) == 10
    assert all(line.endswith("the text is not valid UTF-8 (byte 1); save the file as UTF-8") for line in refused)
    assert len(documents(cli)) == 990
    hits = json.loads(cli("evidence", "search", '"district 512"', "--json").stdout)
    assert [h["title"] for h in hits] == ["Report 512"]


def make_long_pdf(path: Path, pages: int) -> Path:
    """A PDF of ``pages`` pages, each with its own two lines of text, written object by object (WeasyPrint would
    take a minute for 2,000 pages)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for n in range(1, pages + 1):
        text = f"BT /F1 12 Tf 72 720 Td (Annual report, page {n}) Tj 0 -20 Td (Returnees in district {3 * n}.) Tj ET"
        objects.append(f"<< /Length {len(text)} >>\nstream\n{text}\nendstream")
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {len(objects)} 0 R >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {pages} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def test_a_pdf_of_two_thousand_pages(cli: Cli, tmp_path: Path) -> None:
    pdf = make_long_pdf(tmp_path / "annual.pdf", 2000)
    run = cli("evidence", "add", str(pdf))
    assert run.exit_code == 0, run.stderr
    assert documents(cli)[0]["pages"] == 2000
    hits = json.loads(cli("evidence", "search", '"district 5997"', "--json").stdout)
    # SQLite marks the phrase, PostgreSQL each of its words
    assert [(h["page"], h["snippet"].replace("** **", " ")) for h in hits] == [
        (1999, "Returnees in **district 5997**.")
    ]
    # "Annual report, page N" follows the page number on every page: a running header, not a passage
    assert json.loads(cli("evidence", "search", "annual", "--json").stdout) == []


def test_a_file_name_as_the_stated_title_is_not_the_title(cli: Cli, tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Microsoft Word - draft_v3.docx"
    document.add_heading("Return and reintegration review", 0)
    document.add_paragraph("Returnees received grants for small businesses in four regions.")
    document.save(str(tmp_path / "draft.docx"))
    assert cli("evidence", "add", str(tmp_path / "draft.docx")).exit_code == 0
    assert documents(cli)[0]["title"] == "Return and reintegration review"


def test_a_docx_with_a_broken_part_is_refused_alone(cli: Cli, library_files: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>not closed")
    run = cli("evidence", "add", str(broken), str(library_files / "brief.html"))
    assert run.exit_code == 2
    assert run.stderr.strip() == f"{broken}: the DOCX document is damaged and cannot be read"
    assert [d["file"] for d in documents(cli)] == ["brief.html"]


def make_pageless_pdf(path: Path) -> Path:
    """A well-formed PDF whose page tree is empty."""
    from pypdf import PdfWriter

    with path.open("wb") as out:
        PdfWriter().write(out)
    return path


def test_empty_pdfs_are_refused_with_their_reason(cli: Cli, library_files: Path, tmp_path: Path) -> None:
    """An empty PDF in its three senses: a file of no bytes, a PDF without pages, and pages without text."""
    (tmp_path / "zero.pdf").write_bytes(b"")
    make_pageless_pdf(tmp_path / "no-pages.pdf")
    make_blank_pdf(tmp_path / "blank.pdf")
    run = cli("evidence", "add", str(tmp_path), str(library_files / "safe-corridors.pdf"), "--jobs", "1")
    assert run.exit_code == 2
    assert "1 added, 0 already there, 3 refused" in run.stdout
    assert sorted(run.stderr.strip().splitlines()) == [
        f"{tmp_path / 'blank.pdf'}: the PDF has no text layer (a scan?); run OCR on it first, then add it again",
        f"{tmp_path / 'no-pages.pdf'}: the PDF has no pages",
        f"{tmp_path / 'zero.pdf'}: the file is empty",
    ]
    assert [d["file"] for d in documents(cli)] == ["safe-corridors.pdf"]
