"""Tabulating one question, and the web analysis page, on a review with 2,000 submissions (``--scale`` multiplies).

Data (seeded, the same on every run): a generated portfolio of as many projects as submissions, the demo's 2022
questionnaire, and one submitted answer set per project made by the demo's answer generator. Measured, each a median
of ``--repeat`` runs in the same process:

* ``tabulate``: ``lmreview tabulate`` of one question in a fresh session (load, evaluate, count);
  anchor: pandas reading the same answers exported flat (one column per question, as a survey tool's CSV export)
  and counting that column; second anchor: pandas reading the same answers from the same database (``read_sql``,
  ``json_normalize``) and counting;
* the same as a person runs them: ``lmreview tabulate`` (the CLI) in a fresh process, against a fresh process
  running the pandas script (importing pandas, reading the CSV file, counting);
* the analysis page: ``GET /reviews/NAME/analysis``, first in a fresh app (nothing cached), then again (the page
  revalidated with its ETag: 304), through the web TestClient.

    .venv/bin/python benchmarks/bench_analysis.py [--scale 1] [--repeat 3] [--db URL] [--postgres URL]

With ``--postgres URL``, the same data are built once more in a fresh schema of that PostgreSQL database (dropped at
the end), and the script says whether PostgreSQL gives the same numbers: every question the analysis page shows,
tabulated (counts, denominators, the rows behind them), and the text of every page of the analysis overview.
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime as dt
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _portfolio_data import login, postgres_schema, same_numbers, visible_text
from sqlalchemy import delete, insert, text

from lmreview.questionnaire.models import Submission
from lmreview.store import Store, open_store

REVIEW = "bench-review"
QUESTION = "challenges/ch_covid19"
USER, PASSWORD = "bench", "bench-password-1"


def portfolio_csv(n: int) -> bytes:
    regions = ["Africa", "Asia and Oceania", "Europe", "Middle East", "Latin America and the Caribbean"]
    lines = ["code,title,funding_year,fund_line,budget_usd,countries,region,category,start_date,end_date"]
    for i in range(n):
        year = 2011 + i % 12
        lines.append(
            f"LM.{i:05d},Project {i} on labour mobility,{year},{1 + i % 2},{(3 + i % 37) * 10_000},Kenya,"
            f"{regions[i % len(regions)]},Category {1 + i % 5},{year}-01-01,{year + 2}-06-30"
        )
    return ("\n".join(lines) + "\n").encode()


def build(store: Store, submissions: int, projects: int | None = None, review_name: str = REVIEW) -> float:
    """A portfolio of ``projects`` projects (default: as many as submissions; imported once), a review with the
    demo's questionnaire, and one submission for each of the first ``submissions`` projects, inserted in bulk and
    then decided (the engine's decisions stored, as every save and import does). Returns the seconds deciding took."""
    from lmreview.demo import answers, form_source
    from lmreview.portfolio.importing import import_data
    from lmreview.questionnaire import decisions, engine, forms, reviews
    from lmreview.store import users

    with store.session() as session:
        first = not users.list_users(session)
        if first:
            register = portfolio_csv(projects if projects is not None else submissions)
            import_data(session, register, filename="bench.csv", portfolio="bench", actor="bench")
            users.add_user(session, USER, "admin", PASSWORD, actor="bench")
        added = forms.add_form(session, form_source(), "bench-form.md", actor="bench")
        review = reviews.create_review(session, review_name, actor="bench", portfolio="bench", form=added.form)
        answering = reviews.review_projects(session, review)[:submissions]
        # The demo's generator answers for its 27 projects; project i gets the answers of sample i % 27.
        samples = [(f"LM.S{i:02d}", f"Sample {i}") for i in range(27)]
        made = answers.generate(samples, {code: f"Respondent {code}" for code, _ in samples})
        generated = {}
        for i, p in enumerate(answering):
            data = copy.deepcopy(made[samples[i % len(samples)][0]].data)
            engine.set_path(data, "project/project_code", p.code)
            generated[p.code] = data
        version = forms.latest_version(forms.get_form(session, added.form)).id
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        rows = [
            {
                "instance_id": f"uuid:{uuid.UUID(int=i)}",
                "form_version_id": version,
                "review_id": review.id,
                "project_id": p.id,
                "status": "submitted",
                "review_state": "received",
                "source": "web",
                "data": generated[p.code],
                "original": generated[p.code],
                "meta": {},
                "submitted_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for i, p in enumerate(answering)
        ]
        if rows:
            session.execute(insert(Submission), rows)
        start = time.perf_counter()
        decisions.refresh(session, Submission.review_id == review.id)
        return time.perf_counter() - start


def _flat(data: Any, prefix: str = "") -> dict[str, str]:
    """An answer set as a survey tool's CSV export has it: one column per question, named by its path ("group/name");
    a repeat's instances in one column as their JSON, as such an export's main sheet leaves them aside."""
    out: dict[str, str] = {}
    for key, value in (data or {}).items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{path}/"))
        elif isinstance(value, list):
            out[path] = json.dumps(value)
        elif value is not None:
            out[path] = str(value)
    return out


def flat_csv(store: Store) -> bytes:
    """The review's answers exported flat, as a survey tool's CSV export: one row per submission, one column per
    question (the columns of every submission, in the order first met)."""
    from sqlalchemy import select

    from lmreview.questionnaire.models import Submission

    with store.session() as session:
        rows = [_flat(data) for data in session.scalars(select(Submission.data))]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["instance", *columns])
    for i, row in enumerate(rows):
        writer.writerow([i, *(row.get(c, "") for c in columns)])
    return out.getvalue().encode()


PANDAS_PROCESS = f"""
import sys
import pandas as pd
frame = pd.read_csv(sys.argv[1], dtype=str)
print(frame["{QUESTION}"].dropna().value_counts().to_string())
"""


def process(command: list[str]) -> str:
    """Run ``command`` with this Python and the same ``PYTHONPATH``; its output."""
    done = subprocess.run([sys.executable, *command], capture_output=True, text=True, env=dict(os.environ), check=True)
    return done.stdout


CPU: dict[str, float] = {}  # label -> median CPU time of this process, for what runs in it


def median(fn: Callable[[], Any], repeat: int, label: str = "") -> tuple[float, Any]:
    """The median wall-clock time of ``repeat`` runs of ``fn`` and its last result; the median CPU time of this
    process goes to ``CPU[label]`` (the load of other processes changes it least)."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    if label:
        CPU[label] = statistics.median(cpu)
    return statistics.median(times), result


def figures(store: Store) -> dict[str, Any]:
    """What a user sees of the review's analysis, for comparing databases (not timed): every question of the
    overview tabulated (its JSON: counts, denominators, rows), and the text of each page of the overview."""
    from fastapi.testclient import TestClient

    from lmreview.analysis import units
    from lmreview.analysis.tabulate import tabulate_many
    from lmreview.questionnaire import reviews
    from lmreview.report import charts
    from lmreview.settings import Settings
    from lmreview.web.app import create_app
    from lmreview.web.routes import analysis

    analysis._COMPUTED.clear()
    units._DECIDED.clear()
    charts._DRAWN.clear()
    with store.session() as session:
        review = reviews.get_review(session, REVIEW)
        paths = analysis._overview(review)
        tables = {t.question: t.as_json() for t in tabulate_many(session, review, paths)}
        pages = -(-len(paths) // analysis._per_page(session, review))
    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        login(client, USER, PASSWORD)
        text = {
            page: visible_text(client.get(f"/reviews/{REVIEW}/analysis", params={"page": page}).text)
            for page in range(1, pages + 1)
        }
    return {"tables": tables, "pages": text}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the 2,000 submissions")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--postgres", help="also build the data in this PostgreSQL database and compare the figures")
    args = parser.parse_args()
    n = int(2000 * args.scale)
    import pandas as pd
    from fastapi.testclient import TestClient

    from lmreview.analysis import units
    from lmreview.analysis.tabulate import tabulate
    from lmreview.questionnaire.decisions import AnswerState
    from lmreview.report import charts
    from lmreview.settings import Settings
    from lmreview.web.app import create_app
    from lmreview.web.routes import analysis

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.db or str(Path(tmp) / "bench.db"))
        start = time.perf_counter()
        deciding = build(store, n)
        print(f"built {n} projects and submissions in {time.perf_counter() - start:.1f} s")
        flat = flat_csv(store)

        def lmreview_tabulate() -> dict[str, int]:
            with store.session() as session:
                table = tabulate(session, REVIEW, QUESTION)
            return {c.value: c.n for c in table.whole.counts or []}

        def pandas_count() -> dict[str, int]:
            frame = pd.read_csv(io.BytesIO(flat), dtype=str)
            counts = frame[QUESTION].dropna().value_counts()
            return {str(k): int(v) for k, v in counts.items()}

        def pandas_from_store() -> dict[str, int]:
            """The same count from the same database: the review's answers read with read_sql, flattened with
            json_normalize (one column per question path), counted."""
            frame = pd.read_sql(
                text("SELECT s.data FROM submission s JOIN review r ON r.id = s.review_id WHERE r.name = :name"),
                store.engine,
                params={"name": REVIEW},
            )
            answers = [json.loads(d) if isinstance(d, str) else d for d in frame["data"]]
            counts = pd.json_normalize(answers, sep="/")[QUESTION].dropna().value_counts()
            return {str(k): int(v) for k, v in counts.items()}

        def engine_tabulate() -> dict[str, int]:  # as before the stored decisions: every submission evaluated
            units._DECIDED.clear()
            with store.session() as session:
                session.execute(delete(AnswerState))
                table = tabulate(session, REVIEW, QUESTION)
                session.rollback()
            return {c.value: c.n for c in table.whole.counts or []}

        anchor, expected = median(pandas_count, args.repeat, "anchor")
        from_store, same = median(pandas_from_store, args.repeat, "from_store")
        assert same == expected, (same, expected)
        took, got = median(lmreview_tabulate, args.repeat, "tabulate")
        assert got == {k: expected.get(k, 0) for k in got}, (got, expected)
        before, again = median(engine_tabulate, max(1, args.repeat // 2))
        assert again == got, (again, got)

        csv_file = Path(tmp) / "flat.csv"
        csv_file.write_bytes(flat)
        db = args.db or str(Path(tmp) / "bench.db")
        cli = ["-c", "from lmreview.cli.main import main; main()", "--db", db, "tabulate", "--review", REVIEW]
        cli += ["--question", QUESTION]
        printed = process(cli)
        assert all(f"{n} of {sum(got.values())}" in printed for n in got.values()), printed
        cli_took, _ = median(lambda: process(cli), args.repeat)
        pandas_took, _ = median(lambda: process(["-c", PANDAS_PROCESS, str(csv_file)]), args.repeat)

        def page() -> tuple[float, int, float]:
            """The analysis page's first view in a fresh server (nothing kept by the process), then again with
            its ETag: (seconds, status, seconds again). Only the requests are timed, not the login."""
            analysis._COMPUTED.clear()
            units._DECIDED.clear()
            charts._DRAWN.clear()
            app = create_app(Settings(database_url=store.url), store)
            with TestClient(app) as client:
                login(client, USER, PASSWORD)
                start = time.perf_counter()
                first = client.get(f"/reviews/{REVIEW}/analysis")
                took = time.perf_counter() - start
                start = time.perf_counter()
                second = client.get(f"/reviews/{REVIEW}/analysis", headers={"If-None-Match": first.headers["etag"]})
                assert second.status_code == 304, second.status_code
                return took, first.status_code, time.perf_counter() - start

        views = [page() for _ in range(args.repeat)]
        page_first = statistics.median(v[0] for v in views)
        status = views[-1][1]
        revalidated = statistics.median(v[2] for v in views)
        seen = figures(store) if args.postgres else None
        store.dispose()
    database = "SQLite" if not args.db else args.db.split(":")[0]
    print(f"{n} submissions, {platform.machine()}, Python {platform.python_version()}, {database}")
    print(f"{'pandas read_csv + value_counts (anchor)':44} {anchor * 1000:9.1f} ms    1.0x")
    print(f"{'tabulate one question':44} {took * 1000:9.1f} ms {took / anchor:6.1f}x")
    shown = f"{from_store * 1000:9.1f} ms {took / from_store:6.1f}x"
    print(f"{'pandas read_sql + json_normalize (2nd anchor)':44} {shown}  (tabulate / this anchor)")
    print(f"{'tabulate, every submission evaluated (before)':44} {before * 1000:9.1f} ms {before / anchor:6.1f}x")
    cpu = CPU["tabulate"] / CPU["anchor"]
    both = f"{CPU['anchor'] * 1000:.1f} / {CPU['tabulate'] * 1000:.1f} ms"
    print(f"{'  the same two in CPU time (anchor / tabulate)':44} {both:>12} {cpu:6.1f}x")
    both = f"{CPU['from_store'] * 1000:.1f} / {CPU['tabulate'] * 1000:.1f} ms"
    cpu = CPU["tabulate"] / CPU["from_store"]
    print(f"{'  CPU time (2nd anchor / tabulate)':44} {both:>12} {cpu:6.1f}x")
    print(f"{'pandas script, fresh process (anchor)':44} {pandas_took * 1000:9.1f} ms    1.0x")
    print(f"{'lmreview tabulate, fresh process (the CLI)':44} {cli_took * 1000:9.1f} ms {cli_took / pandas_took:6.1f}x")
    each = f"({deciding / n * 1000:.2f} ms each)"
    print(f"{'deciding the submissions (stored at save)':44} {deciding * 1000:9.1f} ms {each}")
    print(f"{'analysis page, first view (HTTP ' + str(status) + ')':44} {page_first * 1000:9.1f} ms")
    print(f"{'analysis page, again with its ETag (304)':44} {revalidated * 1000:9.1f} ms")
    print(f"counts of {QUESTION}: {got}")
    if args.postgres:
        with postgres_schema(args.postgres, "bench_analysis") as url:
            other = open_store(url)
            build(other, n)
            same_numbers(seen, figures(other))
            other.dispose()


if __name__ == "__main__":
    main()
