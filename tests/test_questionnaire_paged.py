"""Paged forms (``style: pages`` in the settings sheet): one page at a time, each top-level question, group
(``field-list``) or repeat a page, the draft saved on every page turn, errors linked to their page; and in a real
Chromium, a respondent pages through such a form, takes a geopoint from the browser's location and submits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.web.app import create_app
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, SAMPLES, Cli, personal_link

PAGED = """| survey |
| | type | name | label | appearance | required | relevant |
| | text | project_code | Project | | yes | |
| | note | welcome | **Welcome.** Three pages. | | | |
| | begin_group | site | Where the project works | field-list | | |
| | geopoint | where | Main site | | yes | |
| | integer | staff | Staff on site | | | |
| | end_group | | | | | |
| | text | why | Why so many staff? | | | ${staff} > 10 |
| | select_one yn | done | Finished? | | yes | |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
| settings |
| | form_id | version | style |
| | paged | 1 | pages |
"""


@pytest.fixture
def web(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        yield c


def _post(client: TestClient, link: str, fields: dict[str, Any], action: str) -> Any:
    html = BeautifulSoup(client.get(link).text, "html.parser")
    token = html.find("input", {"name": "csrf_token"})
    assert token is not None
    return client.post(
        link, data={"csrf_token": str(token["value"]), **fields, "action": action}, follow_redirects=False
    )


def _names(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser").find("form", class_="questionnaire")
    return sorted({str(i["name"]) for i in page.find_all(["input", "textarea"]) if i.get("data-name")})


def _buttons(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser").find("form", class_="questionnaire")
    return [str(b["value"]) for b in page.find_all("button") if b.get("value")]


def test_a_paged_form_shows_one_page_and_saves_the_draft_on_every_turn(
    cli: Cli, tmp_path: Path, web: TestClient
) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, PAGED, tmp_path)
    first = web.get(link).text
    assert _names(first) == ["project_code"]
    assert _buttons(first) == ["save", "next"]
    assert "Page 1 / 5" in first
    note = _post(web, link, {"page": "0", "project_code": "LM.0181"}, "next")
    assert note.status_code == 200
    assert "Welcome." in BeautifulSoup(note.text, "html.parser").find("form", class_="questionnaire").get_text()
    second = _post(web, link, {"page": "1"}, "next")
    assert _names(second.text) == ["site/staff", "site/where"]  # a field-list group is one page
    assert _buttons(second.text) == ["previous", "save", "next"]
    skipped = _post(web, link, {"page": "2", "site/staff": "3"}, "next")
    assert _names(skipped.text) == ["done"]  # "why" (page 4 of 5) is not relevant with 3 staff
    back = _post(web, link, {"page": "4"}, "previous")
    assert _names(back.text) == ["site/staff", "site/where"]
    assert BeautifulSoup(web.get(link).text, "html.parser").find("input", {"name": "project_code"})["value"] == (
        "LM.0181"  # the draft was saved when the page turned
    )
    third = _post(web, link, {"page": "2", "site/where": "12.37 -1.52 300 4", "site/staff": "25"}, "next")
    assert _names(third.text) == ["why"]
    assert '"staff": "25"' in third.text  # the other pages' answers, for relevance in the browser
    last = _post(web, link, {"page": "3", "why": "Two shifts."}, "next")
    assert _buttons(last.text) == ["previous", "save", "submit"]
    refused = _post(web, link, {"page": "4", "project_code": "", "done": "yes"}, "submit")
    assert refused.status_code == 422
    assert _names(refused.text) == ["project_code"]  # back to the page of the first error
    page = BeautifulSoup(refused.text, "html.parser")
    assert page.find("div", class_="error").find("a")["href"] == "?page=0#q-project_code"
    done = _post(web, link, {"page": "0", "project_code": "LM.0181"}, "submit")
    assert done.status_code == 303
    out = tmp_path / "out.csv"
    assert cli("form", "export-responses", "--form", "paged", "--format", "csv", "--out", str(out)).exit_code == 0
    row = out.read_text(encoding="utf-8").splitlines()[1]
    assert row.startswith('"LM.0181";"";"12.37 -1.52 300 4";"12.37";"-1.52";"300";"4";"25";"Two shifts.";"yes";')


@pytest.mark.browser
def test_in_a_browser_a_respondent_pages_through_takes_a_location_and_submits(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    from playwright.sync_api import expect, sync_playwright

    from lmreview.store import open_store
    from tests.test_browser import _free_port, _serving

    path = tmp_path_factory.mktemp("paged") / "paged.db"
    cli = Cli(str(path))
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, PAGED, tmp_path)
    settings = Settings(database_url=str(path), base_url=f"http://127.0.0.1:{_free_port()}")
    with _serving(settings, open_store(str(path))) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(geolocation={"latitude": 12.3714, "longitude": -1.5197, "accuracy": 8})
        context.grant_permissions(["geolocation"], origin=url)
        page = context.new_page()
        page.goto(f"{url}{link}")
        page.get_by_label("Project").fill("LM.0181")
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_text("Three pages.")).to_be_visible()
        page.get_by_role("button", name="Next").click()
        page.get_by_role("button", name="Use my location").click()
        expect(page.get_by_label("Main site")).to_have_value("12.3714 -1.5197 0 8")
        page.get_by_label("Staff on site").fill("3")
        page.get_by_role("button", name="Next").click()  # "why" is not relevant with 3 staff: straight to the end
        page.get_by_role("radio", name="Yes").check()
        page.get_by_role("button", name="Previous").click()
        expect(page.get_by_label("Main site")).to_have_value("12.3714 -1.5197 0 8")
        page.get_by_label("Staff on site").fill("12")
        page.get_by_role("button", name="Next").click()
        page.get_by_label("Why so many staff?").fill("Two shifts.")
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_role("radio", name="Yes")).to_be_checked()  # kept in the draft
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_role("status")).to_contain_text("submitted")
        browser.close()
    out = tmp_path / "out.csv"
    assert cli("form", "export-responses", "--form", "paged", "--format", "csv", "--out", str(out)).exit_code == 0
    row = out.read_text(encoding="utf-8").splitlines()[1]
    assert row.startswith('"LM.0181";"";"12.3714 -1.5197 0 8";"12.3714";"-1.5197";"0";"8";"12";"Two shifts.";"yes";')
