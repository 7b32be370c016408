"""Per-review access (lmreview/access.py): membership, the role × route matrix over every web route, the CLI run
as ``--user NAME``, the Members page and the migration that kept existing users' access.

The matrix walks ``app.routes``: every route must have a rule in :data:`RULES` (a new route without one fails
``test_every_route_has_a_rule``), and a route whose path names a review must be review-scoped there."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from lmreview import access
from lmreview.analysis.review_report import review_report
from lmreview.coding import codebooks, segments
from lmreview.coding.sources import answer_reference
from lmreview.errors import Conflict, Forbidden, NotFound
from lmreview.evidence.models import Item
from lmreview.jobs import service as jobs
from lmreview.jobs.models import JobFile
from lmreview.questionnaire.models import MediaBlob, Review, Submission, SubmissionFile
from lmreview.report import html
from lmreview.settings import Settings, database_url
from lmreview.store import Store, tokens
from lmreview.store.models import AuditEvent, User
from lmreview.store.users import add_user
from lmreview.tracking import service as tracking
from lmreview.web.app import create_app
from tests.conftest import POSTGRES_URL, Cli
from tests.fixtures.coding.material import make_review
from tests.test_hostile_input import _api_routes

PASSWORD = "correct-horse"
SECRET = "secret-review-b"  # review B: its name must never reach a non-member

# (method, path) → (scope, need). scope: "public" (no login), "staff" (any logged-in user; office-wide or filtered
# to the user's reviews), "review" (the path names the review), "record" (the path names a record of a review).
# need: what a member must be for a review/record route: read, write or manage.
RULES: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/health"): ("public", ""),
    ("GET", "/ready"): ("public", ""),
    ("GET", "/healthz"): ("public", ""),
    ("GET", "/login"): ("public", ""),
    ("POST", "/login"): ("public", ""),
    ("POST", "/logout"): ("public", ""),
    ("GET", "/r/{token}"): ("public", ""),
    ("POST", "/r/{token}"): ("public", ""),
    ("POST", "/r/{token}/decline"): ("public", ""),
    ("GET", "/t/{token}"): ("public", ""),
    ("POST", "/t/{token}"): ("public", ""),
    ("GET", "/account/password"): ("staff", ""),
    ("POST", "/account/password"): ("staff", ""),
    ("GET", "/account/tokens"): ("staff", ""),
    ("POST", "/account/tokens"): ("staff", ""),
    ("POST", "/account/tokens/{token_id}/revoke"): ("staff", ""),
    ("GET", "/r/{token}/files/{filename}"): ("public", ""),
    ("GET", "/r/{token}/options/{path:path}"): ("public", ""),
    ("GET", "/api/v1/docs"): ("public", ""),
    # portfolios, questionnaires, the evidence library, lessons, codebooks, users: office-wide
    ("GET", "/"): ("staff", ""),
    ("POST", "/import"): ("staff", ""),
    ("GET", "/portfolios/{name}"): ("staff", ""),
    ("GET", "/portfolios/{name}/stats"): ("staff", ""),
    ("GET", "/portfolios/{name}/projects/{code:path}"): ("staff", ""),
    ("POST", "/portfolios/{name}/projects/{code:path}/revisions"): ("staff", ""),
    ("POST", "/portfolios/{name}/projects/{code:path}/delete"): ("staff", ""),
    ("GET", "/api/portfolios"): ("staff", ""),
    ("GET", "/api/portfolios/{name}/stats"): ("staff", ""),
    ("GET", "/api/portfolios/{name}/projects"): ("staff", ""),
    ("GET", "/portfolios/{name}/categories"): ("staff", ""),
    ("POST", "/portfolios/{name}/categories"): ("staff", ""),
    ("POST", "/portfolios/{name}/categorise"): ("staff", ""),
    ("GET", "/forms"): ("staff", ""),
    ("POST", "/forms"): ("staff", ""),
    ("GET", "/forms/templates/{name}.xlsx"): ("staff", ""),
    ("GET", "/forms/{name}.xlsx"): ("staff", ""),
    ("GET", "/forms/{name}.zip"): ("staff", ""),
    ("GET", "/forms/{name}"): ("staff", ""),
    ("GET", "/admin/users"): ("staff", ""),
    ("POST", "/admin/users"): ("staff", ""),
    ("POST", "/admin/users/{name}"): ("staff", ""),
    ("POST", "/admin/users/{name}/password"): ("staff", ""),
    ("GET", "/evidence"): ("staff", ""),
    ("GET", "/api/evidence"): ("staff", ""),
    ("POST", "/evidence"): ("staff", ""),
    ("GET", "/evidence/search"): ("staff", ""),
    ("GET", "/api/evidence/search"): ("staff", ""),
    ("GET", "/evidence/items"): ("staff", ""),
    ("GET", "/api/evidence/items"): ("staff", ""),
    ("GET", "/evidence/{document_id}"): ("staff", ""),
    ("POST", "/evidence/{document_id}"): ("staff", ""),
    ("GET", "/api/evidence/{document_id}/links"): ("staff", ""),
    ("POST", "/evidence/{document_id}/links"): ("staff", ""),
    ("GET", "/tracking/lessons"): ("staff", ""),
    ("POST", "/tracking/lessons"): ("staff", ""),
    ("GET", "/tracking/lessons/{lesson_id}"): ("staff", ""),
    ("POST", "/tracking/lessons/{lesson_id}"): ("staff", ""),
    ("POST", "/tracking/lessons/{lesson_id}/remove"): ("staff", ""),
    ("GET", "/coding/codebooks/{name}"): ("staff", ""),
    ("POST", "/coding/codebooks"): ("staff", ""),
    ("POST", "/coding/codebooks/{name}"): ("staff", ""),
    ("POST", "/coding/codebooks/{name}/groups"): ("staff", ""),
    # lists: every one shows only the reviews the user may see (checked below for leaks)
    ("GET", "/reviews"): ("staff", ""),
    ("POST", "/reviews"): ("staff", ""),
    ("POST", "/reviews/import"): ("staff", ""),  # a new review; the site reviewer role
    ("GET", "/coding"): ("staff", ""),
    ("GET", "/audit"): ("staff", ""),
    ("POST", "/audit"): ("staff", ""),  # the review field is checked like a path
    ("GET", "/tracking"): ("staff", ""),
    ("GET", "/api/tracking/status"): ("staff", ""),
    ("GET", "/api/tracking/recommendations"): ("staff", ""),
    ("GET", "/tracking/actions"): ("staff", ""),
    ("GET", "/tracking/export"): ("staff", ""),
    ("POST", "/tracking/import"): ("staff", ""),
    ("POST", "/api/coding/codings"): ("staff", ""),  # the answer's review is checked (test below)
    ("POST", "/api/coding/suggestions"): ("staff", ""),  # the review of the body is checked (test below)
    ("POST", "/api/coding/suggestions/reject"): ("staff", ""),  # the review and the source are checked (test below)
    # the REST API: office-wide, or filtered to the caller's reviews
    ("GET", "/api/v1/me"): ("staff", ""),
    ("GET", "/api/v1/tokens"): ("staff", ""),
    ("DELETE", "/api/v1/tokens/{token_id}"): ("staff", ""),
    ("GET", "/api/v1/audit"): ("staff", ""),
    ("GET", "/api/v1/evidence/documents"): ("staff", ""),
    ("POST", "/api/v1/evidence/documents"): ("staff", ""),
    ("GET", "/api/v1/evidence/documents/{document_id}"): ("staff", ""),
    ("GET", "/api/v1/evidence/items"): ("staff", ""),
    ("GET", "/api/v1/evidence/search"): ("staff", ""),
    ("GET", "/api/v1/forms"): ("staff", ""),
    ("POST", "/api/v1/forms"): ("staff", ""),
    ("GET", "/api/v1/forms/{name}"): ("staff", ""),
    ("POST", "/api/v1/forms/{name}/responses"): ("staff", ""),  # the review field is checked like a path
    ("GET", "/api/v1/portfolios"): ("staff", ""),
    ("POST", "/api/v1/portfolios/import"): ("staff", ""),
    ("GET", "/api/v1/portfolios/{name}/projects"): ("staff", ""),
    ("GET", "/api/v1/portfolios/{name}/projects/{code:path}"): ("staff", ""),
    ("GET", "/api/v1/portfolios/{name}/stats"): ("staff", ""),
    ("GET", "/api/v1/reviews"): ("staff", ""),
    ("POST", "/api/v1/reviews"): ("staff", ""),
    ("POST", "/api/v1/reviews/import"): ("staff", ""),  # a new review; the site reviewer role
    ("GET", "/api/v1/tracking/recommendations"): ("staff", ""),
    ("GET", "/jobs"): ("staff", ""),  # the jobs of the user's reviews and the site jobs they started
    ("GET", "/api/v1/jobs"): ("staff", ""),
    ("GET", "/api/v1/tracking/lessons"): ("staff", ""),  # lessons of a review the user may not see are left out
    ("POST", "/api/v1/tracking/lessons"): ("staff", ""),
    ("GET", "/api/v1/tracking/lessons/{lesson_id}"): ("staff", ""),
    ("POST", "/api/v1/tracking/lessons/{lesson_id}"): ("staff", ""),
    ("DELETE", "/api/v1/tracking/lessons/{lesson_id}"): ("staff", ""),
    ("POST", "/api/v1/evidence/documents/{document_id}"): ("staff", ""),
    ("GET", "/api/v1/evidence/documents/{document_id}/links"): ("staff", ""),
    ("POST", "/api/v1/evidence/documents/{document_id}/links"): ("staff", ""),
    ("GET", "/api/v1/coding/codebooks"): ("staff", ""),
    ("POST", "/api/v1/coding/codebooks"): ("staff", ""),
    ("GET", "/api/v1/coding/codebooks/{name}"): ("staff", ""),
    ("POST", "/api/v1/coding/codebooks/{name}/codes"): ("staff", ""),
    ("POST", "/api/v1/coding/codebooks/{name}/groups"): ("staff", ""),
    ("POST", "/api/v1/coding/codings"): ("staff", ""),  # the answer's review is checked (tests/test_api_coding.py)
    # one review
    ("GET", "/reviews/{name}"): ("review", "read"),
    ("POST", "/reviews/{name}/roster"): ("review", "manage"),
    ("POST", "/reviews/{name}/respondents"): ("review", "manage"),
    ("POST", "/reviews/{name}/invite"): ("review", "manage"),
    ("POST", "/reviews/{name}/mail"): ("review", "manage"),
    ("POST", "/reviews/{name}/respondents/{respondent_id}/revoke"): ("review", "manage"),
    ("POST", "/reviews/{name}/responses"): ("review", "write"),
    ("GET", "/reviews/{name}/responses.{fmt}"): ("review", "read"),
    ("GET", "/reviews/{name}/submissions/{submission_id}"): ("review", "read"),
    ("GET", "/reviews/{name}/submissions/{submission_id}/files/{filename}"): ("review", "read"),
    ("POST", "/reviews/{name}/submissions/{submission_id}/change"): ("review", "write"),
    ("POST", "/reviews/{name}/submissions/{submission_id}/state"): ("review", "write"),
    ("GET", "/api/reviews/{name}/status"): ("review", "read"),
    ("GET", "/reviews/{name}/export.zip"): ("review", "manage"),
    ("GET", "/reviews/{name}/members"): ("review", "read"),
    ("POST", "/reviews/{name}/members"): ("review", "manage"),
    ("POST", "/reviews/{name}/members/{member}"): ("review", "manage"),
    ("GET", "/reviews/{name}/ratings"): ("review", "read"),
    ("GET", "/api/reviews/{name}/ratings"): ("review", "read"),
    ("POST", "/reviews/{name}/ratings"): ("review", "write"),
    ("POST", "/reviews/{name}/ratings/weights"): ("review", "write"),
    ("POST", "/reviews/{name}/ratings/scales"): ("review", "write"),
    ("GET", "/reviews/{name}/analysis"): ("review", "read"),
    ("GET", "/reviews/{name}/analysis/rows"): ("review", "read"),
    ("GET", "/api/reviews/{name}/tabulate"): ("review", "read"),
    ("GET", "/reviews/{name}/report"): ("review", "read"),
    ("POST", "/reviews/{name}/report/sections/{key}"): ("review", "write"),
    ("POST", "/reviews/{name}/report/build"): ("review", "write"),
    ("POST", "/api/v1/reviews/{name}/report/jobs"): ("review", "write"),
    ("POST", "/api/v1/reviews/{name}/ratings"): ("review", "write"),
    ("GET", "/api/v1/reviews/{name}/sections"): ("review", "read"),
    ("POST", "/api/v1/reviews/{name}/sections/{key}"): ("review", "write"),
    ("GET", "/reviews/{name}/report.{fmt}"): ("review", "read"),
    ("GET", "/reviews/{name}/report/rows/{digest}"): ("review", "read"),
    ("GET", "/reviews/{name}/brief.{fmt}"): ("review", "read"),
    ("GET", "/coding/reviews/{review}"): ("review", "read"),
    ("GET", "/coding/reviews/{review}/answers/{submission_id}"): ("review", "read"),
    ("GET", "/coding/reviews/{review}/documents/{document_id}"): ("review", "read"),
    ("GET", "/coding/reviews/{review}/codes/{code_id}"): ("review", "read"),
    ("GET", "/coding/reviews/{review}/items/{item_id}"): ("review", "read"),
    ("GET", "/coding/reviews/{review}/agreement"): ("review", "read"),
    ("POST", "/coding/reviews/{review}/compare"): ("review", "manage"),
    ("POST", "/coding/reviews/{review}/consensus"): ("review", "manage"),
    ("GET", "/tracking/reviews/{name}"): ("review", "read"),
    ("POST", "/tracking/reviews/{name}"): ("review", "write"),
    # one review through the REST API (a token of the user)
    ("GET", "/api/v1/reviews/{name}"): ("review", "read"),
    ("GET", "/api/v1/reviews/{name}/ratings"): ("review", "read"),
    ("GET", "/api/v1/reviews/{name}/report/{fmt}"): ("review", "read"),
    ("GET", "/api/v1/reviews/{name}/respondents"): ("review", "read"),
    ("POST", "/api/v1/reviews/{name}/respondents"): ("review", "manage"),
    ("POST", "/api/v1/reviews/{name}/responses"): ("review", "write"),
    ("POST", "/api/v1/reviews/{name}/roster"): ("review", "manage"),
    ("GET", "/api/v1/reviews/{name}/submissions"): ("review", "read"),
    ("GET", "/api/v1/reviews/{name}/submissions/{submission_id}"): ("review", "read"),
    ("POST", "/api/v1/reviews/{name}/submissions/{submission_id}/state"): ("review", "write"),
    ("GET", "/api/v1/reviews/{name}/submissions/{submission_id}/versions"): ("review", "read"),
    ("POST", "/api/v1/reviews/{name}/submissions/{submission_id}/versions"): ("review", "write"),
    ("GET", "/api/v1/reviews/{name}/tabulate"): ("review", "read"),
    ("GET", "/api/v1/reviews/{name}/export"): ("review", "manage"),
    ("GET", "/api/v1/coding/reviews/{name}/matrix"): ("review", "read"),
    ("POST", "/api/v1/coding/reviews/{name}/suggestions"): ("review", "write"),
    ("GET", "/api/v1/coding/reviews/{name}/agreement"): ("review", "read"),
    ("POST", "/api/v1/coding/reviews/{name}/compare"): ("review", "manage"),
    ("POST", "/api/v1/coding/reviews/{name}/consensus"): ("review", "manage"),
    ("POST", "/api/v1/coding/reviews/{name}/suggestions/accept"): ("review", "write"),
    ("POST", "/api/v1/coding/reviews/{name}/suggestions/reject"): ("review", "write"),
    ("GET", "/api/v1/reviews/{name}/members"): ("review", "read"),
    ("POST", "/api/v1/reviews/{name}/members"): ("review", "manage"),
    ("POST", "/api/v1/reviews/{name}/members/{member}"): ("review", "manage"),
    ("DELETE", "/api/v1/reviews/{name}/members/{member}"): ("review", "manage"),
    ("POST", "/api/v1/reviews/{name}/recommendations"): ("review", "write"),
    # a record of a review
    ("DELETE", "/api/coding/codings/{coding_id}"): ("record", "write"),
    ("GET", "/tracking/recs/{rec_id}"): ("record", "read"),
    ("POST", "/tracking/recs/{rec_id}"): ("record", "write"),
    ("POST", "/tracking/recs/{rec_id}/response"): ("record", "write"),
    ("POST", "/api/v1/tracking/recommendations/{rec_id}/response"): ("record", "write"),
    ("POST", "/api/v1/tracking/actions/{action_id}/progress"): ("record", "write"),
    ("GET", "/api/v1/tracking/recommendations/{rec_id}"): ("record", "read"),
    ("POST", "/api/v1/tracking/recommendations/{rec_id}"): ("record", "write"),
    ("POST", "/api/v1/tracking/recommendations/{rec_id}/actions"): ("record", "write"),
    ("POST", "/api/v1/tracking/recommendations/{rec_id}/send"): ("record", "write"),
    ("POST", "/api/v1/tracking/actions/{action_id}/files"): ("record", "write"),
    ("GET", "/api/v1/tracking/actions/{action_id}/files/{comment_id}"): ("record", "read"),
    ("DELETE", "/api/v1/coding/codings/{coding_id}"): ("record", "write"),
    ("POST", "/tracking/recs/{rec_id}/send"): ("record", "write"),
    ("POST", "/tracking/recs/{rec_id}/actions"): ("record", "write"),
    ("POST", "/tracking/actions/{action_id}"): ("record", "write"),
    ("GET", "/tracking/actions/{action_id}/files/{comment_id}"): ("record", "read"),
    ("GET", "/jobs/{job_id}"): ("record", "read"),
    ("POST", "/jobs/{job_id}/cancel"): ("record", "write"),
    ("GET", "/jobs/{job_id}/files/{file_id}"): ("record", "read"),
    ("GET", "/api/v1/jobs/{job_id}"): ("record", "read"),
    ("POST", "/api/v1/jobs/{job_id}/cancel"): ("record", "write"),
    ("GET", "/api/v1/jobs/{job_id}/files/{file_id}"): ("record", "read"),
}
# Query values a route needs to reach its code.
QUERIES = {
    "/api/reviews/{name}/tabulate": {"question": "project_code"},
    "/reviews/{name}/analysis/rows": {"question": "project_code", "what": "units"},
    "/api/v1/reviews/{name}/tabulate": {"question": "project_code"},
    "/coding/reviews/{review}/items/{item_id}": {"codebook": "cb"},
    "/coding/reviews/{review}/answers/{submission_id}": {"codebook": "cb"},
    "/coding/reviews/{review}/documents/{document_id}": {"codebook": "cb"},
    "/coding/reviews/{review}/codes/{code_id}": {"codebook": "cb"},
    "/coding/reviews/{review}/agreement": {"codebook": "cb"},
    "/api/v1/coding/reviews/{name}/agreement": {"codebook": "cb"},
}
# The JSON body of an API change, valid for its schema, so that the request reaches the operation's code.
BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/reviews/{name}/respondents": {"name": "Ann Example", "email": "ann@example.org"},
    "/api/v1/reviews/{name}/submissions/{submission_id}/state": {"state": "approved"},
    "/api/v1/reviews/{name}/submissions/{submission_id}/versions": {"path": "actions", "value": "x", "reason": "r"},
    "/api/v1/reviews/{name}/members": {"user": "out", "role": "reader"},
    "/api/v1/reviews/{name}/members/{member}": {"role": "reader"},
}


def _routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every route, walked as tests/test_hostile_input.py walks them."""
    return [
        (method, prefix + route.path, route) for prefix, route in _api_routes(app.routes) for method in route.methods
    ]


