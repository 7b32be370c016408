"""Shared by the portfolio benchmarks: a seeded portfolio file, timing, and child processes that measure one run.

Each measured run happens in a fresh Python process so that its peak memory (ru_maxrss) is its own:

    python benchmarks/_portfolio_data.py lmreview-import DB CSV   # prints {"seconds": ..., "peak_mb": ...}
    python benchmarks/_portfolio_data.py pandas-import DB CSV
    python benchmarks/_portfolio_data.py pandas-compare DB CSV
    python benchmarks/_portfolio_data.py sqlite-floor IMPORTED_DB NEW_DB

and what the benchmarks' ``--postgres URL`` share: a fresh schema of that database (:func:`postgres_schema`), the
text a page shows (:func:`visible_text`), and the line that says whether PostgreSQL gave the same numbers as SQLite
(:func:`same_numbers`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
REGIONS = ["Africa", "Asia and Oceania", "Europe", "Middle East", "Latin America and the Caribbean", "Global"]
COUNTRIES = ["Kenya", "Viet Nam", "Nepal", "Morocco", "Georgia", "Jamaica", "Botswana", "Tonga"]
HEADER = [
    "code",
    "title",
    "funding_year",
    "fund_line",
    "budget_usd",
    "countries",
    "region",
    "category",
    "start_date",
    "end_date",
    "planned_months",
    "nce_months",
    "status",
]


def portfolio_csv(n: int, seed: int = 7, budget_bump: int = 0) -> bytes:
    """``n`` projects with two countries each, drawn from a seeded generator (the same file for the same n)."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(n):
        year = rng.randint(2011, 2022)
        writer.writerow(
            [
                f"LM.{i:06d}",
                f"Project {i} on labour mobility",
                year,
                rng.choice("12"),
                f"USD {rng.randint(3, 40) * 10_000 + budget_bump:,}",
                "; ".join(rng.sample(COUNTRIES, 2)),
                rng.choice(REGIONS),
                f"Category {rng.randint(1, 5)}",
                f"{year}-0{rng.randint(1, 9)}-01",
                f"{year + 2}-0{rng.randint(1, 9)}-28",
                rng.choice([6, 12, 18, 24]),
                rng.randint(0, 12),
                "Completed",
            ]
        )
    return out.getvalue().encode()


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC)}


def child(*args: str) -> dict[str, Any]:
    """Run one measured step in a fresh process; its JSON line."""
    out = subprocess.run(
        [sys.executable, str(HERE / "_portfolio_data.py"), *args], capture_output=True, text=True, env=env()
    )
    if out.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(code: str, db: str, probe: str, tries: int = 600) -> tuple[subprocess.Popen[bytes], str]:
    """Run ``python -c code DB PORT`` (a web server) on a free port; its process and URL once ``probe`` answers."""
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", code, db, str(port)], env=env())
    url = f"http://127.0.0.1:{port}"
    for _ in range(tries):
        try:
            httpx.get(url + probe, timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def timed_median(fn: Callable[[], object], repeat: int) -> float:
    """The median of ``repeat`` runs of ``fn``, in seconds."""
    return statistics.median(timed(fn, repeat))


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other work), Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )


def row(label: str, ours: float, anchor: float, unit: str = "s") -> str:
    return f"{label:46} {ours:9.3f} {unit}  anchor {anchor:9.3f} {unit}  ratio {ours / anchor:6.2f} x"


@contextmanager
def postgres_schema(url: str, prefix: str = "bench") -> Iterator[str]:
    """A fresh schema of the PostgreSQL database at ``url``: the URL whose search_path is that schema (lmreview
    creates its tables there when it opens the store), dropped with everything in it at the end."""
    from sqlalchemy import create_engine, text

    from lmreview.settings import database_url

    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url(url))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{database_url(url)}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# Parts of a page that change from one build to the next whatever the database: times of day (a date alone, as a
# project's start date, is kept).
VOLATILE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?( ?(UTC|Z|[+-]\d{2}:?\d{2}))?")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._hidden = 0  # inside <script>, <style>, <template>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        line = " ".join(data.split())
        if line and not self._hidden:
            self.lines.append(VOLATILE.sub("<time>", line))


