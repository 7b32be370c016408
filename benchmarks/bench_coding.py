"""The code matrix at scale: 100,000 codings of 500 projects' answers, counted per project, per region and per
document, on SQLite (or the database given with --db); and the review report's coded findings built from it.

    .venv/bin/python benchmarks/bench_coding.py [--projects 500] [--codings 100000] [--db URL]
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks._portfolio_data import portfolio_csv
from sqlalchemy import insert, select
from typer.testing import CliRunner

from lmreview.analysis.coded import coded_findings
from lmreview.cli.main import app
from lmreview.coding.matrix import code_matrix
from lmreview.coding.models import Code, Codebook, Coding
from lmreview.portfolio.models import Project
from lmreview.questionnaire.models import FormVersion, Review, Submission
from lmreview.store import open_store

FORM = """| survey |
| | type | name | label |
| | text | project_code | Project code |
| | text | actions | Actions taken |
| settings |
| | form_id | version |
| | bench | 1 |
"""
ANSWER = "The borders closed, the training moved online and the budget was cut by a third. " * 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--codings", type=int, default=100_000)
    parser.add_argument("--db")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = args.db or str(folder / "bench.db")
    runner = CliRunner()

    def cli(*words: str) -> None:
        result = runner.invoke(app, ["--db", url, "--user", "bench", *words])
        assert result.exit_code == 0, result.output

    (folder / "p.csv").write_bytes(portfolio_csv(args.projects))
    (folder / "form.md").write_text(FORM, encoding="utf-8")
    cli("portfolio", "import", str(folder / "p.csv"), "--portfolio", "big")
    cli("form", "add", str(folder / "form.md"))
    cli("review", "create", "big", "--portfolio", "big", "--form", "bench")
    cli("coding", "codebook", "starter", "challenges-2022")
    store = open_store(url)
    rng = random.Random(11)
    with store.session() as session:
        review = session.scalars(select(Review).where(Review.name == "big")).one()
        version = session.scalars(select(FormVersion)).first()
        assert version is not None
        projects = list(session.execute(select(Project.id, Project.code)).all())
        session.execute(
            insert(Submission),
            [
                {
                    "instance_id": f"uuid:{uuid.uuid4()}",
                    "form_version_id": version.id,
                    "review_id": review.id,
                    "project_id": pid,
                    "status": "submitted",
                    "review_state": "received",
                    "source": "web",
                    "data": {"project_code": code, "actions": ANSWER},
                    "meta": {},
                }
                for pid, code in projects
            ],
        )
        submissions = list(session.scalars(select(Submission.id)))
        codes = list(session.scalars(select(Code.id).join(Codebook).where(Codebook.name == "challenges-2022")))
        rows = []
        for _ in range(args.codings):
            sid, start = rng.choice(submissions), rng.randrange(0, len(ANSWER) - 20)
            rows.append(
                {
                    "guid": str(uuid.uuid4()).upper(),
                    "code_id": rng.choice(codes),
                    "coder": rng.choice("ab"),
                    "kind": "answer",
                    "submission_id": sid,
                    "path": "actions",
                    "start": start,
                    "end": start + 15,
                    "text": ANSWER[start : start + 15],
                    "unit": f"answer:{sid}:actions",
                }
            )
        for i in range(0, len(rows), 10_000):
            session.execute(insert(Coding), rows[i : i + 10_000])
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"{store.engine.dialect.name}: {args.codings} codings of {args.projects} projects"
    )
    for by, ids in (("project", False), ("region", False), ("project", True)):
        with store.session() as session:
            began = time.perf_counter()
            result = code_matrix(session, "big", codebook="challenges-2022", by=by, segment_ids=ids)
            took = time.perf_counter() - began
        what = "--json (with the coding ids of each cell)" if ids else "(counts)"
        print(
            f"coding matrix --by {by} {what}: {took:.2f} s ({len(result.codes)} codes × {len(result.columns)} columns)"
        )
    with store.session() as session:  # the review report's coded findings: the matrix with ids and the segments
        review = session.scalars(select(Review).where(Review.name == "big")).one()
        began = time.perf_counter()
        found = coded_findings(session, review)
        took = time.perf_counter() - began
    print(f"report coded findings (matrix with ids + {len(found[0].segments):,} segments): {took:.2f} s")
    store.dispose()


if __name__ == "__main__":
    main()
