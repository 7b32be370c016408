"""Follow-up in the web UI: a review's register, a recommendation's page (response, key actions, progress with a
file, history), the dashboard with its filters and the lists behind its figures, exports, a matrix import with
located errors, roles, and the JSON API that matches the CLI."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli, join_every_review
from tests.test_tracking_register import days, register
from tests.test_web import PASSWORD, csrf, login


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


def text_of(page: BeautifulSoup, selector: str, sep: str = "") -> str:
    found = page.select_one(selector)
    assert found is not None, selector
    return " ".join(found.get_text(sep).split())


def test_manager_writes_a_recommendation_and_follows_it_up(client: TestClient, cli: Cli) -> None:
    assert cli("review", "create", "r22", "--title", "Review 2022").exit_code == 0
    join_every_review(client.app.state.store, "rev", "vic")
    login(client, "rev")
    token = csrf(client, "/tracking/reviews/r22")
    form = {
        "csrf_token": token,
        "number": "1",
        "text": "Give every project a results framework",
        "units": "PARDEV; RO Bangkok",
        "priority": "high",
        "themes": "results",
        "year": "2022",
    }
    response = client.post("/tracking/reviews/r22", data=form, follow_redirects=False)
    assert response.status_code == 303
    rec_url = response.headers["location"]
    rec_id = rec_url.rsplit("/", 1)[1]

    response = client.post(
        f"{rec_url}/response",
        data={"csrf_token": token, "stance": "partially_agrees", "text": "New projects only", "by": "PARDEV"},
    )
    assert response.status_code == 200
    page = soup(response.text)
    assert text_of(page, "#response") == f"Partially agrees — PARDEV, {days(0)}"
    for description, due in (("Write the template", days(-12)), ("Train the teams", days(30))):
        data = {"csrf_token": token, "description": description, "unit": "PARDEV", "due": due, "status": "initiated"}
        assert client.post(f"{rec_url}/actions", data=data).status_code == 200
    page = soup(client.get(rec_url).text)
    sections = page.select("section.action")
    assert [s.h3.text for s in sections if s.h3] == ["Write the template", "Train the teams"]
    assert "overdue by 12 days" in sections[0].text
    action_id = str(sections[0]["id"]).removeprefix("action-")

    # progress with a document; the action is completed
    response = client.post(
        f"/tracking/actions/{action_id}",
        data={"csrf_token": token, "status": "completed", "due": days(-12), "comment": "Template issued"},
        files={"file": ("template.docx", b"the template", "application/octet-stream")},
    )
    assert response.status_code == 200
    page = soup(response.text)
    link = page.select_one(f"#action-{action_id} ol.history a")
    assert link is not None
    assert link.text == "template.docx"
    assert client.get(str(link["href"])).content == b"the template"
    history = [li.text for li in page.select("#history li")]
    assert "rev: key action" in history[0]
    assert history[0].endswith("comment, status")
    assert history[-1].endswith("rev: added recommendation 1 of r22")

    # a correction through the form is saved and audited
    edit = {"csrf_token": token, "text": form["text"], "units": "PARDEV", "priority": "medium", "year": "2022"}
    page = soup(client.post(rec_url, data=edit).text)
    assert "priority" in page.select("#history li")[0].text
    assert "units" in page.select("#history li")[0].text
    assert client.post(rec_url, data={**edit, "year": "later"}).status_code == 422

    # the register and the dashboard
    register_page = soup(client.get("/tracking/reviews/r22").text)
    assert text_of(register_page, "#register tbody tr", " ").startswith("1 Give every project a results framework")
    dashboard = soup(client.get("/tracking?review=r22").text)
    assert (
        text_of(dashboard, "#implementation-rate") == "Implementation rate: 100.0% (1 completed of 1 key actions due)"
    )
    due_link = dashboard.select_one("#implementation-rate a:nth-of-type(2)")
    assert due_link is not None
    listed = soup(client.get(str(due_link["href"])).text)
    assert [a.text for a in listed.select("#action-list tbody td:nth-of-type(3)")] == ["Write the template"]
    assert client.get("/tracking?review=r22&theme=other").status_code == 200
    assert json.loads(client.get("/api/tracking/status?review=r22").text) == json.loads(
        cli("tracking", "status", "--review", "r22", "--json").stdout
    )
    assert client.get("/api/tracking/recommendations?review=r22").json()[0]["id"] == int(rec_id)


def test_dashboard_overdue_and_filters(client: TestClient, cli: Cli) -> None:
    register(cli)
    assert cli("review", "create", "other").exit_code == 0
    assert cli("tracking", "recs", "add", "-r", "other", "-n", "1", "--text", "x", "--year", "2019").exit_code == 0
    join_every_review(client.app.state.store, "rev", "vic")
    login(client, "vic")
    page = soup(client.get("/tracking").text)
    assert text_of(page, "#overdue-count") == "1"
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in page.select("#overdue tbody tr")]
    assert rows == [["r16", "1", "Draft the framework", "PARDEV", days(-30), "30"]]
    assert "4 recommendations" in text_of(page, "#responses caption")
    filtered = soup(client.get("/tracking?year=2019").text)
    assert "1 recommendation" in text_of(filtered, "#responses caption")
    assert "no key action is due yet" in text_of(filtered, "#implementation-rate")
    by_unit = soup(client.get("/tracking?unit=MIGRANT").text)
    assert text_of(by_unit, "#actions tbody tr:nth-of-type(1)", " ") == "Not initiated 1"
    assert client.get("/tracking?year=soon").status_code == 422
    overdue = soup(client.get("/tracking/actions?which=overdue").text)
    assert [a.text for a in overdue.select("#action-list tbody td:nth-of-type(3)")] == ["Draft the framework"]
    assert client.get("/tracking/actions?which=everything").status_code == 422


def test_exports_and_a_refused_import(client: TestClient, cli: Cli) -> None:
    register(cli)
    join_every_review(client.app.state.store, "rev", "vic")
    login(client, "rev")
    xlsx = client.get("/tracking/export?format=xlsx&review=r16")
    assert xlsx.status_code == 200
    assert "management-response-r16.xlsx" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book["Matrix"].max_row == 5
    assert client.get("/tracking/export?format=docx").content.startswith(b"PK")
    html = client.get("/tracking/export?format=html&review=r16")
    assert "Follow-up of recommendations: r16" in html.text
    assert client.get("/tracking/export?format=odt").status_code == 422

    book["Matrix"]["M2"] = "Completed"
    good = io.BytesIO()
    book.save(good)
    token = csrf(client, "/tracking")
    before = client.get("/tracking/export?format=xlsx&review=r16").content
    files = {"file": ("filled.xlsx", good.getvalue(), "application/octet-stream")}
    checked = client.post("/tracking/import", data={"csrf_token": token, "dry_run": "1"}, files=files)
    assert checked.status_code == 200
    assert "Would change key action" in checked.text
    assert "would be written (dry run: nothing was written)" in checked.text
    after = load_workbook(io.BytesIO(client.get("/tracking/export?format=xlsx&review=r16").content))
    assert after["Matrix"]["M2"].value == load_workbook(io.BytesIO(before))["Matrix"]["M2"].value != "Completed"

    book["Matrix"]["L2"] = "31/02/2027"
    out = io.BytesIO()
    book.save(out)
    token = csrf(client, "/tracking")
    files = {"file": ("filled.xlsx", out.getvalue(), "application/octet-stream")}
    response = client.post("/tracking/import", data={"csrf_token": token}, files=files)
    assert response.status_code == 422
    problems = [" ".join(li.get_text().split()) for li in soup(response.text).select("ul.problems li")]
    assert problems == ["filled.xlsx, row 2, Due date: '31/02/2027' is not a date; write 2027-03-31 or 31/03/2027"]
    api = client.post(
        "/tracking/import", data={"csrf_token": token}, files=files, headers={"accept": "application/json"}
    )
    assert api.json()["problems"] == [
        "filled.xlsx:2:Due date: '31/02/2027' is not a date; write 2027-03-31 or 31/03/2027"
    ]


def test_viewers_read_but_do_not_change(client: TestClient, cli: Cli) -> None:
    recs, actions = register(cli)
    join_every_review(client.app.state.store, "rev", "vic")
    login(client, "vic")
    page = soup(client.get(f"/tracking/recs/{recs['1']}").text)
    assert page.select_one("#response-form") is None
    assert page.select_one("#add-action") is None
    token = csrf(client, "/tracking")
    response = client.post(f"/tracking/recs/{recs['1']}/response", data={"csrf_token": token, "stance": "agrees"})
    assert response.status_code == 403
    response = client.post(f"/tracking/actions/{actions[0]}", data={"csrf_token": token, "status": "completed"})
    assert response.status_code == 403
    assert client.get("/tracking/recs/999999").status_code == 404
    client.cookies.clear()
    assert client.get("/tracking", follow_redirects=False).status_code == 303
