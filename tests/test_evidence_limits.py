"""The evidence library at the edges of its input: ids and years out of range, hit limits, queries too long or
with too many terms, text holding characters that look like highlight markers. Each is refused with one line
(CLI) or a 4xx (web), never a traceback or a 500."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lmreview.errors import NotFound
from lmreview.questionnaire.submissions import get_submission
from lmreview.store import Store
from lmreview.tracking.service import get_action, get_recommendation
from tests.conftest import Cli
from tests.test_evidence_search import hits, library  # noqa: F401  (the fixture)
from tests.test_evidence_web import client, text_files, upload  # noqa: F401  (the fixture)
from tests.test_web import login

HUGE = "99999999999999999999999"


def refused(cli: Cli, *args: str) -> str:
    run = cli(*args)
    assert run.exit_code == 2, (args, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: "), run.stderr
    return lines[0]


def test_ids_out_of_range_are_not_found(cli: Cli, library: dict[str, int]) -> None:  # noqa: F811
    assert (
        refused(cli, "evidence", "show", HUGE)
        == f"error: there is no document {HUGE} in the evidence library (see lmreview evidence list)"
    )
    assert refused(cli, "evidence", "show", "--", "-3").startswith("error: there is no document -3")
    assert refused(cli, "evidence", "items", "--document", HUGE).startswith("error: there is no document")
    assert refused(cli, "evidence", "set", HUGE, "--title", "x").startswith("error: there is no document")


def test_other_getters_refuse_ids_out_of_range(store: Store) -> None:
    with store.session() as session:
        for getter in (get_recommendation, get_action, get_submission):
            for bad in (10**20, 2**31, 0, -1):
                with pytest.raises(NotFound, match=f"there is no .*{bad}"):
                    getter(session, bad)


def test_years_and_limits_out_of_range(cli: Cli, library: dict[str, int]) -> None:  # noqa: F811
    big = "99999999999999999999"
    assert refused(cli, "evidence", "search", "x", "--year-from", big) == (
        f"error: year_from: {big} is not a year between 1900 and 2200"
    )
    assert "year_to: 1899 is not a year" in refused(cli, "evidence", "search", "x", "--year-to", "1899")
    assert refused(cli, "evidence", "search", "workers", "--limit", "-5") == (
        "error: limit: -5 is not a number of hits between 1 and 1000"
    )
    assert "limit: 0 is not" in refused(cli, "evidence", "search", "workers", "--limit", "0")
    assert len(hits(cli, "workers", "--year-from", "1900", "--year-to", "2200")) == 4


def test_web_years_and_limits_out_of_range(client: TestClient) -> None:  # noqa: F811
    login(client, "rev")
    upload(client, text_files())
    big = "99999999999999999999"
    page = client.get("/evidence/search", params={"q": "x", "year_from": big})
    assert page.status_code == 400
    assert "is not a year between 1900 and 2200" in page.text
    assert client.get("/evidence/search", params={"q": "x", "year_to": "9" * 5000}).status_code == 400
    for path in ("/evidence/items", "/api/evidence/items"):
        response = client.get(path, params={"year_from": big})
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert "is not a year between 1900 and 2200" in response.text
    api = client.get("/api/evidence/search", params={"q": "workers", "year_to": "2201"})
    assert api.status_code == 400
    assert api.json()["error"] == "year_to: 2201 is not a year between 1900 and 2200"
    limit = client.get("/api/evidence/search", params={"q": "workers", "limit": "-5"})
    assert limit.status_code == 400
    assert "limit: -5" in limit.json()["error"]
    assert client.get("/evidence/search", params={"q": "workers", "limit": "-5"}).status_code == 400
    assert client.get("/api/evidence/search", params={"q": "workers", "year_from": "2019"}).json()["total"] == 3


def test_long_queries_are_refused_and_repeats_count_once(cli: Cli, library: dict[str, int]) -> None:  # noqa: F811
    start = time.monotonic()
    too_long = refused(cli, "evidence", "search", "recruitment " * 300)
    assert too_long == "error: the query is 3600 characters long; at most 500 are searched"
    many = " OR ".join(f"w{i}" for i in range(33))
    assert refused(cli, "evidence", "search", many) == (
        "error: the query has 33 different terms; at most 32 are searched at once"
    )
    assert time.monotonic() - start < 5
    # repeated terms count once: 40 times the same word is one term, and finds what the word alone finds
    assert hits(cli, "recruitment " * 40) == hits(cli, "recruitment")
    assert hits(cli, " OR ".join(["fees"] * 40)) == hits(cli, "fees")
    assert len(hits(cli, " OR ".join(f"w{i}" for i in range(31)) + " OR hotline")) == 1


def test_text_with_bracket_characters_is_highlighted_right(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "marks.txt").write_text(
        "Notation in the annex\n\nThe ⟦draft⟧ register of recruitment agencies uses ⟦brackets⟧ for drafts.\n",
        encoding="utf-8",
    )
    assert cli("evidence", "add", str(tmp_path / "marks.txt")).exit_code == 0
    found = hits(cli, "recruitment")
    assert [h["snippet"] for h in found] == [
        "The ⟦draft⟧ register of **recruitment** agencies uses ⟦brackets⟧ for drafts."
    ]
    text = cli("evidence", "search", "recruitment")
    assert "The ⟦draft⟧ register of recruitment agencies uses ⟦brackets⟧ for drafts." in text.stdout
    assert "\x02" not in text.stdout
    assert "\x03" not in text.stdout


def test_web_snippet_with_bracket_characters(client: TestClient) -> None:  # noqa: F811
    login(client, "rev")
    upload(client, [("marks.txt", "Notation\n\nThe ⟦draft⟧ register of recruitment agencies.\n".encode())])
    page = client.get("/evidence/search", params={"q": "recruitment"})
    assert page.status_code == 200
    assert "<mark>recruitment</mark>" in page.text
    assert "⟦draft⟧" in page.text
    data = json.loads(client.get("/api/evidence/search", params={"q": "recruitment"}).text)
    assert data["hits"][0]["snippet"] == "The ⟦draft⟧ register of **recruitment** agencies."


def test_project_codes_too_long_or_with_direction_characters(cli: Cli, library: dict[str, int], tmp_path: Path) -> None:  # noqa: F811
    (tmp_path / "note.txt").write_text("Field note\n\nThe hotline answered calls on recruitment.\n", encoding="utf-8")
    long = "LM." + "9" * 90
    run = cli("evidence", "add", str(tmp_path / "note.txt"), "--project", long)
    assert run.exit_code == 2
    assert f"project: the project code {long[:24]}… is 93 characters long; a code has at most 80" in run.stderr
    run = cli("evidence", "add", str(tmp_path / "note.txt"), "--project", "LM.\u202e1810")
    assert run.exit_code == 2
    assert "U+202E, at character 4; remove it" in run.stderr
    assert len(json.loads(cli("evidence", "list", "--json").stdout)) == 3  # nothing added
    document = str(library["iom.txt"])
    bad = cli("evidence", "set", document, "--projects", f"LM.0181,{long}")
    assert bad.exit_code == 2
    assert "project_codes: the project code" in bad.stderr
    shown = json.loads(cli("evidence", "list", "--json").stdout)
    assert [d["project_codes"] for d in shown if d["id"] == library["iom.txt"]] == [["LM.0181"]]
    assert cli("evidence", "set", document, "--projects", "LM.\u200f0181").exit_code == 2


def test_web_upload_refuses_a_code_with_a_direction_character(client: TestClient) -> None:  # noqa: F811
    login(client, "rev")
    status, page = upload(
        client, [("note.txt", b"Field note\n\nThe hotline answered calls.\n")], project="LM.\u202e0181"
    )
    assert status == 422
    assert "U+202E" in page.get_text()
    assert client.get("/api/evidence").json() == []


def test_short_text_and_other_formats_are_reported(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "box"
    folder.mkdir()
    (folder / "hello.txt").write_text("hello recruitment", encoding="utf-8")
    (folder / "note.txt").write_text("Field note\n\nThe hotline answered calls on recruitment.\n", encoding="utf-8")
    (folder / "budget.xlsx").write_bytes(b"PK\x03\x04 not read")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    run = cli("evidence", "add", str(folder))
    assert run.exit_code == 2
    assert run.stderr.strip() == (
        f"{folder / 'hello.txt'}: the text is too short to index (17 characters; at least 20 are needed)"
    )
    assert "1 added, 0 already there, 1 refused, 2 skipped (not a format lmreview reads)" in run.stdout
