"""A real browser (Debian's Chromium driven by Playwright) walks the portfolio pages as a user would."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmreview.settings import Settings
from lmreview.store import open_store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"  # kept for a person to look at
CHROMIUM = shutil.which("chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    import uvicorn

    path: Path = tmp_path_factory.mktemp("browser") / "demo.db"
    cli = Cli(str(path))
    for name in ("lm2016", "lm2022"):
        assert cli("portfolio", "import", str(SAMPLES / f"{name}.csv")).exit_code == 0
    store = open_store(str(path))
    with store.session() as session:
        add_user(session, "ana", "reviewer", "browser-pass", actor="test")
    port = _free_port()
    config = uvicorn.Config(create_app(Settings(database_url=str(path)), store), port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)
    store.dispose()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_log_in_filter_by_region_open_a_project(server: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    page.goto(f"{server}/portfolios/lm2022")
    expect(page).to_have_url(f"{server}/login?next=/portfolios/lm2022")
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password").fill("browser-pass")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("lm2022")
    expect(page.locator("table.projects caption")).to_contain_text("27 of 27 projects")

    page.get_by_label("Region").select_option("Africa")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.projects caption")).to_contain_text("7 of 27 projects")
    rows = page.locator("table.projects tbody tr")
    expect(rows).to_have_count(7)

    page.get_by_role("link", name="LM.0357").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kenya")
    expect(page.locator("dl.facts")).to_contain_text("Policy development")
    page.screenshot(path=str(SHOTS / "project.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{server}/portfolios/lm2016/stats")
    expect(page.get_by_role("cell", name="117,857.14")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(SHOTS / "stats-phone.png"), full_page=True)
    assert width <= 390 + 1, f"the statistics page scrolls sideways on a phone ({width}px)"
    page.close()
