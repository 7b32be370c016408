"""Backup, restore and moving a workspace between SQLite and PostgreSQL.

Two formats:

* an **SQLite copy**, made with SQLite's online backup API (the web UI may keep writing meanwhile);
* on PostgreSQL, ``pg_dump``'s custom format when the tools match the server (``store/pgdump.py``);
* a **portable archive**: a zip holding ``manifest.json`` (lmreview version, Alembic revision, the tables in
  dependency order with their columns) and one JSON Lines file per table. Values are kept exact: scaled decimals
  as the stored integers, dates and UTC datetimes in ISO 8601, bytes in base64, JSON columns as their JSON text.

Tables and columns come from the metadata of ``store/registry.py``, so a stage's new tables are covered as soon as
they are registered there. Rows stream in batches both ways; no table is held in memory.

Restoring refuses an archive written by a newer lmreview, upgrades an older one through the migrations, refuses a
target that holds data unless ``replace`` is given, and is atomic: one transaction on PostgreSQL, a file built
aside and copied in with the backup API on SQLite.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from alembic import command
from sqlalchemy import (
    Connection,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    cast,
    func,
    inspect,
    literal,
    select,
    text,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from lmreview import __version__
from lmreview.errors import BadInput, LmreviewError, Problem, StoreNeedsUpgrade
from lmreview.store import pgdump
from lmreview.store.archive_values import RAW_TYPES, Column, column_kind, decode, encode
from lmreview.store.engine import Store
from lmreview.store.migrate import MIGRATIONS, alembic_config, current_revision, head_revision, upgrade
from lmreview.store.registry import metadata
from lmreview.tables import MAX_RATIO

FORMAT = "lmreview-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000
MAX_LINE = 256 * 1024 * 1024  # one row of a table (a stored form source is the largest value today)
SQLITE_MAGIC = b"SQLite format 3\x00"
ZIP_MAGIC = b"PK\x03\x04"

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class TableInfo:
    name: str
    columns: list[Column]
    rows: int = 0


@dataclass(slots=True)
class Result:
    """What a backup wrote or a restore loaded."""

    path: Path
    format: str  # "sqlite" | "archive" | "pg_dump"
    revision: str
    tables: int = 0
    rows: int = 0
    upgraded_from: str | None = None
    table_rows: dict[str, int] = field(default_factory=dict)


# --- reading a database --------------------------------------------------------------------------------------------


def lmreview_tables(connection: Connection) -> list[Table]:
    """lmreview's tables present in the database, parents before children."""
    present = set(inspect(connection).get_table_names())
    return [t for t in metadata.sorted_tables if t.name in present]


def _read_expr(table: Table, col: Column) -> ColumnElement[Any]:
    source = table.c[col.name]
    if col.kind == "json":
        return cast(source, Text).label(col.name)
    return type_coerce(source, RAW_TYPES[col.kind]).label(col.name)


def table_info(table: Table) -> TableInfo:
    return TableInfo(table.name, [Column(c.name, column_kind(c)) for c in table.columns])


def read_rows(
    connection: Connection, table: Table, info: TableInfo, where: ColumnElement[bool] | None = None
) -> Iterator[list[Any]]:
    """The rows of ``table`` (those matching ``where``) encoded for an archive, in primary-key order, fetched in
    batches."""
    order = list(table.primary_key.columns) or list(table.columns)
    query = select(*[_read_expr(table, c) for c in info.columns]).order_by(*order)
    if where is not None:
        query = query.where(where)
    result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    for row in result:
        yield [encode(c.kind, v) for c, v in zip(info.columns, row, strict=True)]


def check_at_head(store: Store) -> str:
    revision = current_revision(store)
    head = head_revision()
    if revision != head:
        raise StoreNeedsUpgrade(
            f"the database is at revision {revision or 'empty'}, this lmreview writes {head}: "
            "run `lmreview db upgrade` first"
        )
    return head


