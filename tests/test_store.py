"""The store: migrations on SQLite and PostgreSQL, the audit log, exact money, users."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from lmreview.errors import BadInput, Conflict, StoreNeedsUpgrade
from lmreview.evidence.index import include_name
from lmreview.portfolio.models import Portfolio, Project
from lmreview.store import Store, open_store
from lmreview.store.migrate import current_revision, head_revision
from lmreview.store.models import AuditEvent, User
from lmreview.store.registry import metadata
from lmreview.store.users import add_user, authenticate, can
from tests.conftest import SAMPLES, Cli


def test_migrations_match_the_models(store: Store) -> None:
    """The newest migration creates exactly the tables the models describe (no forgotten migration)."""
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"include_name": include_name}), metadata)
    assert diff == []
    assert current_revision(store) == head_revision()


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "w.db"))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.dispose()


def test_opening_the_file_again_keeps_this_process_sqlite_locks(tmp_path: Path) -> None:
    """A second engine on a file this process holds open (the web app's store, and a job's or a test's) must not
    drop the shared lock of the open connections: closing a handle of the file of our own would, and another
    process closing its last connection would then believe itself the last one and delete the WAL file under this
    one (seen as "database disk image is malformed" and a bus error while CLI imports ran beside the web app)."""
    db = tmp_path / "locks.db"
    first = open_store(f"sqlite:///{db}")
    with first.engine.connect() as connection:  # an open connection: a shared lock on the file, the WAL in use
        connection.execute(text("SELECT count(*) FROM portfolio")).scalar_one()
        second = Store(f"sqlite:///{db}")  # checks the file before it opens it
        other = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1 FROM portfolio'); c.close()"
        subprocess.run([sys.executable, "-c", other, str(db)], check=True, timeout=60)
        assert (tmp_path / "locks.db-wal").exists(), "another process took this one's WAL file away"
        connection.execute(text("SELECT count(*) FROM portfolio")).scalar_one()
        second.dispose()
    first.dispose()


def test_a_file_from_a_newer_lmreview_is_refused(tmp_path: Path, cli_factory: type[Cli]) -> None:
    path = tmp_path / "newer.db"
    open_store(str(path)).dispose()
    with sqlite3.connect(path) as connection:  # a revision this lmreview does not know
        connection.execute("UPDATE alembic_version SET version_num = 'ffff'")
    with pytest.raises(StoreNeedsUpgrade, match="newer lmreview"):
        open_store(str(path))
    run = cli_factory(str(path))("portfolio", "list")
    assert run.exit_code == 2
    assert "written by a newer lmreview" in run.stderr


def _database_at_0001(url: str) -> None:
    """A database as lmreview 0.1 (revision 0001) left it, with one project in it."""
    from alembic import command

    from lmreview.store.migrate import alembic_config

    old = Store(url)
    command.upgrade(alembic_config(old), "0001")
    with old.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO portfolio (name, created_at, updated_at) VALUES ('p', :t, :t)"), {"t": "2026-01-01"}
        )
    old.dispose()


def test_an_older_sqlite_file_is_backed_up_then_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _database_at_0001(f"sqlite:///{path}")
    store = open_store(str(path))
    assert current_revision(store) == head_revision()
    with store.session() as session:
        assert session.scalars(select(Portfolio.name)).all() == ["p"]
    store.dispose()
    backup = tmp_path / "old.db.backup-0001"
    with sqlite3.connect(backup) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        assert connection.execute("SELECT name FROM portfolio").fetchall() == [("p",)]


@pytest.mark.postgres
def test_an_older_server_database_waits_for_db_upgrade(cli_factory: type[Cli]) -> None:
    import os
    import uuid

    from lmreview.settings import database_url

    base = os.environ.get("LMREVIEW_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL tests need LMREVIEW_TEST_POSTGRES_URL (make test sets it when a server answers)")
    schema = f"lmreview_old_{uuid.uuid4().hex[:8]}"
    admin = Store(base)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{database_url(base)}?options=-csearch_path%3D{schema}"
    try:
        _database_at_0001(url)
        with pytest.raises(StoreNeedsUpgrade, match="lmreview db upgrade"):
            open_store(url)
        run = cli_factory(url)("db", "upgrade")
        assert run.exit_code == 0, run.stderr
        assert f"Upgraded the database from 0001 to revision {head_revision()}" in run.stdout
        assert cli_factory(url)("portfolio", "list", "--json").exit_code == 0
    finally:
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_a_database_with_foreign_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id integer)")
    with pytest.raises(StoreNeedsUpgrade, match="not lmreview's"):
        open_store(str(path))


def test_a_new_sqlite_file_and_its_folder_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "new.db"
    store = open_store(str(path))
    assert path.exists()
    assert current_revision(store) == head_revision()
    store.dispose()


def test_money_and_months_are_exact(store: Store) -> None:
    with store.session() as session:
        portfolio = Portfolio(name="p")
        session.add(portfolio)
        session.flush()
        session.add(
            Project(
                portfolio_id=portfolio.id,
                code="A",
                title="t",
                budget_usd=Decimal("1234567890.07"),
                planned_months=Decimal("6.5"),
                extra={},
            )
        )
    with store.session() as session:
        project = session.scalar(select(Project))
        assert project is not None
        assert project.budget_usd == Decimal("1234567890.07")
        assert project.planned_months == Decimal("6.50")


def test_more_decimals_than_cents_are_refused_not_rounded(store: Store) -> None:
    with store.session() as session:
        portfolio = Portfolio(name="p")
        session.add(portfolio)
        session.flush()
        session.add(Project(portfolio_id=portfolio.id, code="A", title="t", budget_usd=Decimal("1.001"), extra={}))
        with pytest.raises(Exception, match="more than 2 decimals"):
            session.flush()
        session.rollback()


def test_every_import_change_is_in_the_audit_log(store: Store, cli: Cli) -> None:
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv"), user="ana").exit_code == 0
    with store.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "project")).all()
        assert len(events) == 14
        assert {e.actor for e in events} == {"ana"}
        assert {e.action for e in events} == {"create"}
        vietnam = next(e for e in events if e.after and e.after["code"] == "LM.0181")
        assert vietnam.before is None
        assert vietnam.after is not None
        assert vietnam.after["budget_usd"] == "200000.00"
        assert vietnam.import_batch_id is not None
    assert cli("portfolio", "delete-project", "lm2016", "LM.0181", "--yes", user="ana").exit_code == 0
    with store.session() as session:
        deleted = session.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
        assert deleted.before is not None
        assert deleted.before["title"].startswith("Promoting Safe Labour Migration")
        assert deleted.after is None


def test_users_roles_and_passwords(store: Store) -> None:
    with store.session() as session:
        add_user(session, "ana", "reviewer", "long-password", actor="t")
        with pytest.raises(Conflict):
            add_user(session, "ana", "viewer", "long-password", actor="t")
        with pytest.raises(BadInput) as bad:
            add_user(session, "b c", "chief", "short", actor="t")
        assert len(bad.value.problems) == 3
    with store.session() as session:
        user = authenticate(session, "ana", "long-password")
        assert user is not None
        assert can(user, "viewer")
        assert can(user, "reviewer")
        assert not can(user, "admin")
        assert authenticate(session, "ana", "wrong-password") is None
        assert authenticate(session, "nobody", "long-password") is None
        stored = session.execute(text("SELECT password_hash FROM user_account")).scalar()
        assert str(stored).startswith("$argon2id$")


def test_db_upgrade_and_status(cli: Cli) -> None:
    run = cli("db", "upgrade")
    assert run.exit_code == 0
    assert f"up to date (revision {head_revision()})" in run.stdout
    assert f"revision: {head_revision()}" in cli("db", "status").stdout


def test_an_unreachable_server_is_a_clear_error(cli_factory: type[Cli]) -> None:
    run = cli_factory("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")("portfolio", "list")
    assert run.exit_code == 1
    assert run.stderr.startswith("error: cannot use the database")
    assert "Traceback" not in run.stderr


def test_events_of_a_named_user_link_to_that_user(store: Store, cli: Cli) -> None:
    """The web acts as its logged-in user and the CLI as --user: each event then links to the user account."""
    with store.session() as session:
        add_user(session, "ana", "reviewer", "long-enough-password", actor="test")
    assert cli("portfolio", "import", str(SAMPLES / "lm2016.csv"), user="ana").exit_code == 0
    assert cli("review", "create", "r", "--portfolio", "lm2016", user="ana").exit_code == 0
    assert cli("portfolio", "categorise", "lm2016", "LM.0181", "-c", "Labour mobility", user="ana").exit_code == 0
    assert cli("portfolio", "categorise", "lm2016", "LM.0183", "-c", "Labour mobility", user="nobody").exit_code == 0
    with store.session() as session:
        ana = session.scalar(select(User.id).where(User.name == "ana"))
        events = session.execute(select(AuditEvent.actor, AuditEvent.entity, AuditEvent.user_id)).all()
    assert {(entity, user) for actor, entity, user in events if actor == "ana"} == {
        ("project", ana),
        ("review", ana),
        ("review_member", ana),  # ana created the review: she manages it
    }
    assert {user for actor, _entity, user in events if actor == "nobody"} == {None}


def test_the_revision_check_reads_the_same_chain_as_alembic() -> None:
    """Commands check the revision without importing Alembic: the migration files' own lines give the same chain."""
    from alembic.script import ScriptDirectory

    from lmreview.store import migrate

    script = ScriptDirectory(str(migrate.MIGRATIONS))
    assert migrate.head_revision() == script.get_current_head()
    assert migrate._revisions() == {r.revision: r.down_revision for r in script.walk_revisions()}


def test_a_write_session_takes_the_sqlite_write_lock_before_it_reads(tmp_path: Path) -> None:
    """A deferred transaction that read (a savepoint starts one) and then writes after another connection committed
    fails at once with "database is locked", whatever the busy timeout: a job importing beside the web hit it.
    ``write_session`` begins IMMEDIATE: the other writer waits for it instead."""
    import threading

    from sqlalchemy.exc import OperationalError

    store = open_store(str(tmp_path / "w.db"))
    try:

        def other_writer(name: str) -> None:
            with store.session() as other:
                other.add(Portfolio(name=name))

        with store.session() as plain:
            plain.begin_nested()
            plain.scalar(select(Portfolio.id).where(Portfolio.name == "a"))  # the snapshot is taken here
            other_writer("b")  # another connection commits in between
            plain.add(Portfolio(name="a"))
            with pytest.raises(OperationalError, match="database is locked"):
                plain.flush()
            plain.rollback()
        with store.write_session() as session:
            session.begin_nested()
            assert session.scalar(select(Portfolio.id).where(Portfolio.name == "a")) is None
            late = threading.Thread(target=other_writer, args=("c",))
            late.start()  # waits for the write lock this session holds
            late.join(timeout=0.3)
            assert late.is_alive()
            session.add(Portfolio(name="a"))
            session.flush()
        late.join(timeout=10)
        assert not late.is_alive()
        with store.session() as session:
            assert sorted(session.scalars(select(Portfolio.name))) == ["a", "b", "c"]
    finally:
        store.dispose()
