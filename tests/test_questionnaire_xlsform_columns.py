"""XLSForm columns as pyxform reads them: case-sensitive list names, the ``list name`` header, and every alias pyxform
accepts for a column lmreview uses (``bind::relevant``, ``requiredMsg``, ``readonly`` ...)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.questionnaire.xlsform import Question, parse_form
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli, personal_link

CASED = """| survey |
| | type | name | label | required |
| | text | project_code | Project code | |
| | select_one yesNo | trained | Trained staff? | yes |
| | select_one yesno | funded | Funded? | |
| choices |
| | list name | name | label |
| | yesNo | Y | Yes |
| | yesNo | N | No |
| | yesno | full | Fully |
| | yesno | part | Partly |
| settings |
| | form_id | version |
| | cased | 1 |
"""

BIND_COLUMNS = "bind::relevant | bind::required | requiredMsg | bind::constraint | bind::jr:constraintMsg | readonly"
BIND = f"""| survey |
| | type | name | label | {BIND_COLUMNS} |
| | text | project_code | Project code | | | | | | yes |
| | integer | staff | Staff | | true() | Say how many staff. | . < 100 | Fewer than 100, please. | |
| | text | names | Names | ${{staff}} > 0 | | | | | |
| settings |
| | form_id | version |
| | bind | 1 |
"""


def _survey(text: str) -> dict[str, Question]:
    return parse_form(text.encode(), "form.md").definition.by_name()


@pytest.fixture
def web(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        yield c


def _post(client: TestClient, link: str, fields: dict[str, str], action: str) -> Any:
    html = BeautifulSoup(client.get(link).text, "html.parser")
    token = html.find("input", {"name": "csrf_token"})
    assert token is not None
    data = {"csrf_token": str(token["value"]), **fields, "action": action}
    return client.post(link, data=data, follow_redirects=False)


def _options(html: str, name: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    return [str(i["value"]) for i in page.find_all("input", {"name": name}) if i["value"]]


def test_list_names_are_case_sensitive_and_list_name_may_have_a_space(
    cli: Cli, tmp_path: Path, web: TestClient
) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, CASED, tmp_path)
    html = web.get(link).text
    assert _options(html, "trained") == ["Y", "N"]
    assert _options(html, "funded") == ["full", "part"]
    wrong = _post(web, link, {"project_code": "LM.0181", "trained": "full"}, "submit")
    assert wrong.status_code == 422
    assert '"full" is not one of the options (N, Y).' in BeautifulSoup(wrong.text, "html.parser").get_text()
    done = _post(web, link, {"project_code": "LM.0181", "trained": "Y", "funded": "part"}, "submit")
    assert done.status_code == 303
    submitted = BeautifulSoup(web.get(link).text, "html.parser")
    assert [str(i["value"]) for i in submitted.find_all("input", checked=True)] == ["Y", "part"]


def test_bind_columns_and_their_messages_are_read(cli: Cli, tmp_path: Path, web: TestClient) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, BIND, tmp_path)
    page = BeautifulSoup(web.get(link).text, "html.parser")
    names = page.find("div", {"data-name": "names"})
    assert names is not None
    assert names.has_attr("hidden")
    assert page.find("input", {"name": "project_code"}).has_attr("readonly")
    empty = _post(web, link, {"project_code": "LM.0181"}, "submit")
    assert "Say how many staff." in empty.text
    over = _post(web, link, {"project_code": "LM.0181", "staff": "120"}, "submit")
    assert "Fewer than 100, please." in over.text
    shown = BeautifulSoup(over.text, "html.parser").find("div", {"data-name": "names"})
    assert shown is not None
    assert not shown.has_attr("hidden")


@pytest.mark.parametrize(
    ("header", "attribute", "cell", "expected"),
    [
        ("relevance", "relevant", "${a} = 'x'", "${a} = 'x'"),
        ("bind::relevant", "relevant", "${a} = 'x'", "${a} = 'x'"),
        ("Relevant", "relevant", "${a} = 'x'", "${a} = 'x'"),
        ("bind::required", "required", "yes", "true()"),
        ("bind::constraint", "constraint", ". != 'z'", ". != 'z'"),
        ("calculate", "calculation", "1 + 1", "1 + 1"),
        ("bind::calculate", "calculation", "1 + 1", "1 + 1"),
        ("readonly", "read_only", "yes", True),
        ("bind::readonly", "read_only", "true()", True),
        ("control::appearance", "appearance", "multiline", "multiline"),
        ("requiredMsg", "required_messages", "Needed.", {"default": "Needed."}),
        ("required_message", "required_messages", "Needed.", {"default": "Needed."}),
        ("bind::jr:requiredMsg", "required_messages", "Needed.", {"default": "Needed."}),
        ("constraining_message", "constraint_messages", "No.", {"default": "No."}),
        ("bind::jr:constraintMsg", "constraint_messages", "No.", {"default": "No."}),
        ("caption", "labels", "B label", {"default": "B label"}),
    ],
)
def test_every_pyxform_alias_names_the_same_column(header: str, attribute: str, cell: str, expected: Any) -> None:
    text = f"""| survey |
