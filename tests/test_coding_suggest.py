"""`lmreview coding suggest`: keyword and pattern rules propose codings, nothing is coded until the coder imports
the rows they keep."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import Cli
from tests.fixtures.coding.material import REPORTS, answer, make_review


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
    ahead = cli("coding", "suggest", "--review", "r", "--code", "Covid-19", "--words", "fund(?=ing)", "--regex")
    assert ahead.exit_code == 2
    assert "look-arounds and back-references are not available" in ahead.stderr
    long = cli("coding", "suggest", "--review", "r", "--code", "Covid-19", "--words", "a," * 600)
    assert long.exit_code == 2
    assert "at most 1000 are read" in long.stderr


def test_a_catastrophic_pattern_answers_at_once(cli: Cli, tmp_path: Path) -> None:
    """(a+)+! backtracks 2^n times in Python's re over a run of n "a" without a "!"; RE2 reads the text once. With
    the old engine this test would not finish."""
    make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    text = tmp_path / "notes-0181.txt"
    text.write_text("Field notes\n\n" + "a" * 40 + "?\n\nThe ministry did not fund the centre.\n", encoding="utf-8")
    assert cli("evidence", "add", str(text), "--project", "LM.0181").exit_code == 0
    run = cli(
        "coding", "suggest", "--review", "r", "--code", "Lack of funding", "--words", r"(a+)+!|fund",
        "--regex", "--json",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    found = json.loads(run.stdout)
    notes = [s for s in found if s["context"].startswith("the centre") or "did not fund the centre" in s["context"]]
    assert [s["text"] for s in notes] == ["fund"]  # the notes were read, past the run of "a"


def test_codes_given_earlier_to_the_same_passage_are_proposed(cli: Cli, tmp_path: Path) -> None:
    make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    brief = tmp_path / "brief-0181.txt"
    brief.write_text(
        "Evaluation brief of the resource centre\n\nThe centre served migrants for three years.\n\n"
        "The ministry did not provide the promised co-funding.\n",
        encoding="utf-8",
    )
    assert cli("evidence", "add", str(brief), "--project", "LM.0181").exit_code == 0
    report = REPORTS["report-0181.txt"][1]
    at = report.index("promised co-funding")
    run = cli(
        "coding",
        "add",
        "report-0181.txt",
        str(at),
        str(at + len("promised co-funding")),
        "Lack of funding",
        "--codebook",
        "challenges-2022",
        "--coder",
        "ana",
    )
    assert run.exit_code == 0, run.stderr
    found = json.loads(cli("coding", "suggest", "--review", "r", "--from-earlier", "--coder", "ana", "--json").stdout)
    assert [(s["text"], s["code"]) for s in found] == [("promised co-funding", "Lack of funding")]
    text = brief.read_text(encoding="utf-8")
    assert (found[0]["start"], found[0]["end"]) == (text.index("promised"), text.index("promised") + 19)
    assert (
        json.loads(cli("coding", "suggest", "--review", "r", "--from-earlier", "--coder", "ben", "--json").stdout) == []
    )
    assert cli("coding", "suggest", "--review", "r").exit_code == 2


def test_ask_accepts_and_rejects_each_suggestion(cli: Cli, tmp_path: Path) -> None:
    make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    args = ("coding", "suggest", "--review", "r", "--code", "Covid-19", "--words", "pandemic, lockdown, borders")
    run = cli(*args, "--coder", "ana", "--ask", input="a\nx\nr\nq\n")
    assert run.exit_code == 0, run.stderr
    assert "[1/4] Covid-19:" in run.stdout
    assert "Accepted 1, rejected 1, left 2 of 4 suggestions" in run.stdout
    listed = json.loads(cli("coding", "list", "--json").stdout)
    assert [(r["coder"], r["memo"], r["code"]) for r in listed] == [("ana", "suggested", "Covid-19")]
    second = re.search(r"\[2/4\] Covid-19: (\S+) (\d+)-(\d+)", run.stdout)
    assert second is not None
    rejected = (second[1], int(second[2]), int(second[3]))
    ended = cli(*args, "--coder", "ana", "--ask", input="")  # the input ends: stop, nothing more coded
    assert ended.exit_code == 0, ended.stderr
    assert "Accepted 0, rejected 0" in ended.stdout
    assert len(json.loads(cli("coding", "list", "--json").stdout)) == 1
    # the rejection is remembered for ana and this code, not for another coder
    spans = {(r["source"], r["start"], r["end"]) for r in json.loads(cli(*args, "--coder", "ana", "--json").stdout)}
    assert rejected not in spans
    others = {(r["source"], r["start"], r["end"]) for r in json.loads(cli(*args, "--coder", "ben", "--json").stdout)}
    assert rejected in others
    forgot = cli(*args, "--coder", "ana", "--forget-rejected")
    assert "Forgot 1 rejected suggestion" in forgot.stdout
    spans = {(r["source"], r["start"], r["end"]) for r in json.loads(cli(*args, "--coder", "ana", "--json").stdout)}
    assert rejected in spans
