"""Invitations cannot be turned against their respondents (issue 8): names that would add a recipient or break a
header are refused where they come in; a batch with a bad message sends nothing; a failure half way keeps what was
sent recorded and working, and a second run sends only the rest."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lmreview.questionnaire.models import Respondent
from lmreview.settings import Settings
from lmreview.store import Store
from lmreview.store.users import add_user
from lmreview.web.app import create_app
from tests.conftest import SAMPLES, TEMPLATES, Cli, join_every_review
from tests.test_web import PASSWORD, csrf, login, soup

ROSTER = (
    "project_code,name,email\n"
    "LM.0181,Ana Silva,ana@example.org\n"
    "LM.0183,Bruno Diallo,bruno@example.org\n"
    "LM.0214,Chen Li,chen@example.org\n"
    "LM.0204,Zoë O'Brien-Ngũgĩ,zoe@example.org\n"
)
MALLORY = "Mallory <mallory@evil.example>, Ana"


@dataclass
class Server:
    """A real SMTP server on localhost that records each envelope and can refuse chosen addresses."""

    host: str
    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address → reply to RCPT TO
    data_replies: dict[str, str] = field(default_factory=dict)  # address → reply to DATA

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.received if address in rcpts]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = Server("127.0.0.1", port)

    class Handler:
        async def handle_RCPT(
            self, server: object, session: object, envelope: Any, address: str, options: object
        ) -> str:
            if address in found.rcpt_replies:
                return found.rcpt_replies[address]
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
            for address in envelope.rcpt_tos:
                if address in found.data_replies:
                    return found.data_replies[address]
            message = cast(EmailMessage, message_from_bytes(envelope.content, policy=default))
            found.received.append((list(envelope.rcpt_tos), message))
            return "250 Message accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("LMREVIEW_SMTP_HOST", found.host)
    monkeypatch.setenv("LMREVIEW_SMTP_PORT", str(port))
    monkeypatch.setenv("LMREVIEW_SMTP_SECURITY", "none")
    monkeypatch.setenv("LMREVIEW_BASE_URL", "http://testserver")
    try:
        yield found
    finally:
        controller.stop()


@pytest.fixture
def review(cli: Cli, tmp_path: Path) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    run = cli("review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test")
    assert run.exit_code == 0, run.stderr
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    run = cli("respondents", "import", str(roster), "--review", "r16")
    assert run.exit_code == 0, run.stderr
    return "r16"


def people(cli: Cli) -> dict[str, str]:
    """Each respondent's status, by e-mail."""
    run = cli("respondents", "list", "--review", "r16", "--json")
    assert run.exit_code == 0, run.stderr
    return {r["email"]: r["status"] for r in json.loads(run.stdout)}


def link(message: EmailMessage) -> str:
    found = re.search(r"http://testserver(/r/\S+)", message.get_content())
    assert found is not None
    return found[1]


# --- names and addresses are checked where they come in --------------------------------------------------------------


def test_roster_names_that_would_break_a_header_are_refused_with_their_place(
    cli: Cli, review: str, tmp_path: Path
) -> None:
    roster = tmp_path / "bad.csv"
    roster.write_text(
        "project_code,name,email\n"
        f'LM.0181,"{MALLORY}",ana2@example.org\n'
        'LM.0183,"Bruno\r\nBcc: all@evil.example",bruno2@example.org\n'
        "LM.0214,Chen Li,chen2@example.org\n"
        'LM.0204,Dora "Dee" Diaz,dora@example.org\n'
        "LM.0204,Eve Amos,eve@example.org>\n"
        "LM.0204,Fay Obi,fay@example.org\n"
        "LM.0204,Gil Ray,gil@example.org.\n"
        "LM.0204,Hal\u202eIbe,hal@example.org\n"
        "LM.0204,José Ruiz,josé@example.org\n"
        "LM.0204,王伟,wang@example.org\n"
        "LM.0204,O'Brien زهرا\u200c,obrien@example.org\n",
        encoding="utf-8",
        newline="",
    )
    run = cli("respondents", "import", str(roster), "--review", review)
    assert run.exit_code == 2
    lines = [line.removeprefix(str(tmp_path) + "/") for line in run.stderr.splitlines()]
    rule = (
        'a name cannot hold any of < > , ; " (it goes into the header of e-mails); '
        'write it as "Ana Silva" rather than "Silva, Ana"'
    )
    assert lines == [
        f'bad.csv:2:name: "{MALLORY}": {rule}',
        'bad.csv:3:name: "Bruno\\r\\nBcc: all@evil.example" is not one line: a name cannot hold a line break',
        f'bad.csv:6:name: "Dora "Dee" Diaz": {rule}',
        'bad.csv:7:email: "eve@example.org>" is not an e-mail address',
        'bad.csv:9:email: "gil@example.org." is not an e-mail address',
        'bad.csv:10:name: "Hal\\u202eIbe" holds an invisible or text-direction character; type the name again',
        'bad.csv:11:email: "josé@example.org": lmreview sends mail over plain SMTP, which takes addresses in ASCII '
        "letters only",
        "error: 7 errors; nothing was written",
    ]
    assert len(people(cli)) == 4  # nothing was written
    # a control character is refused as the table is read, before any other check
    roster.write_text("project_code,name,email\nLM.0214,Chen\x07Li,chen2@example.org\n", encoding="utf-8")
    run = cli("respondents", "import", str(roster), "--review", review)
    assert run.exit_code == 2
    assert "bad.csv:2:name: the value contains a control character, U+0007, at character 5; remove it" in run.stderr
    assert len(people(cli)) == 4


