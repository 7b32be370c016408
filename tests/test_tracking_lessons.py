"""The library of lessons learned and good practices: added from the CLI and the web with their ILO fields and their
source (a review, or a page of an evidence document), searched and filtered, a good practice's printable profile."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli, join_every_review
from tests.test_web import PASSWORD, csrf, login


def library(cli: Cli, tmp_path: Path) -> str:
    """A review, an evidence document of one page, a lesson from the review and a good practice from the document;
    returns the document's id."""
    assert cli("review", "create", "r16").exit_code == 0
    report = tmp_path / "final-report.txt"
    report.write_text("Final report of project LM.0181\n\nJoint inspections of recruitment agencies.\n", "utf-8")
    added = cli("evidence", "add", str(report))
    assert added.exit_code == 0, added.stderr
    document = re.search(r"added (\d+):", added.stdout)
    assert document is not None
    run = cli(
        "tracking", "lessons", "add", "--kind", "lesson", "--title", "Plan extensions early",
        "--text", "Projects that planned for delays asked for fewer no-cost extensions.",
        "--context", "Two-year projects with government partners", "--challenge", "Elections delayed approvals",
        "--users", "Project managers", "--review", "r16", "--theme", "management", "--year", "2016",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    run = cli(
        "tracking", "lessons", "add", "--kind", "good-practice", "--title", "Joint inspections of recruitment agencies",
        "--text", "Labour inspectors and the recruitment regulator visited agencies together.",
        "--elements", "A shared checklist", "--replicability", "Where a regulator licenses agencies",
        "--impact", "Fees charged to workers fell", "--document", document[1], "--page", "1",
        "--project", "LM.0181", "--theme", "fair recruitment", "--year", "2019",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    return document[1]


def test_add_search_and_filter_from_the_cli(cli: Cli, tmp_path: Path) -> None:
    document = library(cli, tmp_path)
    found = json.loads(cli("tracking", "lessons", "list", "--search", "recruitment FEES", "--json").stdout)
    assert [x["title"] for x in found] == ["Joint inspections of recruitment agencies"]
    practice = found[0]
    assert practice["kind"] == "good_practice"
    assert practice["fields"] == {
        "success_elements": "A shared checklist",
        "replicability": "Where a regulator licenses agencies",
        "objectives_link": None,
        "impact": "Fees charged to workers fell",
    }
    assert practice["source"] == {
        "review": None,
        "document_id": int(document),
        "document": practice["source"]["document"],
        "page": 1,
    }
    assert practice["projects"] == ["LM.0181"]
    lesson = json.loads(cli("tracking", "lessons", "list", "--kind", "lesson", "--json").stdout)
    assert [x["source"]["review"] for x in lesson] == ["r16"]
    assert lesson[0]["fields"]["challenge"] == "Elections delayed approvals"
    for args, titles in (
        (("--project", "LM.0181"), ["Joint inspections of recruitment agencies"]),
        (("--theme", "management"), ["Plan extensions early"]),
        (("--year", "2016"), ["Plan extensions early"]),
        (("--review", "r16"), ["Plan extensions early"]),
        (("--search", "delays extensions"), ["Plan extensions early"]),
        (("--search", "nowhere"), []),
    ):
        listed = json.loads(cli("tracking", "lessons", "list", *args, "--json").stdout)
        assert [x["title"] for x in listed] == titles, args
    assert "document" in cli("tracking", "lessons", "list").stdout


def test_mistakes_are_refused(cli: Cli, tmp_path: Path) -> None:
    document = library(cli, tmp_path)
    base = ("tracking", "lessons", "add", "--title", "t", "--text", "x")
    cases = [
        ((*base, "--kind", "anecdote"), "'anecdote' is not a kind; use lesson or good-practice"),
        ((*base, "--kind", "lesson", "--impact", "big"), "a lesson learned has the fields context"),
        ((*base, "--kind", "lesson", "--document", "999999"), "there is no document 999999"),
        ((*base, "--kind", "lesson", "--document", document, "--page", "7"), f"document {document} has pages 1 to 1"),
        ((*base, "--kind", "lesson", "--page", "2"), "a page belongs to a document"),
        ((*base, "--kind", "lesson", "--review", "nope"), "nope"),
    ]
    for args, message in cases:
        run = cli(*args)
        assert run.exit_code == 2, args
        assert message in run.stderr, (args, run.stderr)
    assert len(json.loads(cli("tracking", "lessons", "list", "--json").stdout)) == 2


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with store.session() as session:
        for name, role in (("rev", "reviewer"), ("vic", "viewer")):
            add_user(session, name, role, PASSWORD, actor="test")
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        yield c


def test_library_and_printable_profile_in_the_web(client: TestClient, cli: Cli, tmp_path: Path) -> None:
    document = library(cli, tmp_path)
    join_every_review(client.app.state.store, "rev")  # a lesson linked to review r16 needs its membership
    login(client, "rev")
    page = BeautifulSoup(client.get("/tracking/lessons?q=inspections").text, "html.parser")
    links = page.select("#lesson-list a")
    assert [a.text for a in links] == ["Joint inspections of recruitment agencies"]
    profile = BeautifulSoup(client.get(str(links[0]["href"])).text, "html.parser")
    rows = {tr.th.get_text(strip=True): " ".join(tr.td.get_text().split()) for tr in profile.select("#profile tr")}
    assert rows["What made it work"] == "A shared checklist"
    assert rows["Link to objectives"] == "–"
    assert rows["Source"].endswith(", page 1 (2019)")
    source = profile.select_one("#profile a")
    assert source is not None
    assert source["href"] == f"/evidence/{document}"
    button = profile.select_one(".no-print button")
    assert button is not None
    assert button.text == "Print this profile"
    assert button.has_attr("data-print")  # page.js prints: the CSP forbids inline handlers
    assert not profile.select("[onclick], [onsubmit], [onchange]")

    token = csrf(client, "/tracking/lessons")
    form = {
        "csrf_token": token,
        "kind": "lesson",
        "title": "Ask for outcome data at the start",
        "text": "Outcome data were missing where no baseline was agreed.",
        "context": "Final reports",
        "review": "r16",
        "year": "2016",
    }
    response = client.post("/tracking/lessons", data=form)
    assert response.status_code == 200
    assert BeautifulSoup(response.text, "html.parser").select_one("#profile-title").text == form["title"]  # type: ignore[union-attr]
    bad = client.post("/tracking/lessons", data={**form, "page": "3"}, headers={"accept": "application/json"})
    assert bad.status_code == 422
    assert bad.json()["error"] == "page: a page belongs to a document: give the document too"
    login(client, "vic")
    assert (
        client.post("/tracking/lessons", data={**form, "csrf_token": csrf(client, "/tracking/lessons")}).status_code
        == 403
    )
    assert client.get("/tracking/lessons/999999").status_code == 404


def test_edit_and_remove_from_the_cli(cli: Cli, tmp_path: Path) -> None:
    library(cli, tmp_path)
    found = json.loads(cli("tracking", "lessons", "list", "--kind", "lesson", "--json").stdout)
    lesson_id = str(found[0]["id"])
    run = cli(
        "tracking", "lessons", "set", lesson_id, "--title", "Plan extensions at the design stage",
        "--challenge", "", "--relevance", "Every project with a government partner",
        "--themes", "management; design", "--no-year",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert f"Saved lesson learned {lesson_id}" in run.stdout
    edited = next(
        x for x in json.loads(cli("tracking", "lessons", "list", "--json").stdout) if str(x["id"]) == lesson_id
    )
    assert edited["title"] == "Plan extensions at the design stage"
    assert edited["text"] == found[0]["text"]  # not given: unchanged
    assert edited["fields"]["challenge"] is None
    assert edited["fields"]["relevance"] == "Every project with a government partner"
    assert edited["fields"]["context"] == "Two-year projects with government partners"
    assert edited["themes"] == ["design", "management"]
    assert edited["year"] is None
    for args, message in (
        (("--impact", "big"), "a lesson learned has the fields context"),
        (("--title", "  "), "a lesson or practice keeps a title"),
    ):
        bad = cli("tracking", "lessons", "set", lesson_id, *args)
        assert bad.exit_code == 2, args
        assert message in bad.stderr
    assert cli("tracking", "lessons", "set", "999999", "--title", "x").exit_code != 0
    assert "there is no lesson or good practice 999999" in cli("tracking", "lessons", "remove", "999999").stderr
    removed = cli("tracking", "lessons", "remove", lesson_id)
    assert removed.exit_code == 0, removed.stderr
    assert "Plan extensions at the design stage" in removed.stdout
    left = json.loads(cli("tracking", "lessons", "list", "--json").stdout)
    assert [x["kind"] for x in left] == ["good_practice"]


def test_edit_and_remove_in_the_web(client: TestClient, cli: Cli, tmp_path: Path) -> None:
    library(cli, tmp_path)
    practice = json.loads(cli("tracking", "lessons", "list", "--kind", "good-practice", "--json").stdout)[0]
    path = f"/tracking/lessons/{practice['id']}"
    login(client, "rev")
    page = BeautifulSoup(client.get(path).text, "html.parser")
    form = page.select_one("#edit-lesson form")
    assert form is not None
    sent = {
        str(field["name"]): field.get("value") or field.get_text() for field in form.select("[name]")
    }  # the form as the browser sends it, unchanged but for what the user edits
    sent.update({"impact": "Fees charged to workers fell by a third", "objectives_link": "", "year": "2020"})
    saved = client.post(path, data=sent)
    assert saved.status_code == 200
    rows = {
        tr.th.get_text(strip=True): " ".join(tr.td.get_text().split())
        for tr in BeautifulSoup(saved.text, "html.parser").select("#profile tr")
    }
    assert rows["Measurable impact"] == "Fees charged to workers fell by a third"
    assert rows["What made it work"] == "A shared checklist"
    assert rows["Projects"] == "LM.0181"
    assert rows["Source"].endswith("(2020)")
    bad = client.post(path, data={**sent, "year": "20x0"}, headers={"accept": "application/json"})
    assert bad.status_code == 422
    assert bad.json()["error"] == "year: '20x0' is not a year"
    login(client, "vic")
    assert BeautifulSoup(client.get(path).text, "html.parser").select_one("#edit-lesson") is None
    token = csrf(client, path)
    assert client.post(path, data={**sent, "csrf_token": token}).status_code == 403
    assert client.post(f"{path}/remove", data={"csrf_token": token}).status_code == 403
    login(client, "rev")
    gone = client.post(f"{path}/remove", data={"csrf_token": csrf(client, path)})
    assert gone.status_code == 200
    shown = BeautifulSoup(gone.text, "html.parser").get_text()
    assert "Removed 'Joint inspections of recruitment agencies' from the library." in shown
    assert client.get(path).status_code == 404


def test_a_lesson_of_a_review_one_may_not_see_is_no_lesson_in_the_web(
    client: TestClient, cli: Cli, tmp_path: Path
) -> None:
    """As in the API: to a user who is no member of its review, a lesson drawn from it is neither listed nor found
    (404 as an unknown id, to a read, an edit and a removal); a lesson of no review (a document's) stays shared."""
    library(cli, tmp_path)
    found = {x["kind"]: x["id"] for x in json.loads(cli("tracking", "lessons", "list", "--json").stdout)}
    of_review, of_document = found["lesson"], found["good_practice"]
    login(client, "rev")  # a site reviewer, no member of r16
    page = BeautifulSoup(client.get("/tracking/lessons").text, "html.parser")
    assert [a.text for a in page.select("#lesson-list a")] == ["Joint inspections of recruitment agencies"]
    assert client.get(f"/tracking/lessons/{of_review}").status_code == 404
    token = csrf(client, "/tracking/lessons")
    assert client.post(f"/tracking/lessons/{of_review}", data={"csrf_token": token, "title": "x"}).status_code == 404
    assert client.post(f"/tracking/lessons/{of_review}/remove", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/tracking/lessons/{of_document}").status_code == 200
    join_every_review(client.app.state.store, "rev")
    page = BeautifulSoup(client.get("/tracking/lessons").text, "html.parser")
    assert len(page.select("#lesson-list a")) == 2
    assert client.get(f"/tracking/lessons/{of_review}").status_code == 200
    assert len(json.loads(cli("tracking", "lessons", "list", "--json").stdout)) == 2  # nothing was removed


def test_the_cli_run_as_a_user_hides_the_lessons_of_their_other_reviews(store: Store, cli: Cli, tmp_path: Path) -> None:
    library(cli, tmp_path)
    with store.session() as session:
        add_user(session, "out", "reviewer", PASSWORD, actor="test")  # a site reviewer, no member of r16
    found = {x["kind"]: x["id"] for x in json.loads(cli("tracking", "lessons", "list", "--json").stdout)}
    listed = json.loads(cli("--user", "out", "tracking", "lessons", "list", "--json").stdout)
    assert [x["id"] for x in listed] == [found["good_practice"]]
    gone = cli("--user", "out", "tracking", "lessons", "remove", str(found["lesson"]))
    assert gone.exit_code == 2
    assert f"there is no lesson or good practice {found['lesson']}" in gone.stderr
    assert len(json.loads(cli("tracking", "lessons", "list", "--json").stdout)) == 2  # the operator sees both


def test_a_year_of_other_digits_is_a_clear_error(client: TestClient, cli: Cli, tmp_path: Path) -> None:
    library(cli, tmp_path)
    login(client, "rev")
    for path in ("/tracking/lessons?year=%C2%B2", "/tracking?year=%C2%B2", "/tracking/lessons?year=" + "9" * 5000):
        response = client.get(path, headers={"accept": "application/json"})
        assert response.status_code == 422, (path[:40], response.text[:200])
        assert response.json()["error"].startswith("year: ")
