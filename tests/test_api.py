"""The REST API (/api/v1) as a script uses it: a personal token made with the CLI lists the reviews, downloads a
tabulation and a report, uploads a Kobo export; and what a token may not do, errors as JSON, ETags, paging."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lmreview.questionnaire.models import Review, Submission
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import FIXTURES, SAMPLES, TEMPLATES, Cli

PASSWORD = "correct-horse"
KOBO = FIXTURES / "responses" / "kobo-bilingual.csv"


def make_token(cli: Cli, user: str, scope: str = "read", *extra: str) -> str:
    run = cli("user", "token", "create", f"{user}-{scope}", "--user", user, "--scope", scope, *extra)
    assert run.exit_code == 0, run.stderr
    found = re.search(r"^(lmr_\S+)$", run.stdout, flags=re.M)
    assert found is not None, run.stdout
    return found[1]


@pytest.fixture
def world(store: Store, cli: Cli) -> dict[str, str]:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    with store.session() as session:
        add_user(session, "ana", "reviewer", PASSWORD, actor="test")
        add_user(session, "vic", "viewer", PASSWORD, actor="test")
    # the operator made r16: ana reviews it, vic is no member of it
    assert cli("review", "member", "add", "r16", "ana", "--role", "reviewer").exit_code == 0
    return {"write": make_token(cli, "ana", "write"), "read": make_token(cli, "ana"), "viewer": make_token(cli, "vic")}


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_review_set_up_through_the_api_alone(client: TestClient, store: Store, cli: Cli) -> None:
    """Only the token comes from outside (the CLI, as an admin would make it); everything else is an API call."""
    with store.session() as session:
        add_user(session, "ana", "reviewer", PASSWORD, actor="test")
    auth = bearer(make_token(cli, "ana", "write"))
    with (SAMPLES / "lm2016.csv").open("rb") as handle:
        imported = client.post("/api/v1/portfolios/import", headers=auth, files={"file": ("lm2016.csv", handle)})
    assert imported.status_code == 201, imported.text
    form = (TEMPLATES / "bilingual-test.md").read_bytes()
    assert client.post("/api/v1/forms", headers=auth, files={"file": ("bilingual-test.md", form)}).status_code == 201
    body = {"name": "r16", "portfolio": "lm2016", "form": "bilingual_test"}
    assert client.post("/api/v1/reviews", headers=auth, json=body).status_code == 201
    assert [r["name"] for r in client.get("/api/v1/reviews", headers=auth).json()] == ["r16"]
    with KOBO.open("rb") as handle:
        upload = client.post("/api/v1/reviews/r16/responses", headers=auth, files={"file": ("kobo.csv", handle)})
    assert upload.status_code == 201, upload.text
    table = client.get("/api/v1/reviews/r16/tabulate", params={"question": "sustained"}, headers=auth).json()
    assert table == json.loads(cli("tabulate", "--review", "r16", "--question", "sustained", "--json").stdout)
    report = client.get("/api/v1/reviews/r16/report/xlsx", headers=auth)
    assert report.status_code == 200, report.text[:300]
    assert report.content.startswith(b"PK")
    assert 'filename="r16-report.xlsx"' in report.headers["content-disposition"]
    status = client.get("/api/v1/reviews/r16", headers=auth).json()["response_status"]
    assert status == json.loads(cli("responses", "status", "--review", "r16", "--json").stdout)


def test_a_token_imports_answers_reads_submissions_and_corrects_them(
    client: TestClient, cli: Cli, world: dict[str, str]
) -> None:
    auth = bearer(world["write"])
    reviews = client.get("/api/v1/reviews", headers=auth)
    assert reviews.status_code == 200, reviews.text
    assert [(r["name"], r["portfolio"], r["form"]) for r in reviews.json()] == [("r16", "lm2016", "bilingual_test")]

    with KOBO.open("rb") as handle:
        upload = client.post("/api/v1/reviews/r16/responses", headers=auth, files={"file": ("kobo.csv", handle)})
    assert upload.status_code == 201, upload.text
    assert upload.json()["review"] == "r16"
    assert len(upload.json()["created"]) == 2
    by_form = "/api/v1/forms/bilingual_test/responses"  # the same export again, into the one review using the form
    with KOBO.open("rb") as handle:
        again = client.post(by_form, headers=auth, files={"file": ("kobo.csv", handle)})
    assert again.status_code == 201, again.text
    assert (again.json()["review"], len(again.json()["unchanged"]), again.json()["created"]) == ("r16", 2, [])
    bad = (FIXTURES / "responses" / "kobo-bad-values.csv").read_bytes()
    refused = client.post(by_form, headers=auth, files={"file": ("bad.csv", bad)})
    assert refused.status_code == 422
    assert any('"maybe" is not a choice of the list yes_no' in p for p in refused.json()["problems"])

    subs = client.get("/api/v1/reviews/r16/submissions", params={"limit": 1}, headers=auth).json()
    assert subs["total"] == 2
    assert len(subs["items"]) == 1
    detail = client.get(f"/api/v1/reviews/r16/submissions/{subs['items'][0]['id']}", headers=auth).json()
    assert "LM.0334" in json.dumps(detail["data"]) or "LM.0181" in json.dumps(detail["data"])
    versions = f"/api/v1/reviews/r16/submissions/{detail['id']}/versions"
    assert client.get(versions, headers=auth).json() == []
    change = {"path": "beneficiaries", "value": "130", "reason": "the final report counts 130"}
    changed = client.post(versions, headers=auth, json=change)
    assert changed.status_code == 201, changed.text
    assert changed.json()["new"] == "130"
    history = client.get(versions, headers=auth).json()
    assert [(v["path"], v["new"], v["actor"], v["reason"]) for v in history] == [
        ("beneficiaries", "130", "ana", "the final report counts 130")
    ]
    refused = client.post(versions, headers=auth, json={**change, "value": "many"})
    assert refused.status_code == 422
    assert refused.json()["problems"]
    marked = f"/api/v1/reviews/r16/submissions/{detail['id']}/state"
    state = client.post(marked, headers=auth, json={"state": "approved"})
    assert state.status_code == 200, state.text
    assert state.json()["review_state"] == "approved"


def test_writes_create_a_review_add_a_respondent_and_import_a_portfolio(
    client: TestClient, world: dict[str, str], tmp_path: Path
) -> None:
    auth = bearer(world["write"])
    made = client.post("/api/v1/reviews", headers=auth, json={"name": "r2", "portfolio": "lm2016"})
    assert made.status_code == 201, made.text
    assert made.json()["portfolio"] == "lm2016"
    again = client.post("/api/v1/reviews", headers=auth, json={"name": "r2"})
    assert again.status_code == 409
    assert again.json()["error"].startswith("there is already")

    person = {"name": "Ana Ruiz", "email": "ana@example.org", "project_code": "LM.0181"}
    added = client.post("/api/v1/reviews/r2/respondents", headers=auth, json=person)
    assert added.status_code == 201, added.text
    assert added.json()["project_code"] == "LM.0181"
    listed = client.get("/api/v1/reviews/r2/respondents", headers=auth).json()
    assert [r["name"] for r in listed["items"]] == ["Ana Ruiz"]

    bad = b"code,title,budget_usd\nX.1,Bad budget,lots\n"
    refused = client.post("/api/v1/portfolios/import", headers=auth, files={"file": ("p9.csv", bad)})
    assert refused.status_code == 422
    assert refused.json()["problems"][0].startswith('p9.csv:2:budget_usd: "lots" is not an amount')
    good = b"code,title,budget_usd\nX.1,Good,100.50\n"
    imported = client.post("/api/v1/portfolios/import", headers=auth, files={"file": ("p9.csv", good)})
    assert imported.status_code == 201, imported.text
    assert imported.json()["created"] == ["X.1"]
    projects = client.get("/api/v1/portfolios/p9/projects", headers=auth).json()
    assert projects["items"][0]["budget_usd"] == "100.50"
    project = client.get("/api/v1/portfolios/p9/projects/X.1", headers=auth)
    assert project.status_code == 200, project.text
    assert project.json()["title"] == "Good"

    roster = b"project_code,name,email\nLM.0181,Bea Diallo,bea@example.org\n"
    imported_roster = client.post("/api/v1/reviews/r2/roster", headers=auth, files={"file": ("roster.csv", roster)})
    assert imported_roster.status_code == 201, imported_roster.text
    assert client.get("/api/v1/reviews/r2/respondents", headers=auth).json()["total"] == 2

    form = (TEMPLATES / "bilingual-test.md").read_bytes()
    added_form = client.post("/api/v1/forms", headers=auth, files={"file": ("copy.md", form)}, data={"name": "copy"})
    assert added_form.status_code == 201, added_form.text
    assert added_form.json()["form"] == "copy"
    assert [f["name"] for f in client.get("/api/v1/forms", headers=auth).json()] == ["bilingual_test", "copy"]


def test_read_tokens_viewers_and_bad_tokens_are_refused_in_json(
    client: TestClient, cli: Cli, world: dict[str, str]
) -> None:
    body = {"name": "r3"}
    read = client.post("/api/v1/reviews", headers=bearer(world["read"]), json=body)
    assert read.status_code == 403
    assert read.json()["error"].startswith("this API token may only read")
    viewer_write = make_token(cli, "vic", "write")
    assert client.post("/api/v1/reviews", headers=bearer(viewer_write), json=body).status_code == 403
    assert client.get("/api/v1/reviews", headers=bearer(world["viewer"])).json() == []  # vic is no member of r16
    hidden = client.get("/api/v1/reviews/r16", headers=bearer(world["viewer"]))
    assert (hidden.status_code, hidden.json()["error"]) == (404, "there is no review 'r16'")

    for headers in ({}, bearer("lmr_" + "x" * 43), {"Authorization": "Basic YTpi"}, bearer(world["read"] + "x")):
        answer = client.get("/api/v1/reviews", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["content-type"] == "application/json"
        assert set(answer.json()) == {"error", "problems"}

    tokens = json.loads(cli("user", "token", "list", "--user", "ana", "--json").stdout)
    read_id = next(t["id"] for t in tokens if t["scope"] == "read")
    assert all("hash" not in key for t in tokens for key in t)
    assert cli("user", "token", "revoke", str(read_id)).exit_code == 0
    assert client.get("/api/v1/reviews", headers=bearer(world["read"])).status_code == 401
    assert cli("user", "set", "ana", "--inactive").exit_code == 0
    assert client.get("/api/v1/reviews", headers=bearer(world["write"])).status_code == 401
    expired = make_token(cli, "vic", "read", "--expires", "1")
    with Store(cli.url).session() as session:
        from sqlalchemy import update

        from lmreview.store.models import ApiToken

        session.execute(update(ApiToken).where(ApiToken.prefix == expired[:12]).values(expires_at=ApiToken.created_at))
    assert client.get("/api/v1/reviews", headers=bearer(expired)).status_code == 401
    events = json.loads(cli("user", "token", "list", "--json").stdout)
    assert {t["state"] for t in events} == {"active", "revoked", "expired"}


def test_a_script_lists_and_revokes_its_own_tokens(client: TestClient, cli: Cli, world: dict[str, str]) -> None:
    mine = client.get("/api/v1/tokens", headers=bearer(world["viewer"])).json()
    assert [(t["user"], t["name"], t["state"]) for t in mine] == [("vic", "vic-read", "active")]
    assert world["viewer"].startswith(mine[0]["prefix"])
    anas = client.get("/api/v1/tokens", headers=bearer(world["write"])).json()
    assert client.delete(f"/api/v1/tokens/{anas[0]['id']}", headers=bearer(world["viewer"])).status_code == 403
    vic_write = make_token(cli, "vic", "write")
    assert client.delete(f"/api/v1/tokens/{anas[0]['id']}", headers=bearer(vic_write)).status_code == 404
    revoked = client.delete(f"/api/v1/tokens/{mine[0]['id']}", headers=bearer(vic_write))
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert client.get("/api/v1/me", headers=bearer(world["viewer"])).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(vic_write)).json()["scope"] == "write"


def test_errors_are_json_inside_the_api_and_etags_answer_304(client: TestClient, world: dict[str, str]) -> None:
    auth = bearer(world["read"])
    for method, path, status in [
        ("GET", "/api/v1/no/such/thing", 404),
        ("DELETE", "/api/v1/reviews", 405),
        ("GET", "/api/v1/reviews/nope", 404),
        ("GET", "/api/v1/reviews/r16/submissions/99999999999", 404),
        ("GET", "/api/v1/portfolios/lm2016/projects?limit=0", 422),
        ("GET", "/api/v1/portfolios/lm2016/projects?sort=colour", 422),
        ("GET", "/api/v1/reviews/r16/tabulate?question=nope", 404),
    ]:
        answer = client.request(method, path, headers=auth)
        assert answer.status_code == status, (path, answer.text)
        assert answer.headers["content-type"] == "application/json", path
        assert isinstance(answer.json()["error"], str)
        assert isinstance(answer.json()["problems"], list)

    first = client.get("/api/v1/portfolios/lm2016/projects", params={"region": "Africa", "limit": 2}, headers=auth)
    assert first.status_code == 200
    assert first.json()["total"] > 2
    assert len(first.json()["items"]) == 2
    assert {p["region"] for p in first.json()["items"]} == {"Africa"}
    tag = first.headers["etag"]
    cached = client.get(
        "/api/v1/portfolios/lm2016/projects",
        params={"region": "Africa", "limit": 2},
        headers={**auth, "If-None-Match": tag},
    )
    assert cached.status_code == 304
    assert cached.content == b""
    other = client.get(
        "/api/v1/portfolios/lm2016/projects", params={"limit": 2}, headers={**auth, "If-None-Match": tag}
    )
    assert other.status_code == 200


def test_the_web_session_reads_and_writes_with_its_csrf_header(client: TestClient, world: dict[str, str]) -> None:
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    client.post("/login", data={"name": "ana", "password": PASSWORD, "csrf_token": csrf[1]})
    me = client.get("/api/v1/me").json()
    assert me == {"name": "ana", "role": "reviewer", "auth": "session", "scope": "write"}
    assert client.post("/api/v1/reviews", json={"name": "r4"}).status_code == 403  # no CSRF header
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account/tokens").text)
    assert token is not None
    assert client.post("/api/v1/reviews", json={"name": "r4"}, headers={"X-CSRF-Token": token[1]}).status_code == 201


def test_the_account_page_makes_shows_once_and_revokes_a_token(client: TestClient, world: dict[str, str]) -> None:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert csrf is not None
    client.post("/login", data={"name": "vic", "password": PASSWORD, "csrf_token": csrf[1]})
    page = client.get("/account/tokens")
    form = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert form is not None
    made = client.post("/account/tokens", data={"csrf_token": form[1], "name": "laptop", "scope": "read"})
    assert made.status_code == 201
    secret = re.search(r'<code id="new-token">(lmr_[^<]+)</code>', made.text)
    assert secret is not None
    api = TestClient(client.app)
    assert api.get("/api/v1/me", headers=bearer(secret[1])).json()["name"] == "vic"
    listing = client.get("/account/tokens").text
    assert secret[1] not in listing
    assert "laptop" in listing
    assert "vic-read" in listing
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', listing)
    assert token_id is not None
    client.post(f"/account/tokens/{token_id[1]}/revoke", data={"csrf_token": form[1]})
    assert api.get("/api/v1/me", headers=bearer(secret[1])).status_code == 401
    assert "revoked" in client.get("/account/tokens").text
    assert client.post("/account/tokens/999999/revoke", data={"csrf_token": form[1]}).status_code == 404


def test_the_api_sorts_and_filters_as_the_project_list_does(client: TestClient, world: dict[str, str]) -> None:
    from typing import get_args

    from lmreview.portfolio import service
    from lmreview.web.api.portfolios import Has, Sort

    assert set(get_args(Sort)) == set(service.SORTS)
    assert set(get_args(Has)) == set(service.HAS)
    auth = bearer(world["read"])
    rows = client.get("/api/v1/portfolios/lm2016/projects", params={"sort": "budget_usd", "desc": "true"}, headers=auth)
    budgets = [p["budget_usd"] for p in rows.json()["items"] if p["budget_usd"] is not None]
    assert budgets == sorted(budgets, key=float, reverse=True)
    assert len(budgets) > 1
    africa = client.get("/api/v1/portfolios/lm2016/projects", params={"region": "Africa"}, headers=auth).json()
    every = rows.json()["items"]
    assert africa["total"] == sum(1 for p in every if p["region"] == "Africa") > 0
    assert africa["total"] < rows.json()["total"]


def test_statistics_list_their_rows_on_request(client: TestClient, world: dict[str, str]) -> None:
    auth = bearer(world["read"])
    plain = client.get("/api/v1/portfolios/lm2016/stats", headers=auth).json()
    assert "rows" not in plain["budget_usd"]
    traced = client.get("/api/v1/portfolios/lm2016/stats", params={"rows": "true"}, headers=auth).json()
    assert len(traced["budget_usd"]["rows"]) == plain["budget_usd"]["n"] == 14
    assert sum(len(s["rows"]) for s in traced["by_region"]) == plain["projects"]
    assert client.get("/api/v1/portfolios/lm2016/stats", params={"rows": "maybe"}, headers=auth).status_code == 422


def test_the_reference_page_lists_every_operation_without_scripts(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts == ['<script src="/static/page.js" defer>']  # the site's own; no CDN, nothing of Swagger UI
    for path, item in spec["paths"].items():
        for method in item:
            assert f"{method.upper()} /api/v1{path}" in page.text


def test_an_import_by_questionnaire_names_no_review_the_caller_may_not_see(
    client: TestClient, store: Store, cli: Cli, world: dict[str, str]
) -> None:
    """POST /forms/{name}/responses without a review: only the reviews the caller may see are candidates, so a
    non-member learns neither the name nor the id of a review using the form, and its submissions stay untouched."""
    # the operator's answers, in r16, the one review using the form (rita is no member of it)
    assert cli("form", "import-responses", str(KOBO), "--form", "bilingual_test").exit_code == 0
    with store.session() as session:
        add_user(session, "rita", "reviewer", PASSWORD, actor="test")
    auth = bearer(make_token(cli, "rita", "write"))
    by_form = "/api/v1/forms/bilingual_test/responses"
    with KOBO.open("rb") as handle:
        refused = client.post(by_form, headers=auth, files={"file": ("kobo.csv", handle)})
    assert refused.status_code == 422, refused.text
    assert "r16" not in refused.text
    problems = [p for p in refused.json()["problems"] if "warning:" not in p]
    assert problems
    assert all("not yours to change" in p for p in problems), problems
    with store.session() as session:
        review_id = session.scalar(select(Review.id).where(Review.name == "r16"))
    assert not re.search(rf"\b{review_id}\b", refused.json()["error"])
    # a second review using the form: the one r16 member hears only of the review they may see
    assert cli("review", "create", "r16b", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    assert cli("review", "member", "add", "r16b", "rita", "--role", "reviewer").exit_code == 0
    with KOBO.open("rb") as handle:
        chosen = client.post(by_form, headers=auth, files={"file": ("kobo.csv", handle)})
    assert chosen.status_code == 422
    assert "r16" not in chosen.text.replace("r16b", "")
    with store.session() as session:
        in_r16 = session.scalar(select(func.count()).select_from(Submission).join(Review).where(Review.name == "r16"))
    assert in_r16 == 2
    # ana, a member of r16 only, imports into it as before
    with KOBO.open("rb") as handle:
        again = client.post(by_form, headers=bearer(world["write"]), files={"file": ("kobo.csv", handle)})
    assert again.status_code == 201, again.text
    assert again.json()["review"] == "r16"
