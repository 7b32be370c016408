"""Forms as people write them for ODK and Kobo: every type name pyxform accepts (legacy spellings included), the
types beyond text and numbers (time, datetime, range, trigger, geopoint ...), ``select_one ${question}``, ``.xls``
workbooks, sheets formatted down to row 1,048,576, a form_id pyxform would not take as an XML name, typographic
quotes, and the one line that names what lmreview does not support."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import Workbook

from lmreview.errors import BadInput
from lmreview.questionnaire import engine, xlsform_sheets
from lmreview.questionnaire.xlsform import FormDefinition, parse_form
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.web.app import create_app
from tests.conftest import ROOT, SAMPLES, Cli, personal_link

REALWORLD = ROOT.parent / "shared" / "realworld"


def _form(survey: str, choices: str = "", settings: str = "| | form_id | version |\n| | types | 1 |") -> str:
    return f"| survey |\n{survey}\n" + (f"| choices |\n{choices}\n" if choices else "") + f"| settings |\n{settings}\n"


def _parse(text: str) -> FormDefinition:
    return parse_form(text.encode(), "form.md").definition


def _refusal(text: str, name: str = "form.md") -> list[str]:
    with pytest.raises(BadInput) as caught:
        parse_form(text.encode(), name)
    return [str(p) for p in caught.value.problems]


LEGACY = _form(
    """| | type | name | label |
| | phone number | phone | Phone |
| | imei | device | |
| | uri:deviceid | device2 | |
| | select one from yesno or specify other | funded | Funded? |
| | select all that apply from yesno | which | Which? |
| | add date prompt | when | When? |
| | gps | where | Where? |
| | acknowledge | ok | Seen? |
| | start-geopoint | start_place | |""",
    "| | list_name | name | label |\n| | yesno | yes | Yes |\n| | yesno | no | No |",
)


def test_legacy_type_names_are_read_as_pyxform_reads_them() -> None:
    types = {q.name: q.type for q in _parse(LEGACY).walk()}
    assert types == {
        "phone": "text",
        "device": "deviceid",
        "device2": "deviceid",
        "funded": "select_one",
        "funded_other": "text",
        "which": "select_multiple",
        "when": "date",
        "where": "geopoint",
        "ok": "trigger",
        "start_place": "start-geopoint",
    }
    definition = _parse(LEGACY)
    assert [c.name for c in definition.options("yesno")] == ["yes", "no", "other"]
    assert definition.by_name()["start_place"].is_meta


@pytest.mark.parametrize("form_id", ["household survey 2024", "concat('a', 'b')", "phone"])
def test_a_form_id_is_not_handed_to_pyxform_as_an_xml_name(form_id: str) -> None:
    text = _form("| | type | name | label |\n| | text | phone | Phone |", settings=f"| | form_id |\n| | {form_id} |")
    definition = _parse(text)
    assert definition.form_id == form_id
    assert [q.name for q in definition.walk()] == ["phone"]


def test_typographic_quotes_in_expressions_are_plain_quotes() -> None:
    text = _form(
        """| | type | name | label | relevant | constraint |