def _names_a_review(path: str) -> bool:
    return "{review}" in path or bool(re.search(r"/reviews/\{name\}", path))


def test_every_route_has_a_rule(tmp_path: Path) -> None:
    """A new route fails here until its rule is written down; a route whose path names a review is review-scoped."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    found = {(method, path) for method, path, _ in _routes(app)}
    assert sorted(found - set(RULES)) == [], "routes without a rule in tests/test_access.py RULES"
    assert sorted(set(RULES) - found) == [], "rules of routes that no longer exist"
    for key in found:
        if _names_a_review(key[1]):
            assert RULES[key][0] == "review", key


@pytest.fixture
def world(store: Store, cli: Cli, tmp_path: Path) -> dict[str, Any]:
    """Review B (answers, documents, a codebook, a coding, a recommendation with a key action and a file) and
    review A; ada is a site admin, mia manages B (a site viewer: the review role decides), rex reviews B, rea reads
    B, and out (a site reviewer) reads A only."""
    docs = make_review(cli, tmp_path)
    assert cli("review", "create", "open-a").exit_code == 0
    with store.session() as session:
        for name, role in (("ada", "admin"), ("mia", "viewer"), ("rex", "reviewer"), ("rea", "viewer")):
            add_user(session, name, role, PASSWORD, actor="test")
        add_user(session, "out", "reviewer", PASSWORD, actor="test")
        b = session.scalars(select(Review).where(Review.name == "r")).one()
        b.name, b.title = SECRET, "Zanzibar secret"
        a = session.scalars(select(Review).where(Review.name == "open-a")).one()
        access.add_member(session, b, "mia", "manager", actor="test")
        access.add_member(session, b, "rex", "reviewer", actor="test")
        access.add_member(session, b, "rea", "reader", actor="test")
        access.add_member(session, a, "out", "reader", actor="test")
        submission = session.scalars(select(Submission).where(Submission.review_id == b.id)).first()
        assert submission is not None
        book = codebooks.create_codebook(session, "cb", actor="test")
        code = codebooks.add_code(session, book, "c1", actor="test")
        answer = answer_reference(submission, "actions")
        source = segments.resolve_source(session, answer)
        assert not isinstance(source, str), source
        coding = segments.apply_code(session, source, code, 0, 4, coder="ada", actor="ada")
        rec = tracking.add_recommendation(session, SECRET, number="1", text="Publish the results", actor="test")
        action = tracking.add_action(session, rec.id, description="Draft it", unit="PARDEV", actor="test")
        tracking.update_action(session, action.id, actor="test", comment="done", attachment=("note.txt", b"n"))
        blob = b"a file sent with the answers"
        digest = hashlib.sha256(blob).hexdigest()
        session.add(MediaBlob(sha256=digest, size=len(blob), media_type="text/plain", content=blob))
        session.add(
            SubmissionFile(
                submission_id=submission.id,
                filename="note.txt",
                path="actions",
                sha256=digest,
                media_type="text/plain",
                size=len(blob),
            )
        )
        document_id = int(docs["report-0181.txt"])
        item = session.scalars(select(Item).where(Item.document_id == document_id)).first()
        if item is None:
            item = Item(
                document_id=document_id, seq=1, kind="recommendation", text="Act", pages=[1], fields={}, rule="test"
            )
            session.add(item)
        job = jobs.create_job(
            session, kind="report", title="Zanzibar report", actor="test", user=None, review_id=b.id, params={}
        )
        made = JobFile(job_id=job.id, role="output", name="r.html", content=b"<p>Zanzibar</p>", size=15, status="done")
        session.add(made)
        keys = {
            name: tokens.create_token(session, name, "matrix", actor="test", scope="write").secret
            for name in ("ada", "mia", "rex", "rea", "out")
        }
        session.flush()
        comment = action.comments[-1]
        ids = {
            "submission_id": submission.id,
            "code_id": code.id,
            "coding_id": coding.id,
            "rec_id": rec.id,
            "action_id": action.id,
            "comment_id": comment.id,
            "respondent_id": 1,
            "document_id": docs["report-0181.txt"],
            "answer": answer,
            "item_id": item.id,
            "filename": "note.txt",
            "job_id": job.id,
            "file_id": made.id,
        }
    with store.session() as session:  # a figure of B's report, for its page of rows
        ids["digest"] = html.figure_digest(next(html.figure_rows(html.outline(review_report(session, SECRET), {}))))
    return {**{k: str(v) for k, v in ids.items()}, **{f"token:{name}": key for name, key in keys.items()}}


def _client(app: FastAPI, name: str) -> tuple[TestClient, str]:
    client = TestClient(app)

    def token() -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert found is not None
        return found[1]

    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token()})
    assert response.status_code == 200, response.text
    return client, token()


def _url(path: str, ids: dict[str, str], review: str = SECRET) -> str:
    values = {**ids, "name": review, "review": review, "key": "findings", "member": "rea"}
    values["fmt"] = "html" if "/report" in path or "/brief." in path else "csv"
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: values[m[1]], path)


def _request(
    client: TestClient,
    method: str,
    path: str,
    route: APIRoute,
    ids: dict[str, str],
    token: str,
    review: str = SECRET,
    user: str = "",
) -> Any:
    """Every field and file the route declares, filled, so that FastAPI lets the request reach the route's code."""
    fields = {p.alias: "x" for p in route.dependant.body_params if p.alias not in ("file", "csrf_token")}
    fields.update({"csrf_token": token, "role": "reader", "state": "approved", "path": "actions", "codebook": "cb"})
    files = (
        {"file": ("a.csv", b"code\nx\n", "text/csv")}
        if any(p.alias == "file" for p in route.dependant.body_params)
        else None
    )
    url = _url(path, ids, review)
    params = QUERIES.get(path)
    if path.startswith("/api/v1/"):  # the REST API, with the user's write token (no cookie, no CSRF token)
        headers = {"Authorization": f"Bearer {ids['token:' + user]}"}
        api = TestClient(client.app)
        if method == "GET":
            return api.get(url, params=params, headers=headers, follow_redirects=False)
        if method == "DELETE":
            return api.delete(url, headers=headers, follow_redirects=False)
        if files is not None:
            return api.post(url, files=files, headers=headers, follow_redirects=False)
        return api.post(url, json=BODIES.get(path, {}), headers=headers, follow_redirects=False)
    if method == "GET":
        return client.get(url, params=params, follow_redirects=False)
    if method == "DELETE":
        return client.delete(url, headers={"X-CSRF-Token": token}, follow_redirects=False)
    return client.post(url, params=params, data=fields, files=files, follow_redirects=False)