@contextmanager
def _snapshot(store: Store, beside: Path) -> Iterator[Connection]:
    """A connection that sees one consistent state of the database while others keep writing."""
    path = store.sqlite_path
    if path is not None:
        # the snapshot is as large as the database: keep it beside the backup, not in a small /tmp
        with tempfile.TemporaryDirectory(prefix=".lmreview-backup-", dir=beside) as folder:
            copy = Path(folder) / "snapshot.db"
            sqlite_copy(path, copy)
            snap = Store(str(copy))
            try:
                with snap.engine.connect() as connection:
                    yield connection
            finally:
                snap.dispose()
        return
    with store.engine.connect() as connection:
        if store.engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def sqlite_copy(source: str | Path, target: str | Path) -> None:
    """Copy an SQLite database with the online backup API (writers may go on meanwhile)."""
    src = sqlite3.connect(str(source))
    try:
        dest = sqlite3.connect(str(target))
        try:
            with dest:
                src.backup(dest, pages=4096)
        finally:
            dest.close()
    finally:
        src.close()


# --- backup --------------------------------------------------------------------------------------------------------


def backup(store: Store, path: Path, *, fmt: str = "auto", progress: Progress | None = None) -> Result:
    """Back the database up into ``path``: an SQLite copy (``fmt="sqlite"``; SQLite only) or a portable archive
    (``fmt="archive"``). ``auto`` writes an SQLite copy of an SQLite database unless ``path`` ends in ``.zip``."""
    revision = check_at_head(store)
    zipped = path.suffix.lower() == ".zip"
    if fmt == "auto" and store.sqlite_path:
        fmt = "archive" if zipped else "sqlite"
    elif fmt == "auto":  # PostgreSQL: its own pg_dump when it can, else the portable archive
        fmt = "archive" if zipped or pgdump.usable(store) else "pg_dump"
    if fmt not in ("sqlite", "archive", "pg_dump"):
        raise LmreviewError(f"unknown backup format {fmt!r}; use sqlite, archive or pg_dump")
    if path.exists() and path.is_dir():
        raise LmreviewError(f"{path} is a folder; name the backup file")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "pg_dump":
        if why := pgdump.usable(store):
            raise LmreviewError(f"cannot use pg_dump: {why}; back up as an archive (.zip)")
        pgdump.dump(store, path)
        return Result(path, "pg_dump", revision)
    if fmt == "sqlite":
        source = store.sqlite_path
        if source is None:
            raise LmreviewError("an SQLite copy needs an SQLite database; back PostgreSQL up as an archive (.zip)")
        if Path(source).resolve() == path.resolve():
            raise LmreviewError("the backup file is the database itself; choose another name")
        partial = path.with_name(path.name + ".partial")
        sqlite_copy(source, partial)
        partial.replace(path)
        return Result(path, "sqlite", revision)
    return _write_archive(store, path, revision, progress)


def _write_archive(store: Store, path: Path, revision: str, progress: Progress | None) -> Result:
    result = Result(path, "archive", revision)
    partial = path.with_name(path.name + ".partial")
    with _snapshot(store, path.parent) as connection:
        tables = lmreview_tables(connection)
        counts = {t.name: connection.scalar(select(func.count()).select_from(t)) or 0 for t in tables}
        total, done = sum(counts.values()), 0
        infos: list[TableInfo] = []
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for number, table in enumerate(tables, 1):
                info = table_info(table)
                for _ in write_table(archive, number, read_rows(connection, table, info), info):
                    done += 1
                    if progress and done % BATCH == 0:
                        progress(done, total)
                infos.append(info)
                result.table_rows[table.name] = info.rows
            archive.writestr(MANIFEST, json.dumps(manifest_of(FORMAT, revision, connection, infos), indent=1))
    if progress:
        progress(done, total)
    partial.replace(path)
    result.tables, result.rows = len(infos), done
    return result


def member_name(number: int, name: str) -> str:
    return f"tables/{number:03d}_{name}.jsonl"


