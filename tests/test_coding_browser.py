"""A real browser (Debian's Chromium driven by Playwright): a reviewer codes an "actions taken" answer and a
document passage with the mouse and the keyboard, sees the highlights, removes a coding; a second coder codes the
same; the manager opens the comparison and reads κ and α."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lmreview.settings import Settings
from lmreview.store import open_store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import CHROMIUM, Cli, join_every_review
from tests.conftest import CHROMIUM_ARGS as ARGS
from tests.fixtures.coding.material import make_review

pytestmark = pytest.mark.browser
PASSWORD = "browser-pass"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    import uvicorn

    folder: Path = tmp_path_factory.mktemp("coding-browser")
    path = folder / "coding.db"
    cli = Cli(str(path))
    make_review(cli, folder)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    store = open_store(str(path))
    with store.session() as session:
        for name, role in (("ana", "reviewer"), ("ben", "reviewer"), ("ada", "admin")):
            add_user(session, name, role, PASSWORD, actor="test")
    join_every_review(store, "ana", "ben", "ada")
    port = _free_port()
    settings = Settings(database_url=str(path), base_url=f"http://127.0.0.1:{port}")
    uv = uvicorn.Server(uvicorn.Config(create_app(settings, store), port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield settings.base_url
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        store.dispose()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


SELECT = """([index, start, end]) => {
  const unit = document.querySelectorAll('.codable')[index];
  const walker = document.createTreeWalker(unit, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let seen = 0, node;
  while ((node = walker.nextNode())) {
    const n = node.textContent.length;
    if (seen <= start && start <= seen + n) range.setStart(node, start - seen);
    if (seen <= end && end <= seen + n) { range.setEnd(node, end - seen); break; }
    seen += n;
  }
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}"""


def _page(browser: Any, server: str, name: str) -> Any:
    page = browser.new_page()
    page.goto(f"{server}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/")
    return page


def test_two_coders_code_and_the_manager_compares(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ana = _page(browser, server, "ana")
    ana.goto(f"{server}/coding/reviews/r?codebook=challenges-2022")
    ana.get_by_role("link", name="LM.0181").click()
    expect(ana.locator("body[data-coding-ready='1']")).to_have_count(1)
    actions = ana.locator(".codable").nth(1)
    expect(actions).to_contain_text("Borders closed in 2020")

    # the mouse: select, click the code
    ana.evaluate(SELECT, [1, 0, 14])
    ana.get_by_role("button", name="Covid-19").click()
    expect(ana.locator("#coding-status")).to_have_text("Coded “Borders closed” as Covid-19.")
    mark = actions.locator("mark")
    expect(mark).to_have_text("Borders closed")
    # Covid-19's colour, #7f7f7f, at 40% opacity
    assert mark.evaluate("m => getComputedStyle(m).backgroundColor") == "rgba(127, 127, 127, 0.4)"

    # the keyboard: select, press the code's number
    text = actions.inner_text()
    start = text.index("the budget was cut")
    ana.evaluate(SELECT, [1, start, start + len("the budget was cut")])
    ana.keyboard.press("2")  # code 2: Changing governmental priorities
    expect(ana.locator("#coding-status")).to_contain_text("as Changing governmental priorities")
    expect(actions.locator("mark")).to_have_count(2)

    # remove the second coding through its highlight
    actions.locator("mark").nth(1).click()
    ana.locator("#coding-detail").get_by_role("button", name="Remove").click()
    expect(ana.locator("#coding-status")).to_have_text("Removed the coding.")
    expect(actions.locator("mark")).to_have_count(1)

    # a document passage
    ana.goto(f"{server}/coding/reviews/r?codebook=challenges-2022")
    ana.get_by_role("link", name="Final evaluation of the migrant resource centre").click()
    expect(ana.locator("body[data-coding-ready='1']")).to_have_count(1)
    document = ana.locator(".codable").first
    body = document.inner_text()
    start = body.index("The pandemic")
    ana.evaluate(SELECT, [0, start, start + len("The pandemic")])
    ana.get_by_role("button", name="Covid-19").click()
    expect(document.locator("mark")).to_have_text("The pandemic")

    # a second coder codes the same answer, and does not see ana's codings
    ben = _page(browser, server, "ben")
    ben.goto(f"{server}/coding/reviews/r?codebook=challenges-2022")
    ben.get_by_role("link", name="LM.0181").click()
    expect(ben.locator("body[data-coding-ready='1']")).to_have_count(1)
    expect(ben.locator(".codable").nth(1).locator("mark")).to_have_count(0)
    ben.evaluate(SELECT, [1, 0, 7])
    ben.get_by_role("button", name="Covid-19").click()
    expect(ben.locator(".codable").nth(1).locator("mark")).to_have_text("Borders")

    # the manager opens the comparison and reads the table
    ada = _page(browser, server, "ada")
    ada.goto(f"{server}/coding/reviews/r/agreement?codebook=challenges-2022")
    ada.get_by_role("button", name="Open the comparison").click()
    table = ada.locator("table.agreement")
    expect(table).to_contain_text("Krippendorff's α")
    expect(table.locator("caption")).to_contain_text("ana, ben on 1 unit")
    expect(ada.locator("section.disagreement")).to_have_count(1)  # ana's passage, which ben left alone


def test_suggestions_wait_for_the_coder_to_accept_or_reject(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ana = _page(browser, server, "ana")
    ana.goto(f"{server}/coding/reviews/r?codebook=challenges-2022")
    ana.get_by_role("link", name="LM.0220").click()
    expect(ana.locator("body[data-coding-ready='1']")).to_have_count(1)
    actions = ana.locator(".codable").nth(1)
    expect(actions).to_contain_text("The lockdown stopped field visits")
    ana.get_by_label("Code", exact=True).select_option(label="Covid-19")
    ana.get_by_label("Keywords").fill("lockdown, visit, month")
    ana.get_by_role("button", name="Suggest", exact=True).click()
    items = ana.locator("#suggestions li")
    expect(items).to_have_count(3)
    expect(actions.locator("mark")).to_have_count(0)  # nothing is coded by suggesting
    expect(items.first).to_be_focused()
    assert ana.evaluate("() => window.getSelection().toString()") == "lockdown"  # the passage is shown

    ana.keyboard.press("a")  # the keyboard accepts the focused suggestion
    expect(ana.locator("#coding-status")).to_have_text("Accepted: “lockdown” coded as Covid-19.")
    expect(actions.locator("mark")).to_have_text("lockdown")
    expect(items).to_have_count(2)
    expect(items.first).to_be_focused()
    ana.keyboard.press("r")  # and rejects: "visits" stays uncoded
    expect(ana.locator("#coding-status")).to_contain_text("Rejected: “visits”")
    expect(ana.locator("#coding-status")).to_contain_text("it will not be proposed again")  # stored on the server
    items.first.get_by_role("button", name="Accept").click()  # the mouse: "months"
    expect(ana.locator("#coding-status")).to_contain_text("No suggestion is left.")
    expect(actions.locator("mark")).to_have_count(2)

    ana.reload()  # stored, with the memo "suggested"; a new run proposes only what is not coded yet
    expect(ana.locator("body[data-coding-ready='1']")).to_have_count(1)
    expect(ana.locator(".codable").nth(1).locator("mark")).to_have_text(["lockdown", "months"])
    ana.locator(".codable").nth(1).locator("mark").first.click()
    expect(ana.locator("#coding-detail")).to_contain_text("(suggested)")
    ana.get_by_label("Code", exact=True).select_option(label="Covid-19")
    ana.get_by_label("Keywords").fill("lockdown, visit, month")
    ana.get_by_role("button", name="Suggest", exact=True).click()
    expect(ana.locator("#suggestions li")).to_have_count(0)
    expect(ana.locator("#coding-status")).to_have_text("Nothing to suggest.")
