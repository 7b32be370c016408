"""Limits of the form engine a respondent cannot get past: number ranges, answer lengths, repeat counts, regular
expressions that cannot backtrack, and a form evaluated off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select

from lmreview.questionnaire import engine
from lmreview.questionnaire.expressions import evaluate, parse
from lmreview.questionnaire.models import Submission
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, Cli, personal_link

FORM = """| survey |
| | type | name | label | repeat_count | constraint | constraint_message |
| | text | project_code | Project code | | | |
| | integer | staff | Staff members | | | |
| | decimal | budget | Budget | | | |
| | text | story | Story | | | |
| | text | code | Code | | regex(., '^(a+)+$') | Only the letter a. |
| | begin repeat | member | Member | ${staff} | | |
| | text | role | Role | | | |
| | end repeat | | | | | |
| settings |
| | form_id | version |
| | limits | 1 |
"""


@pytest.fixture
def link(cli: Cli, tmp_path: Path) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    return personal_link(cli, FORM, tmp_path)


@pytest.fixture
def client(store: Store, link: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        yield c


def _post(client: TestClient, link: str, fields: dict[str, str], action: str = "save") -> Any:
    html = BeautifulSoup(client.get(link).text, "html.parser")
    token = html.find("input", {"name": "csrf_token"})
    assert token is not None
    return client.post(link, data={"csrf_token": str(token["value"]), **fields, "action": action})


def _errors(response: Any) -> list[str]:
    return [p.get_text(" ", strip=True) for p in BeautifulSoup(response.text, "html.parser").select(".field-error")]


def _stored(store: Store) -> dict[str, Any]:
    with store.session() as session:
        submission = session.scalar(select(Submission))
        return dict(submission.data) if submission is not None else {}


def test_a_huge_integer_is_refused_and_never_becomes_a_repeat_count(
    client: TestClient, link: str, store: Store
) -> None:
    response = _post(client, link, {"staff": "9" * 401, "story": "kept?"})
    assert response.status_code == 422
    assert "Nothing was saved" in response.text
    assert _errors(response) == ["Enter a whole number from -2147483648 to 2147483647."]
    assert "staff" not in _stored(store)
    assert "story" not in _stored(store)
    assert client.get(link).status_code == 200
    assert _post(client, link, {"staff": "2147483648"}).status_code == 422
    assert _post(client, link, {"staff": "-2147483649"}).status_code == 422
    assert _post(client, link, {"staff": "3"}).status_code == 200
    assert _stored(store)["staff"] == "3"


def test_a_decimal_must_be_a_finite_double(client: TestClient, link: str) -> None:
    response = _post(client, link, {"budget": "1" + "0" * 400})
    assert response.status_code == 422
    assert _errors(response) == ["This number is too large; enter a number below 1e308."]
    assert _post(client, link, {"budget": "1" + "0" * 300 + ".5"}).status_code == 200


def test_answers_are_at_most_ten_thousand_characters(client: TestClient, link: str, store: Store) -> None:
    response = _post(client, link, {"story": "x" * 10_001})
    assert response.status_code == 422
    assert _errors(response) == ["This answer is too long: at most 10,000 characters."]
    assert _post(client, link, {"story": "x" * 10_000}).status_code == 200
    assert len(_stored(store)["story"]) == 10_000


def test_a_repeat_count_over_the_limit_shows_the_limit_and_blocks_the_submission(client: TestClient, link: str) -> None:
    saved = _post(client, link, {"staff": "2147483647"})
    assert saved.status_code == 200
    page = BeautifulSoup(saved.text, "html.parser")
    assert len(page.select("fieldset.instance")) == engine.MAX_REPEATS
    assert "An earlier answer asks for 2147483647 of these; at most 200 are possible." in _errors(saved)
    submitted = _post(client, link, {"staff": "2147483647", "project_code": "LM.0181"}, action="submit")
    assert submitted.status_code == 422
    assert "Member: An earlier answer asks for 2147483647" in BeautifulSoup(submitted.text, "html.parser").get_text()


def test_a_bad_number_stored_before_the_limits_breaks_no_page(client: TestClient, link: str, store: Store) -> None:
    assert _post(client, link, {"staff": "2"}).status_code == 200
    with store.session() as session:
        submission = session.scalar(select(Submission))
        assert submission is not None
        submission.data = {**submission.data, "staff": "9" * 401, "budget": "9" * 400}
    response = client.get(link)
    assert response.status_code == 200
    assert not BeautifulSoup(response.text, "html.parser").select("fieldset.instance")
    submitted = _post(client, link, {"project_code": "LM.0181"}, action="submit")
    assert submitted.status_code == 422
    assert "Enter a whole number from -2147483648 to 2147483647." in _errors(submitted)


def test_the_engine_treats_a_stored_bad_value_as_invalid() -> None:
    from lmreview.questionnaire.xlsform import parse_form

    definition = parse_form(FORM.encode(), "limits.md").definition
    evaluation = engine.evaluate(definition, {"staff": "9" * 5000, "budget": "-" + "9" * 400})
    assert evaluation.errors["staff"] == engine.MESSAGES["integer_range"]
    assert evaluation.errors["budget"] == engine.MESSAGES["decimal_range"]
    assert evaluation.nodes[-1].instances == []
    assert engine.refused(definition, {"staff": "0" * 20 + "7", "member": [{"role": "r" * 10_001}]}) == {
        "member[1]/role": engine.MESSAGES["too_long"]
    }


def test_a_backtracking_pattern_answers_at_once(client: TestClient, link: str) -> None:
    started = time.monotonic()
    assert evaluate(parse("regex(., '^(a+)+$')"), {}, current="a" * 40 + "!") is False
    email = r"^([a-zA-Z0-9._%+-]+)*@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$"
    assert evaluate(parse(f"regex(., '{email}')"), {}, current="a" * 54 + "@") is False
    assert time.monotonic() - started < 1
    started = time.monotonic()
    response = _post(client, link, {"code": "a" * 40 + "!", "project_code": "LM.0181"}, action="submit")
    assert response.status_code == 422
    assert _errors(response) == ["Only the letter a."]
    assert time.monotonic() - started < 5


def test_another_request_is_served_while_a_form_is_evaluated(
    store: Store, link: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(database_url=store.url), store)
    entered, release = threading.Event(), threading.Event()
    original = engine.evaluate
    armed = {"on": False}

    def slow(*args: Any, **kwargs: Any) -> engine.Evaluation:
        if armed["on"]:
            armed["on"] = False
            entered.set()
            assert release.wait(10), "the other request was not served while this form was evaluated"
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "evaluate", slow)

    async def scenario() -> tuple[int, int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            html = BeautifulSoup((await client.get(link)).text, "html.parser")
            token = html.find("input", {"name": "csrf_token"})
            assert token is not None
            armed["on"] = True
            saving = asyncio.create_task(
                client.post(link, data={"csrf_token": str(token["value"]), "story": "s", "action": "save"})
            )
            for _ in range(500):
                if entered.is_set():
                    break
                await asyncio.sleep(0.01)
            other = await asyncio.wait_for(client.get(link), 5)
            release.set()
            return other.status_code, (await saving).status_code

    assert asyncio.run(scenario()) == (200, 200)
