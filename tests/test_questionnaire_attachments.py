"""Files attached to a form: select_one_from_file (CSV, XML, GeoJSON) with choice_filter on the file's columns,
pulldata() and instance() lookups, from `lmreview form add --attach` and the upload page; hostile files."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.errors import BadInput
from lmreview.questionnaire import engine, forms
from lmreview.questionnaire.attachments import MAX_ATTACHMENT_BYTES, read_attachment
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, SAMPLES, Cli, personal_link
from tests.test_questionnaire_forms import xlsform

SURVEY = [
    ["type", "name", "label", "choice_filter", "calculation", "parameters"],
    ["select_one_from_file regions.csv", "region", "Region", "", "", ""],
    ["select_one_from_file districts.csv", "district", "District", "region_id=${region}", "", ""],
    ["select_multiple_from_file crops.xml", "crops", "Crops", "", "", ""],
    ["select_one_from_file sites.geojson", "site", "Site", "", "", ""],
    ["select_one_from_file districts.csv", "capital", "Capital", "", "", "value=code label=town"],
    ["calculate", "people", "", "", "pulldata('districts', 'people', 'name', ${district})", ""],
    ["calculate", "district_label", "", "", "instance('districts')/root/item[name = ${district}]/label", ""],
    ["calculate", "answer_label", "", "", "instance('yn')/root/item[name = ${done}]/label", ""],
    ["select_one yn", "done", "Done?", "", "", ""],
    ["calculate", "stamp", "", "", "format-date(today(), '%e %b %Y')", ""],
]
YN = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
REGIONS = "name,label\nn,North\ns,South\n"
DISTRICTS = (
    "name,label,region_id,people,code,town\nd1,Lakes,n,1200,L,Lakeside\nd2,Hills,n,800,H,Hilltop\n"
    "d3,Coast,s,450,C,Port\n"
)
CROPS = (
    "<root><item><name>maize</name><label>Maize</label></item><item><name>rice</name><label>Rice</label></item></root>"
)
SITES = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": "a1", "geometry": {"type": "Point", "coordinates": [2.5, 12.25]},
             "properties": {"title": "Well A1"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [3, 13]},
             "properties": {"id": "b2", "title": "Well B2"}},
        ],
    }
)  # fmt: skip
FILES = {"regions.csv": REGIONS, "districts.csv": DISTRICTS, "crops.xml": CROPS, "sites.geojson": SITES}


def _files(tmp_path: Path, **replace: str) -> list[str]:
    arguments = []
    for name, text in {**FILES, **replace}.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        arguments += ["--attach", str(path)]
    return arguments


def _form(tmp_path: Path, survey: list[list[str]] = SURVEY, version: str = "1") -> str:
    path = tmp_path / "household.xlsx"
    path.write_bytes(xlsform(survey, YN, [["form_id", "version"], ["household", version]]))
    return str(path)


def test_choices_pulldata_and_lookups_read_the_attached_files(cli: Cli, store: Store, tmp_path: Path) -> None:
    run = cli("form", "add", _form(tmp_path), *_files(tmp_path))
    assert run.exit_code == 0, run.stderr
    assert "Attached: crops.xml, districts.csv, regions.csv, sites.geojson." in run.stdout
    with store.session() as session:
        definition = forms.definition_of(forms.latest_version(forms.get_form(session, "household")))
    questions = definition.by_name()
    assert [c.name for c in definition.options(questions["district"].list_name)] == ["d1", "d2", "d3"]
    assert [c.name for c in definition.options(questions["crops"].list_name)] == ["maize", "rice"]
    assert [(c.name, c.labels) for c in definition.options(questions["site"].list_name)] == [
        ("a1", {"default": "Well A1"}),
        ("b2", {"default": "Well B2"}),
    ]
    assert [(c.name, c.labels["default"]) for c in definition.options(questions["capital"].list_name)] == [
        ("L", "Lakeside"),
        ("H", "Hilltop"),
        ("C", "Port"),
    ]
    data = {"region": "n", "district": "d2", "crops": "maize rice", "site": "b2", "capital": "C", "done": "yes"}
    result = engine.evaluate(definition, data, today=dt.date(2026, 11, 23))
    assert result.errors == {}
    assert result.data["people"] == "800"
    assert result.data["district_label"] == "Hills"
    assert result.data["answer_label"] == "Yes"
    assert result.data["stamp"] == "23 Nov 2026"
    # the choice_filter reads the file's region_id column: a district of another region is not an answer
    wrong = engine.evaluate(definition, {**data, "district": "d3"}, today=dt.date(2026, 11, 23))
    assert wrong.errors == {"district": '"d3" does not apply with the answers given above; choose again.'}
    assert wrong.data["people"] == "450"
    # the same workbook with a changed file is a new content: it needs a new version
    changed = _files(tmp_path, **{"districts.csv": DISTRICTS.replace("1200", "1300")})
    again = cli("form", "add", _form(tmp_path), *changed)
    assert again.exit_code == 2
    assert "already has a version" in again.stderr
    second = _form(tmp_path, version="2")  # written once: a workbook saved again holds another time stamp
    assert cli("form", "add", second, *changed).exit_code == 0
    assert "unchanged" in cli("form", "add", second, *changed).stdout


def test_a_missing_file_is_named(cli: Cli, tmp_path: Path) -> None:
    files = _files(tmp_path)
    run = cli("form", "add", _form(tmp_path), *files[:2])  # only regions.csv
    assert run.exit_code == 2
    assert "reads the file districts.csv, which is not attached" in run.stderr
    assert "--attach crops.xml" in run.stderr
    assert "Traceback" not in run.stderr
    pulldata = [
        ["type", "name", "label", "calculation"],
        ["calculate", "p", "", "pulldata('fruits', 'price', 'name', 'kiwi')"],
    ]
    run = cli("form", "add", _form(tmp_path, pulldata))
    assert run.exit_code == 2
    assert "pulldata('fruits') reads the file fruits.csv, which is not attached" in run.stderr


def test_pulldata_and_lookups_of_a_missing_column_are_refused(cli: Cli, tmp_path: Path) -> None:
    survey = [
        ["type", "name", "label", "calculation"],
        ["text", "d", "District", ""],
        ["calculate", "p", "", "pulldata('districts', 'weight', 'name', ${d})"],
        ["calculate", "q", "", "instance('districts')/root/item[name = ${d}]/mayor"],
    ]
    run = cli("form", "add", _form(tmp_path, survey), *_files(tmp_path))
    assert run.exit_code == 2
    assert "pulldata('districts') reads the column \"weight\", which districts.csv does not have" in run.stderr
    assert "instance('districts') reads the column \"mayor\"" in run.stderr
    assert "(its columns: code, label, name, people, region_id, town)" in run.stderr


def test_hostile_files_are_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    nul = cli("form", "add", _form(tmp_path), *_files(tmp_path, **{"regions.csv": "name,label\nn,No\0rth\n"}))
    assert nul.exit_code == 2
    assert "regions.csv:2:-: the file holds a NUL character" in nul.stderr
    huge = tmp_path / "big" / "regions.csv"
    huge.parent.mkdir()
    with huge.open("wb") as handle:
        handle.truncate(1024**3)  # a sparse 1 GB file: refused by its size, never read
    others = _files(tmp_path)[2:]  # all but regions.csv
    big = cli("form", "add", _form(tmp_path), *others, "--attach", str(huge))
    assert big.exit_code == 2
    assert f"an attached file may hold at most {MAX_ATTACHMENT_BYTES // 1024 // 1024} MiB" in big.stderr
    os.remove(huge)
    dtd = '<!DOCTYPE r [<!ENTITY x "y">]><root><item><name>&x;</name></item></root>'
    entity = cli("form", "add", _form(tmp_path), *_files(tmp_path, **{"crops.xml": dtd}))
    assert entity.exit_code == 2
    assert "crops.xml: the XML declares a DTD or entities" in entity.stderr
    no_label = cli("form", "add", _form(tmp_path), *_files(tmp_path, **{"regions.csv": "name,title\nn,North\n"}))
    assert no_label.exit_code == 2
    assert 'regions.csv has no column "label" (its columns: name, title)' in no_label.stderr


def _refusal(filename: str, data: bytes) -> str:
    with pytest.raises(BadInput) as caught:
        read_attachment(filename, data)
    return caught.value.problems[0].message


def test_reading_files() -> None:
    assert read_attachment("a.csv", "\ufeffname, label\nx,X\n\n,\n".encode()) == [{"name": "x", "label": "X"}]
    assert _refusal("a.csv", b"name,name\nx,y\n") == 'the column "name" is named twice'
    assert _refusal("a.csv", b"name\n\xff\n") == "the file is not UTF-8 text; save it as UTF-8"
    assert _refusal("a.csv", b"name,label\n") == "the file has no rows"
    assert _refusal("a.csv", b"name\nx\x07y\n").startswith("the value contains a control character")
    assert "FeatureCollection" in _refusal("a.geojson", b"[]")
    assert _refusal("a.txt", b"name\nx\n") == "a form can have .csv, .xml and .geojson files attached"
    assert _refusal("a.xml", b"<root><item>").startswith("not well-formed XML")
    line = {"features": [{"id": 1, "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}}]}
    assert read_attachment("l.geojson", json.dumps(line).encode()) == [{"name": "1", "geometry": "2 1 0 0;4 3 0 0"}]


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with store.session() as session:
        add_user(session, "rev", "reviewer", "correct-horse", actor="test")
    app = create_app(Settings(database_url=store.url), store)
    with TestClient(app) as c:
        yield c


def _csrf(html: str) -> str:
    tag = BeautifulSoup(html, "html.parser").find("input", {"name": "csrf_token"})
    assert tag is not None
    return str(tag["value"])


def test_the_upload_page_takes_the_files_with_the_form(client: TestClient, tmp_path: Path) -> None:
    client.post(
        "/login", data={"name": "rev", "password": "correct-horse", "csrf_token": _csrf(client.get("/login").text)}
    )
    csrf = _csrf(client.get("/forms").text)
    workbook = Path(_form(tmp_path)).read_bytes()
    files = [("file", ("household.xlsx", workbook))] + [("attach", (n, t.encode())) for n, t in FILES.items()]
    missing = client.post("/forms", data={"csrf_token": csrf}, files=files[:2])
    assert missing.status_code == 422
    assert "reads the file districts.csv, which is not attached" in missing.text
    added = client.post("/forms", data={"csrf_token": csrf}, files=files, follow_redirects=False)
    assert added.status_code == 303, added.text
    preview = BeautifulSoup(client.get("/forms/household").text, "html.parser").get_text(" ", strip=True)
    for label in ("Lakes", "Coast", "Maize", "Well B2", "Lakeside"):
        assert label in preview
    assert "household.xlsx + crops.xml, districts.csv, regions.csv, sites.geojson" in preview  # the versions
    huge = [files[0], ("attach", ("regions.csv", b"name,label\n" + b"x,y\n" * (MAX_ATTACHMENT_BYTES // 4)))]
    refused = client.post("/forms", data={"csrf_token": csrf}, files=huge)
    assert refused.status_code == 422
    assert "an attached file may hold at most" in refused.text


LOOKUP_FORM = """| survey |
| | type | name | label | relevant |
| | text | project_code | Project | |
| | select_one districts | district | District | |
| | text | why | Why so large a district? | instance('districts')/root/item[name = ${district}]/size = 'large' |
| choices |
| | list_name | name | label | size |
| | districts | d1 | Lakes | large |
| | districts | d2 | Hills | small |
| settings |
| | form_id | version |
| | lookup | 1 |
"""


def test_the_page_gets_the_tables_its_relevance_reads(cli: Cli, store: Store, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, LOOKUP_FORM, tmp_path)
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        tables = BeautifulSoup(client.get(link).text, "html.parser").find("script", id="lm-instances")
        assert tables is not None
        assert json.loads(tables.string or "") == {
            "districts": [
                {"size": "large", "name": "d1", "label": "Lakes"},
                {"size": "small", "name": "d2", "label": "Hills"},
            ]
        }


@pytest.mark.browser
def test_in_a_browser_a_lookup_shows_and_hides_a_question(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make test installs it where it can)")
    from playwright.sync_api import expect, sync_playwright

    from lmreview.store import open_store
    from tests.test_browser import _free_port, _serving

    path = tmp_path_factory.mktemp("lookup") / "lookup.db"
    cli = Cli(str(path))
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, LOOKUP_FORM, tmp_path)
    settings = Settings(database_url=str(path), base_url=f"http://127.0.0.1:{_free_port()}")
    with _serving(settings, open_store(str(path))) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{url}{link}")
        page.get_by_label("Project").fill("LM.0181")
        why = page.get_by_label("Why so large a district?")
        expect(why).to_be_hidden()
        page.get_by_role("radio", name="Lakes").check()
        expect(why).to_be_visible()
        page.get_by_role("radio", name="Hills").check()
        expect(why).to_be_hidden()
        browser.close()


def test_answers_to_selects_from_files_import_and_export_cell_by_cell(cli: Cli, store: Store, tmp_path: Path) -> None:
    assert cli("form", "add", _form(tmp_path), *_files(tmp_path)).exit_code == 0
    header = ["region", "district", "crops", "crops/maize", "crops/rice", "site", "capital", "done", "_uuid", "_index"]
    rows = [
        ["n", "d2", "maize rice", "1", "1", "b2", "C", "yes", "5b0e3a2c-0000-4000-8000-000000000001", "1"],
        ["s", "d3", "rice", "0", "1", "a1", "L", "no", "5b0e3a2c-0000-4000-8000-000000000002", "2"],
    ]
    kobo = tmp_path / "household-kobo.csv"
    kobo.write_text("\n".join(";".join(f'"{c}"' for c in row) for row in [header, *rows]) + "\n", encoding="utf-8")
    run = cli("form", "import-responses", str(kobo), "--form", "household")
    assert run.exit_code == 0, run.stderr
    assert "2 submissions created" in run.stdout
    out = tmp_path / "out.csv"
    assert cli("form", "export-responses", "--form", "household", "--format", "csv", "--out", str(out)).exit_code == 0
    exported = [line.split(";") for line in out.read_text(encoding="utf-8").splitlines()]
    columns = [c.strip('"') for c in exported[0]]
    for row, sent in zip(exported[1:], rows, strict=True):
        cells = dict(zip(columns, (c.strip('"') for c in row), strict=True))
        for name, value in zip(header[:-2], sent[:-2], strict=True):
            assert cells[name] == value, name
        assert cells["_uuid"] == sent[-2]
    wrong = tmp_path / "wrong-kobo.csv"
    wrong.write_text('"district";"_uuid"\n"d9";"5b0e3a2c-0000-4000-8000-000000000003"\n', encoding="utf-8")
    refused = cli("form", "import-responses", str(wrong), "--form", "household")
    assert refused.exit_code == 2
    assert '"d9"' in refused.stderr
