"""Coders blind (coding/view.py), one rule for the terminal and the browser: a coder sees only their own codings
until the review manager opens the comparison; the manager (an administrator, or the database's operator who never
coded) sees everyone's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli, join_every_review
from tests.fixtures.coding.material import answer, make_review

PASSWORD = "correct-horse"


@pytest.fixture
def coded(cli: Cli, store: Store, tmp_path: Path) -> Path:
    make_review(cli, tmp_path)
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    rows = [
        (answer("LM.0181"), 0, 14, "Covid-19", "ana"),
        (answer("LM.0220"), 4, 12, "Covid-19", "ana"),
        (answer("LM.0221"), 0, 7, "Lack of funding", "ben"),
        (answer("LM.0181"), 53, 73, "Lack of funding", "rev"),
    ]
    csv = tmp_path / "codings.csv"
    csv.write_text(
        "source,start,end,code,coder\n" + "".join(f"{s},{a},{b},{c},{d}\n" for s, a, b, c, d in rows),
        encoding="utf-8",
    )
    assert cli("coding", "import", str(csv)).exit_code == 0
    with store.session() as session:
        add_user(session, "ada", "admin", PASSWORD, actor="test")
        add_user(session, "rev", "reviewer", PASSWORD, actor="test")
    join_every_review(store, "ada", "rev")
    return tmp_path


def counts(cli: Cli, user: str, *args: str) -> dict[str, int]:
    run = cli("coding", "matrix", "--review", "r", "--codebook", "challenges-2022", "--json", *args, user=user)
    assert run.exit_code == 0, run.stderr
    return {c["code"]: c["units"] for c in json.loads(run.stdout)["codes"] if c["units"]}


def coders(cli: Cli, user: str) -> set[str]:
    run = cli("coding", "list", "--json", user=user)
    assert run.exit_code == 0, run.stderr
    return {r["coder"] for r in json.loads(run.stdout)}


def test_the_terminal_keeps_coders_apart_until_the_comparison_opens(cli: Cli, coded: Path) -> None:
    assert counts(cli, "ana") == {"Covid-19": 2}  # a coder without an account: only her codings
    assert counts(cli, "rev") == {"Lack of funding": 1}  # a reviewer's account
    assert counts(cli, "ada") == {"Covid-19": 2, "Lack of funding": 2}  # an administrator: the manager
    assert counts(cli, "cli:operator") == {"Covid-19": 2, "Lack of funding": 2}  # the operator who never coded
    assert coders(cli, "ana") == {"ana"}
    assert coders(cli, "ada") == {"ana", "ben", "rev"}
    out = coded / "mine.csv"
    run = cli("coding", "export", "--out", str(out), user="ben")
    assert run.exit_code == 0, run.stderr
    assert "Wrote 1 codings" in run.stdout
    assert out.read_text(encoding="utf-8").count("ben") == 1

    refused = cli("coding", "matrix", "--review", "r", "--codebook", "challenges-2022", "--coders", "ben", user="ana")
    assert refused.exit_code == 2
    assert "ana cannot see the codings of ben" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert cli("coding", "list", "--coders", "ana,ben", user="ana").exit_code == 2

    assert cli("coding", "compare", "--review", "r", "--codebook", "challenges-2022", user="ada").exit_code == 0
    assert counts(cli, "ana") == {"Covid-19": 2, "Lack of funding": 2}
    assert counts(cli, "ana", "--coders", "ben") == {"Lack of funding": 1}
    assert coders(cli, "rev") == {"ana", "ben", "rev"}


def login(app: Any, name: str) -> TestClient:
    client = TestClient(app)
    token = BeautifulSoup(client.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
    assert token is not None
    client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token["value"]})
    return client


def matrix_rows(client: TestClient) -> tuple[str, list[list[str]]]:
    response = client.get("/coding/reviews/r?codebook=challenges-2022")
    assert response.status_code == 200
    table = BeautifulSoup(response.text, "html.parser").find("table")
    assert table is not None
    caption = table.find("caption")
    assert caption is not None
    rows = [[c.get_text(strip=True) for c in tr.find_all("td")] for tr in table.find_all("tr")]
    return caption.get_text(" ", strip=True), [r for r in rows if r and not r[1].startswith("0 of")]


def test_the_review_page_matrix_counts_only_the_coders_own_codings(store: Store, coded: Path) -> None:
    app = create_app(Settings(database_url=store.url), store)
    caption, rows = matrix_rows(login(app, "rev"))
    assert "rev's codings only" in caption
    assert rows == [["Lack of funding", "1 of 4", "25.0%", "1"]]
    caption, rows = matrix_rows(login(app, "ada"))
    assert "codings only" not in caption
    assert sorted(r[0] + ": " + r[1] for r in rows) == ["Covid-19: 2 of 4", "Lack of funding: 2 of 4"]
