"""The personal link over HTTP: open, answer in English or French, save a draft, resume, submit; refused links;
reviewers' corrections and review states; the review pages."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import update

from lmreview.questionnaire.models import Invitation
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import CASCADE_FORM, SAMPLES, TEMPLATES, Cli, join_every_review, personal_link

PASSWORD = "correct-horse"


@pytest.fixture
def setup(cli: Cli, tmp_path: Path) -> dict[str, str]:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    assert cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test").exit_code == 0
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "project_code,name,email,language\n"
        "LM.0181,Ana Silva,ana@example.org,en\n"
        "LM.0183,Bruno Diallo,bruno@example.org,fr\n",
        encoding="utf-8",
    )
    assert cli("respondents", "import", str(roster), "--review", "r16").exit_code == 0
    outbox = tmp_path / "outbox"
    assert cli("review", "invite", "r16", "--dry-run", str(outbox)).exit_code == 0
    links = {}
    for eml in outbox.glob("*.eml"):
        token = re.search(rb"/r/([A-Za-z0-9_\-]+)", eml.read_bytes())
        assert token is not None
        links[eml.name.split("-")[0]] = token[1].decode()
    return links


@pytest.fixture
def client(store: Store, setup: dict[str, str]) -> Iterator[TestClient]:
    with store.session() as session:
        add_user(session, "rev", "reviewer", PASSWORD, actor="test")
    join_every_review(store, "rev")
    app = create_app(Settings(database_url=store.url, max_upload_bytes=200_000), store)
    with TestClient(app) as c:
        yield c


def page(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def token_of(html: str) -> str:
    found = page_text_input(html, "csrf_token")
    assert found
    return found


def page_text_input(html: str, name: str) -> str | None:
    tag = BeautifulSoup(html, "html.parser").find("input", {"name": name})
    return str(tag["value"]) if tag is not None else None


def post(client: TestClient, link: str, fields: list[tuple[str, str]], action: str) -> Any:
    html = client.get(link).text
    data: dict[str, list[str]] = {}
    for key, value in [("csrf_token", token_of(html)), *fields, ("action", action)]:
        data.setdefault(key, []).append(value)
    return client.post(link, data=data, follow_redirects=False)


def status(cli: Cli) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(cli("responses", "status", "--review", "r16", "--json").stdout)
    return result


def test_the_link_opens_the_form_prefilled_in_the_respondents_language(
    client: TestClient, setup: dict[str, str], cli: Cli
) -> None:
    response = client.get(f"/r/{setup['LM.0181']}")
    assert response.status_code == 200
    soup = page(response)
    assert soup.find("input", {"name": "project/project_code"})["value"] == "LM.0181"  # type: ignore[index]
    assert "Promoting Safe Labour Migration from Vietnam" in soup.get_text()
    assert soup.find("label", string=re.compile("Number of beneficiaries reached"))
    french = page(client.get(f"/r/{setup['LM.0183']}"))  # Bruno's roster language is fr
    assert french.find("label", string=re.compile("Nombre de bénéficiaires atteints"))
    assert french.find("button", string="Enregistrer le brouillon")
    switched = page(client.get(f"/r/{setup['LM.0181']}?lang=fr"))
    assert switched.find("label", string=re.compile("Nombre de bénéficiaires atteints"))
    assert status(cli)["opened"] == 2


def test_draft_is_saved_and_resumed_then_submitted_once(client: TestClient, setup: dict[str, str], cli: Cli) -> None:
    link = f"/r/{setup['LM.0181']}"
    response = post(
        client, link, [("project/project_code", "LM.0181"), ("beneficiaries", "120"), ("sustained", "no")], "save"
    )
    assert response.status_code == 200
    assert "Your answers are saved" in response.text
    assert status(cli)["draft"] == 1
    resumed = page(client.get(link))
    assert resumed.find("input", {"name": "beneficiaries"})["value"] == "120"  # type: ignore[index]
    why = resumed.find("textarea", {"name": "not_sustained_why"})
    assert why is not None
    assert why.find_parent("div").get("hidden") is None

    refused = post(client, link, [("beneficiaries", "-3"), ("sustained", "no"), ("budget", "abc")], "submit")
    assert refused.status_code == 422
    errors = page(refused).find("div", class_="error")
    assert errors is not None
    text = errors.get_text(" ", strip=True).replace(" :", ":")
    assert "Number of beneficiaries reached: The number cannot be negative." in text
    assert "Budget spent (USD): Enter a number" in text
    assert status(cli)["submitted"] == 0

    added = post(
        client, link, [("beneficiaries", "120"), ("sustained", "yes"), ("outcomes.count", "0")], "add:outcomes"
    )
    assert page(added).find("input", {"name": "outcomes[1]/outcome"}) is not None

    fields = [
        ("project/project_code", "LM.0181"),
        ("project/report_date", "2015-03-31"),
        ("beneficiaries", "120"),
        ("budget", "200000"),
        ("sustained", "yes"),
        ("challenges.present", "1"),
        ("challenges", "funding"),
        ("challenges", "covid19"),
        ("outcomes.count", "1"),
        ("outcomes[1]/outcome", "Migrant resource centre opened"),
        ("outcomes[1]/related_outputs", "1.1"),
    ]
    done = post(client, link, fields, "submit")
    assert done.status_code == 303, page(done).get_text(" ", strip=True)[:2000]
    shown = client.get(link)
    assert "this questionnaire was submitted on" in shown.text
    assert page(shown).find("button", string="Submit") is None
    result = status(cli)
    assert (result["submitted"], result["projects_answered"], result["projects_total"]) == (1, 1, 14)
    assert result["response_rate"] == pytest.approx(1 / 14)

    again = client.post(
        link, data={"csrf_token": token_of(client.get("/login").text), "action": "submit", "beneficiaries": "1"}
    )
    assert again.status_code == 409
    assert "cannot be changed from this link" in again.text


def test_autosave_of_a_withdrawn_or_expired_link_is_refused(
    client: TestClient, setup: dict[str, str], store: Store
) -> None:
    link = f"/r/{setup['LM.0183']}"
    assert post(client, link, [("beneficiaries", "5")], "autosave").status_code == 204
    token = token_of(client.get(link).text)
    for change in ({"expires_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}, {"revoked_at": dt.datetime.now(dt.UTC)}):
        with store.session() as session:
            session.execute(update(Invitation).values(**change))
        refused = client.post(link, data={"csrf_token": token, "action": "autosave", "beneficiaries": "6"})
        assert refused.status_code == 403


def test_autosave_keeps_the_draft_without_a_page(client: TestClient, setup: dict[str, str], cli: Cli) -> None:
    """The form's script saves in the background: 204 and no page; a refused answer is 422 with its path and leaves
    the draft as it was; once submitted, 409."""
    link = f"/r/{setup['LM.0181']}"
    saved = post(client, link, [("beneficiaries", "12a"), ("sustained", "no")], "autosave")
    assert (saved.status_code, saved.content) == (204, b"")
    assert status(cli)["draft"] == 1
    resumed = page(client.get(link))
    assert resumed.find("input", {"name": "beneficiaries"})["value"] == "12a"  # type: ignore[index]  # kept as typed

    again = post(client, link, [("beneficiaries", "12b"), ("sustained", "no")], "autosave")
    assert again.status_code == 204
    assert page(client.get(link)).find("input", {"name": "beneficiaries"})["value"] == "12b"  # type: ignore[index]
    refused = post(client, link, [("beneficiaries", "9" * 40), ("sustained", "yes")], "autosave")
    assert refused.status_code == 422
    assert list(refused.json()["refused"]) == ["beneficiaries"]
    kept = page(client.get(link))
    assert kept.find("input", {"name": "beneficiaries"})["value"] == "12b"  # type: ignore[index]

    fields = [
        ("project/project_code", "LM.0181"),
        ("project/report_date", "2015-03-31"),
        ("beneficiaries", "120"),
        ("budget", "200000"),
        ("sustained", "yes"),
        ("outcomes.count", "0"),
    ]
    assert post(client, link, fields, "submit").status_code == 303
    assert status(cli)["submitted"] == 1
    token = token_of(client.get("/login").text)
    late = client.post(link, data={"csrf_token": token, "action": "autosave", "beneficiaries": "1"})
    assert late.status_code == 409
    assert status(cli)["submitted"] == 1


def test_forged_revoked_and_expired_links_are_refused(
    client: TestClient, setup: dict[str, str], cli: Cli, store: Store
) -> None:
    forged = client.get("/r/" + "A" * 43)
    assert forged.status_code == 403
    assert "this link is not valid" in forged.text
    with store.session() as session:
        session.execute(update(Invitation).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    expired = client.get(f"/r/{setup['LM.0181']}")
    assert expired.status_code == 403
    assert "this link expired on 2020-01-01" in expired.text
    with store.session() as session:
        session.execute(update(Invitation).values(expires_at=dt.datetime(2100, 1, 1, tzinfo=dt.UTC)))
    people = json.loads(cli("respondents", "list", "--review", "r16", "--json").stdout)
    ana = next(p["id"] for p in people if p["name"] == "Ana Silva")
    assert cli("respondents", "revoke", str(ana), "--review", "r16").exit_code == 0
    revoked = client.get(f"/r/{setup['LM.0181']}")
    assert revoked.status_code == 403
    assert "withdrawn" in revoked.text
    assert client.get(f"/r/{setup['LM.0183']}").status_code == 200


def test_a_respondent_can_decline(client: TestClient, setup: dict[str, str], cli: Cli) -> None:
    link = f"/r/{setup['LM.0183']}"
    html = client.get(link).text
    response = client.post(f"{link}/decline", data={"csrf_token": token_of(html), "reason": "Project closed"})
    assert response.status_code == 200
    assert status(cli)["declined"] == 1


def login(client: TestClient) -> str:
    html = client.get("/login").text
    client.post("/login", data={"name": "rev", "password": PASSWORD, "csrf_token": token_of(html)})
    return token_of(client.get("/reviews").text)


def test_reviewer_corrects_an_answer_with_a_reason_and_reviews_it(client: TestClient, setup: dict[str, str]) -> None:
    link = f"/r/{setup['LM.0181']}"
    fields = [("project/project_code", "LM.0181"), ("beneficiaries", "120"), ("sustained", "yes")]
    assert post(client, link, fields, "submit").status_code == 303
    csrf = login(client)
    dashboard = page(client.get("/reviews/r16"))
    assert "1 of 14 projects" in dashboard.get_text(" ", strip=True)
    sub_link = dashboard.find("a", href=re.compile(r"/reviews/r16/submissions/\d+$"))
    assert sub_link is not None
    url = str(sub_link["href"])
    no_reason = client.post(f"{url}/change", data={"csrf_token": csrf, "path": "beneficiaries", "value": "150"})
    assert no_reason.status_code == 422
    bad = client.post(
        f"{url}/change", data={"csrf_token": csrf, "path": "beneficiaries", "value": "many", "reason": "x"}
    )
    assert bad.status_code == 422
    assert "Enter a whole number" in bad.text
    ok = client.post(
        f"{url}/change",
        data={"csrf_token": csrf, "path": "beneficiaries", "value": "150", "reason": "Final report says 150"},
    )
    assert ok.status_code == 200
    history = page(ok).find("h2", id="history").find_next("table").get_text(" ", strip=True)  # type: ignore[union-attr]
    assert "rev beneficiaries 120 150 Final report says 150" in history
    state = client.post(f"{url}/state", data={"csrf_token": csrf, "state": "approved", "comment": "Checked"})
    assert "Review state approved" in page(state).get_text(" ", strip=True)


def test_forms_pages_and_oversized_upload(client: TestClient) -> None:
    csrf = login(client)
    listing = page(client.get("/forms")).get_text(" ", strip=True)
    assert "bilingual_test" in listing
    assert "idf-lm-2022" in listing
    preview = client.get("/forms/bilingual_test?lang=fr")
    assert "Nombre de bénéficiaires atteints" in preview.text
    xlsx = client.get("/forms/templates/idf-lm-2022.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content.startswith(b"PK")
    big = client.post("/forms", data={"csrf_token": csrf}, files={"file": ("big.xlsx", b"PK" + b"0" * 300_000)})
    assert big.status_code == 422
    assert "larger than" in big.text
    bad = client.post(
        "/forms",
        data={"csrf_token": csrf},
        files={"file": ("bad.md", b"| survey |\n| | type | name | label |\n| | integr | a | A |\n")},
    )
    assert bad.status_code == 422
    assert "integr" in bad.text


DEFAULTS_FORM = """| survey |
| | type | name | label | default | repeat_count |
| | text | project_code | Project code | | |
| | select_one yn | ongoing | Still running? | yes | |
| | date | asked | Date | today() | |
| | begin repeat | steps | Step | | |
| | integer | people | People | 10 | |
| | end repeat | | | | |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
| settings |
| | form_id | version |
| | defaults | 1 |
"""


def test_defaults_fill_a_new_questionnaire_and_each_new_repeat(cli: Cli, store: Store, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, DEFAULTS_FORM, tmp_path, review="d")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        soup = page(client.get(link))
        assert soup.find("input", {"name": "ongoing", "value": "yes"}).has_attr("checked")  # type: ignore[union-attr]
        assert soup.find("input", {"name": "asked"})["value"] == dt.date.today().isoformat()  # type: ignore[index]
        added = post(client, link, [("steps.count", "0")], "add:steps")
        assert page(added).find("input", {"name": "steps[1]/people"})["value"] == "10"  # type: ignore[index]


LAST_SAVED_FORM = """| survey |
| | type | name | label | default |
| | text | project_code | Project code | |
| | text | office | Office | ${last-saved#office} |
| | integer | staff | Staff | ${last-saved#staff} |
| settings |
| | form_id | version |
| | yearly | 1 |
"""


def test_last_saved_defaults_come_from_the_respondents_previous_submission(
    cli: Cli, store: Store, tmp_path: Path
) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    first = personal_link(cli, LAST_SAVED_FORM, tmp_path, review="y1")
    assert cli("review", "create", "y2", "--portfolio", "lm2016", "--form", "yearly").exit_code == 0
    run = cli("respondents", "add", "Ana S", "--review", "y2", "--email", "A@example.org", "--project", "LM.0183")
    assert run.exit_code == 0, run.stderr
    outbox = tmp_path / "y2-outbox"
    assert cli("review", "invite", "y2", "--dry-run", str(outbox)).exit_code == 0
    token = re.search(rb"/r/([A-Za-z0-9_\-]+)", next(outbox.glob("*.eml")).read_bytes())
    assert token is not None
    second = f"/r/{token[1].decode()}"
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        assert page(client.get(first)).find("input", {"name": "office"})["value"] == ""  # type: ignore[index]
        fields = [("project_code", "LM.0181"), ("office", "Dakar"), ("staff", "4")]
        assert post(client, first, fields, "submit").status_code == 303
        # the same person (by e-mail address) answering the next year's review starts from their last answers
        soup = page(client.get(second))
        assert soup.find("input", {"name": "office"})["value"] == "Dakar"  # type: ignore[index]
        assert soup.find("input", {"name": "staff"})["value"] == "4"  # type: ignore[index]


def test_an_option_left_out_by_a_choice_filter_is_refused(cli: Cli, store: Store, tmp_path: Path) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    link = personal_link(cli, CASCADE_FORM, tmp_path, review="c")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        refused = post(client, link, [("country", "ke"), ("city", "kathmandu")], "submit")
        assert refused.status_code == 422
        assert '"kathmandu" does not apply with the answers given above' in page(refused).get_text()
        assert post(client, link, [("country", "np"), ("city", "kathmandu")], "submit").status_code == 303


def test_a_submitted_questionnaire_cannot_then_be_declined(client: TestClient, setup: dict[str, str], cli: Cli) -> None:
    link = f"/r/{setup['LM.0181']}"
    assert post(client, link, [("project/project_code", "LM.0181"), ("sustained", "yes")], "submit").status_code == 303
    response = client.post(f"{link}/decline", data={"csrf_token": token_of(client.get("/login").text), "reason": "x"})
    assert response.status_code == 409
    assert "already submitted" in response.text
    assert (status(cli)["submitted"], status(cli)["declined"]) == (1, 0)
