"""`lmreview form ...`: adding XLSForms (versions, errors at FILE:SHEET:ROW), templates, downloads; the forms pages."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import TEMPLATES, Cli


def xlsform(
    survey: list[list[str]], choices: list[list[str]] | None = None, settings: list[list[str]] | None = None
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows:
            extra = workbook.create_sheet(title)
            for row in rows:
                extra.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


SMALL = [
    ["type", "name", "label", "relevant", "constraint"],
    ["text", "project_code", "Project code", "", ""],
    ["integer", "people", "People reached", "", ". >= 0"],
    ["select_one yn", "done", "Done?", "", ""],
    ["text", "why", "Why not?", "${done} = 'no'", ""],
]
YN = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def forms(cli: Cli) -> list[dict[str, Any]]:
    run = cli("form", "list", "--json")
    assert run.exit_code == 0, run.stderr
    result: list[dict[str, Any]] = json.loads(run.stdout)
    return result


def test_add_list_and_new_versions(cli: Cli, tmp_path: Path) -> None:
    first = write(tmp_path, "small.xlsx", xlsform(SMALL, YN, [["form_id", "version"], ["small", "1"]]))
    run = cli("form", "add", str(first))
    assert run.exit_code == 0, run.stderr
    assert "Added form small: version 1, 4 questions, languages: default." in run.stdout
    again = cli("form", "add", str(first))
    assert "Form small is unchanged (version 1)." in again.stdout
    changed = xlsform([*SMALL, ["date", "end", "End date", "", ""]], YN, [["form_id", "version"], ["small", "1"]])
    refused = cli("form", "add", str(write(tmp_path, "small2.xlsx", changed)))
    assert refused.exit_code == 2
    assert 'small2.xlsx:settings:2:version: form small already has a version "1" with other content' in refused.stderr
    bumped = xlsform([*SMALL, ["date", "end", "End date", "", ""]], YN, [["form_id", "version"], ["small", "2"]])
    run = cli("form", "add", str(write(tmp_path, "small3.xlsx", bumped)))
    assert "Added a new version of form small: version 2, 5 questions" in run.stdout
    assert forms(cli) == [
        {
            "form": "small",
            "title": "small",
            "version": "2",
            "versions": 2,
            "languages": ["default"],
            "questions": 5,
            "submissions": 0,
        }
    ]


def test_a_form_without_version_gets_one_by_date(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "nov.xlsx", xlsform(SMALL, YN))
    run = cli("form", "add", str(path), "--name", "nover")
    assert run.exit_code == 0, run.stderr
    version = forms(cli)[0]["version"]
    assert version.endswith(".1")
    assert len(version) == len("2026-11-23.1")


@pytest.mark.parametrize(
    ("survey", "choices", "expected"),
    [
        (
            [["type", "name", "label"], ["text", "a", "A"], ["text", "a", "again"]],
            None,
            "bad.xlsx:survey:3:-: On the 'survey' sheet, the 'name' value 'a' is invalid.",
        ),
        (
            [["type", "name", "label"], ["begin group", "g", "G"], ["text", "a", "A"]],
            None,
            "bad.xlsx:survey:2:-: Unmatched 'begin_group'.",
        ),
        (
            [["type", "name", "label", "relevant"], ["text", "a", "A", "${nothere} = 1"]],
            None,
            "bad.xlsx:survey:2:-: On the 'survey' sheet, the 'relevant' value is invalid.",
        ),
        (
            [["type", "name", "label", "relevant"], ["text", "a", "A", ""], ["text", "b", "B", "${a} = = 1"]],
            None,
            "bad.xlsx:survey:3:relevant: ",
        ),
        (
            [["type", "name", "label", "constraint"], ["integer", "a", "A", "frobnicate(.)"]],
            None,
            "bad.xlsx:survey:2:constraint: ",
        ),
        (
            [["type", "name", "label"], ["text", "a", "A"], ["osm", "building", "Building"], ["osm", "more", "More"]],
            None,
            "bad.xlsx:survey:3:type: lmreview cannot serve this form: it uses osm questions (files sent with the "
            "answers) (rows 3, 4), which lmreview does not support",
        ),
        (
            [["type", "name", "label"], ["select_one nolist", "b", "B"]],
            [["list_name", "name", "label"], ["x", "a", "A"]],
            "nolist",
        ),
    ],
    ids=[
        "duplicate-name",
        "unclosed-group",
        "unknown-reference",
        "bad-expression",
        "unknown-function",
        "unsupported-type",
        "unknown-list",
    ],
)
def test_bad_xlsforms_are_refused_with_located_errors(
    cli: Cli, tmp_path: Path, survey: list[list[str]], choices: list[list[str]] | None, expected: str
) -> None:
    run = cli("form", "add", str(write(tmp_path, "bad.xlsx", xlsform(survey, choices))), "--name", "bad")
    assert run.exit_code == 2
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert any(expected in line for line in lines), run.stderr
    assert forms(cli) == []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("form.csv", b"type,name,label\ntext,a,A\n", "a CSV file holds one sheet"),
        ("form.xlsx", b"PK\x03\x04 not really", "not an XLSX workbook"),
        ("form.md", b"| choices |\n| | list_name | name | label |\n| | x | a | A |\n", "sheet named survey"),
    ],
)
def test_files_that_are_not_xlsforms(cli: Cli, tmp_path: Path, name: str, data: bytes, message: str) -> None:
    run = cli("form", "add", str(write(tmp_path, name, data)))
    assert run.exit_code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_templates_list_add_and_round_trip_through_xlsx(cli: Cli, tmp_path: Path) -> None:
    listed = cli("form", "templates")
    for name in ("idf-lm-2022", "idf-lm-2016", "bilingual-test"):
        assert name in listed.stdout
    out = tmp_path / "idf.xlsx"
    run = cli("form", "templates", "--out", str(out), "--name", "idf-lm-2022")
    assert run.exit_code == 0, run.stderr
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["survey", "choices", "settings"]
    assert [c.value for c in workbook["settings"][2]][:3] == [
        "IOM Development Fund Questionnaire on Labour Migration Projects between 2016-2020",
        "idf_lm_2022",
        "2022.1",
    ]
    added = cli("form", "add", str(out))
    assert added.exit_code == 0, added.stderr
    assert "Added form idf_lm_2022: version 2022.1" in added.stdout
    back = tmp_path / "back.xlsx"
    assert cli("form", "download", "idf_lm_2022", "--out", str(back)).exit_code == 0
    assert back.read_bytes() == out.read_bytes()  # an uploaded XLSX comes back as it was
    assert cli("form", "templates", "--add", "idf-lm-2016").exit_code == 0
    assert {f["form"] for f in forms(cli)} == {"idf_lm_2022", "idf_lm_2016"}


def test_unknown_template_and_form(cli: Cli, tmp_path: Path) -> None:
    run = cli("form", "templates", "--add", "nope")
    assert run.exit_code == 2
    assert "there is no template 'nope'; templates: bilingual-test, idf-lm-2016, idf-lm-2022" in run.stderr
    run = cli("form", "download", "nope", "--out", str(tmp_path / "x.xlsx"))
    assert run.exit_code == 2
    assert "there is no form 'nope'" in run.stderr


def test_bilingual_template_has_both_languages(cli: Cli) -> None:
    run = cli("form", "add", str(TEMPLATES / "bilingual-test.md"))
    assert run.exit_code == 0, run.stderr
    assert "languages: English (en), Français (fr)" in run.stdout
    assert "or_other and translations" in run.stderr  # pyxform's warning is passed on, not hidden


def test_last_saved_defaults_are_checked(cli: Cli, tmp_path: Path) -> None:
    survey = [["type", "name", "label", "default"], ["text", "office", "Office", "${last-saved#ofice}"]]
    run = cli("form", "add", str(write(tmp_path, "typo.xlsx", xlsform(survey))))
    assert run.exit_code == 2
    assert "typo.xlsx:survey:2:-:" in run.stderr
    assert "Could not find the name 'ofice'" in run.stderr  # pyxform reads the name
    survey = [
        ["type", "name", "label", "calculation"],
        ["text", "office", "Office", ""],
        ["calculate", "again", "", "concat(${last-saved#office}, '!')"],
    ]
    run = cli("form", "add", str(write(tmp_path, "inside.xlsx", xlsform(survey))))
    assert run.exit_code == 0, run.stderr  # ${last-saved#…} in an expression is read: test_questionnaire_last_saved