| | select_multiple toppings | pizza | Pizza? | | |
| | text | other | Which other? | selected(${pizza}, ‘other’) | regex(., “^[a-z]+$”) |""",
        "| | list_name | name | label |\n| | toppings | cheese | Cheese |\n| | toppings | other | Other |",
    )
    question = _parse(text).by_name()["other"]
    assert question.relevant == "selected(${pizza}, 'other')"
    assert question.constraint == 'regex(., "^[a-z]+$")'


@pytest.mark.parametrize(
    ("row", "feature"),
    [
        ("| | osm | building | Building |", "osm questions (files sent with the answers) (row 3)"),
        ("| | calculate | hash | | digest('abc', 'SHA-256') |", "the function digest() (row 3)"),
        (
            "| | select_one yesno | town | Town | | search('towns') |",
            "the search() appearance (use select_one_from_file with a choice_filter) (row 3)",
        ),
    ],
)
def test_what_lmreview_does_not_support_is_named_in_one_line(row: str, feature: str) -> None:
    header = "| | type | name | label | calculation |" if "calculate" in row else "| | type | name | label | default |"
    header += " appearance |" if "search(" in row else ""
    text = _form(f"{header}\n| | text | phone | Phone |\n{row}", "| | list_name | name | label |\n| | yesno | y | Y |")
    problems = _refusal(text)
    assert problems == [
        f"form.md:survey:3:type: lmreview cannot serve this form: it uses {feature}, which lmreview does not support"
    ]


def test_several_unsupported_features_still_make_one_line() -> None:
    survey = "| | type | name | label |\n| | osm | a | A |\n| | begin loop over yesno | b | B |\n| | text | c | C |"
    text = _form(
        f"{survey}\n| | end loop | | |\n| | osm | d | D |", "| | list_name | name | label |\n| | yesno | y | Y |"
    )
    assert _refusal(text) == [
        "form.md:survey:2:type: lmreview cannot serve this form: it uses osm questions (files sent with the answers) "
        "(rows 2, 6), which lmreview does not support; it also uses loops (begin loop) (row 3)"
    ]


# --- answers of the new types ------------------------------------------------------------------------------------

TYPES = _form(
    """| | type | name | label | parameters | required |
| | time | at | At | | |
| | datetime | when | When | | |
| | range | score | Score | start=0 end=10 step=2 | |
| | trigger | ok | Confirm | | yes |
| | geopoint | where | Where | | |
| | geotrace | road | Road | | |
| | geoshape | field | Field | | |"""
)


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("at", ["14:30", "14:30:05", "10:30:00.000+02:00", "23:59Z"], ["24:00", "2pm", "14.30"]),
        (
            "when",
            ["2024-05-01T14:30", "2019-01-31T10:45:00.000-05:00", "2018-04-26T08:58:20.525Z"],
            ["2024-13-01T10:00"],
        ),
        ("score", ["0", "4", "10"], ["3", "12", "-2", "x"]),
        ("ok", ["OK"], ["yes"]),
        ("where", ["12.3714 -1.5197", "12.3714 -1.5197 300 5.5"], ["91 0", "12.3 200", "12.3", "1 2 3 -4"]),
        ("road", ["1 2; 1.5 2.5", "1 2;1.5 2.5;2 3"], ["1 2", "1 2; x"]),
        ("field", ["0 0; 0 1; 1 1; 0 0"], ["0 0; 0 1; 1 1", "0 0; 0 1; 1 1; 1 0"]),
    ],
)
def test_answers_of_the_new_types_are_checked(name: str, good: list[str], bad: list[str]) -> None:
    definition = _parse(TYPES)
    question = definition.by_name()[name]
    for value in good:
        assert engine.type_error(definition, question, value) is None, value
    for value in bad:
        assert engine.type_error(definition, question, value), value


def test_a_required_trigger_needs_its_ok() -> None:
    definition = _parse(TYPES)
    assert engine.evaluate(definition, {}).errors == {"ok": "This question needs an answer."}
    assert engine.evaluate(definition, {"ok": "OK"}).errors == {}


# --- the web form --------------------------------------------------------------------------------------------------

PREVIOUS = _form(
    """| | type | name | label | repeat_count | choice_filter |
