"""In Chromium: a reviewer asks for the report as a job from the report page, follows the job's page while it
refreshes itself, and downloads the file it made; the Jobs page lists it. With the strict Content-Security-Policy on."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmreview import access
from lmreview.questionnaire.reviews import get_review
from lmreview.settings import Settings
from lmreview.store import open_store
from lmreview.store.users import add_user
from tests.conftest import CHROMIUM, Cli
from tests.conftest import CHROMIUM_ARGS as ARGS
from tests.fixtures.coding.material import make_review
from tests.test_browser import _free_port, _serving

pytestmark = pytest.mark.browser


def test_a_report_built_as_a_job_is_followed_and_downloaded(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    path = tmp_path / "jobs.db"
    make_review(Cli(str(path)), tmp_path)
    store = open_store(str(path))
    with store.session() as session:
        add_user(session, "ana", "reviewer", "browser-pass", actor="test")
        access.add_member(session, get_review(session, "r"), "ana", "reviewer", actor="test")
    settings = Settings(database_url=str(path), base_url=f"http://127.0.0.1:{_free_port()}", security_headers="always")
    with _serving(settings, store) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(accept_downloads=True).new_page()
        page.goto(f"{url}/login?next=/reviews/r/report")
        page.fill("#name", "ana")
        page.fill("#password", "browser-pass")
        page.click("button[type=submit]")
        form = page.locator("#build-report")
        for box in form.locator("input[type=checkbox]").all():
            if box.get_attribute("value") != "xlsx":
                box.uncheck()
        form.get_by_role("button", name="Build these as a job").click()
        expect(page.locator("#job-status")).to_have_text("done", timeout=60_000)  # the page refreshes itself
        link = page.get_by_role("link", name="r-report.xlsx")
        with page.expect_download() as waiting:
            link.click()
        download = waiting.value
        saved = tmp_path / "got.xlsx"
        download.save_as(saved)
        assert saved.read_bytes().startswith(b"PK")
        page.goto(f"{url}/jobs")
        expect(page.locator("main")).to_contain_text("Report of review r (xlsx)")
        browser.close()