def test_respondents_add_refuses_such_names_and_addresses(cli: Cli, review: str) -> None:
    run = cli("respondents", "add", MALLORY, "--review", review, "--email", "ana3@example.org")
    assert run.exit_code == 2
    assert "respondent: name:" in run.stderr
    assert "a name cannot hold any of" in run.stderr
    run = cli("respondents", "add", "Ana\nSilva", "--review", review, "--email", "ana3@example.org")
    assert run.exit_code == 2
    assert "is not one line" in run.stderr
    run = cli("respondents", "add", "Ana Silva", "--review", review, "--email", "ana@example.org, mallory@evil.example")
    assert run.exit_code == 2
    assert "is not an e-mail address" in run.stderr
    assert len(people(cli)) == 4
    run = cli("respondents", "add", "Ana Souza-Pérez (M&E)", "--review", review, "--email", "ana.s@example.org")
    assert run.exit_code == 0, run.stderr  # brackets, accents and "&" are fine in a name


def test_the_web_form_refuses_such_names(cli: Cli, store: Store, review: str) -> None:
    with store.session() as session:
        add_user(session, "rev", "reviewer", PASSWORD, actor="test")
    join_every_review(store, "rev", role="manager")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        login(client, "rev")
        token = csrf(client, f"/reviews/{review}")
        for name in (MALLORY, "Ana\r\nBcc: x@evil.example"):
            response = client.post(
                f"/reviews/{review}/respondents",
                data={"csrf_token": token, "respondent": name, "email": "x@example.org"},
            )
            assert response.status_code == 422
            assert "name" in soup(response.text).get_text()
        json_answer = client.post(
            f"/reviews/{review}/respondents",
            data={"csrf_token": token, "respondent": MALLORY, "email": "x@example.org"},
            headers={"accept": "application/json"},
        )
        assert json_answer.status_code == 422
        assert any("a name cannot hold any of" in p for p in json_answer.json()["problems"])
    assert len(people(cli)) == 4


# --- a batch is checked whole before anything is sent --------------------------------------------------------------


def test_a_bad_name_already_stored_refuses_the_whole_batch(cli: Cli, store: Store, review: str, server: Server) -> None:
    with store.session() as session:  # written before names were checked
        bruno = session.scalar(select(Respondent).where(Respondent.email == "bruno@example.org"))
        assert bruno is not None
        bruno.name = MALLORY
        bruno_id = bruno.id
    run = cli("review", "invite", review)
    assert run.exit_code == 2
    assert f'respondent {bruno_id}: name: "{MALLORY}": a name cannot hold any of' in run.stderr
    assert "correct it in the roster and import the roster again" in run.stderr
    assert server.received == []  # not even the good ones
    assert set(people(cli).values()) == {"not_invited"}


def test_each_message_goes_to_the_one_stored_address_with_a_well_formed_header(
    cli: Cli, review: str, server: Server
) -> None:
    run = cli("review", "invite", review)
    assert run.exit_code == 0, run.stderr
    assert "Sent 4 invitations." in run.stdout
    assert sorted(rcpts[0] for rcpts, _ in server.received) == [
        "ana@example.org",
        "bruno@example.org",
        "chen@example.org",
        "zoe@example.org",
    ]
    assert all(len(rcpts) == 1 for rcpts, _ in server.received)
    zoe = server.to("zoe@example.org")[0]
    assert zoe["To"].addresses == (Address(display_name="Zoë O'Brien-Ngũgĩ", addr_spec="zoe@example.org"),)
    assert zoe["From"].addresses == (Address(display_name="lmreview", addr_spec="lmreview@localhost"),)


