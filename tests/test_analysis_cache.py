"""The fast paths of the analysis give the numbers of a fresh computation: one evaluation of each submission reused by
every question of a session, the engine's decisions kept between sessions until the submission changes, and the
analysis page kept (and revalidated with its ETag) until the review changes.

The review is the lm2016 sample with the bilingual test form and the Kobo submissions of
``tests/fixtures/tabulate/kobo-tabulate.csv``, as in test_analysis_tabulate.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select

from lmreview.analysis import units
from lmreview.analysis.tabulate import tabulate
from lmreview.questionnaire import submissions
from lmreview.questionnaire.models import Submission
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import FIXTURES, SAMPLES, TEMPLATES, Cli, join_every_review


@pytest.fixture
def review(cli: Cli) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    source = str(FIXTURES / "tabulate" / "kobo-tabulate.csv")
    run = cli("form", "import-responses", source, "--form", "bilingual_test", "--review", "r16")
    assert run.exit_code == 0, run.stderr
    return "r16"


def _counts(result: dict[str, Any]) -> dict[str, int]:
    return {c["value"]: c["n"] for c in result["counts"]}


def _change(session: Any, instance: str, path: str, value: str) -> None:
    found = session.scalar(select(Submission).where(Submission.instance_id == instance))
    submissions.change_answer(session, found, path, value, reason="checked against the final report", actor="t")


def test_a_change_in_the_session_is_counted_at_once_and_as_a_fresh_computation_counts_it(
    review: str, store: Store
) -> None:
    with store.session() as session:
        before = tabulate(session, review, "sustained").as_json()
        assert _counts(before) == {"yes": 4, "no": 3}
        assert tabulate(session, review, "sustained").as_json() == before  # the kept evaluation: the same figures
        _change(session, before["rows"]["submissions"]["LM.0214"], "sustained", "no")
        after = tabulate(session, review, "sustained").as_json()
        assert _counts(after) == {"yes": 3, "no": 4}
        assert "LM.0214" in next(c["rows"] for c in after["counts"] if c["value"] == "no")
        not_asked = tabulate(session, review, "not_sustained_why").as_json()  # asked only after "no": once more
        assert "LM.0214" not in not_asked["rows"]["not_relevant"]
    units._DECIDED.clear()  # nothing kept: every submission evaluated again
    with store.session() as session:
        assert tabulate(session, review, "sustained").as_json() == after
        assert tabulate(session, review, "not_sustained_why").as_json() == not_asked


@pytest.fixture
def client(review: str, store: Store) -> Iterator[TestClient]:
    with store.session() as session:
        add_user(session, "viewer", "viewer", "correct-horse", actor="test")
    join_every_review(store, "viewer")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        token = BeautifulSoup(client.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        client.post("/login", data={"name": "viewer", "password": "correct-horse", "csrf_token": str(token["value"])})
        yield client


def _yes(html: str) -> str:
    page = BeautifulSoup(html, "html.parser")
    section = next(s for s in page.select("section.tabulation") if "sustained" in s.get_text())
    row = next(tr for tr in section.select("tbody tr") if tr.th and tr.th.get_text(strip=True) == "Yes")
    return row.find_all("td")[0].get_text(strip=True)


def test_the_analysis_page_is_revalidated_with_its_etag_until_an_answer_changes(
    client: TestClient, store: Store
) -> None:
    first = client.get("/reviews/r16/analysis")
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    assert _yes(first.text) == "4"
    again = client.get("/reviews/r16/analysis", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/reviews/r16/analysis?question=sustained&by=region", headers={"If-None-Match": tag})
    assert other.status_code == 200  # another query, another tag
    assert other.headers["etag"] != tag
    with store.session() as session:
        instance = tabulate(session, "r16", "sustained").whole.submissions["LM.0214"]
        _change(session, instance, "sustained", "no")
    changed = client.get("/reviews/r16/analysis", headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert _yes(changed.text) == "3"
    assert client.get("/api/reviews/r16/tabulate?question=sustained").json()["counts"][0]["n"] == 3


def test_a_large_review_shows_its_questions_a_page_at_a_time_and_long_row_lists_on_a_rows_page(
    client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages and links sized for thousands of submissions, tried on the small review with the limits lowered."""
    from lmreview.web.routes import analysis

    whole = BeautifulSoup(client.get("/reviews/r16/analysis").text, "html.parser")
    questions = [s.h2.code.get_text() for s in whole.select("section.tabulation") if s.h2 and s.h2.code]
    assert whole.select_one("nav.pages") is None  # a small review: every question on one page
    monkeypatch.setattr(analysis, "PAGE_ANSWERS", 30)  # 11 submissions: 30 // 11 = 2 questions a page
    monkeypatch.setattr(analysis, "MIN_QUESTIONS", 2)
    monkeypatch.setattr(analysis, "LINKED_ROWS", 3)
    seen = []
    pages = -(-len(questions) // 2)
    for number in range(1, pages + 1):
        page = BeautifulSoup(client.get(f"/reviews/r16/analysis?page={number}").text, "html.parser")
        nav = page.select_one("nav.pages")
        assert nav is not None
        assert f"page {number} of {pages}" in nav.get_text(" ", strip=True)
        seen += [s.h2.code.get_text() for s in page.select("section.tabulation") if s.h2 and s.h2.code]
    assert seen == questions  # every question once, in order
    beyond = client.get(f"/reviews/r16/analysis?page={pages + 5}")
    assert beyond.status_code == 200  # past the end: the last page
    assert f"page {pages} of {pages}" in beyond.text

    table = tabulate_json(store, "sustained")
    yes = next(c for c in table["counts"] if c["value"] == "yes")
    assert yes["n"] == 4  # more than LINKED_ROWS: the count links to its rows page, not to 4 codes
    page = BeautifulSoup(client.get("/reviews/r16/analysis?question=sustained").text, "html.parser")
    link = next(a for a in page.select("td.num a") if a.get_text() == "4")
    assert link["href"].startswith("/reviews/r16/analysis/rows?")
    rows = BeautifulSoup(client.get(str(link["href"])).text, "html.parser")
    listed = [a.get_text() for a in rows.select("tbody a")]
    assert listed == yes["rows"]
    assert all(a["href"].startswith("/portfolios/lm2016/projects/") for a in rows.select("tbody a"))
    short = next(a for a in page.select("td.num a") if a.get_text() == "3")  # 3 rows: the codes in the link
    assert short["href"].startswith("/portfolios/lm2016?codes=")

    by = client.get("/reviews/r16/analysis/rows?question=sustained&what=units&by=region&group=0")
    crossed = tabulate_json(store, "sustained", by="region")["by"][0]
    assert [a.get_text() for a in BeautifulSoup(by.text, "html.parser").select("tbody a")] == crossed["rows"]["units"]
    monkeypatch.setattr(analysis, "ROWS_PAGE", 2)
    second = BeautifulSoup(client.get(str(link["href"]) + "&page=2").text, "html.parser")
    assert [a.get_text() for a in second.select("tbody a")] == yes["rows"][2:4]
    for bad in ("what=everything", "what=value&value=maybe", "what=units&by=region&group=99", "what=units&page=0"):
        answer = client.get(f"/reviews/r16/analysis/rows?question=sustained&{bad}")
        assert answer.status_code in (404, 422), bad
        assert "Traceback" not in answer.text


def tabulate_json(store: Store, question: str, by: str | None = None) -> dict[str, Any]:
    with store.session() as session:
        return tabulate(session, "r16", question, by=by).as_json()