RANK = {"read": 0, "write": 1, "manage": 2}


def test_role_by_route_matrix(store: Store, world: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Over every review-scoped route: a reader of review A hears 404 for everything of B (GET and POST), as for a
    review that does not exist; B's reader reads (200) and is refused every change (403); B's reviewer may write
    but not manage; B's manager and a site admin may do everything."""
    monkeypatch.setattr(html, "LINK_CODES", 0)  # every figure of B's small report has its page of rows
    app = create_app(Settings(database_url=store.url), store)
    routes = [(m, p, r) for m, p, r in _routes(app) if RULES[(m, p)][0] in ("review", "record")]
    assert len(routes) > 40
    failures: list[str] = []
    clients = {name: _client(app, name) for name in ("out", "rea", "rex", "mia", "ada")}

    out, out_token = clients["out"]
    for method, path, route in routes:
        response = _request(out, method, path, route, world, out_token, user="out")
        if response.status_code != 404 or "Zanzibar" in response.text:
            failures.append(f"non-member {method} {path}: {response.status_code} {response.text[:120]}")
        elif RULES[(method, path)][0] == "review":  # word for word what a review that does not exist answers
            unknown = _request(out, method, path, route, world, out_token, review="no-such-review", user="out")
            if response.text.replace(SECRET, "X") != unknown.text.replace("no-such-review", "X"):
                failures.append(f"non-member {method} {path}: not the answer of an unknown review")

    for name, level in (("rea", 0), ("rex", 1), ("mia", 2), ("ada", 2)):
        client, token = clients[name]
        order = sorted(routes, key=lambda r: (r[0] != "GET", r[1].endswith("/members/{member}")))
        for method, path, route in order:
            need = RULES[(method, path)][1]
            response = _request(client, method, path, route, world, token, user=name)
            allowed = RANK[need] <= level
            if method == "GET" and allowed and response.status_code != 200:
                failures.append(f"{name} {method} {path}: {response.status_code} {response.text[:160]}")
            elif not allowed and response.status_code != 403:
                failures.append(f"{name} {method} {path}: {response.status_code}, not 403")
            elif allowed and (response.status_code in (403, 500) or "there is no review" in response.text):
                failures.append(f"{name} {method} {path}: {response.status_code} {response.text[:160]}")
    assert not failures, "\n".join(failures)


def test_lists_show_only_the_reviews_a_user_may_see(store: Store, world: dict[str, str]) -> None:
    app = create_app(Settings(database_url=store.url), store)
    staff = [(m, p) for m, p, r in _routes(app) if m == "GET" and RULES[(m, p)][0] == "staff" and "{" not in p]
    out, _ = _client(app, "out")
    rea, _ = _client(app, "rea")
    for _method, path in staff:
        response = out.get(path, follow_redirects=False)
        assert response.status_code < 500, path
        assert SECRET not in response.text, path
        assert "Zanzibar" not in response.text, path
    assert SECRET in rea.get("/reviews").text
    assert "open-a" in out.get("/reviews").text
    assert "open-a" not in rea.get("/reviews").text
    # a filter naming B answers as for a review that does not exist
    for path in ("/tracking?review=", "/api/tracking/recommendations?review=", "/tracking/lessons?review="):
        hidden, unknown = out.get(path + SECRET), out.get(path + "no-such-review")
        assert hidden.status_code == unknown.status_code == 404, path
        assert hidden.text.replace(SECRET, "X") == unknown.text.replace("no-such-review", "X"), path
    assert len(rea.get("/api/tracking/recommendations").json()) == 1
    assert out.get("/api/tracking/recommendations").json() == []


def test_coding_an_answer_of_a_hidden_review_is_refused_as_unknown(store: Store, world: dict[str, str]) -> None:
    app = create_app(Settings(database_url=store.url), store)
    body = {"start": 0, "end": 3, "code_id": int(world["code_id"])}
    for name, status in (("out", 400), ("rea", 403), ("rex", 201)):
        client, token = _client(app, name)
        response = client.post("/api/coding/codings", json={**body, "csrf_token": token, "source": world["answer"]})
        assert response.status_code == status, (name, response.text)
        if name == "out":
            nowhere = "00000000-0000-0000-0000-000000000000/actions"
            unknown = client.post("/api/coding/codings", json={**body, "csrf_token": token, "source": nowhere})
            shown = response.json()["error"].replace(world["answer"].split("/")[0], "N")
            assert shown == unknown.json()["error"].replace(nowhere.split("/")[0], "N")
    # suggestions read the review's texts for its coders: a non-member hears what an unknown review hears
    ask = {"codebook": "cb", "sources": [world["answer"]], "code_id": int(world["code_id"]), "words": "the"}
    for name, status in (("out", 404), ("rea", 403), ("rex", 200)):
        client, token = _client(app, name)
        response = client.post("/api/coding/suggestions", json={**ask, "csrf_token": token, "review": SECRET})
        assert response.status_code == status, (name, response.text)
        if name == "out":
            unknown = client.post("/api/coding/suggestions", json={**ask, "csrf_token": token, "review": "nope"})
            assert response.text.replace(SECRET, "X") == unknown.text.replace("nope", "X")
    no = {"codebook": "cb", "source": world["answer"], "start": 0, "end": 3, "code_id": int(world["code_id"])}
    for name, status in (("out", 404), ("rea", 403), ("rex", 201)):
        client, token = _client(app, name)
        response = client.post("/api/coding/suggestions/reject", json={**no, "csrf_token": token, "review": SECRET})
        assert response.status_code == status, (name, response.text)


def test_members_page_adds_changes_and_removes(store: Store, world: dict[str, str]) -> None:
    app = create_app(Settings(database_url=store.url), store)
    mia, token = _client(app, "mia")
    page = mia.get(f"/reviews/{SECRET}/members")
    assert page.status_code == 200
    assert "<option>out</option>" in page.text  # who may be added
    added = mia.post(f"/reviews/{SECRET}/members", data={"csrf_token": token, "member": "out", "role": "reviewer"})
    assert added.status_code == 200
    assert "out" in added.text
    out, _ = _client(app, "out")
    assert out.get(f"/reviews/{SECRET}").status_code == 200
    changed = mia.post(f"/reviews/{SECRET}/members/out", data={"csrf_token": token, "role": "reader"})
    assert changed.status_code == 200
    assert mia.get(f"/reviews/{SECRET}/members", headers={"accept": "application/json"}).json()[-1]["role"] in (
        "reader",
        "reviewer",
    )
    roles = {
        m["user"]: m["role"]
        for m in mia.get(f"/reviews/{SECRET}/members", headers={"accept": "application/json"}).json()
    }
    assert roles == {"mia": "manager", "out": "reader", "rea": "reader", "rex": "reviewer"}
    last = mia.post(f"/reviews/{SECRET}/members/mia", data={"csrf_token": token, "remove": "1"})
    assert last.status_code == 409
    assert "last manager" in last.text
    bad = mia.post(f"/reviews/{SECRET}/members/out", data={"csrf_token": token, "role": "boss"})
    assert bad.status_code == 422
    assert "not a review role" in bad.text
    removed = mia.post(f"/reviews/{SECRET}/members/out", data={"csrf_token": token, "remove": "1"})
    assert removed.status_code == 200
    assert out.get(f"/reviews/{SECRET}").status_code == 404
    rea, _rea_token = _client(app, "rea")
    assert "Add a member" not in rea.get(f"/reviews/{SECRET}/members").text
    with store.session() as session:
        summaries = [e.summary for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "review_member"))]
    assert f"out joined review {SECRET} as reviewer" in summaries
    assert f"out in review {SECRET}: reviewer → reader" in summaries
    assert f"out left review {SECRET}" in summaries


