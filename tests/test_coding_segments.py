"""Coding answers (including repeats) and documents through the CLI: spans, exclusive groups, the codings CSV
import (located errors, atomic), export and re-import, removal, re-ingesting a document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import Cli
from tests.fixtures.coding.material import REPORTS, answer, make_review, uuid_of


@pytest.fixture
def docs(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    documents = make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    return documents


def codings(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = json.loads(cli("coding", "list", "--json", *args).stdout)
    return result


def test_sources_list_the_free_text_answers_with_repeats(cli: Cli, docs: dict[str, Any]) -> None:
    sources = json.loads(cli("coding", "sources", "--review", "r", "--json").stdout)
    references = [s["reference"] for s in sources]
    assert answer("LM.0181") in references
    assert answer("LM.0221", "steps[2]/step") in references
    step = next(s for s in sources if s["reference"] == answer("LM.0221", "steps[2]/step"))
    assert (step["text"], step["project"]) == ("Budget revised", "LM.0221")


def test_code_answers_repeats_and_documents(cli: Cli, docs: dict[str, Any], tmp_path: Path) -> None:
    run = cli(
        "coding",
        "add",
        answer("LM.0181"),
        "0",
        "14",
        "Covid-19",
        "--codebook",
        "challenges-2022",
        "--coder",
        "ana",
        "--memo",
        "borders",
    )
    assert run.exit_code == 0, run.stderr
    assert '"Borders closed"' in run.stdout
    run = cli(
        "coding",
        "add",
        answer("LM.0221", "steps[2]/step"),
        "0",
        "6",
        "Lack of funding",
        "--codebook",
        "challenges-2022",
        "--coder",
        "ana",
    )
    assert run.exit_code == 0, run.stderr
    text = REPORTS["report-0181.txt"][1]
    start = text.index("The pandemic")
    run = cli(
        "coding",
        "add",
        "report-0181.txt",
        str(start),
        str(start + 12),
        "Covid-19",
        "--codebook",
        "challenges-2022",
        "--coder",
        "ana",
    )
    assert run.exit_code == 0, run.stderr
    rows = codings(cli)
    assert [(r["source"], r["text"], r["coder"]) for r in rows] == [
        (answer("LM.0181"), "Borders closed", "ana"),
        (answer("LM.0221", "steps[2]/step"), "Budget", "ana"),
        ("report-0181.txt", "The pandemic", "ana"),
    ]
    assert rows[0]["memo"] == "borders"
    assert rows[2]["unit"].startswith("passage:")

    outside = cli("coding", "add", answer("LM.0168"), "60", "90", "Covid-19", "--codebook", "challenges-2022")
    assert outside.exit_code == 2
    assert "outside the text" in outside.stderr
    twice = cli(
        "coding", "add", answer("LM.0181"), "0", "14", "Covid-19", "--codebook", "challenges-2022", "--coder", "ana"
    )
    assert twice.exit_code == 2
    assert "already" in twice.stderr
    unknown = cli(
        "coding", "add", f"{uuid_of('LM.0181')}/nothing", "0", "3", "Covid-19", "--codebook", "challenges-2022"
    )
    assert unknown.exit_code == 2
    assert 'no free-text answer at "nothing"' in unknown.stderr

    # re-adding the same file leaves its codings alone
    again = cli("evidence", "add", str(tmp_path / "report-0181.txt"))
    assert "already in the library" in again.stdout
    assert len(codings(cli)) == 3

    removed = cli("coding", "remove", str(rows[1]["id"]))
    assert removed.exit_code == 0
    assert len(codings(cli)) == 2
    assert cli("coding", "remove", str(rows[1]["id"])).exit_code == 2


def test_exclusive_group_allows_one_code_per_unit(cli: Cli, docs: dict[str, Any]) -> None:
    assert cli("coding", "codebook", "create", "reached").exit_code == 0
    for name in ("Fully", "Partly", "Not"):
        assert cli("coding", "codebook", "add-code", "reached", name).exit_code == 0
    assert (
        cli("coding", "codebook", "add-group", "reached", "outcome", "Fully", "Partly", "Not", "--exclusive").exit_code
        == 0
    )
    first = cli("coding", "add", answer("LM.0220"), "0", "12", "Partly", "--codebook", "reached", "--coder", "ana")
    assert first.exit_code == 0, first.stderr
    second = cli("coding", "add", answer("LM.0220"), "13", "20", "Fully", "--codebook", "reached", "--coder", "ana")
    assert second.exit_code == 2
    assert 'gave this unit "Partly" already' in second.stderr
    other_coder = cli(
        "coding", "add", answer("LM.0220"), "13", "20", "Fully", "--codebook", "reached", "--coder", "ben"
    )
    assert other_coder.exit_code == 0


def test_import_is_atomic_with_located_errors_and_round_trips(cli: Cli, docs: dict[str, Any], tmp_path: Path) -> None:
    text = REPORTS["report-0221.txt"][1]
    start = text.index("Funding")
    bad = tmp_path / "codings.csv"
    bad.write_text(
        "source,start,end,code,coder,memo\n"
        f"{answer('LM.0181')},0,14,Covid-19,ben,\n"
        f"{docs['report-0221.txt']},{start},{start + 7},Lack of funding,ben,first\n"
        "nowhere.pdf,0,3,Covid-19,ben,\n"
        f"{answer('LM.0181')},0,999,Covid-19,ben,\n"
        f"{answer('LM.0181')},0,5,Pandemic,ben,\n"
        f"{answer('LM.0181')},x,5,Covid-19,ben,\n",
        encoding="utf-8",
    )
    run = cli("coding", "import", str(bad), "--codebook", "challenges-2022")
    assert run.exit_code == 2
    assert "codings.csv:4:source: no document" in run.stderr
    assert "codings.csv:5:start: the span 0-999 is outside the text" in run.stderr
    assert 'codings.csv:6:code: no code "Pandemic" in challenges-2022' in run.stderr
    assert "codings.csv:7:start: start and end must be whole numbers" in run.stderr
    assert codings(cli) == []

    good = tmp_path / "good.csv"
    good.write_text("\n".join(bad.read_text().splitlines()[:3]) + "\n", encoding="utf-8")
    run = cli("coding", "import", str(good))
    assert run.exit_code == 0, run.stderr
    assert "Imported 2 codings by ben" in run.stdout
    rows = codings(cli)
    assert {r["text"] for r in rows} == {"Borders closed", "Funding"}

    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"export.{fmt}"
        run = cli("coding", "export", "--out", str(out))
        assert run.exit_code == 0, run.stderr
    header = (tmp_path / "export.csv").read_text().splitlines()[0]
    assert header == "source,start,end,code,coder,memo,codebook,text,coded_at"
    sheet = load_workbook(tmp_path / "export.xlsx")["codings"]
    assert [c.value for c in sheet[1]][:5] == ["source", "start", "end", "code", "coder"]
    assert sheet.max_row == 3

    # the export imports again into an empty store with the same material
    rerun = cli("coding", "import", str(tmp_path / "export.csv"))
    assert rerun.exit_code == 2  # the same codings exist already: refused, nothing doubled
    assert "already" in rerun.stderr
    assert len(codings(cli)) == 2
    assert [r["coder"] for r in codings(cli, "--coders", "ana")] == []
