"""The review page pages its respondents and submissions (page size, previous/next, total, status filters in the
URL), as the API's ``limit``/``offset``/``status`` do, and shows the same rows as the API for the same page."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from lmreview.questionnaire.models import Respondent, Submission
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, TEMPLATES, Cli

PASSWORD = "correct-horse"
PEOPLE = 70  # five for each of the 14 projects of lm2016


@pytest.fixture
def client(store: Store, cli: Cli, tmp_path: Path) -> Iterator[TestClient]:
    """Review r16: 70 respondents; respondent i has a submitted questionnaire when i % 5 == 0 (review state
    approved when i % 3 == 0, else received), a draft when i % 5 == 1, nothing otherwise."""
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    codes = [line.split(",", 1)[0] for line in (SAMPLES / "lm2016.csv").read_text().splitlines()[1:]]
    roster = tmp_path / "roster.csv"
    lines = ["project_code,name,email"]
    lines += [f"{codes[i % len(codes)]},Person {i:03d},p{i:03d}@example.org" for i in range(PEOPLE)]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = cli("respondents", "import", str(roster), "--review", "r16")
    assert run.exit_code == 0, run.stderr
    with store.session() as session:
        from lmreview.questionnaire import forms, reviews

        review = reviews.get_review(session, "r16")
        version = forms.latest_version(forms.get_form(session, "bilingual_test")).id
        people = session.execute(select(Respondent.id, Respondent.name, Respondent.project_id)).all()
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        rows = []
        for respondent_id, name, project_id in sorted(people, key=lambda p: p[1]):
            i = int(name.split()[1])
            if i % 5 > 1:
                continue
            submitted = i % 5 == 0
            rows.append(
                {
                    "instance_id": f"uuid:{uuid.UUID(int=i + 1)}",
                    "form_version_id": version,
                    "review_id": review.id,
                    "respondent_id": respondent_id,
                    "project_id": project_id,
                    "status": "submitted" if submitted else "draft",
                    "review_state": "approved" if submitted and i % 3 == 0 else "received",
                    "source": "web",
                    "data": {},
                    "meta": {},
                    "submitted_at": now if submitted else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        session.execute(insert(Submission), rows)
        add_user(session, "ada", "admin", PASSWORD, actor="test")
    app = create_app(Settings(database_url=store.url), store)
    with TestClient(app) as test_client:
        page = test_client.get("/login").text
        token = BeautifulSoup(page, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        response = test_client.post(
            "/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token["value"]}, follow_redirects=False
        )
        assert response.status_code == 303
        yield test_client


def section(html: str, heading: str) -> BeautifulSoup:
    found = BeautifulSoup(html, "html.parser").find("section", attrs={"aria-labelledby": heading})
    assert found is not None
    return found


def names(html: str) -> list[str]:
    table = section(html, "respondents").find("table")
    return [tr.find_all("td")[1].get_text() for tr in table.find("tbody").find_all("tr")] if table else []


def submission_ids(html: str) -> list[int]:
    table = section(html, "subs").find("table")
    return [int(tr.find("td").get_text()) for tr in table.find("tbody").find_all("tr")] if table else []


def caption(html: str, heading: str) -> str:
    return " ".join(section(html, heading).find("caption").get_text().split())


def pager_links(html: str, heading: str) -> dict[str, str]:
    nav = section(html, heading).find("nav", class_="pages")
    return {a["rel"][0]: a["href"] for a in nav.find_all("a")} if nav else {}


def test_respondents_page_by_page_with_previous_and_next(client: TestClient) -> None:
    first = client.get("/reviews/r16")
    assert first.status_code == 200
    assert caption(first.text, "respondents") == "1–50 of 70 respondents"
    shown = names(first.text)
    assert shown == [f"Person {i:03d}" for i in sorted(range(PEOPLE), key=lambda i: (sorted_code(i), i))][:50]
    links = pager_links(first.text, "respondents")
    assert set(links) == {"next"}
    assert "respondents_page=2" in links["next"]
    assert "page 1 of 2" in section(first.text, "respondents").find("nav").get_text()
    second = client.get(links["next"])
    assert caption(second.text, "respondents") == "51–70 of 70 respondents"
    assert len(names(second.text)) == 20
    assert not set(names(second.text)) & set(shown)
    assert set(pager_links(second.text, "respondents")) == {"prev"}
    bigger = client.get("/reviews/r16?size=100")
    assert caption(bigger.text, "respondents") == "70 respondents"
    assert len(names(bigger.text)) == 70
    assert pager_links(bigger.text, "respondents") == {}


def sorted_code(i: int) -> str:
    codes = [line.split(",", 1)[0] for line in (SAMPLES / "lm2016.csv").read_text().splitlines()[1:]]
    return codes[i % len(codes)]


def test_respondent_status_filter_agrees_with_the_counts_and_stays_in_the_links(client: TestClient) -> None:
    page = client.get("/reviews/r16")
    counts = section(page.text, "rate").find("table", class_="status")
    cells = {
        th.get_text(): td
        for th, td in zip(counts.find("thead").find_all("th"), counts.find("tbody").find_all("td"), strict=True)
    }
    assert cells["submitted"].get_text() == "14"
    assert cells["draft"].get_text() == "14"
    assert cells["not invited"].get_text() == "42"
    link = cells["submitted"].find("a")["href"]
    assert "respondents_status=submitted" in link
    submitted = client.get(link)
    assert caption(submitted.text, "respondents") == "14 respondents submitted"
    assert sorted(names(submitted.text)) == [f"Person {i:03d}" for i in range(0, PEOPLE, 5)]
    states = [tr.find_all("td")[5].get_text() for tr in section(submitted.text, "respondents").find_all("tr")[1:]]
    assert set(states) == {"submitted"}
    small = client.get("/reviews/r16?respondents_status=not_invited&size=25")
    assert caption(small.text, "respondents") == "1–25 of 42 respondents not invited"
    following = pager_links(small.text, "respondents")["next"]
    assert "respondents_status=not_invited" in following
    assert "size=25" in following
    assert caption(client.get(following).text, "respondents") == "26–42 of 42 respondents not invited"


def test_submission_filters_and_pages(client: TestClient) -> None:
    page = client.get("/reviews/r16?size=25")
    assert caption(page.text, "subs") == "1–25 of 28 submissions"
    assert submission_ids(page.text) == sorted(submission_ids(page.text))
    drafts = client.get("/reviews/r16?submissions_status=draft")
    assert caption(drafts.text, "subs") == "14 submissions, draft"
    approved = client.get("/reviews/r16?submissions_status=submitted&submissions_state=approved")
    # submitted when i % 5 == 0, approved when also i % 3 == 0: i = 0, 15, 30, 45, 60
    assert caption(approved.text, "subs") == "5 submissions, submitted, approved"
    statuses = [tr.find_all("td")[2].get_text() for tr in section(approved.text, "subs").find_all("tr")[1:]]
    assert statuses == ["submitted"] * 5
    none = client.get("/reviews/r16?submissions_status=draft&submissions_state=approved")
    assert "No submission matches these filters" in section(none.text, "subs").get_text()
    # the two lists page apart: the respondents' page stays when the submissions' changes
    both = client.get("/reviews/r16?size=25&respondents_page=2&submissions_page=2")
    assert caption(both.text, "respondents") == "26–50 of 70 respondents"
    assert caption(both.text, "subs") == "26–28 of 28 submissions"
    back = pager_links(both.text, "subs")["prev"]
    assert "respondents_page=2" in back
    assert "submissions_page" not in back


def test_the_page_shows_what_the_api_gives_for_the_same_page(client: TestClient) -> None:
    web = client.get("/reviews/r16?size=25&submissions_page=2&submissions_status=submitted")
    hint = section(web.text, "subs").find("p", class_="api-hint").get_text().split(": ", 1)[1]
    assert hint == "GET /api/v1/reviews/r16/submissions?limit=25&offset=25&status=submitted"
    api = client.get(hint.removeprefix("GET "))
    assert api.status_code == 200
    body = api.json()
    assert body["total"] == 14
    assert [s["id"] for s in body["items"]] == submission_ids(web.text) == []
    web = client.get("/reviews/r16?size=25&submissions_status=submitted&submissions_state=received")
    api = client.get("/api/v1/reviews/r16/submissions?limit=25&offset=0&status=submitted&review_state=received").json()
    assert api["total"] == 9
    assert [s["id"] for s in api["items"]] == submission_ids(web.text)
    web = client.get("/reviews/r16?size=25&respondents_page=2&respondents_status=not_invited")
    hint = section(web.text, "respondents").find("p", class_="api-hint").get_text().split(": ", 1)[1]
    assert hint == "GET /api/v1/reviews/r16/respondents?limit=25&offset=25&status=not_invited"
    api = client.get(hint.removeprefix("GET ")).json()
    assert api["total"] == 42
    assert [r["name"] for r in api["items"]] == names(web.text)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("size=7", "size: '7' is not a page size; use 25, 50, 100, 200"),
        ("respondents_page=0", "respondents_page: '0' is not a page number"),
        ("submissions_page=x", "submissions_page: 'x' is not a page number"),
        ("respondents_page=%C2%B2", "respondents_page: '²' is not a page number"),  # isdigit(), not int()
        ("size=%C2%B9", "size: '¹' is not a page size"),
        ("submissions_page=" + "9" * 5000, "submissions_page: '99999"),  # more digits than int() reads
        ("respondents_status=gone", 'status: "gone" is not one of not_invited'),
        ("submissions_state=lost", 'review_state: "lost" is not one of received'),
    ],
)
def test_bad_paging_is_a_clear_error(client: TestClient, query: str, problem: str) -> None:
    page = client.get(f"/reviews/r16?{query}")
    assert page.status_code == 422
    assert problem.split(": ", 1)[1] in " ".join(BeautifulSoup(page.text, "html.parser").get_text().split())
    as_json = client.get(f"/reviews/r16?{query}", headers={"accept": "application/json"})
    assert as_json.status_code == 422
    assert any(p.startswith(problem) for p in as_json.json()["problems"]), as_json.json()
    api = client.get("/api/v1/reviews/r16/respondents?status=gone")
    assert api.status_code == 422
    assert "error" in api.json()


def test_a_page_past_the_end_says_so(client: TestClient) -> None:
    page = client.get("/reviews/r16?respondents_page=9")
    text = re.sub(r"\s+", " ", section(page.text, "respondents").get_text())
    assert "No respondent on page 9: there are 2 pages." in text
    assert pager_links(page.text, "respondents")["prev"].count("respondents_page=8") == 1


def test_each_filter_form_keeps_the_other_lists_filters_and_starts_at_page_one(client: TestClient) -> None:
    page = client.get("/reviews/r16?size=25&submissions_status=draft&respondents_page=2&submissions_page=1")
    form = section(page.text, "respondents").find("form", class_="filters")
    hidden = {i["name"]: i["value"] for i in form.find_all("input", type="hidden")}
    assert hidden == {"submissions_status": "draft"}
    chosen = {s["name"]: s.find("option", selected=True) for s in form.find_all("select")}
    assert chosen["size"].get_text() == "25"
    assert chosen["respondents_status"] is None  # "any": the first option, none marked
    form = section(page.text, "subs").find("form", class_="filters")
    assert {i["name"] for i in form.find_all("input", type="hidden")} == set()
    assert form.find("select", attrs={"name": "submissions_status"}).find("option", selected=True)["value"] == "draft"
