"""`lmreview serve --workers N`: several web processes over one database share the session secret and the login
lock; `lmreview secret rotate` ends every session."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from lmreview.web.security import LoginThrottle
from tests.conftest import ROOT, Cli

PASSWORD = "correct-horse"


def test_the_login_lock_holds_across_processes_and_ends_with_the_window(db_url: str) -> None:
    first, second = Store(db_url), Store(db_url)  # two web processes, each with its own engine
    try:
        a, b = LoginThrottle(first), LoginThrottle(second)
        start = time.time()
        for n in range(5):
            assert b.wait("Vic", start + n) == 0
            a.failed("vic ", start + n)
        assert b.wait("VIC", start + 10) == pytest.approx(15 * 60 - 10, abs=0.01)
        assert b.wait("ada", start + 10) == 0
        assert b.wait("vic", start + 15 * 60 + 1) == 0  # the oldest failure left the window
        a.failed("vic", start + 15 * 60 + 2)  # and failures older than the window are cleared away
        assert b.wait("vic", start + 15 * 60 + 3) == 0
        b.succeeded("vic")
        for n in range(4):
            a.failed("vic", start + 2000 + n)
        assert b.wait("vic", start + 2010) == 0
    finally:
        first.dispose()
        second.dispose()


def _login(client: TestClient | httpx.Client, name: str, password: str) -> int:
    page = client.get("/login")
    token = BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf_token"})
    assert token is not None, page.text
    data = {"name": name, "password": password, "csrf_token": str(token["value"])}
    return client.post("/login", data=data, follow_redirects=False).status_code


def test_secret_rotate_ends_every_session(store: Store, cli: Cli) -> None:
    with store.session() as session:
        add_user(session, "ada", "admin", PASSWORD, actor="test")
    with TestClient(create_app(Settings(database_url=store.url), store)) as before:
        assert _login(before, "ada", PASSWORD) == 303
        assert before.get("/admin/users", follow_redirects=False).status_code == 200
        cookies = dict(before.cookies)
    rotated = cli("secret", "rotate")
    assert rotated.exit_code == 0, rotated.stderr
    assert "Replaced the session secret kept in the database" in rotated.stdout
    with TestClient(create_app(Settings(database_url=store.url), store), cookies=cookies) as after:
        answer = after.get("/admin/users", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_secret_rotate_with_a_key_in_the_environment_prints_a_new_one(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMREVIEW_SECRET_KEY", "k" * 40)
    run = cli("secret", "rotate")
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert lines[0].startswith("LMREVIEW_SECRET_KEY comes from the environment")
    assert len(lines[-1]) >= 32
    assert lines[-1] != "k" * 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_workers(db_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    store = Store(db_url)
    with store.session() as session:
        add_user(session, "ada", "admin", PASSWORD, actor="test")
        add_user(session, "vic", "viewer", PASSWORD, actor="test")
    store.dispose()
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "LMREVIEW_LOG_FORMAT": "json"}
    command = [sys.executable, "-c", "from lmreview.cli.main import main; main()", "--db", db_url]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            raise AssertionError((tmp_path / "serve.log").read_text())
        time.sleep(0.2)
    try:
        yield url, server
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_two_workers_share_sessions_and_the_login_lock(
    two_workers: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    url, server = two_workers
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    assert len(children) >= 2  # uvicorn's supervisor and its worker processes
    with httpx.Client(base_url=url, headers={"Connection": "close"}) as client:
        assert _login(client, "ada", PASSWORD) == 303
        cookies = dict(client.cookies)

    def admin_users(_: int) -> int:
        # a fresh connection for each request (Connection: close), so that either worker may answer it
        with httpx.Client(base_url=url, headers={"Connection": "close"}, cookies=cookies) as fresh:
            return fresh.get("/admin/users", follow_redirects=False).status_code

    # which worker accepts a connection is the kernel's choice, and the second worker may still be starting when the
    # first answers /ready: requests go in concurrent batches until both have answered one (or the deadline passes)
    answers: list[int] = []
    served_by: set[int] = set()
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(max_workers=8) as pool:
        while len(served_by) < 2 and time.monotonic() < deadline:
            answers += pool.map(admin_users, range(16))
            lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines() if line[:1] == "{"]
            served_by = {e["pid"] for e in lines if e.get("path") == "/admin/users"}
    assert set(answers) == {200}  # whichever process answers, the session holds
    assert len(served_by) == 2
    with httpx.Client(base_url=url, headers={"Connection": "close"}) as guesser:
        assert [_login(guesser, "vic", "guess-123") for _ in range(5)] == [401] * 5
        assert [_login(guesser, "vic", PASSWORD) for _ in range(6)] == [429] * 6


def _docker_works() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_the_image_builds_and_answers_health() -> None:
    if not _docker_works():
        pytest.skip("no Docker daemon answers here (docs/deploy.md says how the image was checked without one)")
    tag = "lmreview:test"
    built = subprocess.run(["docker", "build", "-t", tag, str(ROOT)], capture_output=True, timeout=1800)
    assert built.returncode == 0, built.stderr.decode()[-3000:]
    port = _free_port()
    run = subprocess.run(
        ["docker", "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:8000", tag], capture_output=True, timeout=60
    )
    assert run.returncode == 0, run.stderr.decode()
    container = run.stdout.decode().strip()
    try:
        user = subprocess.run(["docker", "exec", container, "id", "-u"], capture_output=True, timeout=30)
        assert user.stdout.decode().strip() == "10001"  # not root
        deadline = time.monotonic() + 90
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        assert health.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).json()["status"] == "ready"
    finally:
        subprocess.run(["docker", "stop", container], capture_output=True, timeout=60)
