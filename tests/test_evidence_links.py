"""Links between documents and portfolio projects (lmreview.evidence.links): suggestions by title likeness,
confirmed or rejected from the CLI and the document's page (audited, a rejection kept), and a project's documents
with their recommendations and lessons on `portfolio show` and the project's page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select

from lmreview.evidence.links import key_words
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.models import AuditEvent
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli
from tests.test_web import PASSWORD, csrf, login

# LM.0251 of the sample portfolio lm2016 is "Labour Mobility as a Factor of Development in South-Eastern Europe".
REPORT = """Final evaluation: labour mobility as a factor of development in South-Eastern Europe

Commissioned by: IOM
Final report date: 2016

Recommendations

Recommendation 1: Keep the regional network of employment services running once the funding ends.

Lessons learned

Lesson 1: Ministries need one steady contact person for a regional project to move.
"""
OTHER = """Brief on seaweed farming cooperatives

Commissioned by: IOM

The cooperatives sold their harvest to two buyers and kept a shared account of their costs.
"""


def add(cli: Cli, tmp_path: Path, name: str, text: str) -> int:
    (tmp_path / name).write_text(text, encoding="utf-8")
    run = cli("evidence", "add", str(tmp_path / name))
    assert run.exit_code == 0, run.stderr
    return int(run.stdout.split(":")[0].removeprefix("added "))


def links(cli: Cli, document: int) -> list[dict[str, object]]:
    run = cli("evidence", "links", str(document), "--json")
    assert run.exit_code == 0, run.stderr
    found: list[dict[str, object]] = json.loads(run.stdout)
    return found


def codes(cli: Cli, document: int) -> list[str]:
    shown = [d for d in json.loads(cli("evidence", "list", "--json").stdout) if d["id"] == document]
    return list(shown[0]["project_codes"])


def test_key_words_leave_out_what_kind_of_text_it_is() -> None:
    assert key_words("Final Evaluation of the Safe Corridors Project (2019-2021)") == "safe corridors"
    assert key_words("Mid-term review: Évaluation finale") == "évaluation finale"
    assert key_words("Report") == ""


def test_suggest_confirm_reject_from_the_cli(cli: Cli, store: Store, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    report = add(cli, tmp_path, "see.txt", REPORT)
    other = add(cli, tmp_path, "seaweed.txt", OTHER)
    suggested = links(cli, report)
    assert [(s["code"], s["status"]) for s in suggested] == [("LM.0251", "suggested")]
    assert isinstance(suggested[0]["score"], float)
    assert 80 <= suggested[0]["score"] <= 100
    assert links(cli, other) == []
    shown = cli("evidence", "links", str(report)).stdout
    assert "suggested: LM.0251 Labour Mobility as a Factor of Development in South-Eastern Europe" in shown
    assert codes(cli, report) == []  # a suggestion is not a link until a reviewer confirms it

    run = cli("evidence", "link", str(report), "--project", "LM.0251")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == f"Document {report}: confirmed project LM.0251"
    assert codes(cli, report) == ["LM.0251"]
    project = cli("portfolio", "show", "lm2016", "LM.0251").stdout
    assert "documents in the evidence library (1):" in project
    assert "recommendation 1 (p. 1): Keep the regional network of employment services" in project
    assert "lesson 1 (p. 1): Ministries need one steady contact person" in project
    items = json.loads(cli("evidence", "items", "--project", "LM.0251", "--json").stdout)
    assert {i["kind"] for i in items} == {"recommendation", "lesson"}

    run = cli("evidence", "link", str(report), "--project", "LM.0251", "--reject")
    assert run.exit_code == 0, run.stderr
    assert codes(cli, report) == []
    assert "documents in the evidence library" not in cli("portfolio", "show", "lm2016", "LM.0251").stdout
    with store.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "evidence_document", AuditEvent.action == "update")
        ).all()
        assert [e.summary for e in events] == [
            f"confirmed project LM.0251 for document {report}",
            f"rejected project LM.0251 for document {report}",
        ]
        assert events[0].actor == "tester"
        assert events[0].before is not None
        assert events[0].after is not None
        assert (events[0].before["link"], events[0].after["link"]) == ("suggested", "confirmed")
        assert events[1].after is not None
        assert events[1].after["project_codes"] == []

    # a rejection holds: the portfolio imported again, the file added again, a new version of the report
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("evidence", "add", str(tmp_path / "see.txt")).stdout.startswith("skipped")
    assert [(s["code"], s["status"]) for s in links(cli, report)] == [("LM.0251", "rejected")]
    version = add(cli, tmp_path, "see-v2.txt", REPORT + "\nAnnex 1\n\nThe list of people met.\n")
    assert links(cli, version) == []
    # a project that was not suggested may be linked by hand
    run = cli("evidence", "link", str(other), "--project", "LM.0238")
    assert run.exit_code == 0, run.stderr
    assert [(s["code"], s["score"], s["status"]) for s in links(cli, other)] == [("LM.0238", None, "confirmed")]


def test_bad_links_are_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    report = add(cli, tmp_path, "see.txt", REPORT)
    for args, message in (
        (["--project", "LM.9999"], "error: no portfolio project has the code 'LM.9999'"),
        (["--project", " "], "error: name the project: --project CODE"),
        (["--project", "LM.0251\u202e"], "error: "),
        (["--project", "X" * 81], "error: the project code XXXXXXXXXXXXXXXXXXXXXXXX… is 81 characters long"),
    ):
        run = cli("evidence", "link", str(report), *args)
        assert run.exit_code == 2, args
        assert run.stderr.startswith(message), run.stderr
        assert len(run.stderr.strip().splitlines()) == 1
    direction = cli("evidence", "link", str(report), "--project", "LM.0251\u202e").stderr
    assert "text-direction character, U+202E" in direction
    missing = cli("evidence", "link", "99999", "--project", "LM.0251")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: there is no document 99999")
    assert cli("evidence", "links", "99999").exit_code == 2
    assert cli("evidence", "links", "0").exit_code == 2
    assert codes(cli, report) == []


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with store.session() as session:
        for name, role in (("rev", "reviewer"), ("vic", "viewer")):
            add_user(session, name, role, PASSWORD, actor="test")
    app = create_app(Settings(database_url=store.url), store)
    with TestClient(app) as c:
        yield c


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_confirm_and_reject_on_the_document_page(client: TestClient, cli: Cli, tmp_path: Path) -> None:
    report = add(cli, tmp_path, "see.txt", REPORT)  # before the portfolio: no project to suggest yet
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    login(client, "rev")
    page = soup(client.get(f"/evidence/{report}").text)
    assert "No portfolio project's title is alike enough to suggest." in page.text
    token = csrf(client, f"/evidence/{report}")
    again = client.post(f"/evidence/{report}/links", data={"csrf_token": token, "decision": "suggest"})
    assert again.status_code == 200
    assert "1 new project suggested." in again.text
    row = soup(again.text).select_one("tr.link.suggested")
    assert row is not None
    assert "LM.0251" in row.text
    assert "/100" in row.text
    assert [b["aria-label"] for b in row.select("button")] == ["Confirm LM.0251", "Reject LM.0251"]
    assert client.get(f"/api/evidence/{report}/links").json()[0]["status"] == "suggested"

    confirmed = client.post(
        f"/evidence/{report}/links",
        data={"csrf_token": token, "code": "LM.0251", "decision": "confirm"},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"/evidence/{report}#links"
    page = soup(client.get(f"/evidence/{report}").text)
    assert [a.text for a in page.select("dd.projects a")] == ["LM.0251"]
    assert "confirmed by rev" in " ".join(page.select_one("tr.link.confirmed").text.split())  # type: ignore[union-attr]

    project = soup(client.get("/portfolios/lm2016/projects/LM.0251").text)
    documents = project.select("ul.evidence-documents > li")
    assert len(documents) == 1
    title = documents[0].select_one("a")
    assert title is not None
    assert title["href"] == f"/evidence/{report}"
    items = [" ".join(li.text.split()) for li in documents[0].select("li.item")]
    assert items[0].startswith("Recommendation 1 p. 1 Keep the regional network")
    assert items[1].startswith("Lesson 1 p. 1 Ministries need one steady contact person")
    assert all(a["href"].startswith(f"/evidence/{report}?passage=") for a in documents[0].select("li.item a"))

    client.post(f"/evidence/{report}/links", data={"csrf_token": token, "code": "LM.0251", "decision": "reject"})
    assert client.get(f"/api/evidence/{report}/links").json()[0]["status"] == "rejected"
    project = soup(client.get("/portfolios/lm2016/projects/LM.0251").text)
    assert not project.select("ul.evidence-documents")
    assert "No document of the evidence library concerns this project" in project.text


def test_the_link_form_refuses_bad_requests(client: TestClient, cli: Cli, tmp_path: Path) -> None:
    report = add(cli, tmp_path, "see.txt", REPORT)
    login(client, "rev")
    token = csrf(client, f"/evidence/{report}")
    url = f"/evidence/{report}/links"
    assert client.post(url, data={"code": "LM.0251", "decision": "confirm"}).status_code == 403
    bad = client.post(url, data={"csrf_token": token, "code": "LM.0251", "decision": "maybe"})
    assert bad.status_code == 400
    assert "decision: choose confirm, reject or suggest" in bad.text
    unknown = client.post(url, data={"csrf_token": token, "code": "LM.9999", "decision": "confirm"})
    assert unknown.status_code == 400
    assert "no portfolio project has the code" in unknown.text
    assert client.post("/evidence/99999/links", data={"csrf_token": token, "decision": "suggest"}).status_code == 404
    assert client.get("/api/evidence/99999/links").status_code == 404
    assert client.get("/api/evidence/0/links").status_code == 404
    client.cookies.clear()
    login(client, "vic")
    page = soup(client.get(f"/evidence/{report}").text)
    assert not page.select("#links form")  # a viewer sees the links, not the buttons
    token = csrf(client, "/evidence")
    assert client.post(url, data={"csrf_token": token, "decision": "suggest"}).status_code == 403


WORLD_BANK = """Implementation completion report

