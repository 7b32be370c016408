"""`lmreview report`: the review report in HTML, PDF, DOCX and XLSX, the evaluation brief, narrative sections and
their versions, the report page of the web UI, and the demo's report.

The review is the lm2016 sample (14 projects, the 001 review) with the idf-lm-2016 questionnaire: its budget,
length and NCE figures must be those 001 printed (total USD 1,650,000, mean 117,857, median 100,000; length incl.
NCE mean 18.3, median 18, max 37, min 9 months; NCE mean 5.7, median 5, max 13, min 1). The report is built once
per module (building every format takes a few seconds) and each test reads the files as a user would.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select

from lmreview.analysis.review_report import review_report
from lmreview.analysis.tabulate import tabulate
from lmreview.cli import report as report_cli
from lmreview.report.pdf import pdf_available
from lmreview.settings import Settings, database_url
from lmreview.store import Store, open_store
from lmreview.store.models import AuditEvent
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import FIXTURES, SAMPLES, TEMPLATES, Cli, join_every_review

SHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"
BUDGET = ["Budget (USD)", "14 of 14", "1,650,000", "117,857", "100,000", "30,000", "200,000"]
LENGTH = ["Length incl. NCE (months)", "14 of 14", "256.5", "18.3", "18", "9", "37"]
NCE = ["No-cost extensions (months)", "14 of 14", "80", "5.7", "5", "1", "13"]
RATINGS = """subject,criterion,source,score,weight,rationale
,relevance,Staff survey,5,1,
,relevance,Evaluation team,4,4,aligned with national priorities
,effectiveness,Staff survey,4,1,
,effectiveness,Evaluation team,3,4,"outputs delivered, outcomes partly"
,sustainability,Evaluation team,3,4,
"""
FINDINGS = """Most projects produced the research and policy outputs they planned.

**Relevance:** the projects answered needs that governments had stated.

## Effectiveness

