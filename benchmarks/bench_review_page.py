"""The review page (``GET /reviews/NAME``) of a review with 2,000 respondents and 2,000 submissions (``--scale``
multiplies): its first page, a later page and a filtered one, through the web TestClient, each in a fresh app.

The data are ``bench_analysis``'s (a generated portfolio, the demo's 2022 questionnaire, one submitted answer set per
project), plus one respondent per project, linked to its submission. Prints the median time and the page's size.

    PYTHONPATH=src:benchmarks .venv/bin/python benchmarks/bench_review_page.py [--scale 1] [--repeat 3] [--db URL] \
        [--postgres URL]

With ``--postgres URL``, the same data are built once more in a fresh schema of that PostgreSQL database (dropped at
the end), and the script says whether PostgreSQL gives the same numbers: the text of each of the pages measured
(the rows listed, their counts and pages).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import tempfile
import time
from pathlib import Path

from _portfolio_data import login, postgres_schema, same_numbers, visible_text
from bench_analysis import PASSWORD, REVIEW, USER, build
from sqlalchemy import insert, select, update

from lmreview.questionnaire.models import Respondent, Review, Submission
from lmreview.store import Store, open_store

ADDRESSES = {
    "first view": f"/reviews/{REVIEW}",
    "page 20": f"/reviews/{REVIEW}?respondents_page=20&submissions_page=20",
    "submitted, approved": f"/reviews/{REVIEW}?submissions_status=submitted&submissions_state=approved",
}


def add_respondents(store: Store) -> int:
    """One respondent per submission's project, linked to that submission."""
    with store.session() as session:
        review_id = session.scalar(select(Review.id).where(Review.name == REVIEW))
        rows = session.execute(select(Submission.id, Submission.project_id).where(Submission.review_id == review_id))
        found = list(rows)
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        from lmreview.portfolio.models import Project

        codes = dict(session.execute(select(Project.id, Project.code)).all())
        session.execute(
            insert(Respondent),
            [
                {
                    "review_id": review_id,
                    "project_id": project_id,
                    "project_code": codes[project_id],
                    "name": f"Respondent {i:05d}",
                    "email": f"r{i:05d}@example.org",
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (_, project_id) in enumerate(found)
            ],
        )
        people = dict(session.execute(select(Respondent.project_id, Respondent.id)).all())
        for submission_id, project_id in found:
            session.execute(
                update(Submission).where(Submission.id == submission_id).values(respondent_id=people[project_id])
            )
        return len(found)


def shown(store: Store) -> dict[str, list[str]]:
    """The text of each page measured, for comparing databases (not timed)."""
    from fastapi.testclient import TestClient

    from lmreview.settings import Settings
    from lmreview.web.app import create_app

    with TestClient(create_app(Settings(database_url=store.url), store)) as client:
        login(client, USER, PASSWORD)
        return {label: visible_text(client.get(address).text) for label, address in ADDRESSES.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--postgres", help="also build the data in this PostgreSQL database and compare the pages")
    args = parser.parse_args()
    n = int(2000 * args.scale)
    from fastapi.testclient import TestClient

    from lmreview.settings import Settings
    from lmreview.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.db or str(Path(tmp) / "bench.db"))
        build(store, n)
        people = add_respondents(store)
        results: dict[str, tuple[list[float], int, int]] = {}
        for _ in range(args.repeat):
            for label, address in ADDRESSES.items():
                app = create_app(Settings(database_url=store.url), store)
                with TestClient(app) as client:
                    login(client, USER, PASSWORD)
                    start = time.perf_counter()
                    page = client.get(address)
                    took = time.perf_counter() - start
                times, _, _ = results.setdefault(label, ([], page.status_code, len(page.content)))
                times.append(took)
        seen = shown(store) if args.postgres else None
        store.dispose()
    database = "SQLite" if not args.db else args.db.split(":")[0]
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    print(f"review page, {n} submissions, {people} respondents; {machine}")
    print(f"{database}, median of {args.repeat}, each in a fresh app")
    for label, (times, status, size) in results.items():
        print(f"{label:24} {statistics.median(times) * 1000:8.0f} ms  HTTP {status}  {size / 1024:7.0f} KB")
    if args.postgres:
        with postgres_schema(args.postgres, "bench_review_page") as url:
            other = open_store(url)
            build(other, n)
            add_respondents(other)
            same_numbers(seen, shown(other))
            other.dispose()


if __name__ == "__main__":
    main()
