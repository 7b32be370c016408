"""`lmreview stats --json` on a generated portfolio, against pandas reading the same table and computing the same
summaries and breakdowns, each as a fresh process (what a person typing the command waits for).

    python benchmarks/bench_stats.py                                   # 10,000 projects
    python benchmarks/bench_stats.py --scale                           # 100,000 projects
    python benchmarks/bench_stats.py --postgres postgresql://... # and the same numbers from PostgreSQL (fresh schema)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _portfolio_data import child, env, machine, median, portfolio_csv, postgres_schema, row, timed

ANCHOR = """
import sqlite3, sys
import pandas as pd
with sqlite3.connect(sys.argv[1]) as connection:
    frame = pd.read_sql(
        "SELECT p.code, p.budget_usd, p.planned_months, p.nce_months, p.fund_line, p.funding_year, "
        "r.name AS region, c.name AS category FROM project p LEFT JOIN region r ON r.id = p.region_id "
        "LEFT JOIN category c ON c.id = p.category_id",
        connection,
    )
frame["duration"] = frame["planned_months"] + frame["nce_months"]
out = {name: frame[name].agg(["count", "sum", "mean", "median", "min", "max"]).to_dict()
       for name in ("budget_usd", "duration", "nce_months")}
for key in ("region", "fund_line", "funding_year", "category"):
    out[key] = frame.groupby(key, dropna=False)["budget_usd"].agg(["size", "sum"]).to_dict()
print(len(str(out)))
"""


def lmreview(db: str, *args: str) -> str:
    command = [sys.executable, "-c", "from lmreview.cli.main import main; main()", "--db", db, *args]
    out = subprocess.run(command, capture_output=True, text=True, env=env(), check=True)
    return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--scale", action="store_true", help="100,000 projects")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", help="also import into this PostgreSQL database and compare the output")
    args = parser.parse_args()
    n = 100_000 if args.scale else args.projects
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "portfolio.csv"
        path.write_bytes(portfolio_csv(n))
        db = str(Path(tmp) / "stats.db")
        child("lmreview-import", db, str(path))
        ours = timed(lambda: lmreview(db, "stats", "--portfolio", "bench", "--json"), args.repeat)
        anchor = timed(
            lambda: subprocess.run([sys.executable, "-c", ANCHOR, db], check=True, capture_output=True), args.repeat
        )
        sqlite_json = json.loads(lmreview(db, "stats", "--portfolio", "bench", "--json"))
        if args.postgres:
            with postgres_schema(args.postgres, "bench_stats") as url:  # a fresh schema, dropped after
                lmreview(url, "portfolio", "import", str(path), "--portfolio", "bench")
                pg_json = json.loads(lmreview(url, "stats", "--portfolio", "bench", "--json"))
            print("PostgreSQL gives the same numbers as SQLite:", pg_json == sqlite_json)
    print(f"stats --json, {n:,} projects; {machine()}; SQLite; median of {args.repeat}")
    print(row("stats --json (pandas read_sql + agg, process)", median(ours), median(anchor)))


if __name__ == "__main__":
    main()
