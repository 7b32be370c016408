"""REST API read throughput (issue 14): ``GET /api/v1/portfolios/P/projects/CODE`` with a personal API token, in
requests per second, against a bare FastAPI app that reads the same project row from the same database with one
SQL query and answers it as JSON. Both run under uvicorn (one worker, one after the other); an asyncio httpx client
keeps ``--connections`` requests in flight for ``--seconds``, asking for a different project each time.

The API does what it must on every request and the bare app does not: the token's hash looked up with its user (one
query), the portfolio and the project in full (its countries, revisions, budgets, results and tags), the answer
checked against its schema, and an ETag. Goal: at least 0.5 times the bare rate.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_api_read.py [--projects 2000] [--connections 10] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _portfolio_data import child, env, machine, portfolio_csv, serve

LMREVIEW = """
import sys, uvicorn
from lmreview.settings import Settings
from lmreview.web.app import create_app
uvicorn.run(create_app(Settings(database_url=sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning")
"""
BARE = """
import json, sqlite3, sys, uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response
app = FastAPI()
QUERY = ("SELECT pr.* FROM project pr JOIN portfolio p ON p.id = pr.portfolio_id "
         "WHERE p.name = ? AND lower(pr.code) = lower(?)")
@app.get("/api/v1/portfolios/{name}/projects/{code:path}")
def project(name: str, code: str) -> Response:
    with sqlite3.connect(sys.argv[1]) as connection:
        cursor = connection.execute(QUERY, (name, code))
        row = cursor.fetchone()
        columns = [c[0] for c in cursor.description]
    if row is None:
        raise HTTPException(404)
    return Response(json.dumps(dict(zip(columns, row)), default=str), media_type="application/json")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


async def load(url: str, token: str, codes: list[str], connections: int, seconds: float) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as client:
        first = await client.get(f"/api/v1/portfolios/bench/projects/{codes[0]}")
        assert first.status_code == 200, first.text[:300]
        done = 0
        stop = time.perf_counter() + seconds

        async def worker(offset: int) -> None:
            nonlocal done
            n = offset
            while time.perf_counter() < stop:
                response = await client.get(f"/api/v1/portfolios/bench/projects/{codes[n % len(codes)]}")
                assert response.status_code == 200, response.status_code
                done += 1
                n += connections

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        return done / (time.perf_counter() - start)


def _cli(db: str, *args: str) -> str:
    command = [sys.executable, "-c", "from lmreview.cli.main import main; main()", "--db", db, *args]
    done = subprocess.run(command, text=True, env=env(), capture_output=True, input="bench-password-long-enough\n")
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="alternate the two servers this many times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        path.write_bytes(portfolio_csv(args.projects))
        db = str(Path(tmp) / "api.db")
        child("lmreview-import", db, str(path))
        _cli(db, "user", "add", "bench", "--role", "viewer", "--password-stdin")
        found = re.search(r"^(lmr_\S+)$", _cli(db, "user", "token", "create", "bench", "--user", "bench"), re.M)
        assert found, "no token printed"
        listed = _cli(db, "portfolio", "list")
        name = "bench" if "bench" in listed else listed.split()[0]
        assert name == "bench", listed
        import csv
        import io

        codes = [row["code"] for row in csv.DictReader(io.StringIO(path.read_text()))][:500]
        rates: dict[str, list[float]] = {"lmreview": [], "bare": []}
        load_before = os.getloadavg()[0]
        for _ in range(args.rounds):
            for label, code in (("lmreview", LMREVIEW), ("bare", BARE)):
                process, url = serve(code, db, "/openapi.json", 600)
                try:
                    rates[label].append(asyncio.run(load(url, found[1], codes, args.connections, args.seconds)))
                finally:
                    process.terminate()
                    process.wait()
        load_after = os.getloadavg()[0]
    print(
        f"GET /api/v1/portfolios/P/projects/CODE with a token, {args.projects:,} projects, {args.connections} "
        f"connections, {args.rounds} rounds of {args.seconds:.0f} s; {machine()}; SQLite; "
        f"load average {load_before:.1f} before, {load_after:.1f} after"
    )
    for n, (ours, bare) in enumerate(zip(rates["lmreview"], rates["bare"], strict=True), 1):
        print(f"round {n}: API {ours:7.1f} req/s   bare {bare:7.1f} req/s   ratio {ours / bare:5.2f} x")
    ours, bare = sorted(rates["lmreview"])[args.rounds // 2], sorted(rates["bare"])[args.rounds // 2]
    print(f"median: API {ours:7.1f} req/s   bare {bare:7.1f} req/s   ratio {ours / bare:5.2f} x (goal >= 0.5 x)")


if __name__ == "__main__":
    main()
