"""Evidence ingest: pages per second of `lmreview evidence add` (read, structure, extract, index into SQLite)
against `pdftotext` (poppler-utils) alone, over the same generated PDF corpus, in the same run.

The corpus: evaluation-report-like PDFs written by WeasyPrint from a fixed seed (chapters of paragraphs, lists, tables,
recommendations; page numbers in the footer), cached under benchmarks/.cache. Both sides use ``--jobs`` processes:
lmreview its own ``--jobs``, pdftotext one process per file, that many at a time. Each side runs ``--repeat`` times
in a fresh process, on a fresh database for lmreview; the medians are compared, of wall time and of the CPU time of
all the processes (the steadier figure on a shared machine).

    python benchmarks/bench_evidence_ingest.py                 # >= 500 pages, 2 jobs
    python benchmarks/bench_evidence_ingest.py --pages 2000 --jobs 4
    python benchmarks/bench_evidence_ingest.py --profile       # also cProfile one lmreview run (one job)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _evidence_corpus import pdf_corpus
from _portfolio_data import machine, median

LMREVIEW = [sys.executable, "-c", "from lmreview.cli.main import main; main()"]


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_lmreview(files: list[Path], db: Path, jobs: int) -> tuple[float, float]:
    env = {**os.environ, "LMREVIEW_DATABASE_URL": f"sqlite:///{db}"}
    subprocess.run([*LMREVIEW, "db", "upgrade"], env=env, check=True, capture_output=True)
    cpu = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [*LMREVIEW, "evidence", "add", *map(str, files), "--jobs", str(jobs)], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or f"{len(files)} added" not in done.stdout:
        raise SystemExit(f"lmreview evidence add failed: {done.stdout[-500:]} {done.stderr[-2000:]}")
    return seconds, children_cpu() - cpu


def run_pdftotext(files: list[Path], out: Path, jobs: int) -> tuple[float, float]:
    def one(path: Path) -> None:
        subprocess.run(["pdftotext", str(path), str(out / f"{path.stem}.txt")], check=True)

    cpu = children_cpu()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - started, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=500, help="at least this many pages in the corpus")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile of read+structure+extract, one process")
    args = parser.parse_args()
    if shutil.which("pdftotext") is None:
        print("skipped: pdftotext, the anchor, is not installed (apt-get install poppler-utils)")
        return
    files, pages = pdf_corpus(args.pages)
    ours, anchor, ours_cpu, anchor_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for runs, cpus, (seconds, cpu) in (
                (anchor, anchor_cpu, run_pdftotext(files, Path(tmp), args.jobs)),
                (ours, ours_cpu, run_lmreview(files, Path(tmp) / f"ingest{i}.db", args.jobs)),
            ):
                runs.append(seconds)
                cpus.append(cpu)
        size_mb = (Path(tmp) / "ingest0.db").stat().st_size / 1e6
    print(f"Evidence ingest, {len(files)} PDFs, {pages} pages, {args.jobs} jobs; {machine()}; median of {args.repeat}")
    ours_rate, anchor_rate = pages / median(ours), pages / median(anchor)
    ours_s, anchor_s = median(ours), median(anchor)
    print(f"  lmreview evidence add (read, structure, extract, index): {ours_s:7.2f} s  {ours_rate:7.1f} pages/s")
    print(f"  pdftotext alone:                                         {anchor_s:7.2f} s  {anchor_rate:7.1f} pages/s")
    print(f"  ratio (lmreview pages/s / pdftotext pages/s): {ours_rate / anchor_rate:.2f} x  (goal >= 1.0 x)")
    print(f"  database after one run: {size_mb:.1f} MB")
    ours_c, anchor_c = median(ours_cpu), median(anchor_cpu)
    print(
        f"  CPU seconds (all processes): lmreview {ours_c:.2f} ({1000 * ours_c / pages:.1f} ms a page), pdftotext "
        f"{anchor_c:.2f} ({1000 * anchor_c / pages:.1f} ms a page); pages per CPU s, ratio {anchor_c / ours_c:.2f} x"
    )
    if args.profile:
        import cProfile
        import pstats

        from lmreview.evidence.service import parse

        profile = cProfile.Profile()
        profile.enable()
        for path in files:
            parse(path.read_bytes(), path.name)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
