"""Reviews from the command line: create, import the roster, invite over real SMTP, remind, response status."""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLES, TEMPLATES, Cli, Mailbox

ROSTER = (
    "project_code,name,email,role,language\n"
    "LM.0181,Ana Silva,ana@example.org,Project manager,en\n"
    "LM.0183,Bruno Diallo,bruno@example.org,Project manager,fr\n"
    "LM.0214,Chen Li,,Programme officer,en\n"
    "LM.0204,Dora Bounce,bounce@example.org,Project manager,en\n"
)


@pytest.fixture
def review(cli: Cli, tmp_path: Path) -> str:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv")).exit_code == 0
    assert cli("form", "add", str(TEMPLATES / "bilingual-test.md")).exit_code == 0
    run = cli(
        "review", "create", "r16", "--portfolio", "lm2016", "--form", "bilingual_test", "--title", "IDF review 2016"
    )
    assert run.exit_code == 0, run.stderr
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    run = cli("respondents", "import", str(roster), "--review", "r16")
    assert run.exit_code == 0, run.stderr
    assert "Imported roster.csv into review r16: 4 added, 0 updated, 0 unchanged" in run.stdout
    return "r16"


def status(cli: Cli, review: str = "r16") -> dict[str, Any]:
    run = cli("responses", "status", "--review", review, "--json")
    assert run.exit_code == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_status_before_anything_is_sent(cli: Cli, review: str) -> None:
    result = status(cli)
    assert result == {
        "review": "r16",
        "form": "bilingual_test",
        "invited": 0,
        "opened": 0,
        "draft": 0,
        "submitted": 0,
        "entered": 0,
        "declined": 0,
        "bounced": 0,
        "not_invited": 4,
        "respondents": 4,
        "projects_total": 14,
        "projects_answered": 0,
        "response_rate": 0,
        "projects_entered": 0,
    }
    # --form finds the one review that uses the form
    assert json.loads(cli("responses", "status", "--form", "bilingual_test", "--json").stdout) == result


def test_invitations_go_over_smtp_with_a_personal_link(cli: Cli, review: str, mail_env: Mailbox) -> None:
    run = cli("review", "invite", review)
    assert run.exit_code == 0, run.stderr
    assert "Sent 2 invitations." in run.stdout  # Chen has no e-mail; Dora's address is refused
    assert "bounced: invitation to Dora Bounce <bounce@example.org> (550" in run.stderr
    assert len(mail_env.messages) == 2
    ana = mail_env.to("ana@example.org")[0]
    assert ana["Subject"] == "Questionnaire for project LM.0181: IDF review 2016"
    body = ana.get_content()
    link = re.search(r"http://testserver/r/(\S+)", body)
    assert link is not None
    assert len(link[1]) >= 43  # 256 random bits, URL-safe base64
    assert "Promoting Safe Labour Migration from Vietnam" in body
    result = status(cli)
    assert (result["invited"], result["bounced"], result["not_invited"]) == (2, 1, 1)
    again = cli("review", "invite", review)
    assert "Sent 0 invitations." in again.stdout  # nobody is invited twice
    assert len(mail_env.messages) == 2


def test_reminders_go_only_to_those_who_have_not_answered(cli: Cli, review: str, mail_env: Mailbox) -> None:
    cli("review", "invite", review)
    run = cli("review", "remind", review)
    assert run.exit_code == 0, run.stderr
    assert "Sent 2 reminders." in run.stdout
    reminders = [m for m in mail_env.messages if str(m["Subject"]).startswith("Reminder")]
    assert sorted(str(m["To"]) for m in reminders) == [
        "Ana Silva <ana@example.org>",
        "Bruno Diallo <bruno@example.org>",
    ]
    first = re.search(r"/r/(\S+)", mail_env.to("ana@example.org")[0].get_content())
    second = re.search(r"/r/(\S+)", reminders[0].get_content())
    assert first
    assert second
    assert first[1] != second[1]


