"""Imports judge answers as the web form does: an answer beyond the engine's limits (an integer outside 32 bits, a
decimal that is not finite, a text over 10,000 characters) is refused at FILE:ROW:COLUMN with nothing written; and a
form stored when list names were lower-cased still finds its lists in imports, exports and tabulation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from lmreview.questionnaire.models import FormVersion
from lmreview.store import Store
from tests.conftest import Cli

FORM = """| survey |
| | type | name | label |
| | integer | staff | Staff |
| | decimal | budget | Budget |
| | text | notes | Notes |
| | select_one yesNo | funded | Funded? |
| | select_multiple topicList | topics | Topics |
| choices |
| | list_name | name | label |
| | yesNo | Y | Yes |
| | yesNo | N | No |
| | topicList | skills | Skills |
| | topicList | rights | Rights |
| settings |
| | form_id | version |
| | limits | 1 |
"""
HEADER = "staff;budget;notes;funded;topics;_uuid;_submission_time"


def _export(tmp_path: Path, *rows: str) -> str:
    path = tmp_path / "kobo.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def form(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "limits.md").write_text(FORM, encoding="utf-8")
    assert cli("form", "add", str(tmp_path / "limits.md")).exit_code == 0


@pytest.mark.parametrize(
    ("cells", "column", "words"),
    [
        ("2147483648;1;ok;Y;", "staff", "outside the range of a whole number (-2147483648 to 2147483647)"),
        ("-99999999999999999999999;1;ok;Y;", "staff", "outside the range of a whole number"),
        ("3;1e999;ok;Y;", "budget", "too large for a decimal"),
        (f"3;1;{'x' * 10_001};Y;", "notes", "this answer has 10,001 characters; at most 10,000 can be kept"),
    ],
)
def test_an_answer_beyond_the_limits_is_refused_at_its_cell(
    cli: Cli, form: None, tmp_path: Path, cells: str, column: str, words: str
) -> None:
    source = _export(
        tmp_path, "2147483647;1.5;fine;N;skills;u-1;2024-05-01T10:00:00", f"{cells};u-2;2024-05-02T10:00:00"
    )
    run = cli("form", "import-responses", source, "--form", "limits")
    assert run.exit_code == 2
    lines = [line for line in run.stderr.splitlines() if line.startswith(source)]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"{source}:3:{column}: ")
    assert words in lines[0]
    assert "x" * 100 not in run.stderr  # the over-long answer is not echoed back
    assert "nothing was written" in run.stderr
    export = cli("form", "export-responses", "--form", "limits", "--format", "csv", "--out", str(tmp_path / "o.csv"))
    assert export.exit_code == 0
    assert (tmp_path / "o.csv").read_text(encoding="utf-8").count("\n") == 1  # the header only


def test_the_largest_answers_within_the_limits_are_imported(cli: Cli, form: None, tmp_path: Path) -> None:
    source = _export(tmp_path, f"-2147483648;1.7976931348623157e308;{'y' * 10_000};Y;rights;u-1;2024-05-01T10:00:00")
    run = cli("form", "import-responses", source, "--form", "limits")
    assert run.exit_code == 0, run.stderr
    assert "1 submissions created" in run.stdout or "1 submission created" in run.stdout


def test_a_form_stored_with_lower_cased_list_names_still_imports_exports_and_tabulates(
    cli: Cli, form: None, store: Store, tmp_path: Path
) -> None:
    with store.session() as session:  # as stored before list names kept their case: the select says "yesno"
        version = session.scalars(select(FormVersion)).one()
        definition = json.loads(json.dumps(version.definition))
        for question in definition["survey"]:
            if question["list_name"]:
                question["list_name"] = question["list_name"].lower()
        version.definition = definition
        session.commit()
    source = _export(
        tmp_path, "3;1;a;Y;skills rights;u-1;2024-05-01T10:00:00", "4;2;b;N;rights;u-2;2024-05-01T11:00:00"
    )
    run = cli("form", "import-responses", source, "--form", "limits")
    assert run.exit_code == 0, run.stderr
    out = tmp_path / "out.csv"
    assert cli("form", "export-responses", "--form", "limits", "--format", "csv", "--out", str(out)).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith('"staff";"budget";"notes";"funded";"topics";"topics/skills";"topics/rights";"_id"')
    assert lines[1].startswith('"3";"1";"a";"Y";"skills rights";"1";"1";')
    assert lines[2].startswith('"4";"2";"b";"N";"rights";"0";"1";')
    table = cli("tabulate", "--form", "limits", "--question", "funded")
    assert table.exit_code == 0, table.stderr
    assert "Yes" in table.stdout
    assert "No" in table.stdout
