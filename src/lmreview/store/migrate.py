"""Alembic migrations, run from code.

* A new, empty database is created at the newest revision on first use.
* A local SQLite file at an older revision is copied to ``<file>.backup-<revision>`` and upgraded.
* A server database (PostgreSQL) at an older revision is left alone: ``lmreview db upgrade`` upgrades it, so that
  an administrator chooses the moment and takes the backup.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import column, inspect, select, table

from lmreview.errors import StoreNeedsUpgrade
from lmreview.store.engine import Store

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic itself is imported only to upgrade (about half a second): every command checks the revision, from the
# migration files' own `revision`/`down_revision` lines and the alembic_version table.
_REVISION = re.compile(r'^revision: str = "([^"]+)"$', re.M)
_DOWN = re.compile(r'^down_revision: str \| None = (?:"([^"]+)"|None)$', re.M)


@functools.cache
def _revisions() -> dict[str, str | None]:
    """Each migration's revision and the one it follows (None for the first)."""
    found: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            raise RuntimeError(f"{path.name}: no `revision: str = ...` / `down_revision: str | None = ...` line")
        found[revision.group(1)] = down.group(1)
    return found


def alembic_config(store: Store) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    config.attributes["engine"] = store.engine
    return config


def head_revision() -> str:
    """The newest revision: the one no other migration follows."""
    revisions = _revisions()
    heads = set(revisions) - {down for down in revisions.values() if down is not None}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}); they need one")
    return heads.pop()


def current_revision(store: Store) -> str | None:
    """The revision the database is at (its ``alembic_version`` row), None for a database lmreview never wrote."""
    with store.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        version = connection.execute(select(column("version_num")).select_from(table("alembic_version"))).scalar()
    return None if version is None else str(version)


def upgrade(store: Store) -> tuple[str | None, str]:
    """Upgrade to the newest revision; returns (revision before, revision after)."""
    from alembic import command

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
    return revision in _revisions()


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