Outputs were delivered; outcomes were reached in part.
"""
RECOMMENDATIONS = """1. Follow the outcomes of projects after they end.
2. Plan no-cost extensions from the start.
3. Share research products with the partners who asked for them.
"""
HEADER = """Evaluation type: Portfolio review
Evaluator(s): IDF evaluation team
Final report date: May 2016
Commissioned by: IOM Development Fund
"""


def make_review(cli: Cli, folder: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    run = cli("review", "create", "r16", "--portfolio", "lm2016", "--template", "idf-lm-2016", "--title", "IDF 2016")
    assert run.exit_code == 0, run.stderr
    for key, text in (
        ("summary", "The review covered **all 14 projects** of the 2011-2014 funding rounds."),
        ("findings", FINDINGS),
        ("recommendations", RECOMMENDATIONS),
        ("brief_header", HEADER),
    ):
        path = folder / f"{key}.md"
        path.write_text(text, encoding="utf-8")
        run = cli("report", "section", "--review", "r16", "--key", key, "--file", str(path))
        assert run.exit_code == 0, run.stderr
        assert "as version 1" in run.stdout
    ratings = folder / "ratings.csv"
    ratings.write_text(RATINGS, encoding="utf-8")
    assert cli("ratings", "import", str(ratings), "--review", "r16").exit_code == 0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    folder = tmp_path_factory.mktemp("report")
    shutil.copy(sqlite_template, folder / "lmreview.db")
    make_review(Cli(database_url(str(folder / "lmreview.db"))), folder)
    return folder


@pytest.fixture(scope="module")
def wcli(workspace: Path) -> Cli:
    return Cli(database_url(str(workspace / "lmreview.db")))


@pytest.fixture(scope="module")
def built(wcli: Cli, workspace: Path) -> Path:
    """The report in HTML, DOCX and XLSX (PDF has its own test: it needs Pango)."""
    out = workspace / "out"
    run = wcli("report", "build", "--review", "r16", "--format", "html,docx,xlsx", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    for fmt in ("html", "docx", "xlsx"):
        assert f"Wrote {out / f'r16-report.{fmt}'}" in run.stdout
    return out


def cells(row: object) -> list[str]:
    return [c.get_text(" ", strip=True) for c in row.find_all(["td", "th"])]  # type: ignore[attr-defined]


# --- HTML ------------------------------------------------------------------------------------------------------------


def test_html_prints_the_001_figures_with_their_denominators(built: Path) -> None:
    text = (built / "r16-report.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    summary = soup.find("table", id="t1")
    assert summary is not None
    assert "n = 14" in summary.caption.get_text()
    rows = [cells(r) for r in summary.find("tbody").find_all("tr")]
    assert rows == [BUDGET, LENGTH, NCE]
    regions = {cells(r)[0]: cells(r)[1:] for r in soup.find("table", id="t2").find("tbody").find_all("tr")}
    assert regions["Africa"] == ["5", "35.7%", "650,000", "39.4%"]
    page = soup.get_text(" ", strip=True)
    assert "Response rate 0 of 14 projects, 0%" in page
    assert "no-cost extension (NCE months > 0) 14 100.0%" in page
    assert soup.find("strong", string="all 14 projects") is not None  # the narrative, as Markdown
    assert re.search(r"relevance 4\.20 4\.50 4–5 2 of 2", page, re.I)  # (5·1 + 4·4) / 5
    for caption in soup.find_all("caption"):
        assert "n = " in caption.get_text(), caption.get_text()
    assert [h.get_text(" ", strip=True) for h in soup.select("nav.toc a")][:4] == [
        "1 Executive summary",
        "2 Introduction",
        "3 Methodology",
        "4 Portfolio overview",
    ]
    for link in soup.select("nav.toc a"):
        assert soup.find(id=link["href"][1:]) is not None


def test_html_is_one_self_contained_file(built: Path) -> None:
    text = (built / "r16-report.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    assert not re.search(r"https?://", text), "the report refers to something on the network"
    assert soup.find("link") is None
    assert soup.find("script") is None
    assert soup.find("img") is None
    assert soup.find("style") is not None
    figures = soup.find_all("figure")
    assert len(figures) >= 3  # regions, budget by year, ratings
    for figure in figures:
        assert figure.find("svg") is not None
        assert "n = " in figure.figcaption.get_text() or "sources" in figure.figcaption.get_text()
        alt = figure.find(attrs={"role": "img"})["aria-label"]
        assert alt.startswith(("Bar chart.", "Stacked bar chart."))
    region = soup.find("figure", id="f1").find(attrs={"role": "img"})["aria-label"]
    assert "Africa: 5; Asia: 4; Europe: 3; Americas and the Caribbean: 2" in region
    assert soup.find("a", class_="rows") is None  # links to rows only in the web UI


# --- DOCX, XLSX, PDF -------------------------------------------------------------------------------------------------


def test_docx_has_word_headings_tables_with_captions_and_pictures(built: Path) -> None:
    import docx

    document = docx.Document(str(built / "r16-report.docx"))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "4 Portfolio overview") in headings
    assert ("Heading 1", "Annex 1 Projects") in headings
    assert any(style == "Heading 2" for style, _ in headings)
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions[0].startswith("Table 1. Budget, length incl. NCE and no-cost extensions (n = 14")
    rows = [[c.text for c in row.cells] for table in document.tables for row in table.rows]
    assert BUDGET in rows
    assert LENGTH in rows
    assert NCE in rows
    assert len(document.inline_shapes) >= 3
    alt = document.inline_shapes[0]._inline.docPr.get("descr")
    assert "Africa: 5" in alt
    recommendations = [p.text for p in document.paragraphs if p.text.startswith(("1. ", "2. "))]
    assert "1. Follow the outcomes of projects after they end." in recommendations


def test_xlsx_has_a_sheet_per_table_and_the_rows_behind_each_figure(built: Path) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(built / "r16-report.xlsx")
    names = workbook.sheetnames
    assert names[0] == "about"
    assert names[-1] == "sources"
    assert {"Table 1 summaries", "Table 2 by region", "Figure 1 region"} <= set(names)
    summary = next([c.value for c in row] for row in workbook["Table 1 summaries"].iter_rows(min_row=4, max_row=4))
    assert summary[:3] == ["Budget (USD)", 14, 1650000]
    assert summary[3] == pytest.approx(117857.142857, abs=1e-5)  # unrounded
    sources = [[c.value for c in row] for row in workbook["sources"].iter_rows(min_row=4)]
    budget = [r[3] for r in sources if r[0] == "Budget (USD)"]
    assert len(budget) == 14
    assert all(re.fullmatch(r"LM\.\d{4}", code) for code in budget)
    africa = {r[3] for r in sources if r[0] == "By region: Africa"}
    assert len(africa) == 5
    assert "LM.0183" in africa


def test_pdf_has_page_numbers_and_extractable_text(wcli: Cli, workspace: Path) -> None:
    reason = pdf_available()
    if reason is not None:
        pytest.skip(f"WeasyPrint cannot make PDFs here: {reason}")
    run = wcli("report", "build", "--review", "r16", "--format", "pdf", "--out", str(workspace / "pdf"))
    assert run.exit_code == 0, run.stderr
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF back")
    reader = pypdf.PdfReader(str(workspace / "pdf" / "r16-report.pdf"))
    assert 2 <= len(reader.pages) <= 40
    text = "\n".join(page.extract_text() for page in reader.pages)
    for figure in ("1,650,000", "117,857", "100,000", "18.3", "5.7"):
        assert figure in text
    assert f"Page 2 of {len(reader.pages)}" in text
    contents = reader.pages[1].extract_text()
    assert re.search(r"4\s+Portfolio overview\s*\.+\s*\d+", contents), contents[:400]


# --- the brief -------------------------------------------------------------------------------------------------------


def test_brief_in_docx_and_html_has_the_fields_findings_and_recommendations(wcli: Cli, workspace: Path) -> None:
    import docx

    path = workspace / "brief.docx"
    run = wcli("report", "brief", "--review", "r16", "--out", str(path), "--managed-by", "IDF unit")
    assert run.exit_code == 0, run.stderr
    document = docx.Document(str(path))
    assert 8 <= len(document.paragraphs) <= 120
    header = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert header["Evaluation type"] == "Portfolio review"
    assert header["Evaluator(s)"] == "IDF evaluation team"
    assert header["Managed by"] == "IDF unit"
    assert header["Evaluation criteria"] == "Relevance, Effectiveness, Sustainability"
    assert header["Geographical coverage"] == "Africa, Asia, Europe, Americas and the Caribbean"
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Relevance (weighted score 4.2 of 6; n = 2 sources):" in text
    assert "the projects answered needs that governments had stated." in text
    assert "Outputs were delivered; outcomes were reached in part." in text
    assert "3. Share research products with the partners who asked for them." in text

    html = workspace / "brief.html"
    assert wcli("report", "brief", "--review", "r16", "--out", str(html)).exit_code == 0
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    items = [li.get_text(strip=True) for li in soup.select("ol.recommendations li")]
    assert items == [
        "Follow the outcomes of projects after they end.",
        "Plan no-cost extensions from the start.",
        "Share research products with the partners who asked for them.",
    ]
    assert not re.search(r"https?://", html.read_text(encoding="utf-8"))


def test_brief_fits_two_pages_in_pdf(wcli: Cli, workspace: Path) -> None:
    reason = pdf_available()
    if reason is not None:
        pytest.skip(f"WeasyPrint cannot make PDFs here: {reason}")
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF back")
    path = workspace / "brief.pdf"
    assert wcli("report", "brief", "--review", "r16", "--out", str(path)).exit_code == 0
    reader = pypdf.PdfReader(str(path))
    assert 1 <= len(reader.pages) <= 2
    assert "KEY RECOMMENDATIONS" in reader.pages[-1].extract_text().upper()


# --- sections, versions, errors --------------------------------------------------------------------------------------


def test_a_section_saved_again_is_a_new_version_with_an_audit_event(cli: Cli, tmp_path: Path) -> None:
    make_review(cli, tmp_path)
    path = tmp_path / "summary.md"
    path.write_text("A second wording.\n", encoding="utf-8")
    run = cli("report", "section", "--review", "r16", "--key", "summary", "--file", str(path), "--title", "Summary")
    assert 'Saved section summary ("Summary") of review r16 as version 2.' in run.stdout
    again = cli("report", "section", "--review", "r16", "--key", "summary", "--file", str(path))
    assert "is unchanged (version 2)" in again.stdout
    listed = cli("report", "sections", "--review", "r16").stdout
    assert re.search(r"summary\s+│\s+Summary\s+│\s+2\s+│\s+tester", listed)
    assert re.search(r"lessons\s+│\s+Lessons learned\s+│\s+not written", listed)
    store = open_store(cli.url)
    with store.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "report_section")).all()
        second = [e for e in events if e.after and e.after.get("version") == 2]
        assert len(second) == 1
        assert second[0].before["markdown"].startswith("The review covered")
        report = review_report(session, "r16")
    store.dispose()
    assert report.sections["summary"].markdown == "A second wording.\n"
    assert report.sections["summary"].title == "Summary"


def test_mistakes_exit_2_with_a_message(cli: Cli, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016").exit_code == 0
    unknown = cli("report", "build", "--review", "nope", "--out", str(tmp_path))
    assert unknown.exit_code == 2
    assert "there is no review 'nope'" in unknown.stderr
    bad = cli("report", "build", "--review", "r16", "--format", "odt", "--out", str(tmp_path))
    assert bad.exit_code == 2
    assert 'there is no report format "odt"' in bad.stderr
    key = cli("report", "section", "--review", "r16", "--key", "summry", "--file", str(tmp_path / "x.md"))
    assert key.exit_code == 2
    assert 'there is no report section "summry"' in key.stderr
    missing = cli("report", "section", "--review", "r16", "--key", "summary", "--file", str(tmp_path / "x.md"))
    assert missing.exit_code == 2
    assert "no such file" in missing.stderr
    suffix = cli("report", "brief", "--review", "r16", "--out", str(tmp_path / "brief.odt"))
    assert suffix.exit_code == 2
    assert "the brief is written as .html, .docx or .pdf" in suffix.stderr
    assert cli("review", "create", "empty").exit_code == 0
    alone = cli("report", "build", "--review", "empty", "--out", str(tmp_path))
    assert alone.exit_code == 2
    assert "has no portfolio" in alone.stderr
    assert not list(tmp_path.glob("*-report.*"))


# --- findings from answers -------------------------------------------------------------------------------------------


def test_findings_tabulate_each_select_question_with_its_denominators(cli: Cli, store: Store) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "t16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    kobo = FIXTURES / "tabulate" / "kobo-tabulate.csv"
    assert cli("form", "import-responses", str(kobo), "--form", "bilingual_test", "--review", "t16").exit_code == 0
    with store.session() as session:
        report = review_report(session, "t16")
        expected = tabulate(session, "t16", "sustained").as_json()
    [section] = report.findings
    assert section.title == "Other questions"
    sustained = next(q for q in section.questions if q.path == "sustained")
    assert (sustained.units, sustained.responded, sustained.skipped, sustained.answered) == (
        expected["units"],
        expected["responded"],
        expected["skipped"],
        expected["answered"],
    )
    assert [(c.value, c.n) for c in sustained.counts] == [(c["value"], c["n"]) for c in expected["counts"]]
    yes = sustained.counts[0]
    assert set(yes.rows) <= {p.code for p in report.projects}
    assert len(yes.submissions) == len(yes.rows)
    assert all(s.startswith("uuid:") for s in yes.submissions)
    sources = {s.figure: s for s in report.sources()}
    assert sources[f"sustained = {yes.label}"].rows == yes.rows
    # the response rate counts LM.0199, whose only submission a reviewer rejected; the findings set it aside
    assert report.methodology.response.projects == expected["responded"] + 1
    assert report.methodology.used == expected["responded"] == 8

    from lmreview.report.charts import report_charts
    from lmreview.report.html import render_html

    page = BeautifulSoup(render_html(report, report_charts(report), link_base=""), "html.parser")
    table = next(t for t in page.find_all("table") if "Were the project outcomes sustained" in t.caption.get_text())
    assert f"n = {expected['answered']} projects answered, of 14 projects" in table.caption.get_text()
    link = table.find("a", class_="rows", string=str(yes.n))
    assert link is not None
    assert link["href"] == "/portfolios/lm2016?codes=" + ",".join(yes.rows)


# --- web -------------------------------------------------------------------------------------------------------------


@pytest.fixture
def client(store: Store, cli: Cli, tmp_path: Path) -> Iterator[TestClient]:
    make_review(cli, tmp_path)
    with store.session() as session:
        add_user(session, "rev", "reviewer", "correct-horse", actor="test")
    join_every_review(store, "rev")
    web = create_app(Settings(database_url=store.url), store)
    with TestClient(web) as c:
        token = BeautifulSoup(c.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})["value"]  # type: ignore[index]
        c.post("/login", data={"name": "rev", "password": "correct-horse", "csrf_token": str(token)})
        yield c


def test_a_figure_of_many_projects_has_a_page_of_its_rows(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past LINK_CODES projects a figure links to /reviews/NAME/report/rows/DIGEST: its projects a page at a time,
    each linked, and all of them as CSV; the page is found again once the process forgot it (the report is built
    again), and an address naming no figure of the report as it is now is a 404 that says so."""
    from lmreview.report import html
    from lmreview.web.routes import report as report_routes

    monkeypatch.setattr(html, "LINK_CODES", 3)
    monkeypatch.setattr(report_routes, "ROWS_PAGE", 5)
    soup = BeautifulSoup(client.get("/reviews/r16/report.html").text, "html.parser")
    links = sorted({a["href"] for a in soup.select("a.rows") if "/report/rows/" in a["href"]})
    assert links
    href = next(h for h in links if h.endswith(html.figure_digest(tuple(sorted(html_codes(soup))))))
    assert client.get(href).status_code == 200  # kept when the report was rendered
    # Another worker, or after a restart: the figure is found by building the report again, once.
    monkeypatch.setattr(report_routes, "_FIGURES", OrderedDict())
    monkeypatch.setattr(report_routes, "_kept_codes", 0)
    builds: list[str] = []
    build = report_routes.review_report
    monkeypatch.setattr(
        report_routes, "review_report", lambda session, name: builds.append(name) or build(session, name)
    )
    first = client.get(href)
    assert first.status_code == 200, first.text
    page = BeautifulSoup(first.text, "html.parser")
    assert page.find("h1").get_text() == "The 14 projects behind a figure of the report"
    assert page.find("caption").get_text() == "1–5 of 14 projects"
    cells = [a["href"] for a in page.select("tbody a")]
    assert cells[0] == "/portfolios/lm2016/projects/LM.0115"
    assert len(cells) == 5
    last = BeautifulSoup(client.get(href, params={"page": "3"}).text, "html.parser")
    assert last.find("caption").get_text() == "11–14 of 14 projects"
    assert last.select_one("a[rel=prev]")["href"] == f"{href}?page=2"
    listed = client.get(href, params={"format": "csv"})
    assert listed.headers["content-type"].startswith("text/csv")
    lines = listed.text.splitlines()
    assert lines[0] == "code,title"
    assert [line.split(",")[0] for line in lines[1:]] == sorted(html_codes(soup))
    for bad in ("0", "²", "9" * 50):
        refused = client.get(href, params={"page": bad})
        assert refused.status_code == 422
        assert "is not a page number" in refused.text
    assert client.get(href, params={"format": "xml"}).status_code == 404
    assert client.get("/reviews/r16/report/rows/not-a-digest").status_code == 404
    for _ in range(3):  # an address naming no figure does not build the report again and again
        gone = client.get("/reviews/r16/report/rows/" + "0" * 32)
        assert gone.status_code == 404
        assert "has no such figure now" in gone.text
    assert builds == ["r16"]
    monkeypatch.setattr(report_routes, "BUILD_INTERVAL", 0.0)
    assert client.get("/reviews/r16/report/rows/" + "1" * 32).status_code == 404
    assert builds == ["r16", "r16"]


