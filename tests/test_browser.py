"""A real browser (Debian's Chromium driven by Playwright) walks the portfolio pages as a user would."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lmreview.settings import Settings
from lmreview.store import Store, open_store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import CASCADE_FORM, CHROMIUM, SAMPLES, Cli, Mailbox, personal_link
from tests.conftest import CHROMIUM_ARGS as ARGS

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"  # kept for a person to look at


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serving(settings: Settings, store: Store) -> Iterator[str]:
    import uvicorn

    port = int(settings.base_url.rsplit(":", 1)[1])
    config = uvicorn.Config(create_app(settings, store), port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield settings.base_url
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        store.dispose()


def _workspace(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[Path, Store]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    path: Path = tmp_path_factory.mktemp(name) / "demo.db"
    cli = Cli(str(path))
    for portfolio in ("lm2016", "lm2022"):
        assert cli("portfolio", "import", str(SAMPLES / f"{portfolio}.csv")).exit_code == 0
    store = open_store(str(path))
    with store.session() as session:
        add_user(session, "ana", "reviewer", "browser-pass", actor="test")
    return path, store


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path, store = _workspace(tmp_path_factory, "browser")
    settings = Settings(database_url=str(path), base_url=f"http://127.0.0.1:{_free_port()}")
    with _serving(settings, store) as url:
        yield url


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


@pytest.fixture
def review_server(tmp_path_factory: pytest.TempPathFactory, smtp_server: Mailbox) -> Iterator[str]:
    path, store = _workspace(tmp_path_factory, "review")
    settings = Settings(
        database_url=str(path),
        base_url=f"http://127.0.0.1:{_free_port()}",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
    )
    with _serving(settings, store) as url:
        _DATABASES[url] = path
        yield url


_DATABASES: dict[str, Path] = {}


def review_server_db(url: str) -> str:
    """The database file behind a served workspace, for the CLI to prepare data in it."""
    return str(_DATABASES[url])


def test_a_review_from_template_to_a_submitted_questionnaire(
    review_server: str, browser: object, smtp_server: Mailbox, tmp_path: Path
) -> None:
    """The whole path of a review: create it from a template, import the roster, invite; a respondent answers in
    French, saves a draft, comes back, submits; the dashboard counts the project."""
    import re

    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    SHOTS.mkdir(parents=True, exist_ok=True)
    manager = browser.new_context().new_page()
    manager.goto(f"{review_server}/login")
    manager.get_by_label("User name").fill("ana")
    manager.get_by_label("Password").fill("browser-pass")
    manager.get_by_role("button", name="Log in").click()
    manager.get_by_role("link", name="Reviews").click()
    manager.get_by_label("Short name").fill("r16")
    manager.get_by_label("Title").fill("IDF labour migration review 2016")
    manager.get_by_label("Portfolio").select_option("lm2016")
    manager.get_by_label("Questionnaire").select_option("template:bilingual-test")
    manager.get_by_role("button", name="Create").click()
    expect(manager.get_by_role("heading", level=1)).to_have_text("IDF labour migration review 2016")

    roster = tmp_path / "roster.csv"
    roster.write_text(
        "project_code,name,email,language\n"
        "LM.0181,Ana Silva,ana@example.org,en\n"
        "LM.0183,Bruno Diallo,bruno@example.org,fr\n",
        encoding="utf-8",
    )
    manager.get_by_label("Roster file").set_input_files(str(roster))
    manager.get_by_role("button", name="Import").click()
    expect(manager.get_by_role("status").first).to_contain_text("2 added")
    manager.get_by_role("button", name=re.compile("Send invitations")).click()
    expect(manager.get_by_role("status").first).to_contain_text("Sent 2 invitations")
    manager.screenshot(path=str(SHOTS / "review-dashboard.png"), full_page=True)

    message = smtp_server.to("bruno@example.org")[0]
    link = re.search(r"(http://\S+/r/\S+)", message.get_content())
    assert link is not None
    respondent = browser.new_context().new_page()  # no account, no cookie of the manager
    respondent.goto(link[1])
    expect(respondent.get_by_role("heading", level=1)).to_have_text("Bilingual test form")
    expect(respondent.get_by_label("Nombre de bénéficiaires atteints")).to_be_visible()
    why = respondent.get_by_label("Veuillez expliquer pourquoi.")
    expect(why).to_be_hidden()
    respondent.get_by_label("Nombre de bénéficiaires atteints").fill("85")
    respondent.get_by_role("radio", name="Non").check()
    expect(why).to_be_visible()  # relevance applied live, in the browser
    why.fill("Le financement s'est arrêté.")
    respondent.get_by_label("Budget dépensé (USD)").fill("1000.5")
    respondent.get_by_label("Nombre de bénéficiaires atteints").focus()  # leaving a section saves the draft
    expect(respondent.locator(".autosave")).to_have_text("Brouillon enregistré.")
    respondent.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(respondent.get_by_role("status").first).to_contain_text("Vos réponses sont enregistrées")

    again = browser.new_context().new_page()  # coming back later, from the e-mail
    again.goto(link[1])
    expect(again.get_by_label("Nombre de bénéficiaires atteints")).to_have_value("85")
    expect(again.get_by_label("Budget dépensé (USD)")).to_have_value("1000.5")
    expect(again.get_by_label("Veuillez expliquer pourquoi.")).to_have_value("Le financement s'est arrêté.")
    again.get_by_role("checkbox", name="Manque de financement").check()
    again.get_by_role("button", name=re.compile("Ajouter")).click()
    again.get_by_role("textbox", name=re.compile("^Résultat")).fill("Un centre de ressources pour migrants")
    again.get_by_role("button", name="Envoyer").click()
    expect(again.get_by_role("status").first).to_contain_text("Merci : ce questionnaire a été envoyé")
    again.screenshot(path=str(SHOTS / "questionnaire-submitted.png"), full_page=True)

    manager.reload()
    expect(manager.locator("#rate").locator("xpath=..")).to_contain_text("1 of 14 projects")


def test_a_choice_filter_follows_the_answer_live(
    review_server: str, browser: object, smtp_server: Mailbox, tmp_path: Path
) -> None:

    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    link = personal_link(Cli(review_server_db(review_server)), CASCADE_FORM, tmp_path, review="c")
    page = browser.new_context().new_page()
    page.goto(f"{review_server}{link}")
    expect(page.get_by_role("radio", name="Nairobi")).to_be_hidden()
    page.get_by_role("radio", name="Kenya").check()
    expect(page.get_by_role("radio", name="Nairobi")).to_be_visible()
    expect(page.get_by_role("radio", name="Kathmandu")).to_be_hidden()
    page.get_by_role("radio", name="Mombasa").check()
    page.get_by_role("radio", name="Nepal").check()
    expect(page.get_by_role("radio", name="Kathmandu")).to_be_visible()
    expect(page.get_by_role("radio", name="Mombasa")).to_be_hidden()
    expect(page.locator("input[value=mombasa]")).not_to_be_checked()  # an option that no longer applies is dropped


PAGED_MEDIA_FORM = """\
| survey |
| | type | name | label | required |
| | text | project_code | Project code | |
| | geopoint | where | Where is the site? | yes |
| | image | photo | A photo of the site | yes |
| | file | report | The final report | |
| settings |
| | form_id | version | style |
| | paged_media | 1 | pages |
"""


def test_a_paged_form_with_a_location_an_image_and_a_file_is_answered_and_submitted(
    review_server: str, browser: object, tmp_path: Path
) -> None:
    """Page by page: a location typed in, a photo and a report chosen with the file inputs; the photo survives the
    page turns (each saves the draft), and the submitted questionnaire keeps both files."""
    from playwright.sync_api import Browser, expect
    from sqlalchemy import select

    from lmreview.questionnaire.models import Submission, SubmissionFile
    from tests.test_questionnaire_media import PDF, png

    assert isinstance(browser, Browser)
    database = review_server_db(review_server)
    link = personal_link(Cli(database), PAGED_MEDIA_FORM, tmp_path, review="m")
    photo, report = tmp_path / "site.png", tmp_path / "report.pdf"
    photo.write_bytes(png(4, 3))
    report.write_bytes(PDF)
    page = browser.new_context().new_page()
    page.goto(f"{review_server}{link}")
    expect(page.get_by_text("Page 1 / 4")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Where is the site?").fill("12.3714 -1.5197")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 3 / 4")).to_be_visible()
    page.get_by_label("A photo of the site").set_input_files(str(photo))
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 4 / 4")).to_be_visible()
    page.get_by_label("The final report").set_input_files(str(report))
    page.get_by_role("button", name="Previous").click()
    expect(page.locator("img.thumb")).to_have_attribute("src", f"{link}/files/site.png")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("link", name="report.pdf")).to_be_visible()  # kept by the page turn
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Thank you: this questionnaire was submitted")).to_be_visible()
    expect(page.get_by_role("link", name="site.png")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "paged-media-submitted.png"), full_page=True)

    store = open_store(database)
    try:
        with store.session() as session:
            files = session.execute(
                select(SubmissionFile.filename, SubmissionFile.media_type, Submission.status, Submission.data)
                .join(Submission, Submission.id == SubmissionFile.submission_id)
                .order_by(SubmissionFile.filename)
            ).all()
    finally:
        store.dispose()
    assert [(f.filename, f.media_type, f.status) for f in files] == [
        ("report.pdf", "application/pdf", "submitted"),
        ("site.png", "image/png", "submitted"),
    ]
    assert files[0].data["where"] == "12.3714 -1.5197"
    assert files[0].data["photo"] == "site.png"