def test_a_review_created_on_the_web_is_managed_by_its_creator(store: Store, world: dict[str, str]) -> None:
    app = create_app(Settings(database_url=store.url), store)
    rex, token = _client(app, "rex")
    created = rex.post("/reviews", data={"csrf_token": token, "name": "rex-own"}, follow_redirects=False)
    assert created.status_code == 303
    with store.session() as session:
        review = session.scalars(select(Review).where(Review.name == "rex-own")).one()
        rex_user = session.scalars(select(User).where(User.name == "rex")).one()
        assert access.review_role(session, rex_user, review.id) == "manager"
        out_user = session.scalars(select(User).where(User.name == "out")).one()
        assert access.review_role(session, out_user, review.id) is None


def test_access_functions(store: Store, world: dict[str, str]) -> None:
    with store.session() as session:
        users = {u.name: u for u in session.scalars(select(User))}
        b = session.scalars(select(Review).where(Review.name == SECRET)).one()
        a = session.scalars(select(Review).where(Review.name == "open-a")).one()
        assert access.visible_review_ids(session, users["ada"]) is None
        assert access.visible_review_ids(session, users["out"]) == {a.id}
        assert access.review_role(session, users["ada"], b.id) == "manager"
        assert access.review_role(session, users["rea"], b.id) == "reader"
        assert access.review_role(session, users["out"], b.id) is None
        assert access.require_review(session, users["rex"], b.id, "write") is b
        with pytest.raises(NotFound):
            access.require_review(session, users["out"], b.id)
        with pytest.raises(NotFound):
            access.require_review(session, users["out"], 10**6)
        with pytest.raises(Forbidden, match="needs the reviewer role"):
            access.require_review(session, users["rea"], b.id, "write")
        with pytest.raises(Forbidden, match="needs the manager role"):
            access.require_review(session, users["rex"], b.id, "manage")
        with pytest.raises(Conflict, match="already a reader"):
            access.add_member(session, b, "rea", "reviewer", actor="t")
        with pytest.raises(NotFound, match="no user"):
            access.add_member(session, b, "nobody", "reader", actor="t")
        with pytest.raises(Conflict, match="last manager"):
            access.change_member(session, b, "mia", "reader", actor="t")
        access.change_member(session, b, "mia", "reader", actor="t", by_admin=True)  # an admin may
        users["rea"].active = False
        assert access.review_role(session, users["rea"], b.id) is None