def test_a_sender_that_is_not_one_address_is_refused(
    cli: Cli, review: str, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMREVIEW_MAIL_FROM", "team@example.org, other@example.org")
    run = cli("review", "invite", review)
    assert run.exit_code == 2
    assert "LMREVIEW_MAIL_FROM:" in run.stderr
    assert server.received == []


# --- a failure half way ----------------------------------------------------------------------------------------------


def test_a_failure_half_way_keeps_the_sent_invitations_and_a_second_run_sends_the_rest(
    cli: Cli, store: Store, review: str, server: Server
) -> None:
    server.rcpt_replies["bruno@example.org"] = "451 4.3.0 mailbox busy, try again later"
    server.data_replies["chen@example.org"] = "554 5.7.1 message refused"
    run = cli("review", "invite", review)
    assert run.exit_code == 2
    assert "  sent: invitation to Ana Silva <ana@example.org>" in run.stdout
    assert "  sent: invitation to Zoë O'Brien-Ngũgĩ <zoe@example.org>" in run.stdout
    assert "  failed: invitation to Bruno Diallo <bruno@example.org> (451 4.3.0 mailbox busy" in run.stderr
    assert "  failed: invitation to Chen Li <chen@example.org> (554 5.7.1 message refused)" in run.stderr
    assert "Sent 2 invitations." in run.stdout
    assert "2 invitations could not be sent (they were not recorded)" in run.stderr
    assert people(cli) == {
        "ana@example.org": "invited",
        "bruno@example.org": "not_invited",  # a temporary refusal is not a bounce
        "chen@example.org": "not_invited",
        "zoe@example.org": "invited",
    }
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        assert client.get(link(server.to("ana@example.org")[0])).status_code == 200  # the sent link works
    server.rcpt_replies.clear()
    server.data_replies.clear()
    again = cli("review", "invite", review)
    assert again.exit_code == 0, again.stderr
    assert "Sent 2 invitations." in again.stdout
    assert len(server.to("ana@example.org")) == 1  # nobody gets a second invitation
    assert len(server.to("bruno@example.org")) == 1
    assert people(cli) == {
        "ana@example.org": "opened",
        "bruno@example.org": "invited",
        "chen@example.org": "invited",
        "zoe@example.org": "invited",
    }


def test_a_server_closing_the_connection_half_way_is_reconnected(cli: Cli, review: str, server: Server) -> None:
    server.data_replies["bruno@example.org"] = "421 4.3.2 closing the connection"
    run = cli("review", "invite", review)
    assert run.exit_code == 2
    assert "  failed: invitation to Bruno Diallo <bruno@example.org> (421" in run.stderr
    assert "Sent 3 invitations." in run.stdout  # the messages after it went out on a new connection
    assert people(cli)["chen@example.org"] == "invited"


def test_a_permanent_refusal_is_a_bounce_and_the_rest_goes_out(cli: Cli, review: str, server: Server) -> None:
    server.rcpt_replies["bruno@example.org"] = "550 5.1.1 no such user"
    run = cli("review", "invite", review)
    assert run.exit_code == 0, run.stderr
    assert "  bounced: invitation to Bruno Diallo <bruno@example.org> (550 5.1.1 no such user)" in run.stderr
    assert "Sent 3 invitations." in run.stdout
    assert people(cli)["bruno@example.org"] == "bounced"


def test_reminders_failing_half_way_keep_the_sent_ones(cli: Cli, review: str, server: Server) -> None:
    assert cli("review", "invite", review).exit_code == 0
    server.data_replies["chen@example.org"] = "554 5.7.1 message refused"
    run = cli("review", "remind", review)
    assert run.exit_code == 2
    assert "Sent 3 reminders." in run.stdout
    assert "1 reminder could not be sent (it was not recorded); the next reminders include them." in run.stderr
    reminded = {rcpts[0] for rcpts, m in server.received if str(m["Subject"]).startswith("Reminder")}
    assert reminded == {"ana@example.org", "bruno@example.org", "zoe@example.org"}


def test_the_web_reports_the_invitations_that_failed(cli: Cli, store: Store, review: str, server: Server) -> None:
    server.rcpt_replies["bruno@example.org"] = "451 4.3.0 mailbox busy, try again later"
    with store.session() as session:
        add_user(session, "rev", "reviewer", PASSWORD, actor="test")
    join_every_review(store, "rev", role="manager")
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        login(client, "rev")
        response = client.post(f"/reviews/{review}/invite", data={"csrf_token": csrf(client, f"/reviews/{review}")})
        assert response.status_code == 200
        text = soup(response.text).get_text(" ", strip=True)
    assert "Sent 3 invitations." in text
    assert "Not sent to Bruno Diallo <bruno@example.org> (451 4.3.0 mailbox busy, try again later)" in text
    assert people(cli)["bruno@example.org"] == "not_invited"
