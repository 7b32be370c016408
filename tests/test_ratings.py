"""`lmreview ratings ...`: criteria ratings from several sources, triangulated with the weights of the ILO
evaluation 2016-2020 (seed 003, §6: staff survey 1, constituents survey 1, synthesis report 2, P&B results 1,
evaluation team 4); the ratings page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli, join_every_review

# Scores invented for the test; the weights are 003's. Relevance: (5·1 + 5·1 + 5·2 + 4·4) / 8 = 4.5.
# Effectiveness (P&B results too): (4·1 + 5·1 + 4·2 + 3·1 + 4·4) / 9 = 4. Sustainability: the synthesis is N/A.
ILO = """subject,criterion,source,score,weight,rationale
,relevance,ILO staff survey,5,1,
,relevance,Constituents and donors survey,5,1,
,relevance,Synthesis report,5,2,
,relevance,Evaluation team,4,4,aligned with the P&B outcomes
,effectiveness,ILO staff survey,4,1,
,effectiveness,Constituents and donors survey,satisfactory,1,
,effectiveness,Synthesis report,4,2,
,effectiveness,P&B results,3,1,targets partly met
,effectiveness,Evaluation team,4,4,
,sustainability,ILO staff survey,4,1,
,sustainability,Synthesis report,N/A,2,not assessed
,sustainability,Evaluation team,3,4,
"""


@pytest.fixture
def review(cli: Cli, tmp_path: Path) -> Path:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("review", "create", "ilo", "--portfolio", "lm2016").exit_code == 0
    path = tmp_path / "ilo.csv"
    path.write_text(ILO, encoding="utf-8")
    return path


def summary(cli: Cli) -> dict[str, Any]:
    run = cli("ratings", "summary", "--review", "ilo", "--json")
    assert run.exit_code == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def criteria(cli: Cli, subject: str = "review") -> dict[str, dict[str, Any]]:
    found = next(s for s in summary(cli)["subjects"] if s["subject"] == subject)
    return {c["criterion"]: c for c in found["criteria"]}


def test_weighted_scores_with_the_ilo_weights(cli: Cli, review: Path) -> None:
    run = cli("ratings", "import", str(review), "--review", "ilo")
    assert run.exit_code == 0, run.stderr
    assert "12 added, 0 replaced, 0 unchanged" in run.stdout
    assert "Evaluation team (weight 4)" in run.stdout
    scores = criteria(cli)
    assert list(scores) == ["relevance", "effectiveness", "sustainability"]  # in the DAC order
    relevance = scores["relevance"]
    assert (relevance["weighted"], relevance["mean"], relevance["min"], relevance["max"]) == (4.5, 4.75, 4, 5)
    assert relevance["n"] == 4
    assert relevance["weight_total"] == 8
    effectiveness = scores["effectiveness"]
    assert effectiveness["weighted"] == 4
    assert effectiveness["mean"] == pytest.approx(4.0)
    assert [s["label"] for s in effectiveness["sources"] if s["source"] == "Constituents and donors survey"] == [
        "satisfactory"
    ]
    sustainability = scores["sustainability"]
    assert sustainability["weighted"] == pytest.approx((4 * 1 + 3 * 4) / 5)
    assert (sustainability["n"], sustainability["not_applicable"]) == (2, 1)
    table = cli("ratings", "summary", "--review", "ilo").stdout
    assert re.search(r"review\s*│\s*relevance\s*│\s*4\.50\s*│\s*4\.75\s*│\s*4–5\s*│\s*4\s*│\s*0", table), table


def test_changing_a_weight_changes_the_score(cli: Cli, review: Path) -> None:
    cli("ratings", "import", str(review), "--review", "ilo")
    run = cli("ratings", "weights", "--review", "ilo", "Evaluation team=1")
    assert run.exit_code == 0, run.stderr
    assert "Evaluation team: 1" in run.stdout
    assert criteria(cli)["relevance"]["weighted"] == pytest.approx((5 + 5 + 10 + 4) / 5)
    bad = cli("ratings", "weights", "--review", "ilo", "Evaluation team=-2", "nonsense")
    assert bad.exit_code == 2


def test_reimport_replaces_scores_and_keeps_the_rest(cli: Cli, review: Path, tmp_path: Path) -> None:
    cli("ratings", "import", str(review), "--review", "ilo")
    changed = tmp_path / "changed.csv"
    changed.write_text(
        "subject,criterion,source,score\n,relevance,Evaluation team,6\nLM.0181,impact,Evaluation team,3\n"
    )
    run = cli("ratings", "import", str(changed), "--review", "ilo")
    assert "1 added, 1 replaced, 0 unchanged" in run.stdout
    assert criteria(cli)["relevance"]["weighted"] == pytest.approx((5 + 5 + 10 + 24) / 8)
    assert criteria(cli, "LM.0181")["impact"]["weighted"] == 3


def test_bad_ratings_files_are_refused_with_every_error(cli: Cli, review: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "subject,criterion,source,score,weight\n"
        "LM.9999,relevance,Evaluation team,4,4\n"
        ",relevance,Evaluation team,7,4\n"
        ",coherence,Evaluation team,great,2\n"
        ",coherence,Staff survey,4,-1\n"
        ",coherence,Staff survey,4,\n",
        encoding="utf-8",
    )
    run = cli("ratings", "import", str(bad), "--review", "ilo")
    assert run.exit_code == 2
    lines = [line for line in run.stderr.splitlines() if line.startswith(str(bad))]
    assert lines == [
        f'{bad}:2:subject: "LM.9999" is not a project of the review',
        f'{bad}:3:score: "7" is not on the scale; use one of 1 (highly unsatisfactory), 2 (unsatisfactory), '
        "3 (somewhat unsatisfactory), 4 (somewhat satisfactory), 5 (satisfactory), 6 (highly satisfactory), or N/A",
        f'{bad}:4:score: "great" is not on the scale; use one of 1 (highly unsatisfactory), 2 (unsatisfactory), '
        "3 (somewhat unsatisfactory), 4 (somewhat satisfactory), 5 (satisfactory), 6 (highly satisfactory), or N/A",
        f"{bad}:4:weight: source 'Evaluation team' has weight 4 on row 2; one weight per source",
        f'{bad}:5:weight: "-1" is not a weight: 0 to 1000, at most 4 decimals',
        f"{bad}:6:-: the same subject, criterion and source as row 5",
    ]
    assert summary(cli)["subjects"] == []


def test_the_four_level_scale_takes_labels(cli: Cli, review: Path, tmp_path: Path) -> None:
    path = tmp_path / "iom.csv"
    path.write_text(
        "subject,criterion,source,score\nLM.0181,relevance,Evaluator,Good\nLM.0181,efficiency,Evaluator,weak\n"
    )
    run = cli("ratings", "import", str(path), "--review", "ilo", "--scale", "four-level")
    assert run.exit_code == 0, run.stderr
    scores = criteria(cli, "LM.0181")
    assert (scores["relevance"]["weighted"], scores["efficiency"]["weighted"]) == (4, 1)
    mixed = cli("ratings", "import", str(review), "--review", "ilo")  # six-point scores on a four-level review
    assert mixed.exit_code == 2
    assert "rated on another scale" in mixed.stderr


@pytest.fixture
def client(store: Store, review: Path, cli: Cli) -> Iterator[TestClient]:
    with store.session() as session:
        add_user(session, "rev", "reviewer", "correct-horse", actor="test")
    join_every_review(store, "rev")
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        html = c.get("/login").text
        token = BeautifulSoup(html, "html.parser").find("input", {"name": "csrf_token"})["value"]  # type: ignore[index]
        c.post("/login", data={"name": "rev", "password": "correct-horse", "csrf_token": str(token)})
        yield c


def test_ratings_page_upload_and_weights(client: TestClient, review: Path) -> None:
    page = client.get("/reviews/ilo/ratings")
    token = str(BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf_token"})["value"])  # type: ignore[index]
    response = client.post(
        "/reviews/ilo/ratings",
        data={"csrf_token": token, "scale": "six-point"},
        files={"file": ("ilo.csv", review.read_bytes(), "text/csv")},
    )
    assert response.status_code == 200
    text = BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)
    assert "Ratings ilo.csv: 12 added" in text
    assert re.search(r"relevance 4\.50 4\.75 4–5", text)
    response = client.post("/reviews/ilo/ratings/weights", data={"csrf_token": token, "weight:Evaluation team": "1"})
    text = BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)
    assert re.search(r"relevance 4\.80", text)
    assert client.get("/api/reviews/ilo/ratings").json()["weights"]["Evaluation team"] == 1


def test_a_review_team_adds_its_own_scale(cli: Cli, review: Path, tmp_path: Path) -> None:
    run = cli(
        "ratings", "scales", "--add", "five-point", "--level", "1=very poor", "--level", "2=poor",
        "--level", "3=fair", "--level", "4=good", "--level", "5=very good", "--no-na",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert re.search(
        r"five-point\s*│\s*five-point\s*│\s*1 very poor, 2 poor, 3 fair, 4 good, 5 very good\s*│\s*no", run.stdout
    )
    path = tmp_path / "five.csv"
    path.write_text("subject,criterion,source,score\n,relevance,Team,very good\n,impact,Team,N/A\n", encoding="utf-8")
    refused = cli("ratings", "import", str(path), "--review", "ilo", "--scale", "five-point")
    assert refused.exit_code == 2
    assert '"N/A": this scale has no N/A; give a score' in refused.stderr
    path.write_text("subject,criterion,source,score\n,relevance,Team,very good\n", encoding="utf-8")
    assert cli("ratings", "import", str(path), "--review", "ilo", "--scale", "five-point").exit_code == 0
    assert criteria(cli)["relevance"]["weighted"] == 5
    for bad, message in (
        (["--add", "five-point", "--level", "1=a", "--level", "2=b"], "there is already a scale 'five-point'"),
        (["--add", "x", "--level", "2=b", "--level", "1=a"], "lowest first"),
        (["--add", "x", "--level", "one=a", "--level", "2=b"], "SCORE=label"),
        (["--add", "Bad Name", "--level", "1=a", "--level", "2=b"], "lower-case"),
    ):
        run = cli("ratings", "scales", *bad)
        assert run.exit_code == 2, bad
        assert message in run.stderr
