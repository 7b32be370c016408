"""/api/v1/reviews/{name}/members (web/api/members.py): a manager adds, changes and removes members with a token;
readers, reviewers and non-members may not; the last manager stays; bad input. Read back with ``lmreview review
members --json`` and the audit log."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from lmreview.store import Store
from lmreview.store.models import AuditEvent
from lmreview.store.users import add_user
from tests.conftest import Cli
from tests.test_api import PASSWORD, bearer, client, make_token, world  # noqa: F401  (client, world: fixtures)


def _members(cli: Cli) -> dict[str, str]:
    return {m["user"]: m["role"] for m in json.loads(cli("review", "members", "r16", "--json").stdout)}


def test_a_manager_adds_changes_and_removes_members(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
) -> None:
    with store.session() as session:
        add_user(session, "max", "viewer", PASSWORD, actor="test")
        add_user(session, "ada", "admin", PASSWORD, actor="test")
    assert cli("review", "member", "add", "r16", "max", "--role", "manager").exit_code == 0
    auth = bearer(make_token(cli, "max", "write"))
    url = "/api/v1/reviews/r16/members"
    added = client.post(url, headers=auth, json={"user": "vic", "role": "reviewer"})
    assert added.status_code == 201, added.text
    assert added.json()["user"] == "vic"
    assert (added.json()["role"], added.json()["site_role"], added.json()["added_by"]) == ("reviewer", "viewer", "max")
    assert _members(cli) == {"ana": "reviewer", "max": "manager", "vic": "reviewer"}
    listed = client.get(url, headers=auth)
    assert [m["user"] for m in listed.json()] == ["ana", "max", "vic"]
    assert client.get(url, headers={**auth, "If-None-Match": listed.headers["etag"]}).status_code == 304
    assert client.post(url, headers=auth, json={"user": "vic"}).status_code == 409  # already a member

    changed = client.post(f"{url}/vic", headers=auth, json={"role": "reader"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "reader"
    assert _members(cli)["vic"] == "reader"
    last = client.post(f"{url}/max", headers=auth, json={"role": "reader"})
    assert last.status_code == 409
    assert "last manager" in last.json()["error"]
    assert client.delete(f"{url}/max", headers=auth).status_code == 409
    removed = client.delete(f"{url}/vic", headers=auth)
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"review": "r16", "removed": "vic"}
    assert "vic" not in _members(cli)
    assert client.get("/api/v1/reviews/r16", headers=bearer(world["viewer"])).status_code == 404  # vic sees nothing
    assert client.delete(f"{url}/vic", headers=auth).status_code == 404
    with store.session() as session:
        summaries = {e.summary for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "review_member"))}
    assert {"vic joined review r16 as reviewer", "vic in review r16: reviewer → reader", "vic left review r16"} <= (
        summaries
    )
    # a site admin may demote the last manager
    admin = bearer(make_token(cli, "ada", "write"))
    assert client.post(f"{url}/max", headers=admin, json={"role": "reviewer"}).status_code == 200
    assert _members(cli)["max"] == "reviewer"


def test_who_may_not_change_members_and_bad_input(
    client: TestClient,  # noqa: F811
    cli: Cli,
    store: Store,
    world: dict[str, str],  # noqa: F811
) -> None:
    with store.session() as session:
        add_user(session, "max", "viewer", PASSWORD, actor="test")
        add_user(session, "rea", "reviewer", PASSWORD, actor="test")
    assert cli("review", "member", "add", "r16", "max", "--role", "manager").exit_code == 0
    assert cli("review", "member", "add", "r16", "rea", "--role", "reader").exit_code == 0
    url = "/api/v1/reviews/r16/members"
    body = {"user": "vic", "role": "reader"}
    reviewer, reader = bearer(world["write"]), bearer(make_token(cli, "rea", "write"))
    outsider = bearer(make_token(cli, "vic", "write"))
    assert client.get(url, headers=reader).status_code == 200
    for auth, status in ((reviewer, 403), (reader, 403), (outsider, 404)):
        assert client.post(url, headers=auth, json=body).status_code == status
        assert client.post(f"{url}/rea", headers=auth, json={"role": "manager"}).status_code == status
        assert client.delete(f"{url}/rea", headers=auth).status_code == status
    hidden = client.post(url, headers=outsider, json=body)
    unknown = client.post("/api/v1/reviews/nope/members", headers=outsider, json=body)
    assert hidden.text.replace("r16", "X") == unknown.text.replace("nope", "X")
    assert client.get(url, headers=outsider).status_code == 404
    manager_read_token = bearer(make_token(cli, "max", "read"))
    assert client.post(url, headers=manager_read_token, json=body).status_code == 403
    assert _members(cli) == {"ana": "reviewer", "max": "manager", "rea": "reader"}

    manager = bearer(make_token(cli, "max", "write"))
    for sent, status, named in (
        ({"user": "vic", "role": "boss"}, 422, "role:"),
        ({"role": "reader"}, 422, "user:"),
        ({"user": "nobody"}, 404, ""),
        ({"user": "v\x00c"}, 422, "body.user"),
        ({"user": "v" * 100_000}, 422, "body.user"),
        ({"user": ["vic"]}, 422, "body.user"),
        ({"user": "vic", "extra": 1}, 422, "body.extra"),
    ):
        response = client.post(url, headers=manager, json=sent)
        assert response.status_code == status, (sent, response.text[:200])
        assert not named or any(p.startswith(named) for p in response.json()["problems"]), response.text[:300]
    assert client.post(f"{url}/rea", headers=manager, json={}).json()["problems"][0].startswith("role:")
    assert client.post(f"{url}/nobody", headers=manager, json={"role": "reader"}).status_code == 404
    assert client.post(f"{url}/vic", headers=manager, json={"role": "reader"}).status_code == 404  # no member
    assert _members(cli) == {"ana": "reviewer", "max": "manager", "rea": "reader"}
