"""PostgreSQL's own ``pg_dump`` / ``pg_restore``, used by ``db backup`` / ``db restore`` when the tools are installed
and their major version is the server's (a dump of another major version may not restore); otherwise lmreview's
portable archive does the work.

A dump holds the schema lmreview uses (``current_schema()``) and restores into a schema of the same name, in one
transaction. The password goes to the tools through ``PGPASSWORD``, never on their command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from lmreview.errors import LmreviewError
from lmreview.store.engine import Store

MAGIC = b"PGDMP"


def _major(output: str) -> int | None:
    found = re.search(r"(\d+)(?:\.\d+)?", output)
    return int(found[1]) if found else None


def usable(store: Store) -> str | None:
    """Why the tools cannot be used for ``store`` (None when they can)."""
    if store.engine.dialect.name != "postgresql":
        return "the database is not PostgreSQL"
    tools = [shutil.which("pg_dump"), shutil.which("pg_restore")]
    if None in tools:
        return "pg_dump and pg_restore are not installed"
    run = subprocess.run([str(tools[0]), "--version"], capture_output=True, text=True, timeout=30)
    with store.engine.connect() as connection:
        server = int(connection.execute(text("show server_version_num")).scalar_one()) // 10000
    client = _major(run.stdout)
    if client != server:
        return f"pg_dump is version {client}, the server {server}"
    return None


def _libpq(store: Store) -> tuple[str, dict[str, str]]:
    url = make_url(store.url)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _schema(store: Store) -> str:
    with store.engine.connect() as connection:
        return str(connection.execute(text("select current_schema()")).scalar_one())


def _fail(what: str, run: subprocess.CompletedProcess[str]) -> LmreviewError:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    return LmreviewError(f"{what} failed: {lines[-1] if lines else f'exit status {run.returncode}'}")


def dump(store: Store, path: Path) -> None:
    """``pg_dump --format=custom`` of lmreview's schema into ``path`` (written aside, then renamed)."""
    url, env = _libpq(store)
    partial = path.with_name(path.name + ".partial")
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--schema={_schema(store)}"]
    run = subprocess.run([*command, f"--file={partial}", url], capture_output=True, text=True, env=env)
    if run.returncode != 0:
        partial.unlink(missing_ok=True)
        raise _fail("pg_dump", run)
    partial.replace(path)


def revision_in(path: Path) -> str | None:
    """The Alembic revision recorded in a dump (the data of its ``alembic_version`` table)."""
    run = subprocess.run(
        ["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path)], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise _fail("pg_restore", run)
    lines = run.stdout.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and n + 1 < len(lines):
            value = lines[n + 1].strip()
            return value if value and value != "\\." else None
    return None


def dumped_schema(path: Path) -> str | None:
    run = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True)
    if run.returncode != 0:
        raise _fail("pg_restore", run)
    found = re.search(r"^\d+; \d+ \d+ TABLE (\S+) alembic_version ", run.stdout, flags=re.M)
    return found[1] if found else None


def restore(store: Store, path: Path) -> None:
    """``pg_restore`` in one transaction, dropping the dump's tables first where they exist."""
    schema = dumped_schema(path)
    if schema is not None and schema != _schema(store):
        raise LmreviewError(
            f"this dump holds the schema {schema!r}, the database uses {_schema(store)!r}: "
            "restore a portable archive (.zip) instead"
        )
    url, env = _libpq(store)
    command = ["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    command += ["--clean", "--if-exists"]
    # the schema itself exists already: restore the objects in it, not the CREATE SCHEMA
    listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True)
    keep = [line for line in listing.stdout.splitlines() if not re.match(r"^\d+; \d+ \d+ SCHEMA ", line)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as lst:
        lst.write("\n".join(keep) + "\n")
        lst.flush()
        command += [f"--use-list={lst.name}", f"--dbname={url}", str(path)]
        run = subprocess.run(command, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise _fail("pg_restore", run)
