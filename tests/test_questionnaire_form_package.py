"""The files attached to a form version are kept (table form_version_file) and come back with the workbook in a zip:
``lmreview form download NAME --out X.zip`` and ``/forms/NAME.zip``; an ``.xls`` form downloads as XLSX."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from lmreview.questionnaire.models import FormVersion, FormVersionFile
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli
from tests.test_questionnaire_attachments import FILES, _files, _form

REALWORLD_XLS = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "xlsform" / "pyxform_tutorial.xls"


def test_the_zip_holds_the_workbook_and_its_files_and_adds_back_unchanged(
    cli: Cli, store: Store, tmp_path: Path
) -> None:
    form = _form(tmp_path)
    assert cli("form", "add", form, *_files(tmp_path)).exit_code == 0
    out = tmp_path / "out" / "household.zip"
    out.parent.mkdir()
    run = cli("form", "download", "household", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    assert "Wrote" in run.stdout
    assert "with 4 attached files (crops.xml, districts.csv, regions.csv, sites.geojson)" in run.stdout
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == sorted(["household-1.xlsx", *FILES])
        for name, text in FILES.items():
            assert archive.read(name) == text.encode()  # as uploaded, byte for byte
        assert archive.read("household-1.xlsx") == Path(form).read_bytes()
        archive.extractall(out.parent)
    attach = [a for name in sorted(FILES) for a in ("--attach", str(out.parent / name))]
    again = cli("form", "add", str(out.parent / "household-1.xlsx"), *attach)
    assert again.exit_code == 0, again.stderr
    assert "Form household is unchanged (version 1)." in again.stdout
    with store.session() as session:
        kept = session.execute(select(FormVersionFile.filename, FormVersionFile.size)).all()
    assert sorted(kept) == sorted((name, len(text.encode())) for name, text in FILES.items())
    xlsx = cli("form", "download", "household", "--out", str(tmp_path / "h.xlsx"))
    assert "--out FILE.zip gives them too" in xlsx.stdout


def test_a_version_added_before_files_were_kept_says_which_are_missing(cli: Cli, store: Store, tmp_path: Path) -> None:
    assert cli("form", "add", _form(tmp_path), *_files(tmp_path)).exit_code == 0
    with store.session() as session:
        for row in session.scalars(select(FormVersionFile)):
            session.delete(row)
    run = cli("form", "download", "household", "--out", str(tmp_path / "h.zip"))
    assert run.exit_code == 0
    assert "are not stored (their rows are)" in run.stderr
    with zipfile.ZipFile(tmp_path / "h.zip") as archive:
        assert archive.namelist() == ["household-1.xlsx"]


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with store.session() as session:
        add_user(session, "rev", "reviewer", "correct-horse", actor="test")
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        token = BeautifulSoup(c.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        c.post("/login", data={"name": "rev", "password": "correct-horse", "csrf_token": str(token["value"])})
        yield c


def test_the_form_page_links_the_zip(cli: Cli, client: TestClient, tmp_path: Path) -> None:
    assert cli("form", "add", _form(tmp_path), *_files(tmp_path)).exit_code == 0
    soup = BeautifulSoup(client.get("/forms/household").text, "html.parser")
    link = soup.find("a", string="the XLSForm with its attached files (zip)")
    assert link is not None
    response = client.get(str(link["href"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="household-1.zip"' in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert len(archive.namelist()) == 5
    assert client.get("/forms/household.zip", params={"version": "9"}).status_code == 404
    assert client.get("/forms/nothing.zip").status_code == 404


def test_an_xls_form_downloads_as_xlsx(cli: Cli, store: Store, tmp_path: Path) -> None:
    if not REALWORLD_XLS.exists():
        pytest.skip("../shared/realworld is not here")
    first = cli("form", "add", str(REALWORLD_XLS), "--name", "tutorial")
    assert first.exit_code == 0, first.stderr
    out = tmp_path / "tutorial.xlsx"
    run = cli("form", "download", "tutorial", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    workbook = load_workbook(out)
    assert {"survey", "choices"} <= {name.lower() for name in workbook.sheetnames}
    with store.session() as session:
        assert session.scalar(select(FormVersion.file_format)) == "xls"
    again = cli("form", "add", str(out), "--name", "tutorial_again")  # the same form, read from the XLSX
    assert again.exit_code == 0, again.stderr
    assert again.stdout.split(":", 1)[1].split(",")[1:] == first.stdout.split(":", 1)[1].split(",")[1:]


EXTERNAL_FORM = """| survey |
| | type | name | label | calculation |
| | xml-external | crops | | |
| | csv-external | prices | | |
| | text | crop | Crop | |
| | calculate | crop_label | | instance('crops')/root/item[name = ${crop}]/label |
| | calculate | price | | instance('prices')/root/item[name = ${crop}]/price |
"""


def test_csv_and_xml_external_rows_name_their_file_in_the_name_column(cli: Cli, tmp_path: Path) -> None:
    """``xml-external`` in the type column and the file's name in the name column, as pyxform's own examples write
    it: the file is required, then read like any attached file."""
    form = tmp_path / "external.md"
    form.write_text(EXTERNAL_FORM, encoding="utf-8")
    missing = cli("form", "add", str(form))
    assert missing.exit_code == 2
    assert '"xml-external" crops reads the file crops.xml, which is not attached' in missing.stderr
    assert '"csv-external" prices reads the file prices.csv, which is not attached' in missing.stderr
    assert "crops.csv" not in missing.stderr  # instance('crops') reads the declared crops.xml, named once
    crops = tmp_path / "crops.xml"
    crops.write_text("<root><item><name>maize</name><label>Maize</label></item></root>", encoding="utf-8")
    prices = tmp_path / "prices.csv"
    prices.write_text("name,price\nmaize,12\n", encoding="utf-8")
    added = cli("form", "add", str(form), "--attach", str(crops), "--attach", str(prices))
    assert added.exit_code == 0, added.stderr
    assert "Attached: crops.xml, prices.csv." in added.stdout
    from lmreview.questionnaire import engine
    from lmreview.questionnaire.xlsform import parse_form

    files = {"crops.xml": crops.read_bytes(), "prices.csv": prices.read_bytes()}
    definition = parse_form(EXTERNAL_FORM.encode(), "external.md", files=files).definition
    judged = engine.evaluate(definition, {"crop": "maize"})
    assert (judged.data["crop_label"], judged.data["price"]) == ("Maize", "12")
