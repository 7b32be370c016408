"""Portfolio import (CSV): first import and unchanged re-import, lmreview against pandas in the same run.

Anchors: ``pandas.read_csv`` + ``DataFrame.to_sql`` into a fresh SQLite file (first import), and ``read_csv`` +
``read_sql`` + a merge that finds the changed rows (unchanged re-import). Every run is a fresh process (its peak
memory is its own); the medians of ``--repeat`` runs are printed with their ratio, in wall-clock seconds and in CPU
seconds of the process (SQLite works in the process: on a shared machine the CPU ratio is the steadier figure).
Start-up (imports, opening the store) is outside the timed part on both sides.

    python benchmarks/bench_import.py              # 10,000 projects
    python benchmarks/bench_import.py --scale      # 100,000 projects
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _portfolio_data import child, machine, median, portfolio_csv, row


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--scale", action="store_true", help="100,000 projects")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = 100_000 if args.scale else args.projects
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "portfolio.csv"
        path.write_bytes(portfolio_csv(n))
        first, again, anchor, anchor_again = [], [], [], []
        for i in range(args.repeat):
            ours_db, theirs_db = str(Path(tmp) / f"ours{i}.db"), str(Path(tmp) / f"theirs{i}.db")
            first.append(child("lmreview-import", ours_db, str(path)))
            anchor.append(child("pandas-import", theirs_db, str(path)))
            again.append(child("lmreview-import", ours_db, str(path)))
            anchor_again.append(child("pandas-compare", theirs_db, str(path)))
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
    print(row("unchanged re-import (read_csv+read_sql+merge)", seconds(again), seconds(anchor_again)))
    print(row("  CPU of the process", cpu(again), cpu(anchor_again)))
    print(row("  peak memory of the process", peak(again), peak(anchor_again), "MB"))


if __name__ == "__main__":
    main()