def write_table(archive: zipfile.ZipFile, number: int, rows: Iterator[list[Any]], info: TableInfo) -> Iterator[None]:
    """Write ``rows`` as the JSON Lines member of table number ``number``, counting them in ``info``; yields once
    per row (for progress)."""
    with archive.open(member_name(number, info.name), "w", force_zip64=True) as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            info.rows += 1
            yield


def manifest_of(
    fmt: str, revision: str, connection: Connection, infos: list[TableInfo], **extra: Any
) -> dict[str, Any]:
    """The ``manifest.json`` of an archive (``fmt``: the backup's or a review export's) holding ``infos``."""
    return {
        "format": fmt,
        "format_version": FORMAT_VERSION,
        "lmreview": __version__,
        "revision": revision,
        "created": dt.datetime.now(dt.UTC).isoformat(),
        "source": connection.dialect.name,
        **extra,
        "tables": [
            {
                "name": i.name,
                "file": member_name(n, i.name),
                "rows": i.rows,
                "columns": [{"name": c.name, "kind": c.kind} for c in i.columns],
            }
            for n, i in enumerate(infos, 1)
        ],
    }


# --- reading an archive ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Archive:
    """An opened portable archive: its manifest checked, its members checked against zip bombs."""

    path: Path
    zip: zipfile.ZipFile
    revision: str
    tables: list[tuple[TableInfo, str]]
    manifest: dict[str, Any] = field(default_factory=dict)

    def rows(self, info: TableInfo, member: str) -> Iterator[list[Any]]:
        name = self.path.name
        with self.zip.open(member) as stream:
            for number, line in enumerate(_lines(stream, name, member), 1):
                try:
                    values = json.loads(line)
                    if not isinstance(values, list) or len(values) != len(info.columns):
                        raise ValueError(f"expected a list of {len(info.columns)} values")
                    yield [decode(c.kind, v) for c, v in zip(info.columns, values, strict=True)]
                except (ValueError, TypeError) as exc:
                    raise BadInput([Problem(name, number, info.name, f"{member}: {exc}")]) from None


def _lines(stream: IO[bytes], name: str, member: str) -> Iterator[bytes]:
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            raise BadInput([Problem(name, 0, "-", f"{member}: a row longer than {MAX_LINE // 1024 // 1024} MiB")])
        yield line


def _bad(path: Path, message: str) -> BadInput:
    return BadInput([Problem(path.name, 0, "-", message)], message="this is not a usable lmreview archive")


WRITERS = {FORMAT: "`lmreview db backup`", "lmreview-review": "`lmreview review export`"}
# member names an archive may hold: no folders above, no absolute paths, no backslashes or drive letters
SAFE_NAME = re.compile(r"(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+")