def test_dry_run_writes_eml_files_and_sends_nothing(cli: Cli, review: str, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    run = cli("review", "invite", review, "--dry-run", str(outbox))
    assert run.exit_code == 0, run.stderr
    assert f"Wrote 3 invitations to {outbox}." in run.stdout
    files = sorted(outbox.glob("*.eml"))
    assert [f.name.split("-")[0] for f in files] == ["LM.0181", "LM.0183", "LM.0204"]
    message = message_from_bytes(files[0].read_bytes(), policy=default)
    assert message["To"] == "Ana Silva <ana@example.org>"


def test_invite_without_a_mail_server_says_how_to_set_one(
    cli: Cli, review: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LMREVIEW_SMTP_HOST", raising=False)
    run = cli("review", "invite", review)
    assert run.exit_code == 2
    assert "set LMREVIEW_SMTP_HOST" in run.stderr
    assert "--dry-run DIR" in run.stderr
    assert status(cli)["not_invited"] == 4  # nothing recorded as sent


def test_roster_errors_are_all_reported_and_nothing_is_written(cli: Cli, review: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "project_code,name,email,shoe_size\nLM.9999,Eve,eve@example.org,42\nLM.0181,,x@example.org,\n"
        "LM.0181,Fay,not-an-address,\nLM.0183,Gus,gus@example.org,\nLM.0183,Gus,gus@example.org,\n",
        encoding="utf-8",
    )
    run = cli("respondents", "import", str(bad), "--review", "r16")
    assert run.exit_code == 2
    errors = [line for line in run.stderr.splitlines() if ".csv:" in line and "warning" not in line]
    assert errors == [
        f'{bad}:2:project_code: "LM.9999" is not a project of the review\'s portfolio',
        f"{bad}:3:name: the name is empty",
        f'{bad}:4:email: "not-an-address" is not an e-mail address',
        f"{bad}:6:email: the same person as row 5",
    ]
    assert f"{bad}:1:shoe_size: warning: unknown column; ignored" in run.stderr
    assert status(cli)["respondents"] == 4


def test_roster_reimport_updates_people(cli: Cli, review: str, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        ROSTER.replace("Ana Silva,ana@example.org,Project manager", "Ana Silva,ana@example.org,Chief of mission"),
        encoding="utf-8",
    )
    run = cli("respondents", "import", str(roster), "--review", "r16")
    assert "0 added, 1 updated, 3 unchanged" in run.stdout
    people = json.loads(cli("respondents", "list", "--review", "r16", "--json").stdout)
    assert [p["role"] for p in people if p["name"] == "Ana Silva"] == ["Chief of mission"]


def test_review_errors(cli: Cli, review: str) -> None:
    run = cli("review", "create", "r16")
    assert run.exit_code == 2
    assert "there is already a review 'r16'" in run.stderr
    run = cli("review", "create", "x", "--portfolio", "nope")
    assert "there is no portfolio 'nope'" in run.stderr
    run = cli("review", "create", "bad name!")
    assert '"bad name!" cannot name a review' in run.stderr
    run = cli("responses", "status", "--json")
    assert "name the review (--review NAME) or its form (--form NAME)" in run.stderr


def test_review_from_a_template_in_one_step(cli: Cli) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2022.csv")).exit_code == 0
    run = cli("review", "create", "r22", "--portfolio", "lm2022", "--template", "idf-lm-2022")
    assert run.exit_code == 0, run.stderr
    assert "questionnaire idf_lm_2022" in run.stdout
    listed = json.loads(cli("review", "list", "--json").stdout)
    assert [(r["review"], r["form"], r["projects_total"]) for r in listed] == [("r22", "idf_lm_2022", 27)]


def test_mail_texts_can_be_changed_and_typos_are_refused(cli: Cli, review: str, tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_text("Bonjour $name,\n\nLe lien : $link (jusqu'au $expires).\n", encoding="utf-8")
    run = cli("review", "mail", review, "--subject", "Projet $project_code", "--body", str(body))
    assert run.exit_code == 0, run.stderr
    assert "Bonjour $name," in run.stdout
    typo = cli("review", "mail", review, "--subject", "Project $projet_code")
    assert typo.exit_code == 2
    assert "unknown placeholder $projet_code" in typo.stderr
    dollar = cli("review", "mail", review, "--subject", "Budget in $ of $project_code")
    assert dollar.exit_code == 2
    assert "write $$ for a dollar sign" in dollar.stderr
    outbox = tmp_path / "outbox"
    cli("review", "invite", review, "--dry-run", str(outbox))
    message = message_from_bytes(sorted(outbox.glob("*.eml"))[0].read_bytes(), policy=default)
    assert message["Subject"] == "Projet LM.0181"
    assert message.get_content().startswith("Bonjour Ana Silva,")
