"""Portfolio import (CSV): first import and unchanged re-import, lmreview against pandas in the same run.

Anchors: ``pandas.read_csv`` + ``DataFrame.to_sql`` into a fresh SQLite file (first import), and ``read_csv`` +
``read_sql`` + a merge that finds the changed rows (unchanged re-import). Every run is a fresh process (its peak
memory is its own); the medians of ``--repeat`` runs are printed with their ratio, in wall-clock seconds and in CPU
seconds of the process (SQLite works in the process: on a shared machine the CPU ratio is the steadier figure).
Start-up (imports, opening the store) is outside the timed part on both sides.

"SQLite's own part" is the floor under the first import: the projects, countries and audit events lmreview stored,
inserted again by bare ``sqlite3`` executemany into an empty copy of the schema (no parsing, no Python per row).

    python benchmarks/bench_import.py              # 10,000 projects
    python benchmarks/bench_import.py --scale      # 100,000 projects
    python benchmarks/bench_import.py --postgres postgresql://...   # and one first import into PostgreSQL

With ``--postgres``, one first import and its anchor also run in a fresh schema of that database each (dropped at
the end), and the script says whether PostgreSQL stored the same values as SQLite (a digest of the projects, their
countries and their audit snapshots, read back as Python values).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from _portfolio_data import child, machine, median, portfolio_csv, postgres_schema, row


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--scale", action="store_true", help="100,000 projects")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="also one first import into this PostgreSQL database (fresh schemas)")
    args = parser.parse_args()
    n = 100_000 if args.scale else args.projects
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "portfolio.csv"
        path.write_bytes(portfolio_csv(n))
        first, again, anchor, anchor_again, floor = [], [], [], [], []
        for i in range(args.repeat):
            ours_db, theirs_db = str(Path(tmp) / f"ours{i}.db"), str(Path(tmp) / f"theirs{i}.db")
            first.append(
                child("lmreview-import", ours_db, str(path), *(["--digest"] if i == 0 and args.postgres else []))
            )
            anchor.append(child("pandas-import", theirs_db, str(path)))
            again.append(child("lmreview-import", ours_db, str(path)))
            anchor_again.append(child("pandas-compare", theirs_db, str(path)))
            floor.append(child("sqlite-floor", ours_db, str(Path(tmp) / f"floor{i}.db")))
        postgres = _postgres(args.postgres, path) if args.postgres else None
    print(f"Portfolio import, {n:,} projects; {machine()}; SQLite; median of {args.repeat}")

    def seconds(runs: list[dict[str, float]]) -> float:
        return median([r["seconds"] for r in runs])

    def cpu(runs: list[dict[str, float]]) -> float:
        return median([r["cpu"] for r in runs])

    def peak(runs: list[dict[str, float]]) -> float:
        return max(r["peak_mb"] for r in runs)

    print(row("import (read_csv + to_sql)", seconds(first), seconds(anchor)))
    print(row("  CPU of the process", cpu(first), cpu(anchor)))
    print(row("  peak memory of the process", peak(first), peak(anchor), "MB"))
    print(row("  of which SQLite's own part (its rows, bare)", seconds(floor), seconds(anchor)))
    print(row("    CPU", cpu(floor), cpu(anchor)))
    print(row("unchanged re-import (read_csv+read_sql+merge)", seconds(again), seconds(anchor_again)))
    print(row("  CPU of the process", cpu(again), cpu(anchor_again)))
    print(row("  peak memory of the process", peak(again), peak(anchor_again), "MB"))
    if postgres is not None:
        ours, theirs = postgres
        print("PostgreSQL, one run (pandas anchor: to_sql through SQLAlchemy)")
        print(row("import (read_csv + to_sql)", ours["seconds"], theirs["seconds"]))
        print(row("  CPU of the process", ours["cpu"], theirs["cpu"]))
        print("PostgreSQL stored the same values as SQLite:", ours["stored"] == first[0]["stored"])


def _postgres(url: str, path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """One first import and its anchor, each in a fresh schema of the database at ``url`` (dropped after)."""
    with postgres_schema(url, "bench_import") as ours_url, postgres_schema(url, "bench_import") as theirs_url:
        ours = child("lmreview-import", ours_url, str(path), "--digest")
        return ours, child("pandas-import-postgres", theirs_url, str(path))


if __name__ == "__main__":
    main()
