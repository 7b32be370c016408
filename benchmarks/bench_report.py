"""The review report built from the store: HTML + XLSX at 10,000 projects, the same with 2,000 submissions, and the
PDF at 10,000 projects (``--scale`` multiplies both counts; ``--pdf`` adds the PDF, which takes the longest).

Data (seeded): the generated portfolio and demo answers of bench_analysis.py. Each build is what
``lmreview report build --format html,xlsx`` does: the report's figures computed once from the store, its charts
drawn once, then each format rendered; timed in a fresh process state (nothing kept from an earlier build) and
again (figures kept by the analysis, charts by their data). The peak memory of the process is printed at the end.
There is no external anchor: the issue's goals are absolute (< 5 s, < 10 s, < 30 s and < 1 GB).

    .venv/bin/python benchmarks/bench_report.py [--scale 1] [--pdf] [--db URL]
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_analysis import REVIEW, build

from lmreview.store import Store, open_store


def report_build(store: Store, review: str, formats: tuple[str, ...]) -> dict[str, int]:
    """The report in ``formats``, as ``lmreview report build`` makes it: the sizes of the files, by format."""
    from lmreview.analysis.review_report import review_report
    from lmreview.report import html, pdf, xlsx
    from lmreview.report.charts import report_charts

    with store.session() as session:
        report = review_report(session, review)
    drawn = report_charts(report, png=False)  # HTML, XLSX and PDF draw the SVG; only DOCX needs PNG
    sizes = {}
    for fmt in formats:
        if fmt == "html":
            sizes[fmt] = len(html.render_html(report, drawn, link_base=None).encode())
        elif fmt == "xlsx":
            sizes[fmt] = len(xlsx.render_xlsx(report, drawn))
        else:
            sizes[fmt] = len(pdf.render_pdf(html.render_print_html(report, drawn)))
    return sizes


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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the 10,000 projects and 2,000 answers")
    parser.add_argument("--pdf", action="store_true", help="also the PDF at 10,000 projects")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    projects, answered = int(10_000 * args.scale), int(2000 * args.scale)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.db or str(Path(tmp) / "bench.db"))
        start = time.perf_counter()
        build(store, 0, projects, "bench-empty")
        build(store, answered, projects, REVIEW)
        print(f"built {projects:,} projects and {answered:,} submissions in {time.perf_counter() - start:.1f} s")
        for label, review in ((f"{projects:,} projects", "bench-empty"), (f"{answered:,} submissions", REVIEW)):
            cold, warm, sizes = timed(store, review, ("html", "xlsx"))
            rows.append((f"report HTML + XLSX, {label}", cold, warm, sizes))
        if args.pdf:
            cold, warm, sizes = timed(store, "bench-empty", ("pdf",))
            rows.append((f"report PDF, {projects:,} projects", cold, warm, sizes))
        store.dispose()
    database = "SQLite" if not args.db else args.db.split(":")[0]
    print(f"{platform.machine()}, Python {platform.python_version()}, {database}")
    for label, cold, warm, sizes in rows:
        files = ", ".join(f"{fmt} {size / 1e6:.1f} MB" for fmt, size in sizes.items())
        print(f"{label:52} {cold:7.2f} s first, {warm:7.2f} s again ({files})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