| | text | project_code | Project | | |
| | integer | members | How many members? | | |
| | begin_repeat | member | Member | ${members} | |
| | text | member_name | Name? | | |
| | integer | age | Age? | | |
| | end_repeat | | | | |
| | select_one ${member_name} | head | Head of household? | | |
| | select_one ${member_name} | child | Youngest child? | | ${age} < 18 |
| | time | at | At what time? | | |
| | range | score | Score | | |
| | trigger | seen | Seen? | | |
| | geopoint | where | Where? | | |""",
    settings="| | form_id | version |\n| | previous | 1 |",
)


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


def test_select_one_from_earlier_answers_and_the_new_inputs_in_the_web_form(
    cli: Cli, tmp_path: Path, web: TestClient
) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, PREVIOUS, tmp_path)
    family = {
        "project_code": "LM.0181",
        "members": "3",
        "member.count": "3",
        "member[1]/member_name": "Julius Caesar",
        "member[1]/age": "55",
        "member[2]/member_name": "Gaius Octavius",
        "member[2]/age": "16",
        "member[3]/member_name": "Livia",
        "member[3]/age": "12",
    }
    saved = _post(web, link, family, "save")
    assert saved.status_code == 200
    page = BeautifulSoup(web.get(link).text, "html.parser")
    head = [str(i["value"]) for i in page.find_all("input", {"name": "head"}) if i["value"]]
    child = [str(i["value"]) for i in page.find_all("input", {"name": "child"}) if i["value"]]
    assert head == ["Julius Caesar", "Gaius Octavius", "Livia"]
    assert child == ["Gaius Octavius", "Livia"]
    assert page.find("input", {"name": "at"})["type"] == "time"
    score = page.find("input", {"name": "score"})
    assert (score["type"], score["min"], score["max"], score["step"]) == ("number", "1", "10", "1")
    assert page.find("input", {"name": "seen", "type": "checkbox"})["value"] == "OK"
    assert page.find("button", {"class": "locate"}) is not None
    wrong = _post(web, link, {**family, "head": "Livia", "child": "Julius Caesar", "where": "91 0"}, "submit")
    assert wrong.status_code == 422
    text = BeautifulSoup(wrong.text, "html.parser").get_text()
    assert '"Julius Caesar" does not apply with the answers given above; choose again.' in text
    assert "A latitude is between -90 and 90" in text
    answers = {**family, "head": "Julius Caesar", "child": "Livia", "at": "14:30", "score": "7", "seen": ["", "OK"]}
    done = _post(web, link, {**answers, "where": "12.3714 -1.5197 300 5"}, "submit")
    assert done.status_code == 303
    out = tmp_path / "out.xlsx"
    assert cli("form", "export-responses", "--form", "previous", "--out", str(out)).exit_code == 0
    from openpyxl import load_workbook

    rows = list(load_workbook(out).worksheets[0].iter_rows(values_only=True))
    record = dict(zip(rows[0], rows[1], strict=False))
    assert (record["head"], record["child"], record["at"], record["score"], record["seen"]) == (
        "Julius Caesar",
        "Livia",
        "14:30",
        "7",
        "OK",
    )
    assert record["where"] == "12.3714 -1.5197 300 5"


# --- files ---------------------------------------------------------------------------------------------------------


def _workbook(survey: list[list[str]], empty_rows: int = 0, filled_rows: int = 0) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    for number in range(filled_rows):
        sheet.append(["text", f"q{number}", f"Question {number}"])
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version"])
    settings.append(["sheets", "1"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if not empty_rows:
        return data
    # LibreOffice's way: the sheet declares every row and column, and formatted rows without content follow.
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text = text.replace('<dimension ref="A1:C3"/>', '<dimension ref="A1:AMJ1048576"/>')
                blank = "".join(f'<row r="{n}" customFormat="1" ht="14"/>' for n in range(4, 4 + empty_rows))
                text = text.replace("</sheetData>", blank + "</sheetData>")
                content = text.encode()
            target.writestr(info, content)
    return out.getvalue()


def test_rows_formatted_to_the_end_of_the_sheet_are_not_counted() -> None:
    data = _workbook([["type", "name", "label"], ["text", "a", "A"], ["integer", "b", "B"]], empty_rows=60_000)
    started = time.monotonic()
    definition = parse_form(data, "formatted.xlsx").definition
    assert [q.name for q in definition.walk()] == ["a", "b"]
    assert time.monotonic() - started < 10


def test_a_sheet_with_too_many_rows_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsform_sheets, "MAX_FORM_ROWS", 50)
    data = _workbook([["type", "name", "label"]], filled_rows=51)
    with pytest.raises(BadInput) as caught:
        parse_form(data, "long.xlsx")
    (problem,) = caught.value.problems
    assert problem.file == "long.xlsx:survey"
    assert "the sheet survey has more than 50 rows with content" in problem.message


def _realworld(name: str) -> Path:
    path = REALWORLD / "xlsform" / name
    if not path.is_file():
        pytest.skip(f"the real-world forms are not beside the project ({path})")
    return path


def test_an_xls_form_is_read_as_pyxform_reads_it(cli: Cli) -> None:
    path = _realworld("pyxform_gps.xls")
    run = cli("form", "add", str(path), "--name", "gps")
    assert run.exit_code == 0, run.stderr
    assert "Added form gps" in run.stdout


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "this .xls workbook cannot be read"),
        ("form.xls", b"type,name,label\n", "this .xls file is not an Excel workbook"),
        ("form.ods", b"not a workbook", "save the .ods file as .xlsx first"),
    ],
)
def test_files_that_are_not_readable_workbooks_are_explained(
    cli: Cli, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    run = cli("form", "add", str(path))
    assert run.exit_code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


MARKDOWN = _form(
    """| | type | name | label | hint |