def html_codes(soup: BeautifulSoup) -> set[str]:
    """Every project code the report's annex lists."""
    return {a.get_text() for a in soup.select("a[href*='/portfolios/lm2016/projects/']")} or {
        code for a in soup.select("a.rows") if "codes=" in a["href"] for code in a["href"].split("codes=")[1].split(",")
    }


def test_report_page_edits_sections_and_links_figures_to_their_rows(client: TestClient) -> None:
    page = BeautifulSoup(client.get("/reviews/r16/report").text, "html.parser")
    assert page.find("h1").get_text() == "Report of IDF 2016"
    assert "Version 1, saved by tester" in page.find(id="section-summary").get_text()
    assert page.find(id="section-lessons").find("textarea").get_text() == ""
    token = page.find("input", {"name": "csrf_token"})["value"]
    saved = client.post(
        "/reviews/r16/report/sections/lessons",
        data={"csrf_token": token, "title": "Lessons", "markdown": "- Start the review **early**."},
    )
    assert saved.status_code == 200
    again = BeautifulSoup(saved.text, "html.parser")
    assert "Saved Lessons as version 1." in again.get_text()
    assert "Version 1, saved by rev" in again.find(id="section-lessons").get_text()
    refused = client.post("/reviews/r16/report/sections/lessons", data={"csrf_token": "wrong", "markdown": "x"})
    assert refused.status_code == 403

    report = client.get("/reviews/r16/report.html")
    assert report.headers["content-type"].startswith("text/html")
    soup = BeautifulSoup(report.text, "html.parser")
    budget = soup.find("table", id="t1").find("a", string="14 of 14")
    assert budget["href"].startswith("/portfolios/lm2016?codes=LM.0")
    assert len(budget["href"].split("codes=")[1].split(",")) == 14
    africa = next(a for a in soup.select("#t2 a.rows") if a.find_parent("tr").find("td").get_text() == "Africa")
    codes = africa["href"].split("codes=")[1].split(",")
    listed = BeautifulSoup(client.get(africa["href"]).text, "html.parser")
    assert "5 of 14 projects" in listed.find("table", class_="projects").caption.get_text()
    assert len(codes) == 5
    assert soup.find("strong", string="early") is not None

    xlsx = client.get("/reviews/r16/report.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    assert 'filename="r16-report.xlsx"' in xlsx.headers["content-disposition"]
    brief = client.get("/reviews/r16/brief.docx")
    assert brief.status_code == 200
    assert brief.content[:2] == b"PK"
    assert client.get("/reviews/r16/report.odt").status_code == 404
    assert client.get("/reviews/nope/report").status_code == 404


# --- the demo --------------------------------------------------------------------------------------------------------


def test_the_demo_report_prints_the_figures_of_001(cli: Cli, store: Store, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    with store.session() as session:
        report, written = report_cli.build_demo_report(session, tmp_path, actor="demo", formats=["html"])
    assert written == [tmp_path / "idf-lm-2016-report.html"]
    assert report_cli.key_figures(report) == [
        "Budget: total USD 1,650,000, mean 117,857, median 100,000 (n = 14 of 14 projects)",
        "Length incl. NCE: mean 18.3, median 18, max 37, min 9 months (n = 14 of 14)",
        "No-cost extensions: mean 5.7, median 5, max 13, min 1 months (n = 14 of 14)",
    ]
    text = written[0].read_text(encoding="utf-8")
    assert "This report was built by <code>lmreview demo</code>" in text
    with store.session() as session:  # a second run reuses the review and its introduction
        again, _ = report_cli.build_demo_report(session, tmp_path, actor="demo", formats=["html"])
    assert again.sections["introduction"].version == 1


# --- in a browser ----------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_report_opens_in_chromium(built: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    from playwright.sync_api import expect, sync_playwright

    from tests.conftest import CHROMIUM_ARGS as ARGS

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page()
        page.goto((built / "r16-report.html").as_uri())
        expect(page.get_by_role("heading", level=1)).to_have_text("IDF 2016")
        expect(page.locator("#t1")).to_contain_text("117,857")
        page.locator("nav.toc a", has_text="Portfolio overview").click()
        expect(page.locator("#f1 svg")).to_be_visible()
        box = page.locator("#f1 svg").bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 150
        page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
        browser.close()
    assert (SHOTS / "report.png").stat().st_size > 10_000


# --- the number audit on lmreview's own report -----------------------------------------------------------------------


def test_the_audit_finds_nothing_in_our_report_and_finds_planted_errors(wcli: Cli, built: Path, tmp_path: Path) -> None:
    """A report lmreview wrote must pass its own audit; the same report with figures changed by hand must not."""
    import docx

    report = built / "r16-report.docx"
    clean = wcli("audit", str(report), "--portfolio", "lm2016", "--json")
    assert clean.exit_code == 0, clean.stderr
    assert json.loads(clean.stdout) == []
    document = docx.Document(str(report))
    planted = 0
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    for run in paragraph.runs:
                        if run.text == "1,650,000" and planted == 0:
                            run.text, planted = "1,560,000", planted + 1
    assert planted == 1
    changed = tmp_path / "changed.docx"
    document.save(str(changed))
    found = json.loads(wcli("audit", str(changed), "--portfolio", "lm2016", "--json").stdout)
    assert any(f["claim"].find("1,560,000") >= 0 and "1,650,000" in f["expected"] for f in found), found
