"""The "Coded findings" of the review report (analysis/coded.py, report/coded.py): the code matrix with its
denominators in HTML, DOCX and XLSX (with the segments behind each count), the web report page, a review without
codings, and the number audit checking code counts a draft cites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli, join_every_review
from tests.fixtures.coding.material import REPORTS, answer, make_review

PASSWORD = "correct-horse"


@pytest.fixture
def coded(cli: Cli, tmp_path: Path) -> Path:
    make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    r181 = REPORTS["report-0181.txt"][1]
    rows = [
        (answer("LM.0181"), 0, 14, "Covid-19", "ana"),
        (answer("LM.0220"), 4, 12, "Covid-19", "ana"),
        (answer("LM.0221", "steps[2]/step"), 0, 6, "Lack of funding", "ben"),
        ("report-0181.txt", r181.index("The pandemic"), r181.index("The pandemic") + 12, "Covid-19", "ben"),
    ]
    csv = tmp_path / "codings.csv"
    csv.write_text(
        "source,start,end,code,coder\n" + "".join(f"{s},{a},{b},{c},{d}\n" for s, a, b, c, d in rows),
        encoding="utf-8",
    )
    run = cli("coding", "import", str(csv))
    assert run.exit_code == 0, run.stderr
    return tmp_path


@pytest.fixture
def compared(cli: Cli, coded: Path) -> Path:
    """The review manager has opened the comparison: the coders' counts may be shown."""
    assert cli("coding", "compare", "--review", "r", "--codebook", "challenges-2022").exit_code == 0
    return coded


def build(cli: Cli, folder: Path, formats: str) -> Path:
    out = folder / "out"
    run = cli("report", "build", "--review", "r", "--format", formats, "--out", str(out))
    assert run.exit_code == 0, run.stderr
    return out


def test_the_report_prints_the_code_matrix_with_its_denominators(cli: Cli, compared: Path) -> None:
    import docx
    from openpyxl import load_workbook

    out = build(cli, compared, "html,docx,xlsx")
    page = BeautifulSoup((out / "r-report.html").read_text(encoding="utf-8"), "html.parser")
    heading = next(h for h in page.find_all(["h2", "h3"]) if "Coded findings" in h.get_text())
    table = heading.find_next("table")
    assert table is not None
    caption = table.find("caption")
    assert caption is not None
    # four projects answered; the documents concern two of them: 4 projects with material, 4 codings in all
    assert "codebook challenges-2022" in caption.get_text()
    assert "n = 4 projects with material" in caption.get_text()
    rows = [[c.get_text(" ", strip=True) for c in tr.find_all("td")] for tr in table.find_all("tr")]
    rows = [r for r in rows if r]
    assert rows[0] == ["Covid-19", "2 of 4", "50%", "3"]
    assert rows[1] == ["Lack of funding", "1 of 4", "25%", "1"]
    assert len(rows) == 2  # codes no project carries are named in the note, not listed as zeros
    assert "No project carries" in table.find_next(string=lambda s: "No project carries" in s)

    document = docx.Document(str(out / "r-report.docx"))
    texts = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    assert ["Covid-19", "2 of 4", "50%", "3"] in texts

    workbook = load_workbook(out / "r-report.xlsx")
    matrix = next(workbook[n] for n in workbook.sheetnames if n.endswith("codes challenges-2022"))
    values = [r for r in matrix.iter_rows(min_row=4, values_only=True) if r[0]]
    assert values[0][:4] == ("Covid-19", 2, 50, 3)
    segments = workbook["segments challenges-2022"]
    listed = sorted(r[:2] + r[5:7] for r in segments.iter_rows(min_row=4, values_only=True) if r[0])
    assert listed == [
        ("Covid-19", "LM.0181", "ana", "Borders closed"),
        ("Covid-19", "LM.0181", "ben", "The pandemic"),
        ("Covid-19", "LM.0220", "ana", "lockdown"),
        ("Lack of funding", "LM.0221", "ben", "Budget"),
    ]
    clean = cli("audit", str(out / "r-report.docx"), "--review", "r", "--json")  # our report passes our audit
    assert clean.exit_code == 0, clean.stderr
    assert json.loads(clean.stdout) == []
    sources = [r for r in workbook["sources"].iter_rows(min_row=4, values_only=True) if r[0] == "Code Covid-19"]
    assert sorted(r[3] for r in sources) == ["LM.0181", "LM.0220"]
    assert {r[1:3] for r in sources} == {(2, 4)}


def test_counts_wait_while_the_coders_are_blind(cli: Cli, coded: Path) -> None:
    """Two coders, comparison not open: the report names them and withholds the counts (and the audit ignores them)."""
    out = build(cli, coded, "html")
    page = BeautifulSoup((out / "r-report.html").read_text(encoding="utf-8"), "html.parser")
    heading = next(h for h in page.find_all(["h2", "h3"]) if "Coded findings" in h.get_text())
    text = " ".join(p.get_text(" ", strip=True) for p in heading.find_all_next("p", limit=2))
    assert "2 coders (ana, ben) have coded with it" in text
    assert "once the review manager opens the comparison" in text
    nxt = heading.find_next(["table", "h2"])
    assert nxt is not None
    assert nxt.name == "h2"  # no table before the next chapter
    draft = coded / "draft.txt"
    draft.write_text("Lack of funding: 3 of 4 projects, 75%.\n", encoding="utf-8")
    assert json.loads(cli("audit", str(draft), "--review", "r", "--json").stdout) == []


def test_a_review_without_codings_says_so(cli: Cli, tmp_path: Path) -> None:
    make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    out = build(cli, tmp_path, "html")
    page = BeautifulSoup((out / "r-report.html").read_text(encoding="utf-8"), "html.parser")
    heading = next(h for h in page.find_all(["h2", "h3"]) if "Coded findings" in h.get_text())
    following = heading.find_next(["p", "table", "h2", "h3"])
    assert following is not None
    assert following.name == "p"
    assert "has been coded yet" in following.get_text()


def test_the_web_report_links_code_counts_to_their_projects(store: Store, cli: Cli, compared: Path) -> None:
    with store.session() as session:
        add_user(session, "vic", "viewer", PASSWORD, actor="test")
    join_every_review(store, "vic")
    client = TestClient(create_app(Settings(database_url=store.url), store))
    page = client.get("/login")
    csrf = BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf_token"})
    assert csrf is not None
    client.post("/login", data={"name": "vic", "password": PASSWORD, "csrf_token": csrf["value"]})
    response = client.get("/reviews/r/report.html")
    assert response.status_code == 200
    html = BeautifulSoup(response.text, "html.parser")
    links = [a["href"] for a in html.find_all("a") if a.get_text(strip=True) == "2 of 4"]
    assert any("codes=LM.0181,LM.0220" in str(href) for href in links), links
    xlsx = client.get("/reviews/r/report.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"


def test_the_audit_checks_code_counts_a_draft_cites(cli: Cli, compared: Path) -> None:
    draft = compared / "draft.txt"
    draft.write_text(
        "Covid-19 was named for 2 of 4 projects (50%).\n\nLack of funding: 3 of 4 projects, 75%.\n", encoding="utf-8"
    )
    run = cli("audit", str(draft), "--review", "r", "--json")
    assert run.exit_code == 0, run.stderr
    found = json.loads(run.stdout)
    claims = " | ".join(f["claim"] for f in found)
    assert "Covid-19" not in claims, found
    assert any("Lack of funding" in f["claim"] and "1" in f["expected"] for f in found), found
    assert any("codebook challenges-2022" in f["rule"] for f in found), found