The rural roads project P123456 was run with the IOM project LM.0181 in the same districts.
"""


def test_an_organisations_own_code_patterns(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wb.txt").write_text(WORLD_BANK, encoding="utf-8")
    monkeypatch.setenv("LMREVIEW_PROJECT_CODE_PATTERNS", '["P(\\\\d"]')
    bad = cli("evidence", "add", str(tmp_path / "wb.txt"))
    assert bad.exit_code == 2
    reason = "is not a regular expression (missing ): P(\\d)"
    assert bad.stderr.strip() == f"error: project_code_patterns: 'P(\\\\d' {reason}"
    assert json.loads(cli("evidence", "list", "--json").stdout) == []  # nothing read, nothing written
    monkeypatch.setenv("LMREVIEW_PROJECT_CODE_PATTERNS", '["\\\\bP\\\\d{6}\\\\b"]')
    document = add(cli, tmp_path, "wb.txt", WORLD_BANK)
    assert codes(cli, document) == ["LM.0181", "P123456"]
    monkeypatch.delenv("LMREVIEW_PROJECT_CODE_PATTERNS")
    other = add(cli, tmp_path, "wb2.txt", WORLD_BANK + "\nAnnex\n")
    assert codes(cli, other) == ["LM.0181"]  # the built-in patterns only


def test_code_patterns_of_the_web_upload(store: Store) -> None:
    with store.session() as session:
        add_user(session, "rev", "reviewer", PASSWORD, actor="test")
    app = create_app(Settings(database_url=store.url, project_code_patterns=[r"\bP\d{6}\b"]), store)
    with TestClient(app) as client:
        login(client, "rev")
        token = csrf(client, "/evidence")
        files = [("files", ("wb.txt", WORLD_BANK.encode(), "text/plain"))]
        assert client.post("/evidence", data={"csrf_token": token}, files=files).status_code == 200
        assert client.get("/api/evidence").json()[0]["project_codes"] == ["LM.0181", "P123456"]