def test_cli_run_as_a_user_sees_only_their_reviews(cli: Cli, world: dict[str, str]) -> None:
    listed = cli("review", "list", user="out")
    assert "open-a" in listed.stdout
    assert SECRET not in listed.stdout
    hidden = cli("review", "members", SECRET, user="out")
    unknown = cli("review", "members", "no-such-review", user="out")
    assert hidden.exit_code == unknown.exit_code == 2
    assert hidden.stderr.replace(SECRET, "X") == unknown.stderr.replace("no-such-review", "X")
    assert SECRET not in cli("responses", "status", "--review", "open-a", user="out").stdout
    refused = cli("review", "member", "add", SECRET, "out", "--role", "reader", user="rex")
    assert refused.exit_code == 2
    assert "needs the manager role" in refused.stderr
    assert cli("review", "member", "add", SECRET, "out", "--role", "reader", user="mia").exit_code == 0
    members = cli("review", "members", SECRET, user="out")
    assert members.exit_code == 0
    assert "out" in members.stdout
    assert "5 members" not in members.stdout
    assert cli("review", "member", "change", SECRET, "out", "--role", "reviewer").exit_code == 0
    assert cli("review", "member", "remove", SECRET, "out", user="ada").exit_code == 0
    assert cli("review", "members", SECRET, user="out").exit_code == 2
    assert "no-such" in cli("review", "members", "no-such", user="nobody-at-all").stderr  # no account: the operator
    recs = cli("tracking", "recs", "list", "--json", user="out")
    assert recs.exit_code == 0
    assert recs.stdout.strip() == "[]"
    assert "Publish the results" in cli("tracking", "recs", "list", user="rea").stdout
    created = cli("review", "create", "out-own", user="out")
    assert created.exit_code == 0
    assert "manager" in cli("review", "members", "out-own", user="out").stdout


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables yet (SQLite, or a new PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need LMREVIEW_TEST_POSTGRES_URL (make test sets it when a server answers)")
    schema = f"lmreview_old_{uuid.uuid4().hex[:8]}"
    admin = Store(POSTGRES_URL)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{database_url(POSTGRES_URL)}?options=-csearch_path%3D{schema}"
    finally:
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_migration_keeps_what_existing_users_could_see(empty_url: str) -> None:
    """0013 makes every active user a member of every existing review, with the role of their site role."""
    from alembic import command

    from lmreview.store.migrate import alembic_config

    old = Store(empty_url)
    command.upgrade(alembic_config(old), "0009")
    with old.engine.begin() as connection:
        for name, role, active in (("ada", "admin", True), ("rex", "reviewer", True), ("vic", "viewer", True)):
            connection.execute(
                text("INSERT INTO user_account (name, role, active, session_version) VALUES (:n, :r, :a, 0)"),
                {"n": name, "r": role, "a": active},
            )
        connection.execute(
            text("INSERT INTO user_account (name, role, active, session_version) VALUES ('gone', 'viewer', :a, 0)"),
            {"a": False},
        )
        connection.execute(text("INSERT INTO review (name, status) VALUES ('old', 'open')"))
    command.upgrade(alembic_config(old), "head")
    with old.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT user_account.name, review_member.role FROM review_member "
                "JOIN user_account ON user_account.id = review_member.user_id ORDER BY user_account.name"
            )
        ).all()
    old.dispose()
    assert [tuple(r) for r in rows] == [("ada", "manager"), ("rex", "reviewer"), ("vic", "reader")]


