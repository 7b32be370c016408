"""``lmreview db``: the store's schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from lmreview.cli.common import console, progress_bar, state
from lmreview.store import Store, backup, open_store
from lmreview.store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Create, upgrade, back up or restore the database.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the tables, or upgrade them to this version of lmreview.

    Example: lmreview --db postgresql://postgres@127.0.0.1/test db upgrade
    """
    store = Store(state(ctx).settings.database_url)
    before, after = upgrade(store)
    if before == after:
        console.print(f"The database is up to date (revision {after}).")
    else:
        console.print(f"Upgraded the database from {before or 'empty'} to revision {after}.")


@app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Print the database's revision and the one this lmreview needs."""
    url = state(ctx).settings.database_url
    head = head_revision()
    path = make_url(url).database if url.startswith("sqlite") else None
    if path and path != ":memory:" and not Path(path).exists():  # asking must not create an empty file
        console.print(f"database: {path} (does not exist yet; any other command creates it)")
        console.print(f"revision: empty (lmreview needs {head})")
        return
    store = Store(url)
    current = current_revision(store)
    console.print(f"database: {store.engine.url.render_as_string(hide_password=True)}")
    console.print(f"revision: {current or 'empty'} (lmreview needs {head})")


BackupFormat = Annotated[
    str,
    typer.Option(
        "--format",
        help="sqlite (a copy of an SQLite database), pg_dump (PostgreSQL's own format), archive (a portable .zip "
        "for either database), or auto: archive when FILE ends in .zip, else an SQLite copy of SQLite and a "
        "pg_dump of PostgreSQL (an archive when pg_dump is missing or of another version than the server).",
    ),
]


def _report(result: backup.Result) -> None:
    for name, rows in result.table_rows.items():
        if rows:
            console.print(f"  {name}: {rows} row{'s' if rows != 1 else ''}", markup=False)


@app.command("backup")
def db_backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup file to write.", show_default=False)],
    fmt: BackupFormat = "auto",
) -> None:
    """Back the database up while it stays in use: an SQLite copy, or a portable archive that restores into
    SQLite or PostgreSQL.

    Example: lmreview --db reviews.db db backup backups/reviews-2026-12-04.zip
    """
    store = open_store(state(ctx).settings.database_url, migrate=False)
    with progress_bar("Backing up") as progress:
        result = backup.backup(store, file, fmt=fmt, progress=progress)
    store.dispose()
    if result.format in ("sqlite", "pg_dump"):
        kind = "an SQLite copy" if result.format == "sqlite" else "a pg_dump archive"
        console.print(f"Wrote {kind} of the database (revision {result.revision}) to {file}.", markup=False)
        return
    console.print(
        f"Wrote {file}: {result.rows} rows of {result.tables} tables, revision {result.revision}.", markup=False
    )
    _report(result)


@app.command("restore")
def db_restore(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A backup: an archive (.zip), an SQLite copy or a pg_dump.", show_default=False)
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace what the database holds (refused otherwise).")
    ] = False,
) -> None:
    """Restore a backup into the database (SQLite or PostgreSQL), all or nothing; an older backup is upgraded.

    Example: lmreview --db postgresql://lmreview@db/lmreview db restore backups/reviews-2026-12-04.zip
    """
    store = open_store(state(ctx).settings.database_url, migrate=False)
    with progress_bar("Restoring") as progress:
        result = backup.restore(store, file, replace=replace, progress=progress)
    store.dispose()
    upgraded = f", upgraded from revision {result.upgraded_from}" if result.upgraded_from else ""
    if result.format == "pg_dump":
        console.print(f"Restored {file} with pg_restore (revision {result.revision}{upgraded}).", markup=False)
        return
    console.print(
        f"Restored {result.rows} rows of {result.tables} tables from {file} (revision {result.revision}{upgraded}).",
        markup=False,
    )
    _report(result)