def open_archive(path: Path, fmt: str = FORMAT) -> Archive:
    """Open an archive of format ``fmt`` (a backup, or a review export), refusing zip bombs, unsafe member names
    and manifests that do not describe one."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise _bad(path, "not a zip file, or a damaged one") from None
    try:
        for info in archive.infolist():
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _bad(path, f"{info.filename} expands more than {MAX_RATIO} times (a zip bomb?)")
            parts = info.filename.split("/")
            if not SAFE_NAME.fullmatch(info.filename) or ".." in parts or "." in parts:
                raise _bad(path, f"the member name {info.filename[:80]!r} is not one lmreview writes")
        try:
            raw = archive.read(MANIFEST) if archive.getinfo(MANIFEST).file_size < 16 * 1024 * 1024 else b""
            manifest = json.loads(raw)
        except (KeyError, ValueError):
            raise _bad(path, f"no readable {MANIFEST}: it was not written by {WRITERS[fmt]}") from None
        if isinstance(manifest, dict) and manifest.get("format") in WRITERS and manifest.get("format") != fmt:
            raise _bad(path, f"this archive was written by {WRITERS[manifest['format']]}, not {WRITERS[fmt]}")
        if not isinstance(manifest, dict) or manifest.get("format") != fmt:
            raise _bad(path, f"{MANIFEST} does not describe an lmreview archive")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise _bad(path, f"archive format {manifest.get('format_version')} is not one this lmreview reads")
        names = set(archive.namelist())
        tables: list[tuple[TableInfo, str]] = []
        for entry in manifest.get("tables", []):
            columns = [Column(str(c["name"]), str(c["kind"])) for c in entry["columns"]]
            unknown = [c.kind for c in columns if c.kind not in RAW_TYPES]
            if unknown or entry["file"] not in names:
                raise _bad(path, f"table {entry['name']}: unknown column kind or missing file")
            tables.append((TableInfo(str(entry["name"]), columns, int(entry["rows"])), str(entry["file"])))
        return Archive(path, archive, str(manifest["revision"]), tables, manifest)
    except BadInput:
        archive.close()
        raise
    except (KeyError, TypeError, ValueError):
        archive.close()
        raise _bad(path, f"{MANIFEST} is incomplete") from None


def sniff(path: Path) -> str:
    """ "sqlite" or "archive", from the first bytes of ``path``."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise LmreviewError(f"{path} does not exist") from None
    except OSError as exc:
        raise LmreviewError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(ZIP_MAGIC):
        return "archive"
    if head.startswith(pgdump.MAGIC):
        return "pg_dump"
    raise BadInput(
        [Problem(path.name, 0, "-", "neither an lmreview archive (.zip) nor an SQLite database")],
        message="this is not an lmreview backup",
    )


# --- restore -------------------------------------------------------------------------------------------------------


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(revision) is not None
    except CommandError:
        return False


def has_data(connection: Connection) -> bool:
    return any(connection.scalar(select(literal(1)).select_from(t).limit(1)) for t in lmreview_tables(connection))


def _migrate(store: Store, connection: Connection, revision: str) -> None:
    config = alembic_config(store)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _load(connection: Connection, archive: Archive, progress: Progress | None, result: Result) -> None:
    reflected = MetaData()
    reflected.reflect(connection)
    total, done = sum(i.rows for i, _ in archive.tables), 0
    postgres = connection.dialect.name == "postgresql"
    for info, member in archive.tables:
        if info.name not in reflected.tables:
            raise _bad(archive.path, f"table {info.name} is not in revision {archive.revision}")
        table = reflected.tables[info.name]
        values: dict[str, Any] = {}
        for n, col in enumerate(info.columns):
            if col.name not in table.c:
                raise _bad(archive.path, f"column {info.name}.{col.name} is not in revision {archive.revision}")
            param = bindparam(f"p{n}", type_=RAW_TYPES[col.kind])
            values[col.name] = (
                cast(param, table.c[col.name].type) if postgres and col.kind in ("json", "uuid") else param
            )
        statement = table.insert().values(values)
        batch: list[dict[str, Any]] = []
        count = 0
        for row in archive.rows(info, member):
            batch.append({f"p{n}": v for n, v in enumerate(row)})
            if len(batch) >= BATCH:
                connection.execute(statement, batch)
                count, done = count + len(batch), done + len(batch)
                batch = []
                if progress:
                    progress(done, total)
        if batch:
            connection.execute(statement, batch)
            count, done = count + len(batch), done + len(batch)
            if progress:
                progress(done, total)
        result.table_rows[info.name] = count
        result.rows += count
    result.tables = len(archive.tables)
    if progress:
        progress(done, total)


def reset_sequences(connection: Connection) -> None:
    """Point every PostgreSQL id sequence past the largest id restored, so that new rows get fresh ids."""
    if connection.dialect.name != "postgresql":
        return
    for table in lmreview_tables(connection):
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer) or key[0].autoincrement is False:
            continue
        sequence = connection.scalar(text("select pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": key[0].name})
        if sequence:
            top = connection.scalar(select(func.max(key[0])))
            connection.execute(
                text("select setval(:s, :v, :called)"),
                {"s": sequence, "v": top if top is not None else 1, "called": top is not None},
            )


