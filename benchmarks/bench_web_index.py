"""Web `GET /` logged in, with a portfolio of 10,000 projects: requests per second of lmreview's web UI against a
bare FastAPI app answering the same figures (projects and budget per portfolio) from the same SQLite file with one
plain SQL query. Both run under uvicorn (one worker); an asyncio httpx client keeps ``--connections`` requests in
flight for ``--seconds``.

    python benchmarks/bench_web_index.py [--projects 10000] [--connections 20] [--seconds 10] [--postgres URL]

With ``--postgres URL``, the same portfolio and user are made once more in a fresh schema of that PostgreSQL
database (dropped at the end), and the script says whether PostgreSQL gives the same numbers: the text of ``GET /``
(the portfolios, their projects and budgets; the time of the last import left out).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _portfolio_data import child, env, machine, portfolio_csv, postgres_schema, same_numbers, serve, visible_text
from _portfolio_data import login as web_login

PASSWORD = "bench-password-long-enough"
LMREVIEW = """
import sys, uvicorn
from lmreview.settings import Settings
from lmreview.web.app import create_app
uvicorn.run(create_app(Settings(database_url=sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning")
"""
BARE = """
import sqlite3, sys, uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
app = FastAPI()
QUERY = ("SELECT p.name, count(pr.id), sum(pr.budget_usd) FROM portfolio p "
         "LEFT JOIN project pr ON pr.portfolio_id = p.id GROUP BY p.id ORDER BY p.name")
@app.get("/", response_class=HTMLResponse)
def index() -> str:
    with sqlite3.connect(sys.argv[1]) as connection:
        rows = connection.execute(QUERY).fetchall()
    return "<table>" + "".join(f"<tr><td>{n}</td><td>{c}</td><td>{b}</td></tr>" for n, c, b in rows) + "</table>"
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


async def load(url: str, connections: int, seconds: float, login: bool) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        if login:
            page = await client.get("/login")
            found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert found, "no CSRF token on the login page"
            data = {"name": "bench", "password": PASSWORD, "csrf_token": found.group(1)}
            answer = await client.post("/login", data=data)
            assert answer.status_code in (200, 303), answer.text
            assert "bench" in (await client.get("/")).text
        done = 0
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                response = await client.get("/")
                assert response.status_code == 200, response.status_code
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return done / (time.perf_counter() - start)


def prepare(db: str, path: Path) -> None:
    """The portfolio imported into ``db`` and the user "bench" added (not timed)."""
    child("lmreview-import", db, str(path))
    added = subprocess.run(
        [
            sys.executable,
            "-c",
            "from lmreview.cli.main import main; main()",
            "--db",
            db,
            "user",
            "add",
            "bench",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        text=True,
        env=env(),
        capture_output=True,
    )
    if added.returncode != 0:
        raise SystemExit(added.stderr)


def index_text(db: str) -> list[str]:
    """The text of ``GET /`` logged in, for comparing databases (not timed)."""
    from fastapi.testclient import TestClient

    from lmreview.settings import Settings
    from lmreview.web.app import create_app

    app = create_app(Settings(database_url=db))
    with TestClient(app) as client:
        web_login(client, "bench", PASSWORD)
        text = visible_text(client.get("/").text)
    app.state.store.dispose()
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--scale", action="store_true", help="100,000 projects")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--postgres", help="also import into this PostgreSQL database and compare GET /")
    args = parser.parse_args()
    if args.scale:
        args.projects = 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "portfolio.csv"
        path.write_bytes(portfolio_csv(args.projects))
        db = str(Path(tmp) / "web.db")
        prepare(db, path)
        rates = {}
        for name, code, login in (("lmreview", LMREVIEW, True), ("bare", BARE, False)):
            process, url = serve(code, db, "/login", 300)
            try:
                rates[name] = asyncio.run(load(url, args.connections, args.seconds, login))
            finally:
                process.terminate()
                process.wait()
        if args.postgres:
            seen = index_text(db)
            with postgres_schema(args.postgres, "bench_web_index") as url:
                prepare(url, path)
                theirs = index_text(url)
    print(f"GET / logged in, {args.projects:,} projects, {args.connections} connections; {machine()}; SQLite")
    print(
        f"{'GET / (bare FastAPI + one SQL query)':46} {rates['lmreview']:9.1f} req/s  anchor {rates['bare']:9.1f} "
        f"req/s  ratio {rates['lmreview'] / rates['bare']:6.2f} x"
    )
    if args.postgres:
        same_numbers(seen, theirs)


if __name__ == "__main__":
    main()
