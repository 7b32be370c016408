"""Imports outside jobs beside other writers on SQLite: portfolio imports, imports of answers, rosters and whole
reviews, and documents added to the evidence library, made at the same moment through the API and the web pages of
one server, must all succeed.

An import reads before it writes. In a deferred transaction (SQLite's default) that read pins a snapshot, and when
another connection commits before the import's first write, the write fails at once with "database is locked"
(SQLITE_BUSY_SNAPSHOT), whatever the busy timeout. The imports therefore run in ``Store.write_session`` (``BEGIN
IMMEDIATE``: the write lock first, waiting for it up to the busy timeout), as the jobs do."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import FIXTURES, SAMPLES, TEMPLATES, Cli
from tests.test_api import PASSWORD, bearer, make_token

TIMES = 4  # requests of each writer


def _portfolio(code: int) -> bytes:
    """A small portfolio of 40 projects, its codes starting at ``code`` (each import writes new rows)."""
    rows = ["code,title,funding_year,budget_usd,region"]
    rows += [f"X{code + n:05d},Project {code + n},2021,{1000 + n},Africa" for n in range(40)]
    return ("\n".join(rows) + "\n").encode()


def _run_together(work: list[Callable[[], Any]]) -> list[Any]:
    """Each callable in its own thread, started at the same moment; what each returned (or raised)."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work[index]()
        except BaseException as exc:  # reported by the test, with the others
            results[index] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_imports_beside_other_writers_do_not_fail(store: Store, cli: Cli, tmp_path: Path) -> None:
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    with store.session() as session:
        add_user(session, "ana", "reviewer", PASSWORD, actor="test")
    assert cli("review", "member", "add", "r16", "ana", "--role", "manager").exit_code == 0
    auth = bearer(make_token(cli, "ana", "write"))
    app = create_app(Settings(database_url=store.url), store)
    kobo = (FIXTURES / "responses" / "kobo-bilingual.csv").read_bytes()

    def logged_in() -> tuple[TestClient, str]:
        """A browser of its own (one per thread), logged in as ana, and its CSRF token."""
        browser = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
        assert token is not None
        sent = {"name": "ana", "password": PASSWORD, "csrf_token": token[1]}
        assert browser.post("/login", data=sent).status_code == 200
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/evidence").text)
        assert csrf is not None
        return browser, csrf[1]

    web_documents, web_imports = logged_in(), logged_in()

    def api_portfolio(n: int) -> Callable[[], int]:
        def go() -> int:
            files = {"file": (f"p{n}.csv", _portfolio(1000 * n))}
            response = TestClient(app).post("/api/v1/portfolios/import", headers=auth, files=files)
            assert response.status_code == 201, response.text
            return response.status_code

        return go

    def api_responses() -> int:
        response = TestClient(app).post(
            "/api/v1/reviews/r16/responses", headers=auth, files={"file": ("kobo.csv", kobo)}
        )
        assert response.status_code == 201, response.text
        return response.status_code

    def api_document(n: int) -> Callable[[], int]:
        def go() -> int:
            text = f"Note {n}\n\nThe corridor's agencies, note {n}.\n".encode()
            response = TestClient(app).post(
                "/api/v1/evidence/documents", headers=auth, files=[("files", (f"note-{n}.md", text))]
            )
            assert response.status_code == 201, response.text
            return response.status_code

        return go

    def web_document(n: int) -> Callable[[], int]:
        def go() -> int:
            text = f"Web note {n}\n\nWritten beside the others, {n}.\n".encode()
            browser, csrf = web_documents
            response = browser.post("/evidence", data={"csrf_token": csrf}, files=[("files", (f"web-{n}.md", text))])
            assert response.status_code == 200, response.text[:300]
            assert "database is locked" not in response.text
            return response.status_code

        return go

    def web_portfolio(n: int) -> Callable[[], int]:
        def go() -> int:
            files = {"file": (f"w{n}.csv", _portfolio(500_000 + 1000 * n))}
            browser, csrf = web_imports
            response = browser.post("/import", data={"csrf_token": csrf, "portfolio": f"w{n}"}, files=files)
            assert response.status_code < 400, response.text[:300]
            assert "database is locked" not in response.text
            return response.status_code

        return go

    def api_roster(n: int) -> int:
        roster = f"project_code,name,email\nLM.0181,Person {n},person-{n}@example.org\n".encode()
        response = TestClient(app).post(
            "/api/v1/reviews/r16/roster", headers=auth, files={"file": (f"roster-{n}.csv", roster)}
        )
        assert response.status_code == 201, response.text
        return response.status_code

    exported = TestClient(app).get("/api/v1/reviews/r16/export", headers=auth)
    assert exported.status_code == 200, exported.text[:300]

    def api_review_import(n: int) -> int:
        files = {"file": ("r16.zip", exported.content)}
        response = TestClient(app).post(
            "/api/v1/reviews/import", headers=auth, files=files, data={"as_name": f"copy-{n}"}
        )
        assert response.status_code == 201, response.text
        return response.status_code

    def repeated(step: Callable[[int], int]) -> Callable[[], int]:
        """``step`` TIMES times, each time with a new number; how many times."""

        def go() -> int:
            for n in range(1, TIMES + 1):
                step(n)
            return TIMES

        return go

    work: list[Callable[[], Any]] = [
        repeated(lambda n: api_portfolio(n)()),
        repeated(lambda n: api_portfolio(100 + n)()),
        repeated(lambda n: api_responses()),
        repeated(lambda n: api_document(n)()),
        repeated(lambda n: web_document(n)()),
        repeated(lambda n: web_portfolio(n)()),
        repeated(api_roster),
        repeated(api_review_import),
    ]
    results = _run_together(work)
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    assert not failures, "\n".join(failures)
    assert results == [TIMES] * len(work)
    listed = cli("portfolio", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    names = {p["portfolio"] for p in json.loads(listed.stdout)}
    assert {f"p{n}" for n in range(1, TIMES + 1)} | {f"w{n}" for n in range(1, TIMES + 1)} <= names, names
    documents = {d["file"] for d in json.loads(cli("evidence", "list", "--json").stdout)}
    reviews = {r["review"] for r in json.loads(cli("review", "list", "--json").stdout)}
    assert {f"copy-{n}" for n in range(1, TIMES + 1)} <= reviews, reviews
    assert {f"note-{n}.md" for n in range(1, TIMES + 1)} | {f"web-{n}.md" for n in range(1, TIMES + 1)} <= documents