def visible_text(html: str) -> list[str]:
    """The text a reader sees on an HTML page, one piece per element (tags, scripts and styles left out, spaces
    collapsed), times of day masked."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.lines


def login(client: Any, name: str, password: str) -> None:
    """Log ``name`` in through the web form of a TestClient (or an httpx client)."""
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert answer.status_code in (200, 303), answer.text


def differences(sqlite: Any, postgres: Any, where: str = "") -> Iterator[str]:
    """Where two results differ: dicts key by key, lists item by item, anything else by ``!=``."""
    if isinstance(sqlite, dict) and isinstance(postgres, dict):
        for key in list(dict.fromkeys([*sqlite, *postgres])):
            if key not in postgres or key not in sqlite:
                yield f"{where}/{key}: only in {'SQLite' if key in sqlite else 'PostgreSQL'}"
            else:
                yield from differences(sqlite[key], postgres[key], f"{where}/{key}")
    elif isinstance(sqlite, list | tuple) and isinstance(postgres, list | tuple):
        for i, (a, b) in enumerate(zip(sqlite, postgres, strict=False)):
            yield from differences(a, b, f"{where}[{i}]")
        if len(sqlite) != len(postgres):
            yield f"{where}: {len(sqlite)} items on SQLite, {len(postgres)} on PostgreSQL"
    elif sqlite != postgres or type(sqlite) is not type(postgres):
        yield f"{where or 'the result'}: SQLite {sqlite!r:.200}, PostgreSQL {postgres!r:.200}"


def same_numbers(sqlite: Any, postgres: Any, shown: int = 5) -> bool:
    """Print whether PostgreSQL gave the same result as SQLite, and where not, the first ``shown`` differences."""
    found = []
    for difference in differences(sqlite, postgres):
        found.append(difference)
        if len(found) > shown:
            break
    print("PostgreSQL gives the same numbers as SQLite:", not found)
    for difference in found[:shown]:
        print("  differs at", difference)
    if len(found) > shown:
        print("  and more")
    return not found


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _lmreview_import(db: str, path: str, *flags: str) -> None:
    """Start-up (imports, opening the store, SQLAlchemy's one-time mapper configuration) is left out of the time, as
    the anchor leaves out importing pandas."""
    from sqlalchemy.orm import configure_mappers

    from lmreview.portfolio.importing import import_file
    from lmreview.store import open_store

    store = open_store(db)
    configure_mappers()
    start, cpu = time.perf_counter(), time.process_time()
    with store.session() as session:
        import_file(session, Path(path), portfolio="bench", actor="bench")
        session.commit()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    result: dict[str, Any] = {"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb()}
    if "--digest" in flags:
        result["stored"] = _stored_digest(store)
    print(json.dumps(result))


def _stored_digest(store: Any) -> str:
    """A digest of what the import stored (projects, countries, audit snapshots, as Python values), the same for
    the same values whatever the database; computed after the timed part."""
    import hashlib

    from sqlalchemy import select

    from lmreview.portfolio.models import Project, ProjectCountry
    from lmreview.store.models import AuditEvent

    digest = hashlib.sha256()
    skip = {"id", "portfolio_id", "region_id", "category_id", "created_at", "updated_at"}
    columns = [c for c in Project.__table__.c if c.name not in skip]
    with store.session() as session:
        for row in session.execute(select(*columns).order_by(Project.code)):
            digest.update(repr(tuple(row)).encode())
        countries = select(Project.code, ProjectCountry.position, ProjectCountry.name, ProjectCountry.iso3)
        for row in session.execute(countries.join_from(ProjectCountry, Project).order_by(Project.code, "position")):
            digest.update(repr(tuple(row)).encode())
        events = select(Project.code, AuditEvent.action, AuditEvent.before, AuditEvent.after, AuditEvent.summary)
        for row in session.execute(
            events.join(AuditEvent, AuditEvent.entity_id == Project.id)
            .where(AuditEvent.entity == "project")
            .order_by(Project.code)
        ):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _pandas_import(db: str, path: str) -> None:
    import sqlite3

    import pandas as pd

    start, cpu = time.perf_counter(), time.process_time()
    frame = pd.read_csv(path)
    with sqlite3.connect(db) as connection:
        frame.to_sql("project", connection, if_exists="replace", index=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb()}))


def _pandas_import_postgres(url: str, path: str) -> None:
    """The anchor on PostgreSQL: ``to_sql`` through a SQLAlchemy engine (the same driver as lmreview's)."""
    import pandas as pd
    from sqlalchemy import create_engine

    from lmreview.settings import database_url

    engine = create_engine(database_url(url))
    with engine.connect():  # connected before the timed part, as lmreview's store is opened before it
        pass
    start, cpu = time.perf_counter(), time.process_time()
    frame = pd.read_csv(path)
    frame.to_sql("project_anchor", engine, if_exists="replace", index=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb()}))


def _sqlite_floor(db: str, path: str) -> None:
    """What writing the rows of a first import costs SQLite itself: the projects, countries and audit events that
    lmreview stored in ``db``, read back, inserted by bare ``sqlite3`` executemany (one per table, values as
    stored) into an empty copy of the schema at ``path``, with lmreview's pragmas, and committed. No parsing, no
    checks, no Python per row: the part of the import that no reading of the file can remove."""
    import sqlite3

    tables = ("project", "project_country", "audit_event")
    source = sqlite3.connect(db)
    rows = {table: source.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() for table in tables}
    target = sqlite3.connect(path, isolation_level=None)
    source.backup(target)
    source.close()
    for table in reversed(tables):
        target.execute(f"DELETE FROM {table}")
    target.execute("VACUUM")
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "mmap_size=1073741824"):
        target.execute(f"PRAGMA {pragma}")
    start, cpu = time.perf_counter(), time.process_time()
    target.execute("BEGIN")
    for table in tables:
        marks = ", ".join("?" * len(rows[table][0]))
        target.executemany(f"INSERT INTO {table} VALUES ({marks})", rows[table])
    target.execute("COMMIT")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    target.close()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb()}))


def _pandas_compare(db: str, path: str) -> None:
    """The anchor of an unchanged re-import: read the file and the stored table, and find the rows that differ."""
    import sqlite3

    import pandas as pd

    start, cpu = time.perf_counter(), time.process_time()
    frame = pd.read_csv(path)
    with sqlite3.connect(db) as connection:
        stored = pd.read_sql("SELECT * FROM project", connection)
    merged = frame.merge(stored, on="code", how="left", suffixes=("", "_stored"), indicator=True)
    differ = merged["_merge"] != "both"
    for column in frame.columns:
        if column != "code":
            differ |= merged[column].astype(str) != merged[f"{column}_stored"].astype(str)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "changed": int(differ.sum())}))


if __name__ == "__main__":
    steps = {
        "lmreview-import": _lmreview_import,
        "pandas-import": _pandas_import,
        "pandas-import-postgres": _pandas_import_postgres,
        "pandas-compare": _pandas_compare,
        "sqlite-floor": _sqlite_floor,
    }
    steps[sys.argv[1]](*sys.argv[2:])