| | type | name | label | {header} |
| | text | a | A | |
| | text | b | B | {cell} |
"""
    if header == "caption":  # caption is label: the form has one or the other
        text = text.replace("| label |", "| hint |")
    assert getattr(_survey(text)["b"], attribute) == expected


def test_translated_messages_under_bind_keep_their_language() -> None:
    columns = "label::English (en) | label::Français (fr) | bind::jr:constraintMsg::Français (fr) | bind::constraint"
    text = f"""| survey |
| | type | name | {columns} |
| | integer | n | N | N | Trop grand. | . < 10 |
"""
    definition = parse_form(text.encode(), "form.md").definition
    assert definition.by_name()["n"].constraint_messages == {"Français (fr)": "Trop grand."}
    assert definition.languages == ["English (en)", "Français (fr)"]


def test_repeat_count_aliases_and_settings_aliases() -> None:
    text = """| survey |
| | type | name | label | count |
| | integer | n | N | |
| | begin repeat | r | R | ${n} |
| | text | t | T | |
| | end repeat | | | |
| settings |
| | set_form_title | set_form_id |
| | Aliased title | aliased |
"""
    definition = parse_form(text.encode(), "form.md").definition
    assert definition.by_name()["r"].repeat_count == "${n}"
    assert (definition.title, definition.form_id) == ("Aliased title", "aliased")


def test_a_pattern_that_needs_backtracking_is_refused_with_the_question_named(cli: Cli, tmp_path: Path) -> None:
    form = tmp_path / "lookahead.md"
    form.write_text(
        "| survey |\n| | type | name | label | constraint |\n| | text | code | Code | regex(., 'a(?=b)') |\n",
        encoding="utf-8",
    )
    result = cli("form", "add", str(form))
    assert result.exit_code == 2
    assert 'question "code"' in result.stderr
    assert 'look-ahead "(?=" is not supported' in result.stderr


@pytest.mark.parametrize(
    ("written", "kind", "other"),
    [
        ("select_one yesNo", "select_one", False),
        ("select one yesNo", "select_one", False),
        ("select1 yesNo", "select_one", False),
        ("select one from yesNo", "select_one", False),
        ("select all that apply yesNo", "select_multiple", False),
        ("select_multiple yesNo or_other", "select_multiple", True),
        ("select one yesNo or specify other", "select_one", True),
    ],
)
def test_select_types_under_pyxforms_names_keep_the_list_name(written: str, kind: str, other: bool) -> None:
    text = f"""| survey |
| | type | name | label |
| | {written} | q | Q |
| choices |
| | list_name | name | label |
| | yesNo | Y | Yes |
"""
    question = _survey(text)["q"]
    assert (question.type, question.list_name, question.or_other) == (kind, "yesNo", other)
