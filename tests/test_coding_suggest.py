"""`lmreview coding suggest`: keyword and pattern rules propose codings, nothing is coded until the coder imports
the rows they keep."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.fixtures.coding.material import answer, make_review


def test_suggestions_are_proposals_until_accepted(cli: Cli, tmp_path: Path) -> None:
    docs = make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    out = tmp_path / "suggested.csv"
    run = cli(
        "coding",
        "suggest",
        "--review",
        "r",
        "--code",
        "Covid-19",
        "--words",
        "pandemic, lockdown, borders",
        "--coder",
        "ana",
        "--out",
        str(out),
    )
    assert run.exit_code == 0, run.stderr
    assert "4 suggestions for Covid-19" in run.stdout
    assert json.loads(cli("coding", "list", "--json").stdout) == []  # nothing coded
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "source,start,end,code,coder,memo,text"
    found = sorted(line.split(",")[-1] for line in lines[1:])
    assert found == ["Borders", "borders", "lockdown", "pandemic"]
    sources = {line.split(",")[0] for line in lines[1:]}
    assert answer("LM.0181") in sources
    assert str(docs["report-0181.txt"]) in sources

    # the coder rejects one row and accepts the others
    kept = [lines[0], *lines[2:]]
    out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    run = cli("coding", "import", str(out))
    assert run.exit_code == 0, run.stderr
    assert f"Imported {len(kept) - 1} codings by ana" in run.stdout
    again = cli(
        "coding",
        "suggest",
        "--review",
        "r",
        "--code",
        "Covid-19",
        "--words",
        "pandemic, lockdown, borders",
        "--coder",
        "ana",
        "--json",
    )
    assert len(json.loads(again.stdout)) == 1  # what ana coded is not proposed again: only the rejected row

    pattern = cli(
        "coding",
        "suggest",
        "--review",
        "r",
        "--code",
        "Lack of funding",
        "--words",
        r"fund\w*|budget",
        "--regex",
        "--coder",
        "ben",
        "--json",
    )
    assert pattern.exit_code == 0, pattern.stderr
    assert {s["text"].lower() for s in json.loads(pattern.stdout)} >= {"funding", "budget"}
    bad = cli("coding", "suggest", "--review", "r", "--code", "Covid-19", "--words", "(", "--regex")
    assert bad.exit_code == 2
    assert "is not a regular expression" in bad.stderr
