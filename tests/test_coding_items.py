"""Coding the items extracted from a review's documents (recommendations, lessons) as units of their own: their
references in `coding sources`, a codings file naming `item:ID`, the item page of the browser, the code matrix by
project and by document counting them, agreement on them, and the exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview import access
from lmreview.questionnaire.reviews import get_review
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import Cli
from tests.fixtures.coding.material import make_review

PASSWORD = "correct-horse"
RECOMMENDATIONS = (
    "Final evaluation of the centre\n\nRecommendations\n\n"
    "1. Publish the list of recruitment agencies every quarter, because the pandemic hid their fees.\n"
    "2. Fund the help desk for two more years so that migrants keep their support.\n\n"
    "Lessons learned\n\n1. Partners need data sharing agreements early, before the lockdown comes.\n"
)


@pytest.fixture
def items(cli: Cli, tmp_path: Path) -> dict[str, dict[str, Any]]:
    make_review(cli, tmp_path)
    path = tmp_path / "recommendations-0220.txt"
    path.write_text(RECOMMENDATIONS, encoding="utf-8")
    assert cli("evidence", "add", str(path), "--project", "LM.0220").exit_code == 0
    assert cli("coding", "codebook", "starter", "challenges-2022").exit_code == 0
    run = cli("coding", "sources", "--review", "r", "--json")
    assert run.exit_code == 0, run.stderr
    found = [s for s in json.loads(run.stdout) if s["reference"].startswith("item:")]
    return {f"{s['kind']} {s['number']}": s for s in found}


def test_items_are_sources_the_matrix_counts(cli: Cli, items: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    assert sorted(items) == ["lesson 1", "recommendation 1", "recommendation 2"]
    first = items["recommendation 1"]
    assert first["projects"] == ["LM.0220"]
    listed = cli("coding", "sources", "--review", "r")
    assert f"{first['reference']}  [LM.0220] recommendation 1: Publish the list" in listed.stdout

    text = first["text"]
    at = text.index("the pandemic")
    lesson = items["lesson 1"]
    csv = tmp_path / "codings.csv"
    csv.write_text(
        "source,start,end,code,coder\n"
        f"{first['reference']},{at},{at + 12},Covid-19,ana\n"
        f"{lesson['reference']},0,8,Lack of funding,ana\n"
        f"{first['reference']},0,7,Covid-19,ben\n",
        encoding="utf-8",
    )
    run = cli("coding", "import", str(csv))
    assert run.exit_code == 0, run.stderr
    rows = json.loads(cli("coding", "list", "--json").stdout)
    assert {(r["source"], r["text"]) for r in rows} == {
        (first["reference"], "the pandemic"),
        (lesson["reference"], "Partners"),
        (first["reference"], "Publish"),
    }

    matrix = json.loads(cli("coding", "matrix", "--review", "r", "--codebook", "challenges-2022", "--json").stdout)
    covid = next(c for c in matrix["codes"] if c["code"] == "Covid-19")
    assert (covid["units"], covid["of"], covid["rows"], covid["segments"]) == (1, 4, ["LM.0220"], 2)
    by_document = json.loads(
        cli("coding", "matrix", "--review", "r", "--codebook", "challenges-2022", "--by", "document", "--json").stdout
    )
    covid = next(c for c in by_document["codes"] if c["code"] == "Covid-19")
    assert covid["text"] == "Covid-19: 1 of 3 documents, 33%"

    bad = tmp_path / "bad.csv"
    bad.write_text("source,start,end,code,coder\nitem:999999,0,4,Covid-19,ana\n", encoding="utf-8")
    refused = cli("coding", "import", str(bad))
    assert refused.exit_code == 2
    assert "no item (item:ID)" in refused.stderr

    # the two coders are compared on the item, one unit
    assert cli("coding", "compare", "--review", "r", "--codebook", "challenges-2022").exit_code == 0
    agreement = json.loads(
        cli("coding", "agreement", "--review", "r", "--codebook", "challenges-2022", "--json").stdout
    )
    assert agreement["overall"]["units"] == 1
    out = tmp_path / "all.qdpx"
    exported = cli("coding", "export", "--format", "qdpx", "--codebook", "challenges-2022", "--out", str(out))
    assert exported.exit_code == 0, exported.stderr
    assert "Wrote 3 codings" in exported.stdout


def test_code_an_item_in_the_browser(store: Store, items: dict[str, dict[str, Any]]) -> None:
    with store.session() as session:
        add_user(session, "rev", "reviewer", PASSWORD, actor="test")
        add_user(session, "out", "reviewer", PASSWORD, actor="test")
        access.add_member(session, get_review(session, "r"), "rev", "reviewer", actor="test")
    app = create_app(Settings(database_url=store.url), store)
    outsider = TestClient(app)  # a site reviewer who is no member of review r: its items are not found
    found = BeautifulSoup(outsider.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
    assert found is not None
    outsider.post("/login", data={"name": "out", "password": PASSWORD, "csrf_token": found["value"]})
    hidden = outsider.get(f"/coding/reviews/r/items/{items['recommendation 2']['reference'][5:]}?codebook=x")
    assert (hidden.status_code, "there is no review" in hidden.text) == (404, True)
    client = TestClient(app)
    token = BeautifulSoup(client.get("/login").text, "html.parser").find("input", {"name": "csrf_token"})
    assert token is not None
    client.post("/login", data={"name": "rev", "password": PASSWORD, "csrf_token": token["value"]})
    material = BeautifulSoup(client.get("/coding/reviews/r?codebook=challenges-2022").text, "html.parser")
    link = material.find("a", string="Recommendation 2")
    assert link is not None
    page = client.get(str(link["href"]))
    assert page.status_code == 200
    html = BeautifulSoup(page.text, "html.parser")
    assert "Recommendation 2 of Final evaluation of the centre" in html.find("h1").get_text()
    script = html.find("script", {"id": "coding-data"})
    assert script is not None
    data = json.loads(script.string or "")
    assert data["texts"][0]["text"] == items["recommendation 2"]["text"]
    funding = next(c["id"] for c in data["codes"] if c["name"] == "Lack of funding")
    csrf = html.find("input", {"id": "coding-csrf"})
    assert csrf is not None
    body = {"csrf_token": csrf["value"], "source": data["texts"][0]["reference"], "start": 0, "end": 4}
    made = client.post("/api/coding/codings", json={**body, "code_id": funding})
    assert made.status_code == 201, made.text
    again = json.loads(
        BeautifulSoup(client.get(str(link["href"])).text, "html.parser").find("script", {"id": "coding-data"}).string
    )
    assert [(c["code"], c["start"], c["end"]) for c in again["texts"][0]["codings"]] == [("Lack of funding", 0, 4)]
    segments = client.get(f"/coding/reviews/r/codes/{funding}?codebook=challenges-2022")
    assert segments.status_code == 200
    assert f"/coding/reviews/r/items/{data['texts'][0]['reference'].split(':')[1]}" in segments.text
    assert client.get("/coding/reviews/r/items/999999?codebook=challenges-2022").status_code == 404


def test_suggestions_reach_the_items(cli: Cli, items: dict[str, dict[str, Any]]) -> None:
    args = ("coding", "suggest", "--review", "r", "--code", "Covid-19", "--words", "pandemic, lockdown", "--json")
    found = json.loads(cli(*args, "--coder", "ana").stdout)
    on_items = sorted((s["source"], s["text"]) for s in found if s["source"].startswith("item:"))
    assert on_items == sorted(
        [(items["recommendation 1"]["reference"], "pandemic"), (items["lesson 1"]["reference"], "lockdown")]
    )
