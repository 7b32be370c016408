"""Shared fixtures: a fresh store on SQLite (always) and PostgreSQL (when LMREVIEW_TEST_POSTGRES_URL is set),
a CLI runner bound to it, and the seed documents."""

from __future__ import annotations

import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from lmreview.cli.main import app
from lmreview.settings import database_url
from lmreview.store import Store, open_store
from lmreview.store.registry import metadata

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = ROOT / "src" / "lmreview" / "portfolio" / "samples"
SEEDS = ROOT.parent / "shared" / "seeds"
POSTGRES_URL = os.environ.get("LMREVIEW_TEST_POSTGRES_URL")
# Debian's Chromium for the browser tests (never `playwright install`: it cannot download here).
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"the source documents are not beside the project ({SEEDS})")
    return SEEDS


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file, copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = open_store(str(path))
    store.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a schema of its own, migrated once, dropped at the end."""
    assert POSTGRES_URL is not None
    schema = f"lmreview_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{database_url(POSTGRES_URL)}{separator}options=-csearch_path%3D{schema}"
    store = open_store(url)
    store.dispose()
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    store = Store(url)
    with store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    store.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated store: SQLite always, PostgreSQL when LMREVIEW_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        path = tmp_path / "lmreview.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return database_url(str(path))
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need LMREVIEW_TEST_POSTGRES_URL (make test sets it when a server answers)")
    url: str = request.getfixturevalue("postgres_schema")
    _empty_postgres(url)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.dispose()


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


class Cli:
    """Runs ``lmreview --db URL ...`` in-process, as a user would type it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, user: str = "tester") -> Run:
        result = self.runner.invoke(app, ["--db", self.url, "--user", user, *args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli(db_url: str) -> Cli:
    return Cli(db_url)


@pytest.fixture
def cli_factory() -> type[Cli]:
    """``cli_factory(url)`` runs lmreview against another database than the test's own."""
    return Cli


TEMPLATES = ROOT / "src" / "lmreview" / "questionnaire" / "templates"


@dataclass
class Mailbox:
    """A real SMTP server on localhost (aiosmtpd) and the messages it received."""

    host: str
    port: int
    messages: list[EmailMessage]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    received: list[EmailMessage] = []
    refused = {"bounce@example.org"}

    class Handler:
        async def handle_RCPT(
            self, server: object, session: object, envelope: Any, address: str, options: object
        ) -> str:
            if address in refused:
                return "550 5.1.1 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
            received.append(cast(EmailMessage, message_from_bytes(envelope.content, policy=default)))
            return "250 Message accepted"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Mailbox("127.0.0.1", port, received)
    finally:
        controller.stop()


@pytest.fixture
def mail_env(smtp_server: Mailbox, monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    """LMREVIEW_SMTP_* set to the test server (plain SMTP on localhost)."""
    monkeypatch.setenv("LMREVIEW_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("LMREVIEW_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("LMREVIEW_SMTP_SECURITY", "none")
    monkeypatch.setenv("LMREVIEW_BASE_URL", "http://testserver")
    return smtp_server


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the production cost takes ~50 ms a hash; the tests log in hundreds of times. The hashes
    are still Argon2id (a test checks the prefix); only the cost is lower."""
    from argon2 import PasswordHasher

    from lmreview.store import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


# A country → city questionnaire: the city options follow the country through a choice_filter.
CASCADE_FORM = """| survey |
| | type | name | label | choice_filter |
| | text | project_code | Project code | |
| | select_one country | country | Country | |
| | select_one city | city | City | country=${country} |
| choices |
| | list_name | name | label | country |
| | country | ke | Kenya | |
| | country | np | Nepal | |
| | city | nairobi | Nairobi | ke |
| | city | mombasa | Mombasa | ke |
| | city | kathmandu | Kathmandu | np |
| settings |
| | form_id | version |
| | cascade | 1 |
"""


def personal_link(cli: Cli, form_text: str, folder: Path, review: str = "r") -> str:
    """Add the form, a review of the lm2016 portfolio (imported by the caller) with one respondent, invite them
    with --dry-run, and return the path of their personal link (``/r/TOKEN``) read from the .eml file."""
    form = folder / f"{review}-form.md"
    form.write_text(form_text, encoding="utf-8")
    added = cli("form", "add", str(form))
    assert added.exit_code == 0, added.stderr
    name = re.search(r"Added form (\S+):", added.stdout)
    assert name is not None
    assert cli("review", "create", review, "--portfolio", "lm2016", "--form", name[1]).exit_code == 0
    run = cli("respondents", "add", "Ana", "--review", review, "--email", "a@example.org", "--project", "LM.0181")
    assert run.exit_code == 0, run.stderr
    outbox = folder / f"{review}-outbox"
    assert cli("review", "invite", review, "--dry-run", str(outbox)).exit_code == 0
    token = re.search(rb"/r/([A-Za-z0-9_\-]+)", next(outbox.glob("*.eml")).read_bytes())
    assert token is not None
    return f"/r/{token[1].decode()}"


def join_every_review(store: Store, *names: str, role: str | None = None) -> None:
    """Make each named user a member of every review there is, with the review role of their site role (admin →
    manager, reviewer → reviewer, viewer → reader), as migration 0010 did for the reviews it found: a test whose
    web user was added after the review was created gives that user access the way a manager would. ``role``
    gives every named user that review role instead."""
    from sqlalchemy import select

    from lmreview import access
    from lmreview.questionnaire.models import Review
    from lmreview.store.models import ReviewMember, User

    with store.session() as session:
        for name in names:
            user = session.scalar(select(User).where(User.name == name))
            assert user is not None, f"no user {name}"
            for review in session.scalars(select(Review)):
                member = select(ReviewMember).where(
                    ReviewMember.review_id == review.id, ReviewMember.user_id == user.id
                )
                if session.scalar(member) is None:
                    given = role or access.ROLE_FOR_SITE_ROLE[user.role]
                    access.add_member(session, review, name, given, actor="test")
