"""The evidence library in the web UI: upload of several files (refusals listed, size limit), search with facet
counts, a document opened at the hit with the words marked, metadata edited by reviewers only, the JSON API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli
from tests.test_evidence_items import REPORT
from tests.test_evidence_reading import make_docx, make_pdf
from tests.test_evidence_search import BRIEF, ILO, IOM
from tests.test_web import PASSWORD, csrf, login


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with store.session() as session:
        for name, role in (("rev", "reviewer"), ("vic", "viewer")):
            add_user(session, name, role, PASSWORD, actor="test")
    app = create_app(Settings(database_url=store.url, max_upload_bytes=1024 * 1024), store)
    with TestClient(app) as c:
        yield c


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def upload(client: TestClient, files: list[tuple[str, bytes]], **data: str) -> tuple[int, BeautifulSoup]:
    token = csrf(client, "/evidence")
    response = client.post(
        "/evidence",
        data={"csrf_token": token, **data},
        files=[("files", (name, content, "application/octet-stream")) for name, content in files],
    )
    return response.status_code, soup(response.text)


def text_files() -> list[tuple[str, bytes]]:
    return [("ilo.txt", ILO.encode()), ("iom.txt", IOM.encode()), ("brief.md", BRIEF.encode())]


def test_upload_search_and_read_at_the_hit(client: TestClient, tmp_path: Path) -> None:
    login(client, "rev")
    pdf = make_pdf(tmp_path / "corridors.pdf").read_bytes()
    status, page = upload(client, [*text_files(), ("corridors.pdf", pdf)])
    assert status == 200
    assert page.h1 is not None
    assert page.h1.text == "4 added, 0 already there, 0 refused"
    library = soup(client.get("/evidence").text)
    assert "Final evaluation of the Safe Corridors project" in library.text
    assert library.select_one('nav a[href="/evidence"]') is not None

    results = soup(client.get("/evidence/search", params={"q": "recruitment fees"}).text)
    total = results.select_one(".total")
    assert total is not None
    assert total.text.startswith("3 passages match")
    facets = {
        key: [" ".join(li.text.split()) for li in results.select(f".facet-{key} li")]
        for key in ("type", "organisation", "year", "project")
    }
    assert facets == {
        "type": ["evaluation report 2"],
        "organisation": ["ILO 1", "IOM Development Fund 1"],
        "year": ["2018 1", "2021 1"],
        "project": ["GLO/06/57/UKM 1", "LM.0181 1"],
    }
    first = results.select(".hits li")[0]
    assert [m.text for m in first.select(".snippet mark")][:2] == ["Recruitment", "fees"]
    link = first.a
    assert link is not None
    href = str(link["href"])
    assert "#p" in href

    document = client.get(href.split("#")[0])
    assert document.status_code == 200
    opened = soup(document.text)
    target = opened.find(id=href.split("#")[1])
    assert target is not None
    assert "hit" in target["class"]
    assert [m.text for m in target.select("mark")][:2] == ["Recruitment", "fees"]
    assert "scrollIntoView" in document.text


def test_refused_and_duplicate_uploads(client: TestClient) -> None:
    login(client, "rev")
    assert upload(client, text_files()[:1])[0] == 200
    status, page = upload(
        client,
        [
            text_files()[0],
            ("big.txt", b"x" * (1024 * 1024 + 1)),
            ("latin1.txt", "Perú".encode("latin-1")),
            ("notes.odt", b"not a format"),
            ("ok.md", BRIEF.encode()),
        ],
    )
    assert status == 422
    assert page.h1 is not None
    assert page.h1.text == "1 added, 1 already there, 3 refused"
    problems = [li.text for li in page.select("ul.problems li")]
    assert problems == [
        "big.txt: the file is larger than 1 MiB",
        "latin1.txt: the text is not valid UTF-8 (byte 4); save the file as UTF-8",
        "notes.odt: not a format lmreview reads (PDF, DOCX, TXT, Markdown, HTML)",
    ]


def test_viewers_read_but_cannot_add_or_edit(client: TestClient, tmp_path: Path) -> None:
    login(client, "rev")
    upload(client, [("skills.docx", make_docx(tmp_path / "skills.docx").read_bytes())])
    document_id = client.get("/api/evidence").json()[0]["id"]
    client.post("/logout", data={"csrf_token": csrf(client, "/evidence")})
    login(client, "vic")
    page = soup(client.get(f"/evidence/{document_id}").text)
    assert page.select('form[action="/evidence"]') == []
    assert page.select(f'form[action="/evidence/{document_id}"]') == []
    token = csrf(client, "/evidence")
    refused = client.post(f"/evidence/{document_id}", data={"csrf_token": token, "year": "2001"})
    assert refused.status_code == 403
    refused = client.post("/evidence", data={"csrf_token": token}, files=[("files", ("a.txt", b"hello there"))])
    assert refused.status_code == 403


def test_reviewer_edits_metadata(client: TestClient) -> None:
    login(client, "rev")
    upload(client, text_files()[2:])
    document_id = client.get("/api/evidence").json()[0]["id"]
    token = csrf(client, f"/evidence/{document_id}")
    data = {"csrf_token": token, "title": "Domestic workers brief", "doc_type": "evaluation_brief", "year": "2022"}
    response = client.post(
        f"/evidence/{document_id}", data={**data, "project_codes": "LM.0181, LM.0200"}, follow_redirects=False
    )
    assert response.status_code == 303
    saved = client.get("/api/evidence").json()[0]
    assert (saved["title"], saved["type"], saved["year"]) == ("Domestic workers brief", "evaluation_brief", 2022)
    assert saved["project_codes"] == ["LM.0181", "LM.0200"]
    bad = client.post(f"/evidence/{document_id}", data={"csrf_token": token, "year": "next year"})
    assert bad.status_code == 422
    assert "&#39;next year&#39; is not a year" in bad.text or "'next year' is not a year" in bad.text


def test_search_errors_and_json(client: TestClient) -> None:
    login(client, "rev")
    upload(client, text_files())
    page = client.get("/evidence/search", params={"q": '"'})
    assert page.status_code == 400
    assert "has no word to search for" in page.text
    bad_year = client.get("/evidence/search", params={"q": "fees", "year_from": "soon"})
    assert bad_year.status_code == 400
    api = client.get("/api/evidence/search", params={"q": "workers", "organisation": "IOM"}).json()
    assert api["total"] == 3
    assert {h["title"] for h in api["hits"]} == {"Labour mobility in West Africa", "Brief on migrant domestic workers"}
    assert api["facets"]["organisation"] == [{"value": "IOM", "count": 2}]
    assert client.get("/api/evidence/search", params={"q": "*"}).json()["error"].startswith("the query")
    assert client.get("/evidence/424242").status_code == 404


def test_items_across_the_library_and_on_the_document(client: TestClient) -> None:
    login(client, "rev")
    report = REPORT.format().encode()
    upload(client, [("border-skills.html", report), *text_files()])
    page = soup(client.get("/evidence/items", params={"kind": "recommendation"}).text)
    items = page.select("ol.items > li")
    assert [li.strong.text for li in items if li.strong] == ["Recommendation 1", "Recommendation 2"]
    assert [s.text for s in page.select(".stance")] == ["Response: partially agrees", "Response: disagrees"]
    fields = {dt.text: dt.find_next_sibling("dd").text for dt in items[0].select("dl.fields dt")}
    assert fields == {
        "Responsible unit": "IOM Nairobi",
        "Priority": "High",
        "Time implication": "Short-term",
        "Resource implication": "Low",
    }
    link = items[0].select_one("small a")
    assert link is not None
    document = soup(client.get(str(link["href"])).text)
    assert document.select_one(".items-found summary") is not None
    assert "6 items found" in document.select_one(".items-found summary").text
    api = client.get("/api/evidence/items", params={"organisation": "ilo"}).json()
    assert api == []  # the ILO text has no items
    lessons = client.get("/api/evidence/items", params={"kind": "lesson", "year_to": "2030"}).json()
    assert lessons == []  # the report states no year
    assert len(client.get("/api/evidence/items", params={"kind": "lesson"}).json()) == 2
    assert client.get("/api/evidence/items", params={"kind": "anecdote"}).status_code == 422


def test_project_codes_link_to_the_portfolio(client: TestClient, cli: Cli) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    login(client, "rev")
    upload(client, text_files()[:2])
    documents = {d["file"]: d["id"] for d in client.get("/api/evidence").json()}
    page = soup(client.get(f"/evidence/{documents['iom.txt']}").text)
    links = [(a.text, a["href"]) for a in page.select("dd.projects a")]
    assert links == [("LM.0181", "/portfolios/lm2016/projects/LM.0181")]
    page = soup(client.get(f"/evidence/{documents['ilo.txt']}").text)
    projects = page.select_one("dd.projects")
    assert projects is not None
    assert " ".join(projects.text.split()) == "GLO/06/57/UKM (not in a portfolio)"


def test_a_capped_search_says_so(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmreview.evidence import search

    login(client, "rev")
    upload(client, text_files())
    assert client.get("/api/evidence/search", params={"q": "workers"}).json()["capped"] is False
    monkeypatch.setattr(search, "CAP", 1)
    api = client.get("/api/evidence/search", params={"q": "workers"}).json()
    assert (api["total"], api["capped"], len(api["hits"])) == (1, True, 1)
    page = soup(client.get("/evidence/search", params={"q": "workers"}).text)
    total = page.select_one("p.total")
    assert total is not None
    assert total.get_text(" ", strip=True).startswith("1 or more passages match; the best 1 of the 1 most recently")


def test_bad_files_uploaded_get_one_line_each_and_nothing_half_written(client: TestClient, tmp_path: Path) -> None:
    """The bad input of issue 9 through the upload page: each refused file has its one-line reason, the good file
    of the batch is added, and no refused file leaves a document, a passage or an item behind."""
    from tests.test_evidence_reading import make_encrypted_pdf, make_pageless_pdf, make_zip_bomb_docx

    pdf = make_pdf(tmp_path / "corridors.pdf")
    bad = {
        "encrypted.pdf": make_encrypted_pdf(tmp_path / "encrypted.pdf", pdf).read_bytes(),
        "damaged.pdf": pdf.read_bytes()[:600],
        "zero.pdf": b"",
        "no-pages.pdf": make_pageless_pdf(tmp_path / "no-pages.pdf").read_bytes(),
        "bomb.docx": make_zip_bomb_docx(tmp_path / "bomb.docx").read_bytes(),
        "latin1.txt": "Migración laboral en Perú".encode("latin-1"),
    }
    login(client, "rev")
    # in two uploads: one of more than five files would become a background job (tests/test_jobs.py)
    first = [*list(bad.items())[:3], ("brief.md", BRIEF.encode())]
    status, page = upload(client, first)
    assert status == 422
    assert page.h1 is not None
    assert page.h1.text == "1 added, 0 already there, 3 refused"
    problems = dict(li.text.split(": ", 1) for li in page.select("ul.problems li"))
    status, page = upload(client, list(bad.items())[3:])
    assert status == 422
    assert page.h1 is not None
    assert page.h1.text == "0 added, 0 already there, 3 refused"
    problems.update(dict(li.text.split(": ", 1) for li in page.select("ul.problems li")))
    assert problems.pop("bomb.docx").startswith("refused: word/document.xml expands")
    assert problems == {
        "encrypted.pdf": "the PDF is encrypted (it needs a password); save an unprotected copy",
        "damaged.pdf": "the PDF is damaged and cannot be read",
        "zero.pdf": "the file is empty (or no file was chosen)",
        "no-pages.pdf": "the PDF has no pages",
        "latin1.txt": "the text is not valid UTF-8 (byte 8); save the file as UTF-8",
    }
    documents = client.get("/api/evidence").json()
    assert [d["file"] for d in documents] == ["brief.md"]
    items = client.get("/api/evidence/items").json()
    assert {i["document"] for i in items} <= {documents[0]["id"]}
    hits = client.get("/api/evidence/search", params={"q": "corridors OR migración OR perú"}).json()
    assert hits["total"] == 0


def test_items_filtered_by_project_organisation_and_year(client: TestClient, store: Store) -> None:
    """The items page and its API narrow the items of the whole library by organisation, years and project, and
    a reviewer's edit of the metadata (which moves a document in or out of a filter) is audited."""
    from sqlalchemy import select

    from lmreview.store.models import AuditEvent

    reports = (
        ("ilo-2018.txt", "ILO", 2018, "GLO/06/57/UKM", "Register the recruitment agencies of the corridor."),
        ("iom-2021.txt", "IOM", 2021, "LM.0181", "Train the labour inspectors of the three districts."),
        ("iom-2023.txt", "IOM", 2023, "LM.0200", "Translate the contracts into the workers' languages."),
    )
    files = [
        (
            name,
            f"Evaluation of project {code}\n\nCommissioned by: {organisation}\nFinal report date: {year}\n\n"
            f"Recommendations\n\n- {text}\n\nLessons learned\n\n- Lesson of {year}.\n".encode(),
        )
        for name, organisation, year, code, text in reports
    ]
    login(client, "rev")
    assert upload(client, files)[0] == 200

    def shown(**params: str) -> list[str]:
        page = soup(client.get("/evidence/items", params={"kind": "recommendation", **params}).text)
        return [li.find("p", recursive=False).text for li in page.select("ol.items > li")]  # type: ignore[union-attr]

    assert shown(organisation="iom") == [reports[1][4], reports[2][4]]
    assert shown(organisation="IOM", year_from="2022") == [reports[2][4]]
    assert shown(year_to="2021") == [reports[0][4], reports[1][4]]
    assert shown(project="LM.0181") == [reports[1][4]]
    api = client.get("/api/evidence/items", params={"kind": "lesson", "year_from": "2021", "year_to": "2021"}).json()
    assert [i["text"] for i in api] == ["Lesson of 2021."]

    documents = {d["file"]: d["id"] for d in client.get("/api/evidence").json()}
    ilo = documents["ilo-2018.txt"]
    token = csrf(client, f"/evidence/{ilo}")
    edited = client.post(
        f"/evidence/{ilo}",
        data={"csrf_token": token, "title": "ILO corridor evaluation", "doc_type": "evaluation_report", "year": "2022"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    assert shown(organisation="ilo", year_from="2022") == [reports[0][4]]
    with store.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "evidence_document", AuditEvent.action == "update")
        ).one()
        assert event.actor == "rev"
        assert event.before is not None
        assert event.after is not None
        assert (event.before["year"], event.after["year"]) == (2018, 2022)
        assert event.after["title"] == "ILO corridor evaluation"
