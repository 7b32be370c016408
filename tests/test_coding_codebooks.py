"""Codebooks through the CLI: starters, codes and groups, CSV/XLSX/.qdc import and export, REFI-QDA schema
validation, real codebooks of other tools, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import ROOT, Cli

REFIQDA = ROOT.parent / "shared" / "realworld" / "refiqda"


@pytest.fixture(scope="module")
def codebook_schema() -> object:
    path = REFIQDA / "schema" / "Codebook-mrt2019.xsd"
    if not path.is_file():
        pytest.skip(f"the REFI-QDA schemas are not beside the project ({path.parent})")
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(path)))


def _valid(schema: object, data: bytes) -> None:
    from lxml import etree

    document = etree.fromstring(data)
    assert schema.validate(document), schema.error_log  # type: ignore[attr-defined]


def test_starter_codebooks(cli: Cli) -> None:
    run = cli("coding", "codebook", "starter", "challenges-2022")
    assert run.exit_code == 0, run.stderr
    assert "20 codes" in run.stdout
    assert cli("coding", "codebook", "starter", "dac-criteria").exit_code == 0
    shown = json.loads(cli("coding", "codebook", "show", "challenges-2022", "--json").stdout)
    names = [c["name"] for c in shown["codes"]]
    assert len(names) == 20
    assert "Covid-19" in names
    assert "Lack of funding" in names
    assert all(c["description"] and c["colour"].startswith("#") for c in shown["codes"])
    dac = json.loads(cli("coding", "codebook", "show", "dac-criteria", "--json").stdout)
    assert [c["name"] for c in dac["codes"]] == [
        "Relevance",
        "Coherence",
        "Effectiveness",
        "Efficiency",
        "Impact",
        "Sustainability",
    ]
    listed = cli("coding", "codebook", "list", "--json")
    assert {(b["name"], b["codes"]) for b in json.loads(listed.stdout)} == {
        ("challenges-2022", 20),
        ("dac-criteria", 6),
    }
    again = cli("coding", "codebook", "starter", "dac-criteria")
    assert again.exit_code == 2
    assert 'a codebook "dac-criteria" exists already' in again.stderr
    unknown = cli("coding", "codebook", "starter", "gcm")
    assert unknown.exit_code == 2
    assert "challenges-2022, dac-criteria" in unknown.stderr


def test_codes_hierarchy_and_exclusive_group(cli: Cli, tmp_path: Path, codebook_schema: object) -> None:
    assert cli("coding", "codebook", "create", "outcomes", "--title", "Outcomes").exit_code == 0
    assert cli("coding", "codebook", "add-code", "outcomes", "Outcome reached", "--colour", "#123").exit_code == 0
    for name in ("Fully", "Partly", "Not"):
        run = cli("coding", "codebook", "add-code", "outcomes", name, "--parent", "Outcome reached")
        assert run.exit_code == 0, run.stderr
    run = cli("coding", "codebook", "add-group", "outcomes", "reached", "Fully", "Partly", "Not", "--exclusive")
    assert run.exit_code == 0, run.stderr
    shown = json.loads(cli("coding", "codebook", "show", "outcomes", "--json").stdout)
    assert [c["path"] for c in shown["codes"]] == [
        "Outcome reached",
        "Outcome reached/Fully",
        "Outcome reached/Partly",
        "Outcome reached/Not",
    ]
    assert shown["codes"][0]["colour"] == "#112233"
    assert shown["groups"] == [{"name": "reached", "exclusive": True}]
    bad = cli("coding", "codebook", "add-code", "outcomes", "X", "--colour", "red")
    assert bad.exit_code == 2
    assert "#RRGGBB" in bad.stderr
    twice = cli("coding", "codebook", "add-code", "outcomes", "Fully")
    assert twice.exit_code == 2
    assert "already" in twice.stderr
    orphan = cli("coding", "codebook", "add-code", "outcomes", "Y", "--parent", "Nowhere")
    assert orphan.exit_code == 2
    assert 'no code "Nowhere"' in orphan.stderr

    # .qdc: valid against the schema, and read back the same (hierarchy, colours, the exclusive group)
    qdc = tmp_path / "outcomes.qdc"
    assert cli("coding", "codebook", "export", "outcomes", "--out", str(qdc)).exit_code == 0
    _valid(codebook_schema, qdc.read_bytes())
    assert cli("coding", "codebook", "import", str(qdc), "--name", "outcomes-copy").exit_code == 0
    copy = json.loads(cli("coding", "codebook", "show", "outcomes-copy", "--json").stdout)
    assert copy["codes"] == shown["codes"]
    assert copy["groups"] == shown["groups"]

    # CSV and XLSX round trips
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"outcomes.{suffix}"
        assert cli("coding", "codebook", "export", "outcomes", "--out", str(out)).exit_code == 0
        run = cli("coding", "codebook", "import", str(out), "--name", f"from-{suffix}")
        assert run.exit_code == 0, run.stderr
        back = json.loads(cli("coding", "codebook", "show", f"from-{suffix}", "--json").stdout)
        assert back["codes"] == shown["codes"]
        assert back["groups"] == shown["groups"]
    assert "code,parent,description,colour,group,exclusive" in (tmp_path / "outcomes.csv").read_text()


def test_starter_exports_validate(cli: Cli, tmp_path: Path, codebook_schema: object) -> None:
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    out = tmp_path / "c.qdc"
    assert cli("coding", "codebook", "export", "challenges-2022", "--out", str(out)).exit_code == 0
    _valid(codebook_schema, out.read_bytes())


def test_bad_codebook_files(cli: Cli, tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("code,parent,colour,exclusive\nA,,#zzzzzz,\nB,Missing,,maybe\nA,,,\n", encoding="utf-8")
    run = cli("coding", "codebook", "import", str(csv), "--name", "bad")
    assert run.exit_code == 2
    assert "bad.csv:2:colour:" in run.stderr
    assert "bad.csv:3:exclusive:" in run.stderr
    assert "bad.csv:3:parent: no code" in run.stderr
    assert 'bad.csv:4:code: "A" is named twice' in run.stderr
    assert json.loads(cli("coding", "codebook", "list", "--json").stdout) == []

    bomb = tmp_path / "bomb.qdc"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" '
        'name="&b;" isCodable="true"/></Codes></CodeBook>',
        encoding="utf-8",
    )
    run = cli("coding", "codebook", "import", str(bomb), "--name", "bomb")
    assert run.exit_code == 2
    assert "entities" in run.stderr
    broken = tmp_path / "broken.qdc"
    broken.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="x" name="A"', encoding="utf-8")
    assert cli("coding", "codebook", "import", str(broken), "--name", "broken").exit_code == 2
    unknown = tmp_path / "unknown.qdc"
    unknown.write_text(
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" '
        'name="A" isCodable="true"/></Codes><Sets><Set guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55295" name="S">'
        '<MemberCode guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55299"/></Set></Sets></CodeBook>',
        encoding="utf-8",
    )
    run = cli("coding", "codebook", "import", str(unknown), "--name", "unknown")
    assert run.exit_code == 2
    assert 'the set "S" names an unknown code' in run.stderr
    assert json.loads(cli("coding", "codebook", "list", "--json").stdout) == []


@pytest.mark.parametrize(
    ("sample", "codes", "groups"),
    [
        ("atlasti-win-23.4.0__requal-test__valid.qdc", 1, 1),
        ("maxqda-24.7__paper_themes__codebook-extracted-from-qde.qdc", 343, 0),
        ("refi-spec-1.5-annexA1__ponte-pdf__example-codebook.qdc", 6, 0),
        ("taguette-1.4.1__uto_tag__codebook.qdc", 3, 0),
    ],
)
def test_real_codebooks_of_other_tools(cli: Cli, sample: str, codes: int, groups: int) -> None:
    path = REFIQDA / "samples" / sample
    if not path.is_file():
        pytest.skip(f"the REFI-QDA samples are not beside the project ({path.parent})")
    run = cli("coding", "codebook", "import", str(path), "--name", "sample")
    assert run.exit_code == 0, run.stderr
    listed = json.loads(cli("coding", "codebook", "list", "--json").stdout)
    assert (listed[0]["codes"], listed[0]["groups"]) == (codes, groups)


def test_a_description_that_starts_with_equals_stays_text_in_the_xlsx(cli: Cli, tmp_path: Path) -> None:
    """openpyxl takes a text starting with "=" for a formula: the workbook would make Excel compute it. Every
    export through openpyxl (tables.workbook_bytes) writes it as the text it is, and it imports back unchanged."""
    source = tmp_path / "eq.csv"
    source.write_text('code,description\nCosts,"=HYPERLINK(""http://x.example"",""click"")"\nGaps,=1+1\n', "utf-8")
    assert cli("coding", "codebook", "import", str(source), "--name", "eq").exit_code == 0
    out = tmp_path / "eq.xlsx"
    assert cli("coding", "codebook", "export", "eq", "--out", str(out)).exit_code == 0
    sheet = load_workbook(out)["codebook"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert [c.value for c in cells] == ['=HYPERLINK("http://x.example","click")', "=1+1"]
    assert {c.data_type for c in cells} == {"s"}
    assert cli("coding", "codebook", "import", str(out), "--name", "eq-back").exit_code == 0
    back = json.loads(cli("coding", "codebook", "show", "eq-back", "--json").stdout)
    assert [c["description"] for c in back["codes"]] == ['=HYPERLINK("http://x.example","click")', "=1+1"]
