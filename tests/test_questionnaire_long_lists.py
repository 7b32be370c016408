"""Long lists of options (questionnaire/long_lists.py): a select of more than 500 options, or with the
``autocomplete`` appearance, is a search box on the page, its options found at ``/r/TOKEN/options/PATH``; without
JavaScript the box's Search button brings the page back with the matching options to tick."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lmreview.questionnaire import long_lists
from lmreview.questionnaire.xlsform import parse_form
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.web.app import create_app
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, SAMPLES, Cli, personal_link
from tests.test_questionnaire_respond import page, post

VILLAGES = 1200  # beyond LONG_LIST


def long_form(villages: int = VILLAGES) -> str:
    """Two regions, a village of the chosen region (a long list with a choice_filter), the villages visited (a long
    select_multiple), a short list with the autocomplete appearance, and a repeat asking a village per household."""
    rows = [
        "| survey |",
        "| | type | name | label | choice_filter | appearance | required |",
        "| | text | project_code | Project code | | | |",
        "| | select_one region | region | Region | | | |",
        "| | select_one village | village | Village | region = ${region} | | yes |",
        "| | select_multiple village | visited | Villages visited | | | |",
        "| | select_one fruit | fruit | Fruit | | autocomplete | |",
        "| | begin repeat | household | Household | | | |",
        "| | select_one village | home | Home village | | | |",
        "| | end repeat | | | | | |",
        "| choices |",
        "| | list_name | name | label | region |",
        "| | region | n | North | |",
        "| | region | s | South | |",
        "| | fruit | apple | Apple | |",
        "| | fruit | mango | Mango | |",
    ]
    rows += [f"| | village | v{i} | Village {i} | {'ns'[i % 2]} |" for i in range(villages)]
    rows += ["| | village | segou | Ségou | n |"]
    rows += ["| settings |", "| | form_id | version |", "| | villages | 1 |"]
    return "\n".join(rows) + "\n"


@pytest.fixture
def link(cli: Cli, tmp_path: Path) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    return personal_link(cli, long_form(), tmp_path, review="v")


@pytest.fixture
def client(store: Store, link: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        yield c


def test_a_long_list_is_a_search_box_not_every_option(client: TestClient, link: str) -> None:
    response = client.get(link)
    assert response.status_code == 200
    soup = page(response)
    assert soup.find("input", {"name": "village", "value": "v7"}) is None  # no option of the long list is on the page
    box = soup.find("input", {"name": "village.search"})
    assert box is not None
    assert box["type"] == "search"
    assert soup.find("label", {"for": box["id"]}).get_text() == "Search the options"  # type: ignore[union-attr]
    assert "find it among the 1,201 options" in soup.get_text()
    assert soup.find("button", {"value": "search:village"}) is not None  # the search without JavaScript
    assert soup.find("input", {"name": "fruit.search"}) is not None  # autocomplete: a box even for 2 options
    assert soup.find("input", {"name": "region", "value": "n"}) is not None  # a short list keeps its radio buttons
    assert len(response.content) < 40_000, len(response.content)


def test_the_options_are_searched_without_case_or_accents_and_after_the_choice_filter(
    client: TestClient, link: str
) -> None:
    found = client.get(f"{link}/options/village", params={"q": "SEGOU"}).json()
    assert found == {"options": [], "total": 0}  # no region yet: the filter keeps no village
    post(client, link, [("region", "n")], "save")
    found = client.get(f"{link}/options/village", params={"q": "SEGOU"}).json()
    assert found == {"options": [{"name": "segou", "label": "Ségou"}], "total": 1}
    found = client.get(f"{link}/options/village", params={"q": "village 11"}).json()
    names = [o["name"] for o in found["options"]]
    assert found["total"] == 55  # the even numbers with "11" in them (v110, v112…): the villages of the north
    assert names[:2] == ["v110", "v112"]
    assert all(int(n[1:]) % 2 == 0 for n in names)
    assert len(names) == long_lists.SHOWN
    unfiltered = client.get(f"{link}/options/visited", params={"q": "village 11"}).json()
    assert unfiltered["total"] == 120  # every region
    assert client.get(f"{link}/options/fruit", params={"q": "man"}).json()["options"] == [
        {"name": "mango", "label": "Mango"}
    ]
    assert client.get(f"{link}/options/region", params={"q": "n"}).status_code == 404  # a short list
    assert client.get(f"{link}/options/nothing", params={"q": "n"}).status_code == 404
    assert client.get("/r/not-a-token/options/village", params={"q": "n"}).status_code == 403  # as /r/TOKEN


def test_without_javascript_the_search_button_shows_the_matches_to_tick(client: TestClient, link: str) -> None:
    searched = post(client, link, [("region", "s"), ("visited.search", "village 99")], "search:visited")
    assert searched.status_code == 200
    soup = page(searched)
    ticks = soup.select('.found input[name="visited"]')
    assert [t["value"] for t in ticks][:11] == ["v99", *(f"v{n}" for n in range(990, 1000))]  # "Village 99…" first
    assert [t["value"] for t in ticks][11:] == [
        "v199",
        "v299",
        "v399",
        "v499",
        "v599",
        "v699",
        "v799",
        "v899",
        "v1099",
        "v1199",
    ]
    assert "21 of 21 matching options" in soup.get_text()
    picked = post(
        client, link, [("region", "s"), ("visited.present", "1"), ("visited", "v99"), ("visited", "v990")], "save"
    )
    soup = page(picked)
    assert [i["value"] for i in soup.select('.picked input[name="visited"][checked]')] == ["v99", "v990"]
    again = post(
        client,
        link,
        [("region", "s"), ("visited.present", "1"), ("visited", "v99"), ("visited", "v990"), ("visited.search", "99")],
        "search:visited",
    )
    left = [t["value"] for t in page(again).select('.found input[name="visited"]')]
    assert "v99" not in left
    assert "v990" not in left
    # one village of the south, answered and submitted
    submitted = post(
        client,
        link,
        [
            ("project_code", "LM.0181"),
            ("region", "s"),
            ("village", "v3"),
            ("household.count", "1"),
            ("household[1]/home", "v4"),
        ],
        "submit",
    )
    assert submitted.status_code == 303, page(submitted).select(".error")
    done = page(client.get(link))
    assert [i["value"] for i in done.select(".picked input[checked]")][:1] == ["v3"]
    assert done.find("input", {"name": "village.search"}) is None  # a submitted form has no search box


def test_an_option_of_a_long_list_outside_the_filter_or_the_list_is_refused(client: TestClient, link: str) -> None:
    refused = post(client, link, [("region", "n"), ("village", "v3")], "submit")
    assert refused.status_code == 422
    assert '"v3" does not apply with the answers given above' in page(refused).get_text()
    unknown = post(client, link, [("region", "n"), ("visited.present", "1"), ("visited", "v99999")], "submit")
    text = page(unknown).get_text()
    assert '"v99999" is not one of the 1,201 options of the list village.' in text
    assert "v1199" not in text  # the message does not list 1,201 options


def test_a_long_list_inside_a_repeat_is_searched_in_its_instance(client: TestClient, link: str) -> None:
    post(client, link, [("region", "n"), ("household.count", "2")], "save")
    found = client.get(f"{link}/options/household[2]/home", params={"q": "segou"}).json()
    assert found["options"] == [{"name": "segou", "label": "Ségou"}]
    soup = page(client.get(link))
    box = soup.find("fieldset", {"data-options": f"{link}/options/household%5B2%5D/home"})
    assert box is not None


def test_search_matches_every_word_and_puts_labels_starting_with_the_text_first() -> None:
    definition = parse_form(long_form(30).encode(), "villages.md").definition
    question = definition.by_name()["visited"]
    found = long_lists.search(definition, question, "1", "default")
    assert [c.name for c in found.options][:3] == ["v1", "v10", "v11"]
    assert long_lists.search(definition, question, "age 2", "default").total == 12  # 2, 12, 20 to 29
    assert long_lists.search(definition, question, "", "default").total == 31
    assert long_lists.is_long(definition, question) is False  # 31 options: radio buttons
    assert long_lists.is_long(definition, definition.by_name()["fruit"]) is True


@pytest.mark.browser
def test_in_a_browser_the_box_finds_options_by_keyboard_and_the_answers_are_submitted(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Type in the box, pick with the arrow keys and Enter (select_one, then two villages of a select_multiple),
    untick one, submit: the answers are the options picked."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    from playwright.sync_api import expect, sync_playwright

    from lmreview.questionnaire.models import Submission
    from lmreview.store import open_store
    from tests.test_browser import _free_port, _serving

    path = tmp_path_factory.mktemp("longlist") / "longlist.db"
    cli = Cli(str(path))
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, long_form(), tmp_path, review="v")
    settings = Settings(database_url=str(path), base_url=f"http://127.0.0.1:{_free_port()}")
    store = open_store(str(path))
    with _serving(settings, store) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{url}{link}")
        page.get_by_label("Project code").fill("LM.0181")
        page.get_by_role("radio", name="North").check()
        expect(page.get_by_role("button", name="Search")).to_have_count(0)  # hidden: the script searches as one types
        village = page.locator("fieldset.longlist", has_text="Village").first.get_by_role("combobox")
        village.fill("sego")
        expect(page.get_by_role("option", name="Ségou")).to_be_visible()
        village.press("Enter")
        expect(page.get_by_role("radio", name="Ségou")).to_be_checked()
        visited = page.locator("fieldset.longlist", has_text="Villages visited").get_by_role("combobox")
        visited.fill("village 100")
        expect(page.get_by_role("option", name="Village 1000")).to_be_visible()
        visited.press("ArrowDown")  # Village 100 first, then Village 1000, then Village 1001
        visited.press("ArrowDown")
        expect(page.get_by_role("option", name="Village 1001")).to_have_attribute("aria-selected", "true")
        visited.press("Enter")
        visited.fill("village 7")
        expect(page.get_by_role("option", name="Village 7", exact=True)).to_be_visible()
        visited.press("Enter")
        visited.fill("village 5")
        expect(page.get_by_role("option", name="Village 5", exact=True)).to_be_visible()
        visited.press("Escape")
        expect(page.get_by_role("listbox", name="Villages visited")).to_be_hidden()
        expect(page.get_by_role("checkbox", name="Village 1001")).to_be_checked()
        page.get_by_role("checkbox", name="Village 7", exact=True).press("Space")  # unticked with the keyboard
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_text("Thank you: this questionnaire was submitted")).to_be_visible()
        browser.close()
    with store.session() as session:
        submitted = session.query(Submission).filter(Submission.status == "submitted").one()
        assert (submitted.data["village"], submitted.data["visited"]) == ("segou", "v1001")
    store.dispose()


def test_the_preview_of_the_form_says_how_many_options_a_box_finds(store: Store, link: str) -> None:
    from bs4 import BeautifulSoup

    from lmreview.store.users import add_user
    from tests.conftest import join_every_review

    with store.session() as session:
        add_user(session, "rev", "reviewer", "correct-horse", actor="test")
    join_every_review(store, "rev")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        token = BeautifulSoup(client.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        client.post("/login", data={"name": "rev", "password": "correct-horse", "csrf_token": str(token["value"])})
        preview = page(client.get("/forms/villages"))
    assert preview.find("input", {"type": "search"}) is None  # a preview is not answered
    assert "1,201 options, found with a search box." in preview.get_text()
    assert preview.find("input", {"name": "village", "value": "v7"}) is None


def test_a_long_select_multiple_exports_in_one_column_and_imports_back(cli: Cli, tmp_path: Path) -> None:
    """1,201 options would be 1,201 columns of 0/1 (50,000 are beyond what a spreadsheet holds): a long list's
    answers are the question's one column, which the import reads back; a wrong option is named without the list."""
    form = tmp_path / "villages.md"
    form.write_text(long_form(), encoding="utf-8")
    assert cli("form", "add", str(form)).exit_code == 0
    header = ["region", "village", "visited", "_uuid", "_index"]
    rows = [["n", "segou", "v1 v1100", "5b0e3a2c-0000-4000-8000-000000000001", "1"]]
    kobo = tmp_path / "villages-kobo.csv"
    kobo.write_text("\n".join(";".join(f'"{c}"' for c in row) for row in [header, *rows]) + "\n", encoding="utf-8")
    run = cli("form", "import-responses", str(kobo), "--form", "villages")
    assert run.exit_code == 0, run.stderr
    out = tmp_path / "out.xlsx"
    assert cli("form", "export-responses", "--form", "villages", "--format", "xlsx", "--out", str(out)).exit_code == 0
    from openpyxl import load_workbook

    sheet = load_workbook(out).worksheets[0]
    columns = [c.value for c in sheet[1]]
    assert "visited" in columns
    assert not any(str(c).startswith("visited/") for c in columns)  # no column per village
    assert [c.value for c in sheet[2]][columns.index("visited")] == "v1 v1100"
    again = cli("form", "import-responses", str(out), "--form", "villages")
    assert again.exit_code == 0, again.stderr
    assert "1 unchanged" in again.stdout
    rows[0][2] = "v1 v99999"
    kobo.write_text("\n".join(";".join(f'"{c}"' for c in row) for row in [header, *rows]) + "\n", encoding="utf-8")
    wrong = cli("form", "import-responses", str(kobo), "--form", "villages")
    assert wrong.exit_code == 2
    assert '"v99999" is not a choice of the list village (1,201 options)' in wrong.stderr
    assert "v1199" not in wrong.stderr
