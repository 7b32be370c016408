"""Commands as a user types them: demo, users, listing, showing and revising projects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmreview import __version__
from lmreview.store.migrate import head_revision
from tests.conftest import SAMPLES, Cli


def test_version(cli: Cli) -> None:
    assert cli("--version").stdout.strip() == f"lmreview {__version__}"


def test_demo_loads_both_samples_and_is_idempotent(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # on PostgreSQL the demo writes its report into ./reports
    run = cli("demo", "--no-serve")
    assert run.exit_code == 0, run.stderr
    assert "Imported lm2016.csv into portfolio lm2016: 14 created" in run.stdout
    assert "Imported lm2022.csv into portfolio lm2022: 27 created" in run.stdout
    assert "budget USD 1,650,000 (mean 117,857.14, median 100,000, n=14)" in run.stdout
    assert "length incl. NCE mean 18.3 months (n=14)" in run.stdout
    assert "Log in as demo / demo-password." in run.stdout
    # the 2011-2014 review's report, built from the sample, prints the review's own figures
    assert "Budget: total USD 1,650,000, mean 117,857, median 100,000 (n = 14 of 14 projects)" in run.stdout
    assert "Length incl. NCE: mean 18.3, median 18, max 37, min 9 months" in run.stdout
    assert "No-cost extensions: mean 5.7, median 5, max 13, min 1 months" in run.stdout
    again = cli("demo", "--no-serve")
    assert again.exit_code == 0
    assert "14 created" not in again.stdout
    assert "0 created, 0 updated, 14 unchanged" in again.stdout
    assert "Log in as demo (the user existed already" in again.stdout
    portfolios = json.loads(cli("portfolio", "list", "--json").stdout)
    assert [(p["portfolio"], p["projects"]) for p in portfolios] == [("lm2016", 14), ("lm2022", 27)]


def test_list_without_portfolios_says_what_to_do(cli: Cli) -> None:
    run = cli("portfolio", "list")
    assert run.exit_code == 0
    assert "No portfolios yet: lmreview portfolio import FILE" in run.stdout


def test_user_add_from_stdin_and_list(cli: Cli) -> None:
    run = cli("user", "add", "ana", "--role", "reviewer", "--password-stdin", input="long-password\n")
    assert run.exit_code == 0, run.stderr
    assert "Added reviewer ana." in run.stdout
    assert "ana" in cli("user", "list").stdout
    dup = cli("user", "add", "ana", "--password-stdin", input="long-password\n")
    assert dup.exit_code == 2
    assert 'there is already a user named "ana"' in dup.stderr
    short = cli("user", "add", "bob", "--password-stdin", input="short\n")
    assert short.exit_code == 2
    assert "password: a password has at least 8 characters" in short.stderr


def test_show_prints_the_project_and_its_history(cli: Cli) -> None:
    cli("portfolio", "import", str(SAMPLES / "lm2016.csv"))
    run = cli("portfolio", "show", "lm2016", "lm.0181")  # codes match case-insensitively
    assert run.exit_code == 0
    assert "Promoting Safe Labour Migration from Vietnam" in run.stdout
    assert "200,000.00" in run.stdout
    assert "24 + 13" in run.stdout
    assert "37 (planned_months + nce_months)" in run.stdout
    assert "tester: created by importing lm2016.csv" in run.stdout


def test_revise_records_a_revision_and_refuses_bad_input(cli: Cli) -> None:
    cli("portfolio", "import", str(SAMPLES / "lm2022.csv"))
    run = cli(
        "portfolio", "revise", "lm2022", "LM.0430", "--type", "duration", "--date", "2021-03-01", "--reason", "COVID-19"
    )
    assert run.exit_code == 0, run.stderr
    shown = cli("portfolio", "show", "lm2022", "LM.0430").stdout
    assert "revision: duration 2021-03-01 COVID-19" in shown
    assert "recorded a duration revision" in shown
    bad_type = cli("portfolio", "revise", "lm2022", "LM.0430", "--type", "money")
    assert bad_type.exit_code == 2
    assert '"money" is not a revision type' in bad_type.stderr
    bad_date = cli("portfolio", "revise", "lm2022", "LM.0430", "--type", "budget", "--date", "1/3/2021")
    assert bad_date.exit_code == 2
    assert "YYYY-MM-DD" in bad_date.stderr
    missing = cli("portfolio", "revise", "lm2022", "LM.9999", "--type", "budget")
    assert missing.exit_code == 2
    assert 'no project "LM.9999" in portfolio "lm2022"' in missing.stderr


def test_list_projects_as_json(cli: Cli) -> None:
    cli("portfolio", "import", str(SAMPLES / "lm2016.csv"))
    projects = json.loads(cli("portfolio", "list", "--portfolio", "lm2016", "--json").stdout)
    assert len(projects) == 14
    first = projects[0]
    assert first["code"] == "LM.0115"
    assert first["budget_usd"] == "100000.00"
    assert first["duration_months"] == "18.00"
    assert first["countries"] == ["Mongolia"]


def test_a_weak_secret_key_does_not_block_the_cli_and_is_never_printed(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMREVIEW_SECRET_KEY", "hunter2-is-my-key")
    run = cli("portfolio", "list")
    assert run.exit_code == 0, run.stderr
    from lmreview.settings import Settings
    from lmreview.web.app import create_app

    with pytest.raises(Exception, match="at least 32 random characters") as raised:
        create_app(Settings(database_url=cli.url))
    assert "hunter2" not in str(raised.value)


def test_db_status_does_not_create_a_database(cli_factory: type[Cli], tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    run = cli_factory(str(path))("db", "status")
    assert run.exit_code == 0
    assert "does not exist yet" in run.stdout
    assert not path.exists()
    assert cli_factory(str(path))("db", "upgrade").exit_code == 0
    head = head_revision()
    assert f"revision: {head} (lmreview needs {head})" in cli_factory(str(path))("db", "status").stdout


def test_user_role_and_access_from_the_cli(cli: Cli) -> None:
    assert cli("user", "add", "boss", "--role", "admin", "--password-stdin", input="long-enough-1\n").exit_code == 0
    assert cli("user", "add", "ana", "--role", "reviewer", "--password-stdin", input="long-enough-2\n").exit_code == 0
    run = cli("user", "set", "ana", "--role", "viewer", "--inactive")
    assert run.exit_code == 0, run.stderr
    assert "ana: viewer, inactive." in run.stdout
    last = cli("user", "set", "boss", "--inactive")
    assert last.exit_code == 2
    assert "boss is the last active admin" in last.stderr
    bad = cli("user", "set", "ana", "--role", "boss")
    assert bad.exit_code == 2
    assert '"boss" is not a role' in bad.stderr
