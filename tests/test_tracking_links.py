"""A responsible unit answers through its personal link (no account); a forged or expired link is refused and
nothing is written; reminders of overdue and upcoming key actions go to each unit's one address."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.tracking.models import ResponseLink
from lmreview.web.app import create_app
from tests.conftest import Cli, Mailbox, join_every_review
from tests.test_tracking_register import days, register
from tests.test_web import PASSWORD, csrf, login


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with store.session() as session:
        add_user(session, "rev", "reviewer", PASSWORD, actor="test")
    with TestClient(create_app(Settings(database_url=store.url), store)) as c:
        yield c


def links(cli: Cli, tmp_path: Path, *args: str) -> dict[str, str]:
    """Send the links of review r16 into .eml files; the path of each unit's link by unit name."""
    outbox = tmp_path / "outbox"
    run = cli("tracking", "send", "--review", "r16", "--dry-run", str(outbox), *args)
    assert run.exit_code == 0, run.stderr
    found = {}
    for path in sorted(outbox.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=default)
        token = re.search(r"/t/([A-Za-z0-9_\-]+)", message.get_content())
        assert token is not None
        found[str(message["To"].addresses[0].display_name)] = f"/t/{token[1]}"
    return found


def test_a_unit_answers_through_its_link(client: TestClient, cli: Cli, tmp_path: Path) -> None:
    recs, _actions = register(cli)
    assert cli("tracking", "unit", "set", "PARDEV", "--email", "pardev@example.org").exit_code == 0
    run = cli("tracking", "send", "--review", "r16", "--dry-run", str(tmp_path / "first"))
    assert "written: PARDEV <pardev@example.org>" in run.stdout
    assert "skipped: MIGRANT (no address: lmreview tracking unit set 'MIGRANT' --email)" in run.stdout
    assert "1 links sent." in run.stdout
    eml = next((tmp_path / "first").glob("*.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=default)
    assert str(message["To"]) == "PARDEV <pardev@example.org>"
    assert "Publish a results framework for the Fund" in message.get_content()

    history = cli("tracking", "recs", "show", recs["1"]).stdout.split("history:")[1]
    assert "tester: sent a response link for recommendation 1 to PARDEV" in history
    assert "for recommendation 2" not in cli("tracking", "recs", "show", recs["2"]).stdout

    path = links(cli, tmp_path)["PARDEV"]
    page = client.get(path)
    assert page.status_code == 200
    assert "Publish a results framework for the Fund" in page.text
    token = csrf(client, path)
    form = {
        "csrf_token": token,
        "stance": "partially_agrees",
        "text": "For projects approved from 2027",
        "by": "Ana Lima, chief",
        "action_description": ["Revise the proposal template", "Brief the regional offices", ""],
        "action_due": [days(60), days(120), ""],
    }
    response = client.post(path, data=form)
    assert response.status_code == 200
    assert "your response is saved" in response.text
    rec = next(r for r in json.loads(cli("tracking", "recs", "list", "--json").stdout) if r["id"] == int(recs["1"]))
    assert rec["response"] == {
        "stance": "partially_agrees",
        "text": "For projects approved from 2027",
        "by": "Ana Lima, chief, PARDEV",
        "on": dt.date.today().isoformat(),
    }
    assert [(a["description"], a["unit"], a["due_date"]) for a in rec["actions"][2:]] == [
        ("Revise the proposal template", "PARDEV", days(60)),
        ("Brief the regional offices", "PARDEV", days(120)),
    ]
    shown = cli("tracking", "recs", "show", recs["1"]).stdout
    assert "Ana Lima, chief (PARDEV, personal link): response to recommendation 1: partially agrees" in shown
    join_every_review(client.app.state.store, "rev")
    login(client, "rev")
    answered = client.get(f"/tracking/recs/{recs['1']}").text
    assert "pardev@example.org" in answered


def test_forged_expired_and_bad_answers_write_nothing(
    client: TestClient, cli: Cli, store: Store, tmp_path: Path
) -> None:
    register(cli)
    assert cli("tracking", "unit", "set", "PARDEV", "--email", "pardev@example.org").exit_code == 0
    path = links(cli, tmp_path)["PARDEV"]
    before = cli("tracking", "recs", "list", "--json").stdout

    forged = client.get("/t/" + "A" * 43)
    assert forged.status_code == 403
    assert "this link is not valid" in forged.text

    token = csrf(client, path)
    bad = {
        "csrf_token": token,
        "stance": "agrees",
        "by": "Ana",
        "action_description": ["Do it"],
        "action_due": ["31/02/2027"],
    }
    response = client.post(path, data=bad, headers={"accept": "application/json"})
    assert response.status_code == 422
    assert response.json()["problems"] == ["key action:1:due date: '31/02/2027' is not a date"]
    response = client.post(path, data={**bad, "action_due": [""], "stance": "disagrees"})
    assert response.status_code == 422
    assert "say why" in response.text

    with store.session() as session:
        session.execute(update(ResponseLink).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    expired = client.get(path)
    assert expired.status_code == 403
    assert "this link expired on 2020-01-01" in expired.text
    late = client.post(path, data={**bad, "action_due": [days(10)]})
    assert late.status_code == 403
    assert cli("tracking", "recs", "list", "--json").stdout == before


def test_reminders_by_smtp_and_dry_run(cli: Cli, mail_env: Mailbox, tmp_path: Path, client: TestClient) -> None:
    register(cli)  # PARDEV: one overdue, one completed; MIGRANT: one due in 90 days; EVAL: no longer applicable
    assert cli("tracking", "unit", "set", "PARDEV", "--email", "pardev@example.org").exit_code == 0
    assert cli("tracking", "unit", "set", "MIGRANT", "--email", "migrant@example.org").exit_code == 0
    run = cli("tracking", "remind")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines() == ["sent: PARDEV <pardev@example.org>: 1 overdue, 0 due soon"]
    [message] = mail_env.to("pardev@example.org")
    assert str(message["To"]) == "PARDEV <pardev@example.org>"
    body = message.get_content()
    assert f"Draft the framework (recommendation 1 of r16; due {days(-30)}, 30 days overdue; initiated)" in body
    assert "Train project managers" not in body  # completed

    run = cli("tracking", "remind", "--due-within", "120", "--dry-run", str(tmp_path / "out"))
    assert [line.split(" (")[0] for line in run.stdout.splitlines()] == [
        "written: MIGRANT <migrant@example.org>: 0 overdue, 1 due soon",
        "written: PARDEV <pardev@example.org>: 1 overdue, 0 due soon",
    ]
    assert len(list((tmp_path / "out").glob("*.eml"))) == 2
    assert len(mail_env.messages) == 1
    units = cli("tracking", "unit", "list").stdout
    assert units.count(dt.date.today().isoformat()) == 2
    login(client, "rev")
    assert client.get("/tracking").text.count(dt.date.today().isoformat() + " ") == 2


def test_without_a_mail_server_nothing_is_sent(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LMREVIEW_SMTP_HOST", raising=False)
    register(cli)
    assert cli("tracking", "unit", "set", "PARDEV", "--email", "pardev@example.org").exit_code == 0
    run = cli("tracking", "remind")
    assert run.exit_code == 2
    assert "no mail server is set" in run.stderr
    run = cli("tracking", "send")
    assert run.exit_code == 2
    assert "name one recommendation id or --review NAME" in run.stderr
