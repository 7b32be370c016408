"""The respondent's page of a form whose select reads a long attached file: its size and the time to render it, with
the long list as a search box (questionnaire/long_lists.py), against the same page with every option on it (the
rendering before long lists, forced by raising ``LONG_LIST``), in the same run; and one search of the list.

Data (generated): ``--rows`` villages (50,000 by default, the most a file may hold) in two regions, read by a
``select_one_from_file`` filtered by ``region = ${region}``, and a ``select_multiple_from_file`` of the same file
without a filter. The page is fetched through the TestClient with the region answered.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_long_list.py [--rows 50000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
from pathlib import Path

from _portfolio_data import timed_median

FORM = b"""| survey |
| | type | name | label | choice_filter |
| | text | project_code | Project code | |
| | select_one_from_file regions.csv | region | Region | |
| | select_one_from_file villages.csv | village | Village | region = ${region} |
| | select_multiple_from_file villages.csv | visited | Villages visited | |
| settings |
| | form_id | version |
| | bench_villages | 1 |
"""
REGIONS = b"name,label\nn,North\ns,South\n"


def villages(rows: int) -> bytes:
    lines = ["name,label,region"] + [f"v{i},Village {i},{'ns'[i % 2]}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from lmreview.portfolio.importing import import_data
    from lmreview.questionnaire import forms, invitations, long_lists, reviews, submissions
    from lmreview.questionnaire import respondents as people
    from lmreview.settings import Settings
    from lmreview.store import open_store
    from lmreview.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "bench.db"))
        sample = Path(__file__).resolve().parents[1] / "src" / "lmreview" / "portfolio" / "samples" / "lm2016.csv"
        with store.session() as session:
            import_data(session, sample.read_bytes(), filename="lm2016.csv", portfolio="lm2016", actor="bench")
            files = {"regions.csv": REGIONS, "villages.csv": villages(args.rows)}
            added = forms.add_form(session, FORM, "villages.md", actor="bench", files=files)
            review = reviews.create_review(session, "bench-long", actor="bench", portfolio="lm2016", form=added.form)
            person = people.add_respondent(
                session, review, name="Ana", email="a@example.org", project_code="LM.0181", actor="bench"
            )
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
            _invitation, token = invitations.new_link(session, person, expires_at=expires)
            draft = submissions.for_respondent(session, review, person)
            submissions.save(session, draft, {"project_code": "LM.0181", "region": "n"}, submit=False)
        link = f"/r/{token}"
        with TestClient(create_app(Settings(database_url=store.url), store)) as client:

            def fetch() -> int:
                response = client.get(link)
                assert response.status_code == 200, response.text[:300]
                return len(response.content)

            fetch()
            size = fetch()
            page = timed_median(fetch, args.repeat)
            last = f"Village {args.rows - 2}"

            def search() -> object:
                found = client.get(f"{link}/options/village", params={"q": last}).json()
                assert found["options"][0]["label"] == last, found
                return found

            search()
            searched = timed_median(search, args.repeat)
            long_lists.LONG_LIST = 10**9  # every option on the page, as before long lists
            every_size = fetch()
            every = timed_median(fetch, max(1, args.repeat // 2))
        store.dispose()
    load = os.getloadavg()[0]
    print(f"{platform.machine()}, Python {platform.python_version()}, {args.rows:,} rows, load average {load:.1f}")
    print(f"page with the search boxes: {size / 1024:.1f} KiB, {page * 1000:.0f} ms")
    print(f"page with every option: {every_size / 1024 / 1024:.1f} MiB, {every * 1000:.0f} ms")
    print(f"ratio: size {every_size / size:.0f} x, time {every / page:.1f} x")
    print(f"one search of the filtered list ({last!r}): {searched * 1000:.0f} ms")


if __name__ == "__main__":
    main()
