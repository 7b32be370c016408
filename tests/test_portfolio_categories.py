"""Thematic categories: reviewers assign them (CLI, web); keyword rules only suggest. The lm2022 sample carries
the five categories of the 2016-2020 review (seed 000, §3)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli


@pytest.fixture
def lm2022(cli: Cli) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2022.csv")).exit_code == 0
    return "lm2022"


def listing(cli: Cli, *args: str) -> dict[str, Any]:
    run = cli("portfolio", "categories", "lm2022", "--json", *args)
    assert run.exit_code == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_the_review_categories_and_their_counts(cli: Cli, lm2022: str) -> None:
    counts = sorted((c["projects"] for c in listing(cli)["categories"]), reverse=True)
    assert counts == [10, 7, 4, 3, 3]


def test_rules_suggest_and_never_assign(cli: Cli, lm2022: str) -> None:
    run = cli("portfolio", "categorise", "lm2022", "LM.0329", "LM.0382", "LM.0304", "--none")
    assert run.exit_code == 0, run.stderr
    assert "3 projects now in no category." in run.stdout
    result = listing(cli, "-k", "Promoting ethical recruitment=recruit*;employer*", "--suggest")
    assert {s["code"]: s["category"] for s in result["suggestions"]} == {
        "LM.0329": "Promoting ethical recruitment",
        "LM.0382": "Promoting ethical recruitment",
    }
    assert result["suggestions"][0]["matched"] == ["recruit*"]
    counts = {c["category"]: c["projects"] for c in result["categories"]}
    assert counts["Promoting ethical recruitment"] == 5  # 7 less the 2 taken out: suggestions changed nothing
    text = cli("portfolio", "categories", "lm2022", "--suggest").stdout
    assert "LM.0329 → Promoting ethical recruitment (matches recruit*)" in text
    assert "Suggestions only" in text
    accepted = cli("portfolio", "categorise", "lm2022", "LM.0329", "-c", "Promoting ethical recruitment")
    assert accepted.exit_code == 0
    assert [s["code"] for s in listing(cli, "--suggest")["suggestions"]] == ["LM.0382"]
    shown = cli("portfolio", "show", "lm2022", "LM.0329").stdout
    assert re.search(r"category Promoting ethical recruitment → –", shown)
    assert re.search(r"category – → Promoting ethical recruitment", shown)


def test_categorise_errors(cli: Cli, lm2022: str) -> None:
    run = cli("portfolio", "categorise", "lm2022", "LM.9999", "-c", "X")
    assert run.exit_code == 2
    assert "LM.9999" in run.stderr
    run = cli("portfolio", "categorise", "lm2022", "LM.0329")
    assert run.exit_code == 2
    assert "give --category NAME or --none" in run.stderr


@pytest.fixture
def client(store: Store, lm2022: str) -> Iterator[TestClient]:
    with store.session() as session:
        add_user(session, "rev", "reviewer", "correct-horse", actor="test")
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        token = BeautifulSoup(c.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
        assert token is not None
        c.post("/login", data={"name": "rev", "password": "correct-horse", "csrf_token": str(token["value"])})
        yield c


def test_categories_page_rules_suggestions_and_accept(client: TestClient, cli: Cli) -> None:
    cli("portfolio", "categorise", "lm2022", "LM.0382", "--none")
    page = client.get("/portfolios/lm2022/categories")
    soup = BeautifulSoup(page.text, "html.parser")
    assert "27 projects; 1 without a category" in soup.get_text(" ", strip=True)
    token = str(soup.find("input", {"name": "csrf_token"})["value"])  # type: ignore[index]
    response = client.post(
        "/portfolios/lm2022/categories",
        data={"csrf_token": token, "category": "Promoting ethical recruitment", "keywords": "recruit*; decent work"},
    )
    text = BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)
    assert (
        "LM.0382 Facilitating Ethical Recruitment Practices in Botswana Promoting ethical recruitment recruit*" in text
    )
    response = client.post(
        "/portfolios/lm2022/categorise",
        data={"csrf_token": token, "code": "LM.0382", "category": "Promoting ethical recruitment"},
    )
    assert "27 projects; 0 without a category" in BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)
    project = client.post(
        "/portfolios/lm2022/categorise",
        data={"csrf_token": token, "code": "LM.0382", "category": "Labour mobility", "back": "project"},
    )
    assert "Labour mobility" in BeautifulSoup(project.text, "html.parser").find("dl", class_="facts").get_text()  # type: ignore[union-attr]