| | text | project_code | Project | |
| | note | intro | # Before you start | Take *ten minutes*. |
| | note | whole | Read the **whole** form. | |
| | begin_group | block | | |
| | text | city | _bold_ <script>alert(1)</script> | [list](https://example.org/c) [x](javascript:alert(1)) |
| | end_group | | | |""",
    settings="| | form_id | version |\n| | markdown | 1 |",
)


def test_labels_and_hints_render_odk_markdown_safely(cli: Cli, tmp_path: Path, web: TestClient) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, MARKDOWN, tmp_path)
    html = web.get(link).text
    page = BeautifulSoup(html, "html.parser")
    intro, whole = page.find_all("div", class_="note")
    assert intro.find("h1").get_text() == "Before you start"
    assert intro.find("p", class_="hint").find("em").get_text() == "ten minutes"  # a note's hint is shown
    assert whole.find("strong").get_text() == "whole"
    label = page.find("label", {"for": "q-block-city"})
    assert label.find("em").get_text() == "bold"
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    hint = page.find("p", id="q-block-city-hint")
    links = hint.find_all("a")
    assert [(a["href"], a["rel"]) for a in links] == [("https://example.org/c", ["noopener", "noreferrer"])]
    assert "javascript:" not in str(links)
    group = page.find("fieldset", class_="group")
    assert group.find("legend") is None  # an unlabeled group shows no name
    assert "block" not in group.get_text()


def test_a_question_named_data_is_refused_with_why() -> None:
    text = _form("| | type | name | label | relevant |\n| | text | data | Data | |\n| | text | b | B | ${data} != '' |")
    (problem,) = _refusal(text)
    assert "multiple survey elements named 'data'" in problem
    assert "pyxform names the form's XML root 'data'" in problem


GEO = _form(
    "| | type | name | label |\n| | geopoint | site | Site |\n| | geotrace | road | Road |",
    settings="| | form_id | version |\n| | places | 1 |",
)


def test_a_geopoint_is_tabulated_as_a_count_and_a_bounding_box(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "places.md").write_text(GEO, encoding="utf-8")
    assert cli("form", "add", str(tmp_path / "places.md")).exit_code == 0
    export = tmp_path / "places.csv"
    export.write_text(
        "site;_site_latitude;_site_longitude;_site_altitude;_site_precision;road;_uuid;_submission_time\n"
        '12.5 -1.5 300 5;12.5;-1.5;300;5;"12 -1; 12.2 -1.1";u-1;2024-05-01T10:00:00\n'
        "13.25 -2.75;13.25;-2.75;;;;u-2;2024-05-01T11:00:00\n"
        ";;;;;;u-3;2024-05-01T12:00:00\n",
        encoding="utf-8",
    )
    run = cli("form", "import-responses", str(export), "--form", "places")
    assert run.exit_code == 0, run.stderr
    assert "match no question" not in run.stderr
    table = cli("tabulate", "--form", "places", "--question", "site")
    assert table.exit_code == 0, table.stderr
    assert "Locations: 2 of 2 answered · latitude 12.5 to 13.25 · longitude -2.75 to -1.5" in table.stdout
    data = cli("tabulate", "--form", "places", "--question", "site", "--json")
    summary = json.loads(data.stdout)["summary"]
    assert summary["bbox"] == {"south": 12.5, "west": -2.75, "north": 13.25, "east": -1.5}
    assert (summary["n"], summary["of"], len(summary["rows"])) == (2, 2, 2)
    road = cli("tabulate", "--form", "places", "--question", "road")
    assert "Locations: 1 of 1 answered · latitude 12.0 to 12.2 · longitude -1.1 to -1.0" in road.stdout


EXTERNAL = """| survey |
| | type | name | label | choice_filter |
| | text | project_code | Project | |
| | select_one provinces | prov_id | Province | |
| | select_one_external districts | dist_id | District | prov_id=${prov_id} |
| choices |
| | list_name | name | label |
| | provinces | P10 | Maputo |
| | provinces | P09 | Gaza |
| external_choices |
| | list_name | name | label | prov_id |
| | districts | D1001 | Matola | P10 |
| | districts | D1002 | Boane | P10 |
| | districts | D0901 | Xai-Xai | P09 |
| settings |
| | form_id | version |
| | external | 1 |
"""


def test_select_one_external_takes_its_options_from_the_external_choices_sheet(
    cli: Cli, tmp_path: Path, web: TestClient
) -> None:
    question = parse_form(EXTERNAL.encode(), "external.md").definition.by_name()["dist_id"]
    assert (question.type, question.list_name, question.choice_filter) == (
        "select_one",
        "districts",
        "prov_id=${prov_id}",
    )
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, EXTERNAL, tmp_path)
    _post(web, link, {"project_code": "LM.0181", "prov_id": "P10"}, "save")
    page = BeautifulSoup(web.get(link).text, "html.parser")
    shown = [
        str(i["value"])
        for i in page.find_all("input", {"name": "dist_id"})
        if not i.find_parent("label").has_attr("hidden")
    ]
    assert shown == ["D1001", "D1002", ""]
    wrong = _post(web, link, {"project_code": "LM.0181", "prov_id": "P10", "dist_id": "D0901"}, "submit")
    assert wrong.status_code == 422
    done = _post(web, link, {"project_code": "LM.0181", "prov_id": "P10", "dist_id": "D1002"}, "submit")
    assert done.status_code == 303


RANK = _form(
    "| | type | name | label |\n| | text | project_code | Project |\n| | rank priorities | order | Rank them |",
    "| | list_name | name | label |\n| | priorities | jobs | Jobs |\n| | priorities | rights | Rights |"
    "\n| | priorities | skills | Skills |",
    settings="| | form_id | version |\n| | ranked | 1 |",
)


def test_a_rank_question_puts_every_option_in_order(cli: Cli, tmp_path: Path, web: TestClient) -> None:
    definition = _parse(RANK)
    question = definition.by_name()["order"]
    assert (question.type, question.list_name) == ("rank", "priorities")
    assert engine.type_error(definition, question, "skills jobs rights") is None
    assert engine.type_error(definition, question, "skills jobs") == "Put every option in order: jobs, rights, skills."
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, RANK, tmp_path)
    ranks = {"order.present": "1", "order.rank.jobs": "2", "order.rank.rights": "3", "order.rank.skills": "1"}
    missing = _post(web, link, {"project_code": "LM.0181", **ranks, "order.rank.rights": ""}, "submit")
    assert missing.status_code == 422
    assert "Put every option in order" in missing.text
    done = _post(web, link, {"project_code": "LM.0181", **ranks}, "submit")
    assert done.status_code == 303
    page = BeautifulSoup(web.get(link).text, "html.parser")
    chosen = {str(s["name"]): s.find("option", selected=True).get_text() for s in page.find_all("select")}
    assert chosen == {"order.rank.jobs": "2", "order.rank.rights": "3", "order.rank.skills": "1"}
    out = tmp_path / "out.csv"
    assert cli("form", "export-responses", "--form", "ranked", "--format", "csv", "--out", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith('"LM.0181";"skills jobs rights";')


def test_once_random_draws_once_and_keeps_the_draw() -> None:
    text = _form(
        "| | type | name | label | calculation |\n| | calculate | draw | | once(random()) |\n"
        "| | calculate | sq | | pow(${draw}, 2) |"
    )
    definition = _parse(text)
    first = engine.evaluate(definition, {}).data
    drawn = float(first["draw"])
    assert 0 <= drawn < 1
    assert float(first["sq"]) == pytest.approx(drawn**2)
    again = engine.evaluate(definition, first).data
    assert again["draw"] == first["draw"]  # a submitted or re-evaluated form keeps its draw
