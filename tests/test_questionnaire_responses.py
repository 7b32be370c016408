"""`lmreview form import-responses` / `export-responses` and the same on the review page: Kobo and ODK exports in,
Kobo's layout out; atomic imports, no duplicates, corrections kept apart from the original values."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import FIXTURES, SAMPLES, TEMPLATES, Cli
from tests.fixtures.responses.make_fixtures import kobo_xlsx, odk_zip

RESPONSES = FIXTURES / "responses"


@pytest.fixture
def review(cli: Cli) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    return "r16"


def status(cli: Cli) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(cli("responses", "status", "--review", "r16", "--json").stdout)
    return result


def test_kobo_csv_import_is_idempotent_and_counts_projects(cli: Cli, review: str) -> None:
    path = RESPONSES / "kobo-bilingual.csv"
    run = cli("form", "import-responses", str(path), "--form", "bilingual_test", "--review", review)
    assert run.exit_code == 0, run.stderr
    assert "kobo-bilingual.csv into form bilingual_test: 2 submissions created, 0 updated, 0 unchanged" in run.stdout
    # LM.0334 is not a project of lm2016: kept, and said so
    assert 'project_code: warning: "LM.0334" is not a project of the portfolio of review r16' in run.stderr
    again = cli("form", "import-responses", str(path), "--form", "bilingual_test", "--review", review)
    assert "0 submissions created, 0 updated, 2 unchanged" in again.stdout
    assert status(cli)["projects_answered"] == 1  # LM.0181 is in the portfolio


def test_kobo_xlsx_with_repeats_round_trips_through_export(cli: Cli, review: str, tmp_path: Path) -> None:
    source = tmp_path / "kobo.xlsx"
    source.write_bytes(kobo_xlsx())
    assert cli("form", "import-responses", str(source), "--form", "bilingual_test", "--review", review).exit_code == 0
    out = tmp_path / "export.xlsx"
    run = cli("form", "export-responses", "--form", "bilingual_test", "--format", "xlsx", "--out", str(out))
    assert run.exit_code == 0, run.stderr
    workbook = load_workbook(out)
    assert workbook.sheetnames[1:] == ["outcomes"]
    # the export reads back as the same submissions: nothing changes on re-import
    again = cli("form", "import-responses", str(out), "--form", "bilingual_test", "--review", review)
    assert again.exit_code == 0, again.stderr
    assert "0 submissions created, 0 updated, 3 unchanged" in again.stdout
    csv_out = tmp_path / "export.zip"
    run = cli("form", "export-responses", "--form", "bilingual_test", "--format", "csv", "--out", str(csv_out))
    assert "a zip of CSV files" in run.stdout  # the form has a repeat


def test_odk_zip_import(cli: Cli, review: str, tmp_path: Path) -> None:
    source = tmp_path / "bilingual_test.zip"
    source.write_bytes(odk_zip())
    run = cli("form", "import-responses", str(source), "--form", "bilingual_test", "--review", review)
    assert run.exit_code == 0, run.stderr
    assert "created" in run.stdout


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("kobo-bad-values.csv", '"maybe" is not a choice of the list yes_no'),
        ("kobo-duplicate-uuid.csv", "uuid"),
        ("kobo-labels.csv", "XML values and headers"),
    ],
)
def test_bad_exports_are_refused_and_nothing_is_written(cli: Cli, review: str, fixture: str, message: str) -> None:
    run = cli("form", "import-responses", str(RESPONSES / fixture), "--form", "bilingual_test", "--review", review)
    assert run.exit_code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    forms = json.loads(cli("form", "list", "--json").stdout)
    assert forms[0]["submissions"] == 0


def test_a_newer_export_updates_answers_and_keeps_each_change(cli: Cli, review: str, tmp_path: Path) -> None:
    path = RESPONSES / "kobo-bilingual.csv"
    cli("form", "import-responses", str(path), "--form", "bilingual_test", "--review", review)
    newer = tmp_path / "newer.csv"
    newer.write_text(
        path.read_text(encoding="utf-8").replace('"LM.0181";"2023-11-30";"45"', '"LM.0181";"2023-11-30";"50"'),
        encoding="utf-8",
    )
    run = cli("form", "import-responses", str(newer), "--form", "bilingual_test", "--review", review)
    assert "0 submissions created, 1 updated, 1 unchanged" in run.stdout
    current = tmp_path / "current.xlsx"
    original = tmp_path / "original.xlsx"
    cli("form", "export-responses", "--form", "bilingual_test", "--out", str(current))
    cli("form", "export-responses", "--form", "bilingual_test", "--out", str(original), "--original")

    def beneficiaries(file: Path) -> list[str]:
        sheet = load_workbook(io.BytesIO(file.read_bytes())).worksheets[0]
        header = [c.value for c in sheet[1]]
        column = header.index("beneficiaries")
        return [str(row[column]) for row in sheet.iter_rows(min_row=2, values_only=True)]

    assert "50" in beneficiaries(current)
    assert "45" in beneficiaries(original)


def test_unknown_form_and_bad_format(cli: Cli, review: str, tmp_path: Path) -> None:
    run = cli("form", "import-responses", str(RESPONSES / "kobo-bilingual.csv"), "--form", "nope")
    assert run.exit_code == 2
    assert "there is no form 'nope'" in run.stderr
    run = cli("form", "export-responses", "--form", "bilingual_test", "--format", "sav", "--out", str(tmp_path / "x"))
    assert run.exit_code == 2
    assert '"sav" is not an export format; use csv, xlsx or zip' in run.stderr
