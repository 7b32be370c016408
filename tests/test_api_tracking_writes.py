"""/api/v1 follow-up writes of web/api/tracking_writes.py, driven with a token: a review's new recommendation, its
correction and its key actions; lessons and good practices added, changed and removed; who may not; bad input.
Read back through ``lmreview tracking … --json`` and the audit log."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store, audit
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli, Mailbox
from tests.test_api import PASSWORD, bearer, client, make_token, world  # noqa: F401  (client, world: fixtures)

# Bodies sent as JSON text with \u escapes, as a script may send them (lone surrogates included)
JSON = {"content-type": "application/json"}

REC = {
    "number": "3.2",
    "text": "Register the recruitment agencies of the corridor.",
    "rationale": "Fees were charged by unregistered agencies.",
    "units": ["MIGRANT", "PARDEV"],
    "priority": "high",
    "projects": ["LM.0181"],
    "themes": ["recruitment"],
    "year": 2024,
}


def _recs(cli: Cli) -> list[dict[str, Any]]:
    return json.loads(cli("tracking", "recs", "list", "--review", "r16", "--json").stdout)


def test_a_script_adds_a_recommendation_corrects_it_and_adds_key_actions(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
) -> None:
    auth = bearer(world["write"])
    made = client.post("/api/v1/reviews/r16/recommendations", headers=auth, json=REC)
    assert made.status_code == 201, made.text
    rec = made.json()
    rec_id = rec["id"]
    (listed,) = _recs(cli)
    assert listed["id"] == rec_id
    assert (listed["number"], listed["text"], listed["year"]) == ("3.2", REC["text"], 2024)
    assert listed["units"] == REC["units"]
    assert listed["response"]["stance"] == "no_response"
    shown = client.get(f"/api/v1/tracking/recommendations/{rec_id}", headers=auth)
    assert shown.status_code == 200
    assert shown.json() == listed
    assert (
        client.get(
            f"/api/v1/tracking/recommendations/{rec_id}", headers={**auth, "If-None-Match": shown.headers["etag"]}
        ).status_code
        == 304
    )
    taken = client.post("/api/v1/reviews/r16/recommendations", headers=auth, json=REC)
    assert taken.status_code == 422
    assert taken.json()["problems"] == ["number: review r16 already has a recommendation 3.2"]

    edited = client.post(
        f"/api/v1/tracking/recommendations/{rec_id}",
        headers=auth,
        json={"text": "Register and inspect the agencies.", "priority": None, "themes": ["fees", "recruitment"]},
    )
    assert edited.status_code == 200, edited.text
    (listed,) = _recs(cli)
    assert (listed["text"], listed["priority"], listed["themes"]) == (
        "Register and inspect the agencies.",
        None,
        ["fees", "recruitment"],
    )
    assert listed["rationale"] == REC["rationale"]  # not sent: unchanged
    cleared = client.post(f"/api/v1/tracking/recommendations/{rec_id}", headers=auth, json={"year": None})
    assert cleared.status_code == 200
    assert _recs(cli)[0]["year"] is None
    nothing = client.post(f"/api/v1/tracking/recommendations/{rec_id}", headers=auth, json={})
    assert nothing.status_code == 422
    emptied = client.post(f"/api/v1/tracking/recommendations/{rec_id}", headers=auth, json={"text": " "})
    assert emptied.status_code == 422
    assert emptied.json()["problems"] == ["text: a recommendation needs its text"]
    with store.session() as session:
        events = [(e.action, e.actor) for e in audit.history(session, "recommendation", rec_id)]
    assert sorted(events) == [("create", "ana"), ("update", "ana"), ("update", "ana")]

    action = {"description": "Draft the register", "unit": "MIGRANT", "due": "2027-01-31"}
    added = client.post(f"/api/v1/tracking/recommendations/{rec_id}/actions", headers=auth, json=action)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["action"]["description"] == "Draft the register"
    assert body["action"]["status"] == "not_initiated"
    assert [a["id"] for a in body["recommendation"]["actions"]] == [body["action"]["id"]]
    second = client.post(
        f"/api/v1/tracking/recommendations/{rec_id}/actions",
        headers=auth,
        json={"description": "Publish it", "status": "initiated"},
    )
    assert second.status_code == 201
    actions = _recs(cli)[0]["actions"]
    assert [(a["description"], a["unit"], a["due_date"], a["status"]) for a in actions] == [
        ("Draft the register", "MIGRANT", "2027-01-31", "not_initiated"),
        ("Publish it", None, None, "initiated"),
    ]
    progressed = client.post(
        f"/api/v1/tracking/actions/{body['action']['id']}/progress", headers=auth, json={"status": "completed"}
    )
    assert progressed.status_code == 200
    assert _recs(cli)[0]["actions"][0]["status"] == "completed"


def test_recommendations_who_may_not_and_bad_input(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
) -> None:
    auth = bearer(world["write"])
    rec_id = client.post("/api/v1/reviews/r16/recommendations", headers=auth, json=REC).json()["id"]
    with store.session() as session:
        add_user(session, "rea", "reviewer", PASSWORD, actor="test")
        add_user(session, "out", "reviewer", PASSWORD, actor="test")
    assert cli("review", "member", "add", "r16", "rea", "--role", "reader").exit_code == 0
    reader, outsider = bearer(make_token(cli, "rea", "write")), bearer(make_token(cli, "out", "write"))
    read_only = bearer(world["read"])
    new = {**REC, "number": "4"}
    for who, status in ((reader, 403), (read_only, 403), (outsider, 404)):
        assert client.post("/api/v1/reviews/r16/recommendations", headers=who, json=new).status_code == status
        edit = client.post(f"/api/v1/tracking/recommendations/{rec_id}", headers=who, json={"text": "Changed"})
        assert edit.status_code == status
        more = client.post(f"/api/v1/tracking/recommendations/{rec_id}/actions", headers=who, json={"description": "x"})
        assert more.status_code == status
    hidden = client.get(f"/api/v1/tracking/recommendations/{rec_id}", headers=outsider)
    unknown = client.get(f"/api/v1/tracking/recommendations/{2**31 - 1}", headers=outsider)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["error"].replace(str(rec_id), "N") == unknown.json()["error"].replace(str(2**31 - 1), "N")
    assert client.get(f"/api/v1/tracking/recommendations/{rec_id}", headers=reader).status_code == 200
    assert [r["number"] for r in _recs(cli)] == ["3.2"]
    assert _recs(cli)[0]["text"] == REC["text"]
    assert _recs(cli)[0]["actions"] == []

    url = "/api/v1/reviews/r16/recommendations"
    for sent, status, named in (
        ({**REC, "number": "9", "year": 99999}, 422, "body.year"),
        ({**REC, "number": "9", "year": "soon"}, 422, "body.year"),
        ({**REC, "number": "9", "year": True}, 422, "body.year"),
        ({**REC, "number": "9", "year": 2024.5}, 422, "body.year"),
        ({**REC, "number": "9", "rationale": "half of a pair \ud800"}, 422, "body.rationale"),
        ({**REC, "number": "9", "text": "a\x00b"}, 422, "body.text"),
        ({**REC, "number": "9", "text": "x" * 100_000}, 422, "body.text"),
        ({**REC, "number": "9", "units": "MIGRANT"}, 422, "body.units"),
        ({**REC, "number": "9", "units": ["x" * 121]}, 422, "body.units"),
        ({**REC, "number": "9\n9"}, 422, "body.number"),
        ({**REC, "number": ""}, 422, "number:"),
        ({**REC, "number": "9", "text": ""}, 422, "text:"),
        ({**REC, "number": "9", "surprise": True}, 422, "body.surprise"),
    ):
        response = client.post(url, headers=JSON | auth, content=json.dumps(sent))
        assert response.status_code == status, (sent, response.text[:200])
        assert any(p.startswith(named) for p in response.json()["problems"]), response.text[:300]
    actions = f"/api/v1/tracking/recommendations/{rec_id}/actions"
    for sent, named in (
        ({"description": "x", "due": "2027-02-30"}, "body.due"),
        ({"description": "x", "status": "finished"}, "status:"),
        ({"description": ""}, "description:"),
        ({"description": "x", "unit": "u\x00"}, "body.unit"),
    ):
        response = client.post(actions, headers=JSON | auth, content=json.dumps(sent))
        assert response.status_code == 422, (sent, response.text[:200])
        assert any(p.startswith(named) for p in response.json()["problems"]), response.text[:300]
    assert client.post("/api/v1/tracking/recommendations/99999999999/actions", headers=auth, json={}).status_code == 404
    assert client.post(f"/api/v1/tracking/recommendations/{2**31 - 1}", headers=auth, json={}).status_code == 404
    assert client.post("/api/v1/reviews/nope/recommendations", headers=auth, json=REC).status_code == 404
    assert [r["number"] for r in _recs(cli)] == ["3.2"]
    assert _recs(cli)[0]["actions"] == []
    # a number str.isdigit() takes for digits and int() refuses sorts as text, and the lists still answer
    odd = client.post("/api/v1/reviews/r16/recommendations", headers=auth, json={**REC, "number": "²"})
    assert odd.status_code == 201, odd.text[:300]
    assert client.get("/api/v1/tracking/recommendations", headers=auth).status_code == 200
    assert [r["number"] for r in _recs(cli)] == ["3.2", "²"]


LESSON = {
    "kind": "lesson",
    "title": "Registering agencies takes a law",
    "text": "Registration without a legal basis was ignored by the agencies.",
    "fields": {"context": "Corridor of two countries", "relevance": "Any project on recruitment"},
    "review": "r16",
    "projects": ["LM.0181"],
    "themes": ["recruitment"],
    "year": 2023,
}


def _lessons(cli: Cli) -> list[dict[str, Any]]:
    return json.loads(cli("tracking", "lessons", "list", "--json").stdout)


def test_a_script_adds_changes_and_removes_lessons(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
) -> None:
    auth = bearer(world["write"])
    made = client.post("/api/v1/tracking/lessons", headers=auth, json=LESSON)
    assert made.status_code == 201, made.text
    lesson_id = made.json()["id"]
    (listed,) = _lessons(cli)
    assert listed == made.json()
    assert listed["fields"]["context"] == "Corridor of two countries"
    assert listed["source"]["review"] == "r16"
    practice = {"kind": "good_practice", "title": "A hotline", "text": "Migrants called a hotline.", "year": 2022}
    assert client.post("/api/v1/tracking/lessons", headers=auth, json=practice).status_code == 201
    assert [x["title"] for x in client.get("/api/v1/tracking/lessons", headers=auth).json()] == [
        "A hotline",
        "Registering agencies takes a law",
    ]
    found = client.get("/api/v1/tracking/lessons", headers=auth, params={"q": "legal basis", "kind": "lesson"}).json()
    assert [x["id"] for x in found] == [lesson_id]
    assert client.get(f"/api/v1/tracking/lessons/{lesson_id}", headers=auth).json() == listed

    changed = client.post(
        f"/api/v1/tracking/lessons/{lesson_id}",
        headers=auth,
        json={"title": "Registration needs a law", "fields": {"relevance": ""}, "year": None},
    )
    assert changed.status_code == 200, changed.text
    now = next(x for x in _lessons(cli) if x["id"] == lesson_id)
    assert (now["title"], now["fields"]["relevance"], now["year"]) == ("Registration needs a law", None, None)
    assert now["text"] == LESSON["text"]  # not sent: unchanged
    assert now["fields"]["context"] == "Corridor of two countries"
    wrong_field = client.post(f"/api/v1/tracking/lessons/{lesson_id}", headers=auth, json={"fields": {"impact": "x"}})
    assert wrong_field.status_code == 422
    assert wrong_field.json()["problems"][0].startswith("impact: a lesson learned has the fields context")
    removed = client.delete(f"/api/v1/tracking/lessons/{lesson_id}", headers=auth)
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"id": lesson_id, "removed": "Registration needs a law"}
    assert [x["title"] for x in _lessons(cli)] == ["A hotline"]
    assert client.get(f"/api/v1/tracking/lessons/{lesson_id}", headers=auth).status_code == 404
    assert client.delete(f"/api/v1/tracking/lessons/{lesson_id}", headers=auth).status_code == 404
    with store.session() as session:
        events = sorted((e.action, e.actor) for e in audit.history(session, "lesson", lesson_id))
    assert events == [("create", "ana"), ("delete", "ana"), ("update", "ana")]


def test_lessons_who_may_not_and_bad_input(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
) -> None:
    auth = bearer(world["write"])
    of_r16 = client.post("/api/v1/tracking/lessons", headers=auth, json=LESSON).json()["id"]
    typed_in = {**LESSON, "review": None, "title": "Typed in"}
    free = client.post("/api/v1/tracking/lessons", headers=auth, json=typed_in).json()["id"]
    with store.session() as session:
        add_user(session, "out", "reviewer", PASSWORD, actor="test")
    outsider = bearer(make_token(cli, "out", "write"))  # a site reviewer, no member of r16
    viewer = bearer(make_token(cli, "vic", "write"))  # a site viewer
    # a lesson of a review one may not see is no lesson at all to them
    assert [x["id"] for x in client.get("/api/v1/tracking/lessons", headers=outsider).json()] == [free]
    assert client.get(f"/api/v1/tracking/lessons/{of_r16}", headers=outsider).status_code == 404
    edit = client.post(f"/api/v1/tracking/lessons/{of_r16}", headers=outsider, json={"title": "Mine"})
    assert edit.status_code == 404
    assert edit.json()["error"] == f"there is no lesson or good practice {of_r16}"
    assert client.delete(f"/api/v1/tracking/lessons/{of_r16}", headers=outsider).status_code == 404
    assert client.post("/api/v1/tracking/lessons", headers=outsider, json=LESSON).status_code == 404
    assert client.get("/api/v1/tracking/lessons", headers=outsider, params={"review": "r16"}).status_code == 404
    assert client.post(f"/api/v1/tracking/lessons/{free}", headers=outsider, json={"title": "Ok"}).status_code == 200
    for who in (viewer, bearer(world["read"])):
        assert client.post("/api/v1/tracking/lessons", headers=who, json=typed_in).status_code == 403
        assert client.post(f"/api/v1/tracking/lessons/{free}", headers=who, json={"title": "No"}).status_code == 403
        assert client.delete(f"/api/v1/tracking/lessons/{free}", headers=who).status_code == 403
    assert sorted(x["title"] for x in _lessons(cli)) == ["Ok", LESSON["title"]]

    for sent, named in (
        ({**typed_in, "year": 99999}, "body.year"),
        ({**typed_in, "kind": "anecdote"}, "kind:"),
        ({**typed_in, "title": "a\x00b"}, "body.title"),
        ({**typed_in, "title": "t" * 100_000}, "body.title"),
        ({**typed_in, "text": "x" * 100_000}, "body.text"),
        ({**typed_in, "fields": {"context": 3}}, "body.fields"),
        ({**typed_in, "fields": {"impact": "x"}}, "impact:"),
        ({**typed_in, "page": 2}, "page:"),
        ({**typed_in, "document": "one"}, "body.document"),
        ({**typed_in, "document": True}, "body.document"),
        ({**typed_in, "title": "\udfff"}, "body.title"),
        ({**typed_in, "title": ""}, "title:"),
    ):
        response = client.post("/api/v1/tracking/lessons", headers=JSON | auth, content=json.dumps(sent))
        assert response.status_code == 422, (sent, response.text[:200])
        assert any(p.startswith(named) for p in response.json()["problems"]), response.text[:300]
    unknown_document = client.post("/api/v1/tracking/lessons", headers=auth, json={**typed_in, "document": 2**31 - 1})
    assert unknown_document.status_code == 404
    for sent, named in (({"year": 0}, "body.year"), ({"title": " "}, "title:"), ({"projects": [3]}, "body.projects")):
        response = client.post(f"/api/v1/tracking/lessons/{free}", headers=JSON | auth, content=json.dumps(sent))
        assert response.status_code == 422, (sent, response.text[:200])
        assert any(p.startswith(named) for p in response.json()["problems"]), response.text[:300]
    assert client.get("/api/v1/tracking/lessons", headers=auth, params={"year": 99999}).status_code == 422
    assert client.get("/api/v1/tracking/lessons", headers=auth, params={"kind": "anecdote"}).status_code == 422
    assert len(_lessons(cli)) == 2


def test_a_file_goes_with_a_progress_comment_and_links_are_sent(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
    mail_env: Mailbox,
) -> None:
    auth = bearer(world["write"])
    rec = client.post("/api/v1/reviews/r16/recommendations", headers=auth, json=REC).json()
    added = client.post(
        f"/api/v1/tracking/recommendations/{rec['id']}/actions", headers=auth, json={"description": "Draft the law"}
    )
    action_id = added.json()["action"]["id"]
    url = f"/api/v1/tracking/actions/{action_id}/files"
    decree = b"%PDF-1.4 the decree, signed"
    sent = client.post(url, headers=auth, files={"file": ("decree.pdf", decree)}, data={"comment": "Signed in May"})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["file"] == "decree.pdf"
    comments = _recs(cli)[0]["actions"][0]["comments"]
    assert [(c["text"], c["file"], c["author"]) for c in comments] == [("Signed in May", "decree.pdf", "ana")]
    fetched = client.get(f"{url}/{body['comment_id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.content == decree
    assert "decree.pdf" in fetched.headers["content-disposition"]
    assert client.get(f"{url}/{2**31 - 1}", headers=auth).status_code == 404
    alone = client.post(url, headers=auth, files={"file": ("minutes.txt", b"minutes")})
    assert alone.status_code == 422
    assert alone.json()["problems"] == ["comment: a file is attached to a progress comment: write one"]
    empty = client.post(url, headers=auth, files={"file": ("empty.txt", b"")}, data={"comment": "x"})
    assert empty.status_code == 422
    nul = client.post(url, headers=auth, files={"file": ("m.txt", b"m")}, data={"comment": "a\x00b"})
    assert nul.status_code == 422
    assert len(_recs(cli)[0]["actions"][0]["comments"]) == 1

    with store.session() as session:
        add_user(session, "rea", "reviewer", PASSWORD, actor="test")
        add_user(session, "out", "reviewer", PASSWORD, actor="test")
    assert cli("review", "member", "add", "r16", "rea", "--role", "reader").exit_code == 0
    reader, outsider = bearer(make_token(cli, "rea", "write")), bearer(make_token(cli, "out", "write"))
    note = {"file": ("n.txt", b"n")}
    assert client.post(url, headers=reader, files=note, data={"comment": "c"}).status_code == 403
    hidden = client.post(url, headers=outsider, files=note, data={"comment": "c"})
    assert hidden.status_code == 404
    assert hidden.json()["error"] == f"there is no key action {action_id}"
    assert client.get(f"{url}/{body['comment_id']}", headers=reader).content == decree
    assert client.get(f"{url}/{body['comment_id']}", headers=outsider).status_code == 404

    assert cli("tracking", "unit", "set", "MIGRANT", "--email", "migrant@example.org").exit_code == 0
    send = f"/api/v1/tracking/recommendations/{rec['id']}/send"
    unset = client.post(send, headers=auth)
    assert unset.status_code == 422  # no mail server is set
    assert unset.json()["problems"][0].startswith("LMREVIEW_SMTP_HOST: no mail server is set")
    mailing = TestClient(create_app(Settings(database_url=store.url), store))  # now with LMREVIEW_SMTP_*
    links = mailing.post(send, headers=auth)
    assert links.status_code == 200, links.text
    by_unit = {m["unit"]: m for m in links.json()["mailed"]}
    assert set(by_unit) == {"MIGRANT", "PARDEV"}
    assert by_unit["PARDEV"]["outcome"] == "skipped"  # no e-mail address for this unit
    assert (by_unit["MIGRANT"]["email"], by_unit["MIGRANT"]["outcome"]) == ("migrant@example.org", "sent")
    (message,) = mail_env.to("migrant@example.org")
    assert "/t/" in message.get_body().get_content()  # type: ignore[union-attr]
    assert mailing.post(send, headers=reader).status_code == 403
    assert mailing.post(send, headers=outsider).status_code == 404
    assert len(mail_env.messages) == 1


def test_the_web_session_needs_its_csrf_header_a_token_does_not(
    client: TestClient,  # noqa: F811
    cli: Cli,
    world: dict[str, str],  # noqa: F811
) -> None:
    login = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert login is not None
    client.post("/login", data={"name": "ana", "password": PASSWORD, "csrf_token": login[1]})
    typed_in = {**LESSON, "review": None}
    refused = client.post("/api/v1/tracking/lessons", json=typed_in)  # the session cookie, no CSRF header
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["error"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account/tokens").text)
    assert token is not None
    made = client.post("/api/v1/tracking/lessons", json=typed_in, headers={"X-CSRF-Token": token[1]})
    assert made.status_code == 201, made.text
    with TestClient(client.app) as script:  # no cookie: the token alone, no CSRF header
        by_token = script.post("/api/v1/tracking/lessons", json=typed_in, headers=bearer(world["write"]))
    assert by_token.status_code == 201
    assert len(_lessons(cli)) == 2
