"""The coding pages over HTTP: codebooks, a review's material, coding an answer and a document through the JSON
calls, coders kept apart until the manager opens the comparison, a code's segments, agreement and consensus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli, join_every_review
from tests.fixtures.coding.material import REPORTS, make_review

PASSWORD = "correct-horse"


@pytest.fixture
def app(store: Store, cli: Cli, tmp_path: Path) -> Any:
    docs = make_review(cli, tmp_path)
    with store.session() as session:
        for name, role in (("ada", "admin"), ("rev", "reviewer"), ("rob", "reviewer"), ("vic", "viewer")):
            add_user(session, name, role, PASSWORD, actor="test")
    join_every_review(store, "ada", "rev", "rob", "vic")
    app = create_app(Settings(database_url=store.url), store)
    app.state.docs = docs
    return app


def client_for(app: Any, name: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/login")
    token = BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf_token"})
    assert token is not None
    response = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": token["value"]}, follow_redirects=False
    )
    assert response.status_code == 303
    return client


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def token(client: TestClient, path: str = "/coding") -> str:
    found = soup(client.get(path).text).find("input", {"name": "csrf_token"}) or soup(client.get(path).text).find(
        "input", {"id": "coding-csrf"}
    )
    assert found is not None
    return str(found["value"])


def sheet(client: TestClient, path: str) -> tuple[BeautifulSoup, dict[str, Any]]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    page = soup(response.text)
    script = page.find("script", {"id": "coding-data"})
    assert script is not None
    return page, json.loads(script.string or "")


def code(client: TestClient, data: dict[str, Any], text: int, start: int, end: int, name: str) -> Any:
    code_id = next(c["id"] for c in data["codes"] if c["name"] == name)
    body = {
        "csrf_token": token(client),
        "source": data["texts"][text]["reference"],
        "start": start,
        "end": end,
        "code_id": code_id,
    }
    return client.post("/api/coding/codings", json=body)


def test_code_in_the_browser_pages(app: Any) -> None:
    rev = client_for(app, "rev")
    created = rev.post("/coding/codebooks", data={"csrf_token": token(rev), "name": "", "starter": "challenges-2022"})
    assert created.status_code == 200
    assert "Changing governmental counterparts" in created.text
    material = soup(rev.get("/coding/reviews/r?codebook=challenges-2022").text)
    links = [a["href"] for a in material.find_all("a")]
    answers = [h for h in links if "/answers/" in h]
    documents = [h for h in links if "/documents/" in h]
    assert len(answers) == 4
    assert len(documents) == 2

    first = str(material.find("a", string="LM.0181")["href"])
    page, data = sheet(rev, first)
    assert [t["path"] for t in data["texts"]] == ["project_code", "actions", "steps[1]/step"]
    assert page.find("div", {"class": "codable", "data-index": "1"}).get_text() == data["texts"][1]["text"]  # noscript
    assert len(page.select("button.apply-code")) == 20
    made = code(rev, data, 1, 0, 14, "Covid-19")
    assert made.status_code == 201, made.text
    assert made.json()["coder"] == "rev"
    refused = code(rev, data, 1, 0, 500, "Covid-19")
    assert refused.status_code == 400
    assert "outside the text" in refused.json()["error"]

    doc_path = next(h for h in documents if f"/documents/{app.state.docs['report-0181.txt']}?" in h)
    _, doc = sheet(rev, doc_path)
    text = REPORTS["report-0181.txt"][1]
    start = text.index("The pandemic")
    assert code(rev, doc, 0, start, start + 12, "Covid-19").status_code == 201

    # rob, another reviewer, sees none of rev's codings until the manager opens the comparison
    rob = client_for(app, "rob")
    _, seen = sheet(rob, first)
    assert seen["texts"][1]["codings"] == []
    assert code(rob, seen, 1, 0, 7, "Covid-19").status_code == 201
    assert (
        rob.delete(f"/api/coding/codings/{made.json()['id']}", headers={"X-CSRF-Token": token(rob)}).status_code == 404
    )
    _, mine = sheet(rev, first)
    assert [c["coder"] for c in mine["texts"][1]["codings"]] == ["rev"]

    # the code's page lists the segments with context and a link back
    covid = next(c["id"] for c in data["codes"] if c["name"] == "Covid-19")
    page = soup(rev.get(f"/coding/reviews/r/codes/{covid}?codebook=challenges-2022").text)
    items = page.select("ol.segments li")
    assert len(items) == 2
    assert items[0].find("mark").get_text() in ("Borders closed", "The pandemic")
    assert [li.find("a")["href"].split("?")[0] for li in items] == [
        first.split("?")[0],
        f"/coding/reviews/r/documents/{app.state.docs['report-0181.txt']}",
    ]

    # agreement waits for the manager
    closed = rev.get("/coding/reviews/r/agreement?codebook=challenges-2022")
    assert "not compared yet" in closed.text
    assert soup(closed.text).find("button", string="Open the comparison") is None
    ada = client_for(app, "ada")
    form = soup(ada.get("/coding/reviews/r/agreement?codebook=challenges-2022").text)
    assert form.find("button", string="Open the comparison") is not None
    refused_open = rev.post("/coding/reviews/r/compare", data={"csrf_token": token(rev), "codebook": "challenges-2022"})
    assert refused_open.status_code == 403
    opened = ada.post("/coding/reviews/r/compare", data={"csrf_token": token(ada), "codebook": "challenges-2022"})
    assert opened.status_code == 200
    table = soup(opened.text).find("table", {"class": "agreement"})
    assert table is not None
    assert "rev, rob" in table.find("caption").get_text()
    _, both = sheet(rob, first)
    assert sorted(c["coder"] for c in both["texts"][1]["codings"]) == ["rev", "rob"]

    # rev coded 0-14, rob 0-7, both Covid-19: they agree on the answer; rob did not code the report's passage
    sections = soup(opened.text).select("section.disagreement")
    assert len(sections) == 1
    assert sections[0].find("h3").get_text().startswith("passage:")
    assert "(no code)" in sections[0].get_text()
    assert "1 unit that each of them coded" in table.find("caption").get_text()

    # removing one's own coding
    removed = rev.delete(f"/api/coding/codings/{made.json()['id']}", headers={"X-CSRF-Token": token(rev)})
    assert removed.status_code == 200
    no_csrf = rob.delete(f"/api/coding/codings/{made.json()['id']}")
    assert no_csrf.status_code == 403


def test_consensus_from_the_agreement_page(app: Any) -> None:
    rev, rob, ada = client_for(app, "rev"), client_for(app, "rob"), client_for(app, "ada")
    rev.post("/coding/codebooks", data={"csrf_token": token(rev), "name": "", "starter": "challenges-2022"})
    material = soup(rev.get("/coding/reviews/r?codebook=challenges-2022").text)
    path = str(material.find("a", string="LM.0181")["href"])
    _, data = sheet(rev, path)
    assert code(rev, data, 1, 0, 14, "Covid-19").status_code == 201
    assert code(rob, data, 1, 54, 73, "Lack of funding").status_code == 201
    ada.post("/coding/reviews/r/compare", data={"csrf_token": token(ada), "codebook": "challenges-2022"})
    page = soup(ada.get("/coding/reviews/r/agreement?codebook=challenges-2022").text)
    forms = page.select("form[action='/coding/reviews/r/consensus']")
    assert len(forms) == 1
    unit = forms[0].find("input", {"name": "unit"})["value"]
    assert sorted(i["value"] for i in forms[0].find_all("input", {"name": "code"})) == ["Covid-19", "Lack of funding"]
    assert (
        soup(rev.get("/coding/reviews/r/agreement?codebook=challenges-2022").text).select(
            "form[action='/coding/reviews/r/consensus']"
        )
        == []
    )
    done = ada.post(
        "/coding/reviews/r/consensus",
        data={
            "csrf_token": token(ada),
            "codebook": "challenges-2022",
            "unit": unit,
            "code": ["Covid-19", "Lack of funding"],
            "reason": "both hold",
        },
    )
    assert done.status_code == 200
    assert "The coders agree on every unit." in done.text
    _, seen = sheet(ada, path)
    assert sorted(c["coder"] for c in seen["texts"][1]["codings"]).count("consensus") == 2


def test_roles_and_bad_requests(app: Any) -> None:
    vic = client_for(app, "vic")
    assert vic.get("/coding").status_code == 403
    rev = client_for(app, "rev")
    bad = rev.post("/api/coding/codings", content=b"nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "the body is not JSON"
    missing = rev.post("/api/coding/codings", json={"csrf_token": token(rev)})
    assert missing.status_code == 400
    assert missing.json()["error"] == "give source, start, end and code_id"
    assert rev.get("/coding/reviews/r/answers/999?codebook=x").status_code == 404
    assert rev.get("/coding/codebooks/none").status_code == 404


def test_a_text_with_markup_stays_text(app: Any, cli: Cli, tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.txt"
    hostile.write_text("A report that quotes </script><!--<script>alert(1)</script> in its findings.\n", "utf-8")
    assert cli("evidence", "add", str(hostile), "--project", "LM.0181").exit_code == 0
    document = next(d["id"] for d in json.loads(cli("evidence", "list", "--json").stdout) if d["file"] == "hostile.txt")
    rev = client_for(app, "rev")
    rev.post("/coding/codebooks", data={"csrf_token": token(rev), "name": "", "starter": "dac-criteria"})
    page, data = sheet(rev, f"/coding/reviews/r/documents/{document}?codebook=dac-criteria")
    assert "</script><!--<script>alert(1)</script>" in data["texts"][0]["text"]
    assert len(page.find_all("script")) == 3  # page.js, the page's data and coding.js, nothing from the text
    raw = rev.get(f"/coding/reviews/r/documents/{document}?codebook=dac-criteria").text
    assert "<script>alert(1)" not in raw


def test_codebook_pages_add_codes_and_an_exclusive_group(app: Any) -> None:
    rev = client_for(app, "rev")
    made = rev.post("/coding/codebooks", data={"csrf_token": token(rev), "name": "reached", "starter": ""})
    assert made.status_code == 200
    for name in ("Fully", "Partly", "Not"):
        page = rev.post("/coding/codebooks/reached", data={"csrf_token": token(rev), "code": name, "colour": "#2ca02c"})
        assert page.status_code == 200
    page = rev.post(
        "/coding/codebooks/reached/groups",
        data={"csrf_token": token(rev), "group": "outcome", "code": ["Fully", "Partly", "Not"], "exclusive": "yes"},
    )
    assert page.status_code == 200
    assert "Group outcome" in soup(page.text).get_text()
    assert "mutually exclusive: one code per passage or answer" in page.text
    twice = rev.post("/coding/codebooks/reached", data={"csrf_token": token(rev), "code": "Fully"})
    assert twice.status_code == 409
    assert "already" in twice.text


def test_suggestions_api_proposes_without_coding(app: Any, cli: Cli, tmp_path: Path) -> None:
    rev = client_for(app, "rev")
    rev.post("/coding/codebooks", data={"csrf_token": token(rev), "name": "", "starter": "challenges-2022"})
    docs = app.state.docs
    report = REPORTS["report-0181.txt"][1]
    at = report.index("promised co-funding")
    brief = tmp_path / "brief-0181.txt"
    brief.write_text("Brief\n\nThe ministry did not provide the promised co-funding.\n", encoding="utf-8")
    assert cli("evidence", "add", str(brief), "--project", "LM.0181").exit_code == 0
    brief_id = next(d["id"] for d in json.loads(cli("evidence", "list", "--json").stdout) if d["file"] == brief.name)
    _, data = sheet(rev, f"/coding/reviews/r/documents/{docs['report-0181.txt']}?codebook=challenges-2022")
    covid = next(c["id"] for c in data["codes"] if c["name"] == "Covid-19")
    funding = next(c["id"] for c in data["codes"] if c["name"] == "Lack of funding")
    body = {"csrf_token": token(rev), "review": "r", "codebook": "challenges-2022"}
    found = rev.post(
        "/api/coding/suggestions",
        json={**body, "sources": [str(docs["report-0181.txt"])], "code_id": covid, "words": "pandemic, border"},
    )
    assert found.status_code == 200, found.text
    rows = found.json()["suggestions"]
    assert [(r["text"], r["code_id"]) for r in rows] == [("pandemic", covid), ("borders", covid)]
    assert json.loads(cli("coding", "list", "--json").stdout) == []  # nothing coded

    coded = rev.post(
        "/api/coding/codings",
        json={"csrf_token": token(rev), "source": str(docs["report-0181.txt"]), "start": at, "end": at + 19,
              "code_id": funding},
    )  # fmt: skip
    assert coded.status_code == 201
    earlier = rev.post("/api/coding/suggestions", json={**body, "sources": [str(brief_id)], "earlier": True})
    assert [(r["text"], r["code"], r["code_id"]) for r in earlier.json()["suggestions"]] == [
        ("promised co-funding", "Lack of funding", funding)
    ]

    for bad, message in (
        ({**body, "code_id": covid, "words": "x"}, "give sources"),
        ({**body, "sources": [], "words": "x"}, "choose the code"),
        ({**body, "sources": [], "code_id": 10**12, "words": "x"}, "no code"),
        ({**body, "sources": [], "code_id": covid, "words": "(", "regex": True}, "not a regular expression"),
        ({**body, "sources": [], "code_id": covid, "words": " "}, "give a keyword"),
    ):
        refused = rev.post("/api/coding/suggestions", json=bad)
        assert refused.status_code == 400, refused.text
        assert message in refused.json()["error"]
    assert client_for(app, "vic").post("/api/coding/suggestions", json=body).status_code == 403

    # a rejected suggestion is remembered for this coder and code: it is not proposed again
    ask = {**body, "sources": [str(docs["report-0181.txt"])], "code_id": covid, "words": "pandemic, border"}
    first = rows[0]
    no = {**body, "source": first["source"], "start": first["start"], "end": first["end"], "code_id": covid}
    rejected = rev.post("/api/coding/suggestions/reject", json=no)
    assert rejected.status_code == 201, rejected.text
    assert rejected.json()["text"] == "pandemic"  # read from the source, not taken from the caller
    assert rev.post("/api/coding/suggestions/reject", json=no).status_code == 201  # twice is the same rejection
    again = rev.post("/api/coding/suggestions", json=ask).json()["suggestions"]
    assert [r["text"] for r in again] == ["borders"]
    rob = client_for(app, "rob")  # another coder is still offered it
    offered = rob.post("/api/coding/suggestions", json={**ask, "csrf_token": token(rob)}).json()["suggestions"]
    assert [r["text"] for r in offered] == ["pandemic", "borders"]
    dismissed = rev.post(
        "/api/coding/suggestions",
        json={**body, "sources": [str(brief_id)], "earlier": True},
    ).json()["suggestions"][0]
    assert rev.post(
        "/api/coding/suggestions/reject",
        json={**body, "source": dismissed["source"], "start": dismissed["start"], "end": dismissed["end"],
              "code_id": funding},
    ).status_code == 201  # fmt: skip
    assert rev.post("/api/coding/suggestions", json={**body, "sources": [str(brief_id)], "earlier": True}).json() == {
        "suggestions": []
    }
    for bad_body, message in (
        ({**no, "start": "x"}, "give the suggestion's source, start, end and code_id"),
        ({**no, "end": 10**6}, "outside the text"),
        ({**no, "start": -1}, "out of range"),
        ({**no, "code_id": 10**12}, "out of range"),
        ({**no, "source": "nowhere"}, "no document"),
    ):
        refused = rev.post("/api/coding/suggestions/reject", json=bad_body)
        assert refused.status_code == 400, (bad_body, refused.text)
        assert message in refused.json()["error"], (bad_body, refused.text)
    assert client_for(app, "vic").post("/api/coding/suggestions/reject", json=no).status_code == 403
