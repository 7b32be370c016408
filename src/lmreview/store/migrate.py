"""Alembic migrations, run from code.

* A new, empty database is created at the newest revision on first use.
* A local SQLite file at an older revision is copied to ``<file>.backup-<revision>`` and upgraded.
* A server database (PostgreSQL) at an older revision is left alone: ``lmreview db upgrade`` upgrades it, so that
  an administrator chooses the moment and takes the backup.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect

from lmreview.errors import StoreNeedsUpgrade
from lmreview.store.engine import Store

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    config.attributes["engine"] = store.engine
    return config


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(store: Store) -> tuple[str | None, str]:
    """Upgrade to the newest revision; returns (revision before, revision after)."""
    before = current_revision(store)
    command.upgrade(alembic_config(store), "head")
    return before, head_revision()


def _backup_sqlite(path: str, revision: str) -> Path:
    target = Path(f"{path}.backup-{revision}")
    source = sqlite3.connect(path)
    try:
        dest = sqlite3.connect(target)
        with dest:
            source.backup(dest)
        dest.close()
    finally:
        source.close()
    return target


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(revision) is not None
    except CommandError:
        return False


def ensure_current(store: Store) -> None:
    current = current_revision(store)
    head = head_revision()
    if current == head:
        return
    if current is not None and not _known(current):
        raise StoreNeedsUpgrade(
            f"this database is at revision {current}, which this version of lmreview does not know; "
            "it was written by a newer lmreview: upgrade lmreview"
        )
    if current is None:
        tables = set(inspect(store.engine).get_table_names())
        if tables:
            raise StoreNeedsUpgrade(
                "this database already holds tables that are not lmreview's "
                f"({', '.join(sorted(tables)[:5])}); use an empty database"
            )
        upgrade(store)
        return
    path = store.sqlite_path
    if path is None:
        raise StoreNeedsUpgrade(
            f"the database is at revision {current}, lmreview needs {head}: back it up, then run `lmreview db upgrade`"
        )
    store.engine.dispose()
    _backup_sqlite(path, current)
    upgrade(store)
