"""Web sessions end for good: a copy of the session cookie taken before logout, a password change, deactivation or a
role change no longer opens any page (issue 8)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from lmreview.web.security import session_secret
from tests.conftest import Cli
from tests.test_web import PASSWORD, csrf, login, soup

COOKIE = "lmreview_session"


@pytest.fixture
def app(store: Store) -> FastAPI:
    with store.session() as session:
        for name, role in (("ada", "admin"), ("ben", "admin"), ("rev", "reviewer")):
            add_user(session, name, role, PASSWORD, actor="test")
    return create_app(Settings(database_url=store.url), store)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def logged_in(app: FastAPI, name: str) -> tuple[TestClient, str]:
    """A client logged in as ``name`` and a copy of its session cookie."""
    client = TestClient(app)
    login(client, name)
    cookie = client.cookies.get(COOKIE)
    assert cookie
    return client, cookie


def works(app: FastAPI, cookie: str) -> bool:
    """Whether a browser holding only this cookie is logged in."""
    with TestClient(app, cookies={COOKIE: cookie}) as other:
        response = other.get("/api/portfolios")
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def test_logout_ends_every_copy_of_the_cookie(app: FastAPI) -> None:
    client, cookie = logged_in(app, "rev")
    assert works(app, cookie)
    response = client.post("/logout", data={"csrf_token": csrf(client, "/reviews")}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert not works(app, cookie)
    assert client.get("/api/portfolios").status_code == 401
    login(client, "rev")  # logging in again opens a new session
    assert client.get("/api/portfolios").status_code == 200
    assert not works(app, cookie)


def test_logout_of_a_dead_session_is_harmless(app: FastAPI) -> None:
    client, _ = logged_in(app, "rev")
    _, second = logged_in(app, "rev")
    token = csrf(client, "/reviews")
    client.post("/logout", data={"csrf_token": token})
    assert not works(app, second)  # the other browser's session ended too
    with TestClient(app, cookies={COOKIE: second}) as other:
        response = other.post("/logout", data={"csrf_token": csrf(other)}, follow_redirects=False)
        assert response.status_code == 303


def test_password_change_on_the_command_line_ends_sessions(app: FastAPI, cli: Cli) -> None:
    _, cookie = logged_in(app, "rev")
    run = cli("user", "password", "rev", "--password-stdin", input="another-secret\n")
    assert run.exit_code == 0, run.stderr
    assert "Changed the password of rev; their web sessions have ended." in run.stdout
    assert not works(app, cookie)


def test_own_password_change_keeps_this_browser_and_ends_the_others(app: FastAPI) -> None:
    client, _ = logged_in(app, "rev")
    _, elsewhere = logged_in(app, "rev")
    page = soup(client.get("/").text)
    assert page.find("a", {"href": "/account/password"}) is not None
    token = csrf(client, "/account/password")
    wrong = client.post(
        "/account/password",
        data={"csrf_token": token, "current": "not-it-at-all", "new": "n3w-pass", "again": "n3w-pass"},
    )
    assert wrong.status_code == 403
    assert "The current password is wrong." in wrong.text
    assert works(app, elsewhere)  # nothing changed
    differ = client.post(
        "/account/password", data={"csrf_token": token, "current": PASSWORD, "new": "n3w-pass-1", "again": "n3w-pass-2"}
    )
    assert differ.status_code == 422
    assert "the two new passwords differ" in differ.text
    done = client.post(
        "/account/password", data={"csrf_token": token, "current": PASSWORD, "new": "n3w-pass", "again": "n3w-pass"}
    )
    assert done.status_code == 200
    assert "Changed your password; your other sessions have ended." in done.text
    assert client.get("/api/portfolios").status_code == 200  # this browser stays logged in
    assert client.cookies.get(COOKIE) != elsewhere
    assert not works(app, elsewhere)
    again = TestClient(app)
    old = again.post("/login", data={"name": "rev", "password": PASSWORD, "csrf_token": csrf(again)})
    assert old.status_code == 401
    new = again.post(
        "/login", data={"name": "rev", "password": "n3w-pass", "csrf_token": csrf(again)}, follow_redirects=False
    )
    assert new.status_code == 303


def test_admin_sets_a_password_and_the_users_sessions_end(app: FastAPI) -> None:
    admin, admin_cookie = logged_in(app, "ada")
    _, cookie = logged_in(app, "rev")
    token = csrf(admin, "/admin/users")
    response = admin.post("/admin/users/rev/password", data={"csrf_token": token, "password": "set-by-ada"})
    assert response.status_code == 200
    assert "Changed the password of rev; their sessions have ended." in response.text
    assert not works(app, cookie)
    assert works(app, admin_cookie)  # the admin's own session is untouched
    short = admin.post("/admin/users/rev/password", data={"csrf_token": token, "password": "short"})
    assert short.status_code == 422
    assert "at least 8 characters" in short.text


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app: FastAPI, cli: Cli) -> None:
    admin, _ = logged_in(app, "ada")
    _, cookie = logged_in(app, "rev")
    token = csrf(admin, "/admin/users")
    admin.post("/admin/users/rev", data={"csrf_token": token, "role": "reviewer"})  # no "active": switched off
    assert not works(app, cookie)
    admin.post("/admin/users/rev", data={"csrf_token": token, "role": "reviewer", "active": "1"})
    assert not works(app, cookie)  # switched on again, the old cookie stays dead
    _, fresh = logged_in(app, "rev")
    assert works(app, fresh)
    assert cli("user", "set", "rev", "--inactive").exit_code == 0
    assert not works(app, fresh)


def test_role_change_ends_sessions(app: FastAPI, cli: Cli) -> None:
    _, cookie = logged_in(app, "ben")
    _, other = logged_in(app, "rev")
    run = cli("user", "set", "ben", "--role", "viewer")
    assert run.exit_code == 0, run.stderr
    assert not works(app, cookie)
    assert works(app, other)  # other users keep their sessions
    admin, _ = logged_in(app, "ada")
    admin.post("/admin/users/rev", data={"csrf_token": csrf(admin, "/admin/users"), "role": "viewer", "active": "1"})
    assert not works(app, other)


def test_a_cookie_without_a_session_version_is_refused(app: FastAPI, store: Store) -> None:
    """Cookies issued before session versions existed carried only the user id: they no longer log anyone in."""
    _, cookie = logged_in(app, "rev")
    payload = json.loads(base64.b64decode(cookie.split(".")[0] + "=="))
    assert set(payload) >= {"user_id", "session_version"}
    signer = TimestampSigner(session_secret(store, None))
    old_style = signer.sign(base64.b64encode(json.dumps({"user_id": payload["user_id"]}).encode())).decode()
    assert not works(app, old_style)
    assert works(app, cookie)
