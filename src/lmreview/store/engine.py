"""Engines and sessions for SQLite (embedded, WAL) and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from lmreview.errors import LmreviewError
from lmreview.settings import database_url

URL_HINT = (
    "give a file path such as reviews/idf.db (SQLite) or a URL such as sqlite:///reviews/idf.db or "
    "postgresql://user@host/dbname"
)


class BadDatabase(LmreviewError):
    """``--db`` / LMREVIEW_DATABASE_URL names something lmreview cannot open as a database."""

    status = 503


def _shown(url: str | URL) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return str(url).split("@")[-1] if "@" in str(url) else str(url)


def _check_sqlite_file(database: str) -> None:
    """That ``database``, when it exists, is an SQLite file lmreview can read, asked of SQLite itself.

    Not by reading its first bytes through a file handle of our own: closing any handle of the database file drops
    every POSIX lock this process holds on it, the shared lock of its open SQLite connections included. Another
    process closing its last connection then believes it is the last one, checkpoints and deletes the WAL file
    under this process's feet ("database disk image is malformed", a bus error through the memory map). SQLite
    keeps its own handles open while a lock of the file is held, so asking it is safe at any time.
    """
    path = Path(database)
    if path.is_dir():
        raise BadDatabase(f"the database {database} is a folder, not a file; {URL_HINT}")
    if not path.is_file():
        return
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BadDatabase(f"cannot read the database {database} ({exc}); {URL_HINT}") from None
    try:
        connection.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise BadDatabase(f"{database} is not an SQLite database; {URL_HINT}") from None
        raise BadDatabase(f"cannot read the database {database} ({exc}); {URL_HINT}") from None
    finally:
        connection.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Read the file through the page cache of the system instead of a copy per page read: the evidence search reads
    # scattered passages of a large library (15-35 % less CPU a query on a million passages, docs/benchmarks.md).
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; :class:`BadDatabase` (one line saying what the URL should look like) when the URL,
    its driver or the SQLite file is not usable."""
    url = database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadDatabase(f"{_shown(url)!r} is not a database URL; {URL_HINT}") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            in_memory = parsed.database in (None, "", ":memory:")
            if not in_memory and parsed.database:
                _check_sqlite_file(parsed.database)
                try:
                    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise BadDatabase(f"cannot create the folder for {parsed.database} ({exc.strerror})") from None
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False},
                poolclass=StaticPool if in_memory else None,
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except NoSuchModuleError:
        raise BadDatabase(f"lmreview cannot use databases of the kind {parsed.drivername!r}; {URL_HINT}") from None
    except ImportError as exc:
        raise BadDatabase(
            f"the driver for {parsed.drivername!r} is not installed ({exc.name or exc}); {URL_HINT}"
        ) from None
    except (ArgumentError, TypeError, ValueError) as exc:
        raise BadDatabase(f"{_shown(parsed)} is not a usable database URL ({exc}); {URL_HINT}") from None


class Store:
    """A database: its engine and a session factory. ``with store.session() as s:`` commits on success."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = database_url(url)
        self.engine = engine if engine is not None else make_engine(self.url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> str | None:
        database = make_url(self.url).database
        if not self.is_sqlite or database in (None, "", ":memory:"):
            return None
        return database

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session for work that reads and then writes while other connections write too (a job beside the web).

        On SQLite the transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at once, waiting for it up
        to the busy timeout. A deferred transaction that has read (a savepoint starts one) and then writes after
        another connection committed fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT), whatever the
        timeout. On PostgreSQL it is :meth:`session`."""
        with self.session() as session:
            if self.is_sqlite:
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store at ``url``; create it, or upgrade an older SQLite file, when ``migrate`` is true."""
    from lmreview.store.migrate import ensure_current

    store = Store(url)
    if migrate:
        ensure_current(store)
    return store
