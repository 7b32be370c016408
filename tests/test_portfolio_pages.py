"""The project list of a large portfolio pages by 200: counts, page links that keep the filters, bad page numbers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli

PASSWORD = "a-long-test-password"


@pytest.fixture
def client(store: Store, cli: Cli, tmp_path: Path) -> Iterator[TestClient]:
    rows = ["code,title,region,budget_usd"]
    rows += [f"P.{i:04d},Project {i},{'Asia' if i % 3 else 'Europe'},{1000 + i}" for i in range(450)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n")
    assert cli("portfolio", "import", str(path)).exit_code == 0
    with store.session() as session:
        add_user(session, "ada", "admin", PASSWORD, actor="test")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        page = BeautifulSoup(client.get("/login").text, "html.parser")
        token = page.find("input", {"name": "csrf_token"})
        assert token is not None
        data = {"name": "ada", "password": PASSWORD, "csrf_token": str(token["value"])}
        assert client.post("/login", data=data, follow_redirects=False).status_code == 303
        yield client


def codes(html: str) -> list[str]:
    return [th.get_text(strip=True) for th in BeautifulSoup(html, "html.parser").select("table.projects tbody th")]


def test_pages_of_200_with_links(client: TestClient) -> None:
    first = client.get("/portfolios/big")
    assert first.status_code == 200
    page = BeautifulSoup(first.text, "html.parser")
    assert "450 of 450 projects, 1–200 shown" in page.select_one("table.projects caption").get_text()  # type: ignore[union-attr]
    assert codes(first.text)[0] == "P.0000"
    assert len(codes(first.text)) == 200
    assert page.select_one('a[rel="next"]')["href"] == "/portfolios/big?page=2"  # type: ignore[index]
    assert page.select_one('a[rel="prev"]') is None
    last = client.get("/portfolios/big?page=3")
    assert codes(last.text) == [f"P.{i:04d}" for i in range(400, 450)]
    assert "401–450 shown" in last.text
    assert BeautifulSoup(last.text, "html.parser").select_one('a[rel="next"]') is None
    beyond = client.get("/portfolios/big?page=99")
    assert codes(beyond.text) == codes(last.text)


def test_page_links_keep_the_filter_and_sort(client: TestClient) -> None:
    response = client.get("/portfolios/big?region=Asia&sort=budget_usd&desc=1")
    page = BeautifulSoup(response.text, "html.parser")
    assert "300 of 450 projects, 1–200 shown" in response.text
    assert codes(response.text)[0] == "P.0449"
    href = page.select_one('a[rel="next"]')["href"]  # type: ignore[index]
    assert href == "/portfolios/big?region=Asia&sort=budget_usd&desc=1&page=2"
    second = client.get(str(href))
    assert len(codes(second.text)) == 100
    assert not set(codes(second.text)) & set(codes(response.text))


def test_a_small_list_has_no_pages(client: TestClient) -> None:
    response = client.get("/portfolios/big?region=Europe&q=P.00")
    assert "of 450 projects</caption>" in response.text.replace("\n", "")
    assert 'rel="next"' not in response.text


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1e3", "99999999999"])
def test_a_bad_page_number_is_a_clear_4xx(client: TestClient, page: str) -> None:
    response = client.get(f"/portfolios/big?page={page}")
    assert 400 <= response.status_code < 500
    assert "Traceback" not in response.text
