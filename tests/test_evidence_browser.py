"""A real browser (Debian's Chromium through Playwright) walks the evidence library: upload several files, search,
open a hit and find it scrolled into view with the words marked, then the extracted recommendations and their
responses, and back to the place one was found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lmreview.settings import Settings
from lmreview.store import open_store
from lmreview.store.users import add_user
from tests.conftest import CHROMIUM
from tests.conftest import CHROMIUM_ARGS as ARGS
from tests.test_browser import SHOTS, _free_port, _serving
from tests.test_evidence_items import REPORT
from tests.test_evidence_reading import make_pdf
from tests.test_evidence_search import BRIEF, ILO

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    path = tmp_path / "evidence.db"
    store = open_store(str(path))
    with store.session() as session:
        add_user(session, "ana", "reviewer", "browser-pass", actor="test")
    settings = Settings(database_url=str(path), base_url=f"http://127.0.0.1:{_free_port()}")
    with _serving(settings, store) as url:
        yield url


def test_upload_search_open_at_the_hit(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    files = [make_pdf(tmp_path / "corridors.pdf", title="Safe Corridors " + "long " * 3)]
    for name, text in (("ilo.txt", ILO), ("brief.md", BRIEF * 30), ("border-skills.html", REPORT.format())):
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(tmp_path / name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 600})
        page.goto(f"{server}/evidence")
        page.get_by_label("User name").fill("ana")
        page.get_by_label("Password").fill("browser-pass")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Evidence library")
        page.get_by_label("Files").set_input_files([str(f) for f in files])
        page.get_by_role("button", name="Add").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("4 added, 0 already there, 0 refused")

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Evidence").click()
        page.get_by_label("Search the documents").fill('"extend the hotline"')
        page.get_by_role("button", name="Search").click()
        expect(page.locator(".total")).to_have_text("1 passage matches; the best 1 below.")
        expect(page.locator(".facet-organisation")).to_contain_text("IOM Development Fund")
        expect(page.locator(".hits mark").first).to_contain_text("Extend")
        page.screenshot(path=str(SHOTS / "evidence-search.png"), full_page=True)

        page.locator(".hits a").first.click()
        hit = page.locator(".passage.hit")
        expect(hit).to_have_count(1)
        expect(hit).to_contain_text("Extend the hotline to destination countries")
        expect(hit.locator("mark").first).to_have_text("Extend")
        expect(hit).to_be_in_viewport()
        assert page.evaluate("window.scrollY") > 0  # the page was scrolled down to the hit
        page.screenshot(path=str(SHOTS / "evidence-hit.png"))

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Evidence").click()
        page.get_by_role("link", name="Recommendations, lessons and findings").click()
        page.get_by_label("Kind").select_option("recommendation")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("ol.items > li")).to_have_count(3)  # one in the PDF, two in the HTML report
        expect(page.locator(".stance").first).to_have_text("Response: partially agrees")
        page.screenshot(path=str(SHOTS / "evidence-items.png"), full_page=True)
        page.locator("ol.items > li small a").first.click()
        expect(page.locator(".passage.hit")).to_contain_text("Recommendation 1")
        browser.close()
