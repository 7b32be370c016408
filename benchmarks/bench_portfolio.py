"""Portfolio import and statistics on a large generated portfolio, as ratios to a baseline measured in the same run.

Baseline: reading the same CSV with the standard library's csv module and converting every cell (what any importer
must at least do). Measured: a first import into an empty SQLite store (validation, inserts, audit log), a re-import
of the unchanged file (change detection only), a re-import with every budget changed, and the statistics.

    .venv/bin/python benchmarks/bench_portfolio.py [--projects 5000] [--db URL]
"""

from __future__ import annotations

import argparse
import csv
import io
import platform
import random
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from lmreview.portfolio.importing import import_data
from lmreview.portfolio.stats import portfolio_stats
from lmreview.store import open_store

REGIONS = ["Africa", "Asia and Oceania", "Europe", "Middle East", "Latin America and the Caribbean", "Global"]
COUNTRIES = ["Kenya", "Viet Nam", "Nepal", "Morocco", "Georgia", "Jamaica", "Botswana", "Tonga"]


def portfolio_csv(n: int, budget_bump: int = 0, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
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
    )
    for i in range(n):
        year = rng.randint(2011, 2022)
        writer.writerow(
            [
                f"LM.{i:05d}",
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


def baseline(data: bytes) -> None:
    rows = list(csv.reader(io.StringIO(data.decode())))
    for row in rows[1:]:
        Decimal(row[4].removeprefix("USD ").replace(",", ""))
        int(row[2])


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=5000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    data = portfolio_csv(args.projects)
    changed = portfolio_csv(args.projects, budget_bump=1)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.db or str(Path(tmp) / "bench.db"))

        def run_import(payload: bytes) -> Callable[[], object]:
            def go() -> object:
                with store.session() as session:
                    return import_data(session, payload, filename="bench.csv", portfolio="bench", actor="bench")

            return go

        def run_stats() -> object:
            with store.session() as session:
                return portfolio_stats(session, "bench")

        base = timed(lambda: baseline(data), repeat=3)
        results = [
            ("first import", timed(run_import(data))),
            ("re-import, unchanged", timed(run_import(data))),
            ("re-import, every budget changed", timed(run_import(changed))),
            ("statistics", timed(run_stats, repeat=3)),
        ]
        store.dispose()
    print(
        f"{args.projects} projects on {platform.machine()}, Python {platform.python_version()}, "
        f"{'SQLite' if not args.db else args.db.split(':')[0]}"
    )
    print(f"{'baseline: csv parse + convert':34} {base * 1000:9.1f} ms   1.0x")
    for label, seconds in results:
        print(f"{label:34} {seconds * 1000:9.1f} ms {seconds / base:6.1f}x")


if __name__ == "__main__":
    main()
