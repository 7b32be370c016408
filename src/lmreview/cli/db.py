"""``lmreview db``: the store's schema."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from lmreview.cli.common import console, state
from lmreview.store import Store
from lmreview.store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Create or upgrade the database.", no_args_is_help=True)


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
