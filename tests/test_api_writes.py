"""/api/v1 writes of the later stages, as a script makes them with a token: documents added to the evidence library
(a few inline, many as a job), a management response and a key action's progress; who may not, and bad input."""

from __future__ import annotations

import json
import re
import time

from fastapi.testclient import TestClient

from lmreview.store import Store
from lmreview.store.users import add_user
from tests.conftest import Cli
from tests.test_api import PASSWORD, bearer, client, make_token, world  # noqa: F401  (client, world: fixtures)

BRIEF = "Evaluation brief\n\nRecommendations\n\n1. Register the recruitment agencies of the corridor.\n"


def _rec(cli: Cli) -> tuple[int, int]:
    run = cli("tracking", "recs", "add", "--review", "r16", "--number", "1", "--text", "Register the agencies")
    assert run.exit_code == 0, run.stderr
    rec_id = int(re.search(r"\(id (\d+)\)", run.stdout)[1])  # type: ignore[index]
    run = cli("tracking", "action", "add", str(rec_id), "--description", "Draft the register", "--due", "2027-01-31")
    assert run.exit_code == 0, run.stderr
    action_id = int(re.search(r"Added key action (\d+)", run.stdout)[1])  # type: ignore[index]
    return rec_id, action_id


def test_a_script_adds_documents_and_follows_up(
    client: TestClient,  # noqa: F811
    cli: Cli,
    world: dict[str, str],  # noqa: F811
) -> None:
    auth = bearer(world["write"])
    files = [("files", ("brief.md", BRIEF.encode())), ("files", ("empty.pdf", b""))]
    added = client.post("/api/v1/evidence/documents", headers=auth, files=files, data={"project": "LM.0181"})
    assert added.status_code == 201, added.text
    body = added.json()
    assert [d["file"] for d in body["added"]] == ["brief.md"]
    assert body["refused"] == [{"file": "empty.pdf", "reason": "the file is empty (or no file was chosen)"}]
    again = client.post("/api/v1/evidence/documents", headers=auth, files=files[:1])
    assert again.json()["already_there"] == [{"file": "brief.md", "document": body["added"][0]["id"]}]
    only_bad = client.post("/api/v1/evidence/documents", headers=auth, files=files[1:])
    assert only_bad.status_code == 422
    assert only_bad.json()["problems"] == ["empty.pdf: the file is empty (or no file was chosen)"]
    bad_type = client.post("/api/v1/evidence/documents", headers=auth, files=files[:1], data={"doc_type": "poem"})
    assert bad_type.status_code == 422
    many = [("files", (f"note-{n}.md", f"Note {n}\n\nText of note {n}.\n".encode())) for n in range(7)]
    queued = client.post("/api/v1/evidence/documents", headers=auth, files=many)
    assert queued.status_code == 202, queued.text
    job = queued.headers["location"]
    for _ in range(600):
        shown = client.get(job, headers=auth).json()
        if shown["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert shown["status"] == "done", shown
    assert shown["result"]["added"] == 7

    rec_id, action_id = _rec(cli)
    responded = client.post(
        f"/api/v1/tracking/recommendations/{rec_id}/response",
        headers=auth,
        json={"stance": "partially_agrees", "text": "Only in the two pilot provinces", "by": "Head of unit"},
    )
    assert responded.status_code == 200, responded.text
    assert responded.json()["response"]["stance"] == "partially_agrees"
    progressed = client.post(
        f"/api/v1/tracking/actions/{action_id}/progress",
        headers=auth,
        json={"status": "completed", "comment": "Register published"},
    )
    assert progressed.status_code == 200, progressed.text
    listed = json.loads(cli("tracking", "recs", "list", "--json").stdout)
    action = listed[0]["actions"][0]
    assert action["status"] == "completed"
    assert action["comments"][0]["text"] == "Register published"
    assert action["comments"][0]["author"] == "ana"
    wrong = client.post(f"/api/v1/tracking/recommendations/{rec_id}/response", headers=auth, json={"stance": "maybe"})
    assert wrong.status_code == 422
    assert "is not a stance" in wrong.json()["error"]
    assert client.post("/api/v1/tracking/actions/999999/progress", headers=auth, json={}).status_code == 404


def test_who_may_not_write(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
) -> None:
    rec_id, action_id = _rec(cli)
    with store.session() as session:
        add_user(session, "rea", "reviewer", PASSWORD, actor="test")
        add_user(session, "out", "reviewer", PASSWORD, actor="test")
    assert cli("review", "member", "add", "r16", "rea", "--role", "reader").exit_code == 0
    reader = bearer(make_token(cli, "rea", "write"))
    outsider = bearer(make_token(cli, "out", "write"))  # a site reviewer, no member of r16
    read_only = bearer(world["read"])
    response = {"stance": "agrees"}
    url = f"/api/v1/tracking/recommendations/{rec_id}/response"
    assert client.post(url, headers=reader, json=response).status_code == 403
    hidden = client.post(url, headers=outsider, json=response)
    assert hidden.status_code == 404  # a non-member hears what an unknown id hears
    assert hidden.json()["error"] == f"there is no recommendation {rec_id}"
    progress = f"/api/v1/tracking/actions/{action_id}/progress"
    assert client.post(progress, headers=outsider, json={}).json()["error"] == f"there is no key action {action_id}"
    assert client.post(url, headers=read_only, json=response).status_code == 403
    assert client.post(f"/api/v1/tracking/actions/{action_id}/progress", headers=reader, json={}).status_code == 403
    files = [("files", ("brief.md", BRIEF.encode()))]
    assert client.post("/api/v1/evidence/documents", headers=read_only, files=files).status_code == 403
    assert client.post("/api/v1/evidence/documents", headers=reader, files=files).status_code == 201
    untouched = json.loads(cli("tracking", "recs", "list", "--json").stdout)[0]
    assert untouched["response"]["stance"] == "no_response"


def test_ratings_and_report_sections_through_the_api(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
) -> None:
    from tests.test_ratings import ILO

    auth = bearer(world["write"])
    sent = client.post("/api/v1/reviews/r16/ratings", headers=auth, files={"file": ("ilo.csv", ILO.encode())})
    assert sent.status_code == 201, sent.text
    assert sent.json()["created"] == 12
    summary = client.get("/api/v1/reviews/r16/ratings", headers=auth).json()
    assert summary == json.loads(cli("ratings", "summary", "--review", "r16", "--json").stdout)
    broken = client.post(
        "/api/v1/reviews/r16/ratings", headers=auth, files={"file": ("bad.csv", b"criterion,source\nx,y\n")}
    )
    assert broken.status_code == 422
    assert "the file needs a score column" in broken.text

    listed = client.get("/api/v1/reviews/r16/sections", headers=auth).json()
    assert [s["key"] for s in listed][:2] == ["summary", "introduction"]
    assert listed[0]["version"] == 0
    saved = client.post(
        "/api/v1/reviews/r16/sections/summary", headers=auth, json={"markdown": "The review covers 14 projects."}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    again = client.post(
        "/api/v1/reviews/r16/sections/summary", headers=auth, json={"markdown": "The review covers 14 projects."}
    )
    assert again.json()["version"] == 1  # the same text: no new version
    unknown = client.post("/api/v1/reviews/r16/sections/preface", headers=auth, json={"markdown": "x"})
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0].startswith('--key: there is no report section "preface"; the sections are')
    report = client.get("/api/v1/reviews/r16/report/html", headers=auth)
    assert "The review covers 14 projects." in report.text

    with store.session() as session:
        add_user(session, "rea", "reviewer", PASSWORD, actor="test")
        add_user(session, "out", "reviewer", PASSWORD, actor="test")
    assert cli("review", "member", "add", "r16", "rea", "--role", "reader").exit_code == 0
    reader, outsider = bearer(make_token(cli, "rea", "write")), bearer(make_token(cli, "out", "write"))
    section = {"markdown": "Changed"}
    assert client.post("/api/v1/reviews/r16/sections/summary", headers=reader, json=section).status_code == 403
    assert client.post("/api/v1/reviews/r16/sections/summary", headers=outsider, json=section).status_code == 404
    assert client.get("/api/v1/reviews/r16/sections", headers=outsider).status_code == 404
    files = {"file": ("ilo.csv", ILO.encode())}
    assert client.post("/api/v1/reviews/r16/ratings", headers=reader, files=files).status_code == 403
    assert client.post("/api/v1/reviews/r16/ratings", headers=outsider, files=files).status_code == 404


def _document(http: TestClient, auth: dict[str, str]) -> int:
    added = http.post("/api/v1/evidence/documents", headers=auth, files=[("files", ("brief.md", BRIEF.encode()))])
    assert added.status_code == 201, added.text
    return int(added.json()["added"][0]["id"])


def _listed(cli: Cli, document_id: int) -> dict[str, object]:
    return next(d for d in json.loads(cli("evidence", "list", "--json").stdout) if d["id"] == document_id)


def test_a_script_edits_a_documents_details_and_links(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
) -> None:
    from lmreview.store import audit

    auth = bearer(world["write"])
    document_id = _document(client, auth)
    change = {
        "title": "Brief of the corridor evaluation",
        "doc_type": "evaluation_brief",
        "evaluation_type": "final independent",
        "organisation": "ILO",
        "evaluators": "A. Evaluator",
        "period": "2017-2021",
        "year": 2022,
        "language": "en",
        "project_codes": ["LM.0181", "LM.0168"],
    }
    edited = client.post(f"/api/v1/evidence/documents/{document_id}", headers=auth, json=change)
    assert edited.status_code == 200, edited.text
    listed = _listed(cli, document_id)
    assert edited.json() == listed
    assert (listed["title"], listed["type"], listed["year"], listed["organisation"]) == (
        change["title"],
        "evaluation_brief",
        2022,
        "ILO",
    )
    assert sorted(listed["project_codes"]) == ["LM.0168", "LM.0181"]  # type: ignore[call-overload]
    partly = client.post(f"/api/v1/evidence/documents/{document_id}", headers=auth, json={"organisation": None})
    assert partly.status_code == 200
    listed = _listed(cli, document_id)
    assert (listed["organisation"], listed["year"], listed["title"]) == (None, 2022, change["title"])
    same = client.post(f"/api/v1/evidence/documents/{document_id}", headers=auth, json={"year": 2022})
    assert same.status_code == 200
    with store.session() as session:
        events = audit.history(session, "evidence_document", document_id)
        # the upload, the two changes; the same year again changed nothing and is no event
        assert sorted((e.action, e.actor) for e in events) == [("create", "ana"), ("update", "ana"), ("update", "ana")]
        assert any(e.before and e.before["organisation"] == "ILO" for e in events)

    linked = client.post(
        f"/api/v1/evidence/documents/{document_id}/links", headers=auth, json={"decision": "reject", "code": "LM.0168"}
    )
    assert linked.status_code == 200, linked.text
    assert [(x["code"], x["status"], x["decided_by"]) for x in linked.json() if x["status"] != "suggested"] == [
        ("LM.0168", "rejected", "ana")
    ]
    assert _listed(cli, document_id)["project_codes"] == ["LM.0181"]
    confirmed = client.post(
        f"/api/v1/evidence/documents/{document_id}/links", headers=auth, json={"decision": "confirm", "code": "LM.0168"}
    )
    assert confirmed.status_code == 200
    assert sorted(_listed(cli, document_id)["project_codes"]) == ["LM.0168", "LM.0181"]  # type: ignore[call-overload]
    shown = client.get(f"/api/v1/evidence/documents/{document_id}/links", headers=auth)
    assert shown.json() == json.loads(cli("evidence", "links", str(document_id), "--json").stdout)
    looked = client.post(f"/api/v1/evidence/documents/{document_id}/links", headers=auth, json={"decision": "suggest"})
    assert looked.status_code == 200


def test_document_details_who_may_not_and_bad_input(
    client: TestClient,  # noqa: F811
    cli: Cli,
    world: dict[str, str],  # noqa: F811
) -> None:
    auth = bearer(world["write"])
    document_id = _document(client, auth)
    before = _listed(cli, document_id)
    url = f"/api/v1/evidence/documents/{document_id}"
    for who in (bearer(world["viewer"]), bearer(world["read"])):  # a site viewer; a read token
        assert client.post(url, headers=who, json={"title": "Mine"}).status_code == 403
        assert client.post(f"{url}/links", headers=who, json={"decision": "suggest"}).status_code == 403
    for sent, named in (
        ({"year": 99999}, "body.year"),
        ({"year": 1492}, "year:"),
        ({"year": "recent"}, "body.year"),
        ({"title": ""}, "title:"),
        ({"title": None}, "title:"),
        ({"title": "a\x00b"}, "body.title"),
        ({"title": "t" * 100_000}, "body.title"),
        ({"evaluators": "e" * 100_000}, "body.evaluators"),
        ({"doc_type": "poem"}, "type:"),
        ({"project_codes": "LM.0181"}, "body.project_codes"),
        ({"project_codes": ["LM.0181,LM.0168"]}, "body.project_codes"),
        ({"project_codes": ["LM.0181\u202e"]}, "project_codes: the project code"),
        ({"pages": 3}, "body.pages"),
        ({}, "document:"),
    ):
        response = client.post(url, headers=auth, json=sent)
        assert response.status_code == 422, (sent, response.text[:200])
        assert any(p.startswith(named) for p in response.json()["problems"]), (sent, response.text[:300])
    assert client.post("/api/v1/evidence/documents/99999999999", headers=auth, json={"title": "x"}).status_code == 404
    assert client.post(f"/api/v1/evidence/documents/{2**31 - 1}", headers=auth, json={"title": "x"}).status_code == 404
    for sent, named in (
        ({"decision": "maybe", "code": "LM.0181"}, "decision:"),
        ({"decision": "confirm"}, "code:"),
        ({"decision": "confirm", "code": "XX.9999"}, "code:"),
        ({"decision": "confirm", "code": "a\x00"}, "body.code"),
    ):
        response = client.post(f"{url}/links", headers=auth, json=sent)
        assert response.status_code == 422, (sent, response.text[:200])
        assert any(p.startswith(named) for p in response.json()["problems"]), (sent, response.text[:300])
    assert _listed(cli, document_id) == before


def test_text_no_database_stores_is_refused_by_every_write(
    client: TestClient,  # noqa: F811
    cli: Cli,
    world: dict[str, str],  # noqa: F811
) -> None:
    """A lone surrogate (JSON may escape one, ``"\\ud800"``; neither database stores it) answers 422: named by the
    field where the field checks its text, otherwise by the API's handler of text that is not valid Unicode."""
    headers = {**bearer(world["write"]), "content-type": "application/json"}
    named = client.post("/api/v1/reviews/r16/recommendations", headers=headers, content=b'{"number": "\\ud800"}')
    assert named.status_code == 422
    assert named.json()["problems"][0].startswith("body.number: Value error, contains a lone surrogate, U+D800")
    review = client.post("/api/v1/reviews", headers=headers, content=b'{"name": "r17", "title": "a\\udfffb"}')
    assert review.status_code == 422, review.text
    assert review.json()["error"] == "the request holds text that is not valid Unicode (surrogates not allowed)"
    assert [r["review"] for r in json.loads(cli("review", "list", "--json").stdout)] == ["r16"]
