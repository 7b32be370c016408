"""The recommendations of 003 (an ILO high-level evaluation) and the Office's responses to them, brought into the
register from the evidence library, each linked back to its page; the lessons of 000 brought into the library."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli

# 003 §7-8: priority, time implication and the stance of the Office response of each recommendation
EXPECTED_003 = {
    "1": ("High", "Long-term", "partially_agrees"),
    "2": ("Medium", "Long-term", "agrees"),
    "3": ("High", "Long-term", "agrees"),
    "4": ("High", "Medium-term", "agrees"),
    "5": ("High", "Long-term", "agrees"),
    "6": ("High; Medium", "Short-term; Medium-term", "agrees"),
}


def test_the_six_recommendations_of_003_with_the_office_responses(cli: Cli, seeds: Path) -> None:
    [seed] = sorted(seeds.glob("003_*.txt"))
    added = cli("evidence", "add", str(seed))
    assert added.exit_code == 0, added.stderr
    run = cli("tracking", "recs", "import-evidence")
    assert run.exit_code == 0, run.stderr
    assert "6 added, 0 skipped" in run.stdout
    recs = json.loads(cli("tracking", "recs", "list", "--json").stdout)
    found = {r["number"]: (r["priority"], r["time_implication"], r["response"]["stance"]) for r in recs}
    assert found == EXPECTED_003
    first = recs[0]
    assert first["units"][:2] == [
        "Labour Migration (MIGRANT)",
        "Department of Communication and Public Information (DCOMM)",
    ]
    assert first["review"] is None
    assert first["page"] is not None
    assert first["passage_id"] is not None
    assert first["response"]["text"]
    status = json.loads(cli("tracking", "status", "--json").stdout)
    assert status["responses"] == {"agrees": 5, "partially_agrees": 1, "disagrees": 0, "no_response": 0}
    again = cli("tracking", "recs", "import-evidence", "--document", str(first["document_id"]))
    assert "0 added, 6 skipped" in again.stdout
    shown = cli("tracking", "recs", "show", str(first["id"])).stdout
    assert f"response to recommendation 1 taken from document {first['document_id']}" in shown


def test_the_lessons_of_000_come_into_the_library(cli: Cli, seeds: Path) -> None:
    [seed] = sorted(seeds.glob("000_*.txt"))
    assert cli("evidence", "add", str(seed)).exit_code == 0
    run = cli("tracking", "lessons", "import-evidence")
    assert run.exit_code == 0, run.stderr
    assert "11 added, 0 skipped" in run.stdout
    found = json.loads(cli("tracking", "lessons", "list", "--search", "ensured government ownership", "--json").stdout)
    [lesson] = [x for x in found if x["title"].startswith("Projects that ensured government ownership")]
    assert lesson["kind"] == "lesson"
    assert lesson["text"].endswith("achieved better sustainability of the project’s results.")
    assert lesson["source"]["page"] is not None
    assert "0 added, 11 skipped" in cli("tracking", "lessons", "import-evidence").stdout
