"""`lmreview coding matrix`: codes × projects, documents, regions with denominators, the segments behind each
cell, co-occurrence, coder filter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.fixtures.coding.material import REPORTS, answer, make_review


@pytest.fixture
def coded(cli: Cli, tmp_path: Path) -> dict[str, int]:
    docs = make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    r181, r221 = REPORTS["report-0181.txt"][1], REPORTS["report-0221.txt"][1]
    rows = [
        (answer("LM.0181"), 0, 14, "Covid-19", "ana"),
        (answer("LM.0181"), 53, 73, "Lack of funding", "ana"),
        (answer("LM.0220"), 4, 12, "Covid-19", "ana"),
        (answer("LM.0221", "steps[2]/step"), 0, 6, "Lack of funding", "ana"),
        ("report-0181.txt", r181.index("The pandemic"), r181.index("The pandemic") + 12, "Covid-19", "ana"),
        ("report-0221.txt", r221.index("Funding"), r221.index("Funding") + 7, "Lack of funding", "ben"),
    ]
    csv = tmp_path / "codings.csv"
    csv.write_text(
        "source,start,end,code,coder\n" + "".join(f"{s},{a},{b},{c},{d}\n" for s, a, b, c, d in rows),
        encoding="utf-8",
    )
    run = cli("coding", "import", str(csv))
    assert run.exit_code == 0, run.stderr
    return {name: int(i) for name, i in docs.items()}


def matrix(cli: Cli, *args: str) -> dict[str, Any]:
    run = cli("coding", "matrix", "--review", "r", "--codebook", "challenges-2022", "--json", *args)
    assert run.exit_code == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def by_code(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["code"]: c for c in result["codes"]}


def test_matrix_by_project_with_denominators(cli: Cli, coded: dict[str, int]) -> None:
    run = cli("coding", "matrix", "--review", "r", "--codebook", "challenges-2022")
    assert run.exit_code == 0, run.stderr
    # four projects answered (LM.0168, LM.0181, LM.0220, LM.0221); two documents concern LM.0181 and LM.0221
    assert "Covid-19: 2 of 4 projects, 50% (3 segments)" in run.stdout
    assert "Lack of funding: 2 of 4 projects, 50% (3 segments)" in run.stdout
    assert "Lack of funding + Covid-19: 1 projects" in run.stdout or "Covid-19 + Lack of funding: 1" in run.stdout
    result = matrix(cli)
    assert result["denominator"] == 4
    assert [c["key"] for c in result["columns"]] == ["LM.0168", "LM.0181", "LM.0220", "LM.0221"]
    covid = by_code(result)["Covid-19"]
    assert (covid["units"], covid["of"], covid["pct"], covid["rows"]) == (2, 4, 50.0, ["LM.0181", "LM.0220"])
    cells = {c["key"]: c for c in covid["cells"]}
    assert len(cells["LM.0181"]["segments"]) == 2  # the answer and the report
    assert cells["LM.0168"]["segments"] == []
    listed = {r["id"]: r for r in json.loads(cli("coding", "list", "--json").stdout)}
    assert {listed[i]["code"] for i in cells["LM.0181"]["segments"]} == {"Covid-19"}
    assert by_code(result)["Lack of funding"]["rows"] == ["LM.0181", "LM.0221"]
    assert result["co_occurrence"] == [{"a": "Lack of funding", "b": "Covid-19", "units": 1}] or result[
        "co_occurrence"
    ] == [{"a": "Covid-19", "b": "Lack of funding", "units": 1}]


def test_matrix_by_region_document_and_coder(cli: Cli, coded: dict[str, int]) -> None:
    regions = matrix(cli, "--by", "region")
    assert {(c["key"], c["units"]) for c in regions["columns"]} == {("Africa", 2), ("Asia", 2)}
    covid = {c["key"]: (c["units"], c["of"]) for c in by_code(regions)["Covid-19"]["cells"]}
    assert covid == {"Africa": (1, 2), "Asia": (1, 2)}

    documents = matrix(cli, "--by", "document")
    assert documents["denominator"] == 2
    funding = by_code(documents)["Lack of funding"]
    assert funding["text"] == "Lack of funding: 1 of 2 documents, 50%"
    assert funding["rows"] == [str(coded["report-0221.txt"])]

    only_ana = matrix(cli, "--coders", "ana")
    assert by_code(only_ana)["Lack of funding"]["rows"] == ["LM.0181", "LM.0221"]  # LM.0221's step, by ana
    only_ben = matrix(cli, "--coders", "ben")
    assert by_code(only_ben)["Lack of funding"]["text"] == "Lack of funding: 1 of 4 projects, 25%"
    assert by_code(only_ben)["Covid-19"]["units"] == 0


def test_matrix_refusals(cli: Cli, coded: dict[str, int]) -> None:
    bad = cli("coding", "matrix", "--review", "r", "--codebook", "challenges-2022", "--by", "country")
    assert bad.exit_code == 2
    assert "use project, document, region, category" in bad.stderr
    assert cli("coding", "codebook", "starter", "dac-criteria").exit_code == 0
    unnamed = cli("coding", "matrix", "--review", "r")
    assert unnamed.exit_code == 2
    assert "name the codebook with --codebook" in unnamed.stderr
    unknown = cli("coding", "matrix", "--review", "nope", "--codebook", "dac-criteria")
    assert unknown.exit_code == 2


def test_matrix_workbook_lists_the_segments_behind_each_cell(cli: Cli, coded: dict[str, int], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "matrix.xlsx"
    run = cli("coding", "matrix", "--review", "r", "--codebook", "challenges-2022", "--xlsx", str(out))
    assert run.exit_code == 0, run.stderr
    assert "Covid-19: 2 of 4 projects, 50%" in run.stdout
    workbook = load_workbook(out)
    counts = {row[0]: row for row in workbook["matrix"].iter_rows(min_row=4, values_only=True)}
    assert counts["Covid-19"][1:5] == (2, 4, 50.0, 3)
    segments = [row for row in workbook["segments"].iter_rows(min_row=2, values_only=True) if row[0] == "Covid-19"]
    assert sorted((row[1], row[6]) for row in segments) == [
        ("LM.0181", "Borders closed"),
        ("LM.0181", "The pandemic"),
        ("LM.0220", "lockdown"),
    ]
