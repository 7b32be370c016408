"""The evidence library on the source documents (skipped where ../shared/seeds is absent): their metadata as the
text states it, their structure, and search across them, the same on SQLite and PostgreSQL."""

from __future__ import annotations

# own-words: gold annotations (the items each seed holds, quoted as the extraction must find them)
import json
from pathlib import Path

import pytest

from tests.conftest import Cli


@pytest.fixture
def seeded(cli: Cli, seeds: Path) -> dict[str, dict[str, object]]:
    files = sorted(str(p) for p in seeds.glob("00[0-3]_*.txt"))
    run = cli("evidence", "add", *files, "--jobs", "2")
    assert run.exit_code == 0, run.stderr
    assert "4 added, 0 already there, 0 refused" in run.stdout
    return {str(d["file"])[:3]: d for d in json.loads(cli("evidence", "list", "--json").stdout)}


def test_the_brief_header_block_gives_the_metadata(seeded: dict[str, dict[str, object]], seeds: Path) -> None:
    brief = seeded["002"]
    first_line = next(line for line in next(seeds.glob("002_*.txt")).read_text(encoding="utf-8").splitlines() if line)
    assert first_line.startswith("THEMATIC EVALUATION OF IOM'S")
    assert brief["title"] == first_line.strip()  # the title line of the brief, quoted from the seed at run time
    assert (brief["type"], brief["evaluation_type"]) == ("evaluation_brief", "thematic")
    assert (brief["evaluators"], brief["period"], brief["year"]) == ("Samuel Hall", "2017–2022", 2023)
    assert brief["organisation"] == "IOM Central Evaluation Unit"


def test_organisations_and_project_codes(seeded: dict[str, dict[str, object]]) -> None:
    assert [seeded[k]["organisation"] for k in ("000", "001", "003")] == ["IOM", "IOM", "ILO"]
    codes = seeded["001"]["project_codes"]
    assert isinstance(codes, list)
    assert len(codes) == 14  # the analysed projects of Annex 3
    assert "LM.0181" in codes
    assert len(seeded["000"]["project_codes"]) >= 27  # the completed projects of Annex 1


def test_recommendations_are_headings_of_the_outline(cli: Cli, seeded: dict[str, dict[str, object]]) -> None:
    show = cli("evidence", "show", str(seeded["003"]["id"]))
    assert show.exit_code == 0
    outline = [line.split("  ", 2)[-1] for line in show.stdout.split("outline:")[1].splitlines() if line.strip()]
    recommendations = [line for line in outline if line.startswith("Recommendation ")]
    assert recommendations == [f"Recommendation {n}" for n in range(1, 7)] * 2  # summary and the Office response
    assert "Office response" in outline


def test_search_across_the_seeds(cli: Cli, seeded: dict[str, dict[str, object]]) -> None:
    run = cli("evidence", "search", '"fair recruitment" AND fees', "--organisation", "ILO", "--json")
    hits = json.loads(run.stdout)
    assert hits
    assert {h["document"] for h in hits} == {seeded["003"]["id"]}
    findings = json.loads(cli("evidence", "search", '"key finding 14"', "--json").stdout)
    assert [h["section"] for h in findings][:1] == ["Efficiency"]
    phrase = json.loads(cli("evidence", "search", '"monitoring and evaluation"', "--limit", "1", "--json").stdout)
    assert "monitoring and evaluation" in phrase[0]["snippet"].replace("**", "").lower()
    by_project = json.loads(cli("evidence", "search", "migrant", "--project", "LM.0181", "--json").stdout)
    assert {h["document"] for h in by_project} == {seeded["001"]["id"]}
