"""The review report built from the store: HTML + XLSX at 10,000 projects, the same with 2,000 submissions, and the
PDF and the DOCX at 10,000 projects (``--scale`` multiplies both counts; ``--pdf`` and ``--docx`` add them).

Data (seeded): the generated portfolio and demo answers of bench_analysis.py. Each build is what
``lmreview report build --format html,xlsx`` does: the report's figures computed once from the store, its charts
drawn once, then each format rendered; timed in a fresh process state (nothing kept from an earlier build) and
again (figures kept by the analysis, charts by their data). The PDF is built in a process of its own, started for
it (imports included in its first time), so that the peak memory printed for it is the PDF build's alone; the peak
memory of the benchmark's own process (the data generated, the other builds) is printed at the end.
There is no external anchor: the issue's goals are absolute (< 5 s, < 10 s, < 30 s and < 1 GB).

    .venv/bin/python benchmarks/bench_report.py [--scale 1] [--pdf] [--docx] [--db URL] [--postgres URL]

With ``--postgres URL``, the same data are built once more in a fresh schema of that PostgreSQL database (dropped at
the end), and the script says whether PostgreSQL gives the same numbers: for both reports, every cell of the XLSX
(read back with openpyxl) and the text of the HTML (times of day left out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _portfolio_data import VOLATILE, postgres_schema, same_numbers, visible_text
from bench_analysis import REVIEW, build

from lmreview.store import Store, open_store


def report_build(store: Store, review: str, formats: tuple[str, ...]) -> dict[str, int]:
    """The report in ``formats``, as ``lmreview report build`` makes it: the sizes of the files, by format."""
    from lmreview.analysis.review_report import review_report
    from lmreview.report import docx, html, pdf, xlsx
    from lmreview.report.charts import report_charts

    with store.session() as session:
        report = review_report(session, review)
    drawn = report_charts(report, png="docx" in formats)  # HTML, XLSX and PDF draw the SVG; only DOCX needs PNG
    sizes = {}
    for fmt in formats:
        if fmt == "html":
            sizes[fmt] = len(html.render_html(report, drawn, link_base=None).encode())
        elif fmt == "xlsx":
            sizes[fmt] = len(xlsx.render_xlsx(report, drawn))
        elif fmt == "docx":
            sizes[fmt] = len(docx.render_docx(report, drawn))
        else:
            sizes[fmt] = len(pdf.render_pdf(html.render_print_html(report, drawn)))
    return sizes


def figures(store: Store) -> dict[str, Any]:
    """What a reader sees of both reports, for comparing databases (not timed): the text of the HTML, and the
    values of every cell of every sheet of the XLSX (times of day masked)."""
    from openpyxl import load_workbook

    from lmreview.analysis.review_report import review_report
    from lmreview.report import html, xlsx
    from lmreview.report.charts import report_charts

    def cell(value: object) -> object:
        return VOLATILE.sub("<time>", str(value)) if isinstance(value, str | dt.datetime) else value

    seen: dict[str, Any] = {}
    for review in ("bench-empty", REVIEW):
        forget()
        with store.session() as session:
            report = review_report(session, review)
        drawn = report_charts(report, png=False)
        book = load_workbook(io.BytesIO(xlsx.render_xlsx(report, drawn)), read_only=True)
        seen[review] = {
            "html": visible_text(html.render_html(report, drawn, link_base=None)),
            "xlsx": {
                sheet.title: [[cell(v) for v in row] for row in sheet.iter_rows(values_only=True)] for sheet in book
            },
        }
        book.close()
    return seen


def forget() -> None:
    """A fresh process state: nothing kept by the analysis or the charts."""
    from lmreview.analysis import units
    from lmreview.report import charts

    units._DECIDED.clear()
    charts._DRAWN.clear()


def timed(store: Store, review: str, formats: tuple[str, ...]) -> tuple[float, float, dict[str, int]]:
    forget()
    start = time.perf_counter()
    sizes = report_build(store, review, formats)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    report_build(store, review, formats)
    return cold, time.perf_counter() - start, sizes


def pdf_apart(db: str, review: str) -> tuple[float, float, dict[str, int], float]:
    """The PDF timed in a new process (``--pdf-of DB REVIEW``): first, again, the size, and that process' peak
    memory in MB."""
    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent / "src"), str(here)])}
    run = subprocess.run(
        [sys.executable, __file__, "--pdf-of", db, review], capture_output=True, text=True, env=env, check=False
    )
    if run.returncode != 0:
        raise SystemExit(f"the PDF build failed:\n{run.stderr}")
    cold, warm, size, peak = json.loads(run.stdout.strip().splitlines()[-1])
    return cold, warm, {"pdf": size}, peak


def own_peak_mb() -> float:
    """This process' peak resident memory in MB: VmHWM, which starts afresh with the program (ru_maxrss keeps the
    peak of the process that started it, carried over by Linux through fork and exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the 10,000 projects and 2,000 answers")
    parser.add_argument("--pdf", action="store_true", help="also the PDF at 10,000 projects, in a process of its own")
    parser.add_argument("--docx", action="store_true", help="also the DOCX at 10,000 projects")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--postgres", help="also build the data in this PostgreSQL database and compare the reports")
    parser.add_argument("--pdf-of", nargs=2, metavar=("DB", "REVIEW"), help=argparse.SUPPRESS)  # the PDF's process
    args = parser.parse_args()
    if args.pdf_of:
        store = open_store(args.pdf_of[0])
        cold, warm, sizes = timed(store, args.pdf_of[1], ("pdf",))
        store.dispose()
        print(json.dumps([cold, warm, sizes["pdf"], own_peak_mb()]))
        return
    projects, answered = int(10_000 * args.scale), int(2000 * args.scale)
    rows = []
    pdf_peak = None
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "bench.db")
        store = open_store(db)
        start = time.perf_counter()
        build(store, 0, projects, "bench-empty")
        build(store, answered, projects, REVIEW)
        print(f"built {projects:,} projects and {answered:,} submissions in {time.perf_counter() - start:.1f} s")
        for label, review in ((f"{projects:,} projects", "bench-empty"), (f"{answered:,} submissions", REVIEW)):
            cold, warm, sizes = timed(store, review, ("html", "xlsx"))
            rows.append((f"report HTML + XLSX, {label}", cold, warm, sizes))
        if args.docx:
            cold, warm, sizes = timed(store, "bench-empty", ("docx",))
            rows.append((f"report DOCX, {projects:,} projects", cold, warm, sizes))
        seen = figures(store) if args.postgres else None
        store.dispose()
        if args.pdf:
            cold, warm, sizes, pdf_peak = pdf_apart(db, "bench-empty")
            rows.append((f"report PDF, {projects:,} projects (own process)", cold, warm, sizes))
    database = "SQLite" if not args.db else args.db.split(":")[0]
    print(f"{platform.machine()}, Python {platform.python_version()}, {database}")
    for label, cold, warm, sizes in rows:
        files = ", ".join(f"{fmt} {size / 1e6:.1f} MB" for fmt, size in sizes.items())
        print(f"{label:52} {cold:7.2f} s first, {warm:7.2f} s again ({files})")
    if pdf_peak is not None:
        print(f"peak memory of the PDF's process: {pdf_peak:.0f} MB")
    print(f"peak memory of the benchmark's process (the data, the builds other than the PDF): {own_peak_mb():.0f} MB")
    if args.postgres:
        with postgres_schema(args.postgres, "bench_report") as url:
            other = open_store(url)
            build(other, 0, projects, "bench-empty")
            build(other, answered, projects, REVIEW)
            same_numbers(seen, figures(other))
            other.dispose()


if __name__ == "__main__":
    main()
