"""/health and /ready for probes; security headers over HTTPS; one JSON log line per request."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.migrate import alembic_config
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli

SECRET = "a-test-secret-that-is-long-enough-for-lmreview"


def test_health_and_ready_answer_without_a_login(store: Store) -> None:
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        assert ready.json()["revision"] == ready.json()["needs"]
        assert ready.headers["cache-control"] == "no-store"


def test_ready_is_503_while_the_database_needs_an_upgrade(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "old.db"))
    command.upgrade(alembic_config(store), "0004")
    app = create_app(Settings(database_url=store.url, secret_key=SECRET), store)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
    store.dispose()
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["error"] == "the database is at revision 0004"


def test_ready_is_503_while_the_database_is_unreachable() -> None:
    store = Store("postgresql://lmreview@127.0.0.1:9/nowhere?connect_timeout=2")
    app = create_app(Settings(database_url=store.url, secret_key=SECRET), store)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["error"].startswith("cannot reach the database")


@pytest.fixture
def client_with_user(store: Store, cli: Cli) -> Iterator[TestClient]:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    with store.session() as session:
        add_user(session, "ada", "admin", "correct-horse", actor="test")
    with TestClient(create_app(Settings(database_url=store.url), store), base_url="https://testserver") as client:
        page = client.get("/login")
        token = BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        answer = client.post(
            "/login",
            data={"name": "ada", "password": "correct-horse", "csrf_token": str(token["value"])},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        yield client


def _sha(content: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content.encode()).digest()).decode() + "'"


def test_https_pages_carry_hsts_and_a_csp_their_inline_blocks_satisfy(client_with_user: TestClient) -> None:
    page = client_with_user.get("/portfolios/lm2016/stats")
    assert page.status_code == 200
    assert page.headers["strict-transport-security"].startswith("max-age=31536000")
    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert "unsafe-inline" not in policy["script-src"]
    assert "unsafe-inline" not in policy["style-src"]
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    html = BeautifulSoup(page.text, "html.parser")
    assert all(s.get("src") for s in html.find_all("script"))
    styles = html.find_all("style")
    assert styles  # the statistics page inlines its charts, and their SVG carries a style block
    for style in styles:
        assert _sha(style.string or "") in policy["style-src"].split(), style
    assert page.headers["x-content-type-options"] == "nosniff"


def test_no_template_has_an_inline_event_handler() -> None:
    """The policy allows no inline handler (no 'unsafe-hashes'): an onclick= would be a dead button over HTTPS.
    Behaviours go in static/page.js (data-print, data-confirm) or a page's own script file."""
    folder = Path(__file__).resolve().parents[1] / "src" / "lmreview" / "web" / "templates"
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
    found = [
        f"{t.relative_to(folder)}:{n}"
        for t in sorted(folder.rglob("*.html"))
        for n, line in enumerate(t.read_text("utf-8").splitlines(), 1)
        if handler.search(line)
    ]
    assert found == []


def test_plain_http_gets_no_hsts_unless_asked(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        page = client.get("/login")
    assert "strict-transport-security" not in page.headers
    assert "content-security-policy" not in page.headers
    assert page.headers["x-frame-options"] == "DENY"
    monkeypatch.setenv("LMREVIEW_SECURITY_HEADERS", "always")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        page = client.get("/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_secure_cookies_are_only_sent_over_https(store: Store) -> None:
    settings = Settings(database_url=store.url, secure_cookies=True)
    with TestClient(create_app(settings, store), base_url="https://testserver") as client:
        page = client.get("/login")
    assert "secure" in page.headers["set-cookie"].lower()
    assert "strict-transport-security" in page.headers


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LMREVIEW_LOG_FORMAT", "json")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in ("lmreview", "uvicorn")}
    yield
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers = handlers
        logging.getLogger(name).propagate = propagate


def test_json_logs_give_one_line_per_request_without_tokens(
    store: Store, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        capsys.readouterr()
        client.get("/health")
        client.get("/r/a-secret-personal-token")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("GET", "/health", 200),
        ("GET", "/r/…", 403),
    ]
    assert all(e["logger"] == "lmreview.access" and e["duration_ms"] >= 0 for e in lines)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]) for e in lines)
