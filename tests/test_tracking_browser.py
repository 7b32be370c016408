"""In Chromium: a review manager writes a recommendation and sends it to its unit; the unit answers through its
link without an account; the manager records progress; the dashboard shows the implementation rate and the overdue
action; the status report opens."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmreview.settings import Settings
from lmreview.store import open_store
from lmreview.store.users import add_user
from tests.conftest import CHROMIUM, Cli, Mailbox, join_every_review
from tests.conftest import CHROMIUM_ARGS as ARGS
from tests.test_browser import SHOTS, _free_port, _serving

pytestmark = pytest.mark.browser


def day(offset: int) -> str:
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def server(tmp_path: Path, smtp_server: Mailbox) -> Iterator[str]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    path = tmp_path / "follow-up.db"
    cli = Cli(str(path))
    assert cli("review", "create", "r22", "--title", "Review of the 2022 projects").exit_code == 0
    assert cli("tracking", "unit", "set", "PARDEV", "--email", "pardev@example.org").exit_code == 0
    store = open_store(str(path))
    with store.session() as session:
        add_user(session, "ana", "reviewer", "browser-pass", actor="test")
    join_every_review(store, "ana")
    settings = Settings(
        database_url=str(path),
        base_url=f"http://127.0.0.1:{_free_port()}",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
    )
    with _serving(settings, store) as url:
        yield url


def test_manager_unit_progress_dashboard(server: str, smtp_server: Mailbox) -> None:
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        manager = browser.new_context().new_page()
        manager.goto(f"{server}/login?next=/tracking/reviews/r22")
        manager.fill("#name", "ana")
        manager.fill("#password", "browser-pass")
        manager.get_by_role("button", name="Log in").click()
        expect(manager.get_by_role("heading", level=1)).to_have_text("Recommendations: Review of the 2022 projects")

        # the manager writes the recommendation and sends it to the unit
        manager.fill("#rec-number", "1")
        manager.fill("#rec-text", "Ask every project for an outcome report a year after it ends")
        manager.fill("#rec-units", "PARDEV")
        manager.select_option("#rec-priority", "high")
        manager.get_by_role("button", name="Add", exact=True).click()
        expect(manager.get_by_role("heading", level=1)).to_have_text("Recommendation 1")
        manager.get_by_role("button", name="E-mail PARDEV a link to respond").click()
        expect(manager.locator(".flash")).to_have_text("Sent the link to PARDEV <pardev@example.org>.")
        [message] = smtp_server.to("pardev@example.org")
        link = re.search(r"http://\S+/t/[A-Za-z0-9_\-]+", message.get_content())
        assert link is not None

        # the unit answers without an account
        unit = browser.new_context().new_page()
        unit.goto(link[0])
        expect(unit.locator("#rec-text")).to_have_text("Ask every project for an outcome report a year after it ends")
        unit.select_option("#stance", "partially_agrees")
        unit.fill("#text", "For projects above USD 200,000")
        unit.fill("#by", "Lina Haddad, chief of PARDEV")
        unit.fill("#action-0", "Add the outcome report to the agreement template")
        unit.fill("#due-0", day(-10))
        unit.fill("#action-1", "Brief the regional offices")
        unit.fill("#due-1", day(-3))
        unit.get_by_role("button", name="Send the response").click()
        expect(unit.get_by_role("status")).to_contain_text("your response is saved")
        expect(unit.locator("#current-response")).to_contain_text("Partially agrees (Lina Haddad, chief of PARDEV")
        unit.screenshot(path=str(SHOTS / "tracking-unit.png"), full_page=True)

        # the manager records progress on the first action
        manager.reload()
        expect(manager.locator("#response")).to_contain_text("Partially agrees")
        first = manager.locator("section.action").first
        expect(first.locator("h3")).to_have_text("Add the outcome report to the agreement template")
        first.locator("summary").click()
        first.locator("select[name=status]").select_option("completed")
        first.locator("textarea[name=comment]").fill("The template now asks for it")
        first.get_by_role("button", name="Save").click()
        expect(manager.locator("section.action").first.locator(".status")).to_have_text("Completed")
        expect(manager.locator("#history li").first).to_contain_text("ana: key action")

        # the dashboard: one of two due actions completed, the other overdue by 3 days
        manager.get_by_role("link", name="Follow-up").first.click()
        expect(manager.locator("#implementation-rate")).to_contain_text("50.0%")
        expect(manager.locator("#implementation-rate")).to_contain_text("1 completed of 2 key actions due")
        overdue = manager.locator("#overdue tbody tr")
        expect(overdue).to_have_count(1)
        expect(overdue.locator("td").nth(2)).to_have_text("Brief the regional offices")
        expect(overdue.locator("td").nth(5)).to_have_text("3")
        manager.screenshot(path=str(SHOTS / "tracking-dashboard.png"), full_page=True)
        manager.get_by_role("link", name="2 key actions due").click()
        expect(manager.locator("#action-list tbody tr")).to_have_count(2)

        # the status report for the board
        manager.goto(f"{server}/tracking?review=r22")
        manager.get_by_role("link", name="status report (HTML)").click()
        expect(manager.get_by_role("heading", level=1)).to_have_text("Follow-up of recommendations: r22")
        expect(manager.locator("body")).to_contain_text("50.0% (1 completed of 2 due)")
        browser.close()


def test_a_lesson_is_printed_edited_and_removed_under_the_strict_policy(tmp_path: Path) -> None:
    """With the Content-Security-Policy on (as over HTTPS), the profile's Print button and the Remove confirmation
    work through static/page.js; a dismissed confirmation removes nothing."""
    from playwright.sync_api import expect, sync_playwright

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    path = tmp_path / "lessons.db"
    cli = Cli(str(path))
    added = cli(
        "tracking", "lessons", "add", "--kind", "lesson", "--title", "Plan extensions early",
        "--text", "Projects that planned for delays asked for fewer no-cost extensions.",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    lesson_id = re.search(r"(\d+):", added.stdout)
    assert lesson_id is not None
    store = open_store(str(path))
    with store.session() as session:
        add_user(session, "ana", "reviewer", "browser-pass", actor="test")
    settings = Settings(database_url=str(path), base_url=f"http://127.0.0.1:{_free_port()}", security_headers="always")
    with _serving(settings, store) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context().new_page()
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.add_init_script("window.print = () => { document.body.dataset.printed = 'yes'; };")
        page.goto(f"{url}/login?next=/tracking/lessons/{lesson_id[1]}")
        page.fill("#name", "ana")
        page.fill("#password", "browser-pass")
        page.click("button[type=submit]")
        expect(page.locator("#profile-title")).to_have_text("Plan extensions early")
        page.get_by_role("button", name="Print this profile").click()
        expect(page.locator("body")).to_have_attribute("data-printed", "yes")
        page.locator("#edit-lesson summary").click()
        page.fill("#lesson-title", "Plan extensions at the design stage")
        page.fill("#lesson-challenge", "Elections delayed approvals")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#profile-title")).to_have_text("Plan extensions at the design stage")
        expect(page.locator("#profile")).to_contain_text("Elections delayed approvals")
        page.once("dialog", lambda d: d.dismiss())
        page.locator("#edit-lesson summary").click()
        page.get_by_role("button", name="Remove from the library").click()
        expect(page.locator("#profile-title")).to_have_text("Plan extensions at the design stage")
        page.once("dialog", lambda d: d.accept())
        page.get_by_role("button", name="Remove from the library").click()
        expect(page.locator("main")).to_contain_text("Removed 'Plan extensions at the design stage' from the library.")
        browser.close()
    assert refused == []