def _drop_lmreview(connection: Connection) -> None:
    reflected = MetaData()
    reflected.reflect(connection)
    ours = {t.name for t in metadata.sorted_tables} | {"alembic_version"}
    doomed = [t for t in reversed(reflected.sorted_tables) if t.name in ours]
    for table in doomed:
        table.drop(connection)


def _restore_into(store: Store, archive: Archive, replace: bool, progress: Progress | None, result: Result) -> None:
    with store.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        if has_data(connection) and not replace:
            raise LmreviewError("the target database holds data; restore into an empty one, or add --replace")
        _drop_lmreview(connection)
        _migrate(store, connection, archive.revision)
        _load(connection, archive, progress, result)
        if archive.revision != result.revision:
            _migrate(store, connection, "head")
        reset_sequences(connection)


def _refuse_data(store: Store, replace: bool) -> None:
    with store.engine.connect() as connection:
        if has_data(connection) and not replace:
            raise LmreviewError("the target database holds data; restore into an empty one, or add --replace")


def _pg_restore(store: Store, path: Path, replace: bool, head: str) -> Result:
    if why := pgdump.usable(store):
        raise LmreviewError(f"this is a pg_dump archive, which pg_restore cannot restore here: {why}")
    revision = pgdump.revision_in(path)
    if revision is None or not _known_revision(revision):
        raise LmreviewError(f"the dump is at revision {revision or 'unknown'}, which this lmreview does not know")
    _refuse_data(store, replace)
    store.dispose()
    pgdump.restore(store, path)
    if revision != head:
        upgrade(store)
    return Result(path, "pg_dump", head, upgraded_from=revision if revision != head else None)


def restore(store: Store, path: Path, *, replace: bool = False, progress: Progress | None = None) -> Result:
    """Restore the backup ``path`` (archive or SQLite copy) into ``store``; see the module's docstring."""
    kind = sniff(path)
    head = head_revision()
    if kind == "pg_dump":
        return _pg_restore(store, path, replace, head)
    if kind == "sqlite":
        # An SQLite copy is read through an archive, so that it can land on PostgreSQL as well.
        with tempfile.TemporaryDirectory(prefix="lmreview-restore-") as folder:
            copy = Path(folder) / "copy.db"
            sqlite_copy(path, copy)
            source = Store(str(copy))
            try:
                from lmreview.store.migrate import ensure_current

                before = current_revision(source)
                if before is None:
                    raise _bad(path, "an SQLite database without lmreview's tables")
                if not _known_revision(before):
                    raise _bad(path, f"revision {before} was written by a newer lmreview; upgrade lmreview")
                ensure_current(source)
                temp = _write_archive(source, Path(folder) / "copy.zip", head, None)
            finally:
                source.dispose()
            result = restore(store, temp.path, replace=replace, progress=progress)
            result.path, result.format = path, "sqlite"
            result.upgraded_from = before if before != head else None
            return result
    archive = open_archive(path)
    with archive.zip:
        if not _known_revision(archive.revision):
            raise LmreviewError(
                f"the archive is at revision {archive.revision}, which this lmreview does not know: "
                "it was written by a newer lmreview; upgrade lmreview"
            )
        result = Result(path, "archive", head, upgraded_from=archive.revision if archive.revision != head else None)
        target = store.sqlite_path
        if target is None:
            if store.is_sqlite:
                raise LmreviewError("cannot restore into an in-memory database")
            _restore_into(store, archive, replace, progress, result)
            return result
        _refuse_data(store, replace)
        with tempfile.TemporaryDirectory(prefix="lmreview-restore-", dir=Path(target).parent) as folder:
            built = Store(str(Path(folder) / "restored.db"))
            try:
                _restore_into(built, archive, True, progress, result)
            finally:
                built.dispose()
            store.dispose()
            sqlite_copy(Path(folder) / "restored.db", target)  # one write transaction on the target
        return result
