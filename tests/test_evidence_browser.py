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


def test_confirm_and_reject_a_suggested_project(tmp_path: Path) -> None:
    """A reviewer asks for projects alike by title, confirms the one suggested (the document then shows on the
    project's page with its items), and rejects it again (the page no longer lists it), all in the browser."""
    from playwright.sync_api import expect, sync_playwright

    from tests.conftest import SAMPLES, Cli
    from tests.test_evidence_links import REPORT as SEE_REPORT

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    path = tmp_path / "links.db"
    cli = Cli(str(path))
    (tmp_path / "see.txt").write_text(SEE_REPORT, encoding="utf-8")
    assert cli("evidence", "add", str(tmp_path / "see.txt")).exit_code == 0  # before the portfolio: no suggestion
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    store = open_store(str(path))
    with store.session() as session:
        add_user(session, "ana", "reviewer", "browser-pass", actor="test")
    settings = Settings(database_url=str(path), base_url=f"http://127.0.0.1:{_free_port()}")
    with _serving(settings, store) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.goto(f"{url}/evidence/1")
        page.get_by_label("User name").fill("ana")
        page.get_by_label("Password").fill("browser-pass")
        page.get_by_role("button", name="Log in").click()
        links = page.locator("#links")
        links.locator("summary").click()
        expect(links).to_contain_text("No portfolio project's title is alike enough to suggest.")
        page.get_by_role("button", name="Look for alike projects again").click()
        expect(page.get_by_text("1 new project suggested.")).to_be_visible()
        row = page.locator("tr.link.suggested")
        expect(row).to_contain_text("LM.0251")
        expect(row).to_contain_text("/100")
        page.get_by_role("button", name="Confirm LM.0251").click()
        expect(page.locator("tr.link.confirmed")).to_contain_text("confirmed by ana")
        expect(page.locator("dd.projects a")).to_have_text("LM.0251")
        page.screenshot(path=str(SHOTS / "evidence-link-confirmed.png"), full_page=True)

        page.locator("dd.projects a", has_text="LM.0251").click()
        documents = page.locator("ul.evidence-documents > li")
        expect(documents).to_have_count(1)
        expect(documents.locator("li.item").first).to_contain_text("Keep the regional network")
        documents.locator("li.item a").first.click()  # the recommendation, at its place in the document
        expect(page.locator(".passage.hit")).to_contain_text("Keep the regional network")

        page.goto(f"{url}/evidence/1")
        page.locator("#links summary").click()
        page.get_by_role("button", name="Reject LM.0251").click()
        expect(page.locator("tr.link.rejected")).to_contain_text("rejected")
        expect(page.locator("button[aria-label='Confirm LM.0251']")).to_be_attached()  # a rejection can be undone
        expect(page.locator("dd.projects a")).to_have_count(0)
        page.goto(f"{url}/portfolios/lm2016/projects/LM.0251")
        expect(page.get_by_text("No document of the evidence library concerns this project")).to_be_visible()
        browser.close()