def _filled_matrix(cli: Cli, tmp_path: Path) -> Path:
    """B's follow-up matrix as exported, with a progress comment on its key action."""
    from openpyxl import load_workbook

    path = tmp_path / "matrix.xlsx"
    assert cli("tracking", "export", "--review", SECRET, "-o", str(path)).exit_code == 0
    book = load_workbook(path)
    sheet = book["Matrix"]
    column = next(c.column for c in sheet[1] if c.value == "Progress comment")
    sheet.cell(row=2, column=column, value="Half of it drafted")
    book.save(path)
    return path


def test_the_follow_up_matrix_import_needs_the_reviews_reviewer_role(
    store: Store, cli: Cli, world: dict[str, str], tmp_path: Path
) -> None:
    """Each row's review: a non-member hears "no review" (as for one that does not exist), a reader is refused; a
    reviewer of the review imports it, on the web and on the command line run as --user NAME."""
    path = _filled_matrix(cli, tmp_path)
    app = create_app(Settings(database_url=store.url), store)
    for name, message in (
        ("out", f"there is no review '{SECRET}'"),
        ("rea", f"this needs the reviewer role in review {SECRET}; you are a reader there"),
    ):
        client, token = _client(app, name)
        files = {"file": ("matrix.xlsx", path.read_bytes(), "application/octet-stream")}
        refused = client.post(
            "/tracking/import", data={"csrf_token": token}, files=files, headers={"accept": "application/json"}
        )
        assert refused.status_code == 422, (name, refused.text)
        assert refused.json()["problems"] == [f"matrix.xlsx:2:Review: {message}"]
        run = cli("tracking", "import", str(path), user=name)
        assert run.exit_code == 2
        assert message in run.stderr
    assert "Zanzibar" not in refused.text
    run = cli("tracking", "import", str(path), user="rex")
    assert run.exit_code == 0, run.stderr
    assert "1 progress comments" in run.stdout
    mia, token = _client(app, "mia")  # a site viewer who manages B imports it on the web
    files = {"file": ("matrix.xlsx", path.read_bytes(), "application/octet-stream")}
    imported = mia.post("/tracking/import", data={"csrf_token": token}, files=files, follow_redirects=False)
    assert imported.status_code == 303, imported.text


def test_cli_looks_up_recommendations_and_key_actions_as_the_user(cli: Cli, world: dict[str, str]) -> None:
    """``tracking recs show ID`` and the commands changing a recommendation or key action by id: a non-member
    hears what an unknown id hears, a reader may read but not change."""
    rec, action = world["rec_id"], world["action_id"]
    hidden = cli("tracking", "recs", "show", rec, user="out")
    unknown = cli("tracking", "recs", "show", "999999", user="out")
    assert hidden.exit_code == unknown.exit_code == 2
    assert hidden.stderr.replace(rec, "N") == unknown.stderr.replace("999999", "N")
    assert "Publish the results" in cli("tracking", "recs", "show", rec, user="rea").stdout
    refused = cli("tracking", "respond", rec, "--stance", "agrees", user="rea")
    assert refused.exit_code == 2
    assert "needs the reviewer role" in refused.stderr
    hidden = cli("tracking", "action", "update", action, "--status", "completed", user="out")
    assert hidden.exit_code == 2
    assert "there is no key action" in hidden.stderr
    assert cli("tracking", "respond", rec, "--stance", "agrees", user="rex").exit_code == 0
