"""The management-response matrix (XLSX out, filled in by a unit, back in; DOCX to sign) and the status report
(HTML, PDF) from the CLI; a matrix with mistakes is refused with located errors and changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from lmreview.report.pdf import pdf_available
from lmreview.store.engine import open_store
from lmreview.store.models import AuditEvent
from tests.conftest import Cli
from tests.test_tracking_register import days, register


def audit_count(url: str) -> int:
    store = open_store(url, migrate=False)
    try:
        with store.session() as session:
            return session.scalar(select(func.count(AuditEvent.id))) or 0
    finally:
        store.dispose()


def exported(cli: Cli, tmp_path: Path, name: str = "matrix.xlsx", *args: str) -> Path:
    path = tmp_path / name
    run = cli("tracking", "export", "--review", "r16", "-o", str(path), *args)
    assert run.exit_code == 0, run.stderr
    return path


def test_a_unit_fills_in_the_matrix(cli: Cli, tmp_path: Path) -> None:
    recs, actions = register(cli)
    path = exported(cli, tmp_path, "matrix.xlsx", "--unit", "PARDEV")
    book = load_workbook(path)
    sheet = book["Matrix"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Review", "No.", "Recommendation")
    assert [(r[1], r[8], r[9]) for r in rows[1:]] == [
        ("1", int(actions[0]), "Draft the framework"),
        ("1", int(actions[1]), "Train project managers"),
    ]
    # the unit answers: a stance with its reason, progress on one action, and a new action
    sheet["F2"], sheet["G2"], sheet["H2"] = "Partially agrees", "Only for new projects", "Head of PARDEV"
    sheet["M2"], sheet["N2"] = "Completed", "Framework published in May"
    sheet.append(["r16", "1", "", "", "", "", "", "", "", "Review the framework", "PARDEV", "31/12/2027", "", ""])
    book.save(path)
    before = cli("tracking", "recs", "list", "--json").stdout
    events = audit_count(cli.url)
    check = cli("tracking", "import", str(path), "--dry-run")
    assert check.exit_code == 0, check.stderr
    assert "recommendation 1: partially agrees" in check.stdout
    assert (
        "3 rows: 1 responses, 1 key actions added, 1 changed, 1 progress comments would be written "
        "(dry run: nothing was written)"
    ) in check.stdout
    assert cli("tracking", "recs", "list", "--json").stdout == before
    assert audit_count(cli.url) == events
    run = cli("tracking", "import", str(path))
    assert run.exit_code == 0, run.stderr
    assert "3 rows: 1 responses, 1 key actions added, 1 changed, 1 progress comments" in run.stdout
    assert "dry run" not in run.stdout

    rec = next(r for r in json.loads(cli("tracking", "recs", "list", "--json").stdout) if r["id"] == int(recs["1"]))
    assert rec["response"]["stance"] == "partially_agrees"
    assert rec["response"]["by"] == "Head of PARDEV"
    assert [a["status"] for a in rec["actions"]] == ["completed", "completed", "not_initiated"]
    assert rec["actions"][0]["comments"][0]["text"] == "Framework published in May"
    assert rec["actions"][2]["due_date"] == "2027-12-31"
    assert json.loads(cli("tracking", "status", "--json").stdout)["implementation_rate"] == 1.0

    # a fresh export imported as it is changes nothing
    again = cli("tracking", "import", str(exported(cli, tmp_path, "again.xlsx")))
    assert again.exit_code == 0, again.stderr
    assert "5 rows: 0 responses, 0 key actions added, 0 changed, 0 progress comments" in again.stdout


def test_a_matrix_with_mistakes_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    register(cli)
    path = exported(cli, tmp_path)
    before = cli("tracking", "recs", "list", "--json").stdout
    book = load_workbook(path)
    sheet = book["Matrix"]
    sheet["M2"] = "Completed"  # a good change on a row, which must not be written either
    sheet["F3"] = "Perhaps"
    sheet["L3"] = "31/02/2027"
    sheet["M4"] = "Finished"
    sheet["B5"] = "7"
    sheet["I4"] = 999999
    book.save(path)
    run = cli("tracking", "import", str(path))
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        "matrix.xlsx:3:Response: 'Perhaps' is not a response; use agrees, partially agrees, disagrees, no response",
        "matrix.xlsx:3:Due date: '31/02/2027' is not a date; write 2027-03-31 or 31/03/2027",
        "matrix.xlsx:4:Action id: recommendation 2 has no key action 999999",
        "matrix.xlsx:4:Status: 'Finished' is not a status; use not initiated, initiated, completed, "
        "no longer applicable",
        "matrix.xlsx:5:No.: review r16 has no recommendation '7'",
        "error: 5 errors; nothing was written",
    ]
    assert cli("tracking", "recs", "list", "--json").stdout == before
    not_a_matrix = tmp_path / "notes.xlsx"
    not_a_matrix.write_bytes(b"not a workbook")
    run = cli("tracking", "import", str(not_a_matrix))
    assert run.exit_code == 2
    assert "notes.xlsx" in run.stderr


def test_docx_matrix_to_sign(cli: Cli, tmp_path: Path) -> None:
    recs, _actions = register(cli)
    assert cli("tracking", "respond", recs["2"], "--stance", "agrees", "--text", "Fewer calls").exit_code == 0
    document = Document(str(exported(cli, tmp_path, "matrix.docx")))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert headings == ["Management response: r16", "Recommendation 1", "Recommendation 2", "Recommendation 10"]
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "Train project managers" in cells
    assert "Fewer calls" in cells
    assert days(-5) in cells
    assert any(p.text.startswith("Signature:") for p in document.paragraphs)
    run = cli("tracking", "export", "-o", str(tmp_path / "matrix.pdf"))
    assert run.exit_code == 2
    assert ".xlsx or .docx" in run.stderr


def test_status_report_html_and_pdf(cli: Cli, tmp_path: Path) -> None:
    register(cli)
    html = tmp_path / "status.html"
    assert cli("tracking", "report", "--review", "r16", "-o", str(html)).exit_code == 0
    page = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    assert page.h1 is not None
    assert page.h1.text == "Follow-up of recommendations: r16"
    summary = {row.th.text: row.td.text for row in page.find_all("table")[0].find_all("tr")}
    assert summary["Implementation rate"] == "50.0% (1 completed of 2 due)"
    assert summary["Overdue"] == "1"
    late = page.find_all("table")[1].find_all("td")
    assert [td.text for td in late][2:] == ["Draft the framework", "PARDEV", days(-30), "30"]
    if pdf_available() is not None:
        pytest.skip(pdf_available())
    pdf = tmp_path / "status.pdf"
    assert cli("tracking", "report", "-o", str(pdf)).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert dt.date.today().isoformat() in html.read_text(encoding="utf-8")
