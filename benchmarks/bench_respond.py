"""A respondent saving a draft (``POST /r/TOKEN``), as requests per second, against a bare FastAPI app that inserts
one row per POST into the same database: the least a web form save costs.

Data (seeded): the lm2022 sample portfolio, the demo's 2022 questionnaire, ``--respondents`` respondents of a review
(200 by default; ``--scale`` multiplies), each with a personal link; every respondent but the one measured has a
saved draft, so the submission table is not empty. Each POST saves the demo's answers of one project as a draft,
as the form's script does when the respondent leaves a section (``action=autosave``: ``204 No Content``, no page);
the row below it is the "Save draft" button (``action=save``), which gets the whole form page back. Both apps run in
one process through the TestClient, one request after another; the rounds of the three alternate (each meets the
same load), and the median of ``--repeat`` rounds of ``--requests`` requests is printed, per second of wall-clock
time and per second of the process's CPU time.

    .venv/bin/python benchmarks/bench_respond.py [--scale 1] [--requests 100] [--repeat 3] [--db URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text, insert
from sqlalchemy.orm import Session

from lmreview.store import Store, open_store

REVIEW = "bench-respond"


@dataclass
class Seeded:
    """A review of the sample portfolio with the demo questionnaire and one respondent (and link) per project in
    turn: what the draft-save and the load benchmarks drive."""

    review: Any
    form: int
    people: list[tuple[Any, str, str]]  # (respondent, project code, link token)
    answers: dict[str, Any]  # generated answers by project code

    def fields(self) -> list[tuple[str, str]]:
        """The posted fields of the first project's generated answers."""
        return _flat(self.answers[self.people[0][1]].data)


def seed(session: Session, review_name: str, respondents: int) -> Seeded:
    from importlib import resources

    from lmreview.demo import answers, form_source
    from lmreview.portfolio.importing import import_data
    from lmreview.questionnaire import forms, invitations, reviews
    from lmreview.questionnaire import respondents as people

    data = (resources.files("lmreview.portfolio") / "samples" / "lm2022.csv").read_bytes()
    import_data(session, data, filename="lm2022.csv", portfolio="lm2022", actor="bench")
    added = forms.add_form(session, form_source(), "bench-form.md", actor="bench")
    review = reviews.create_review(session, review_name, actor="bench", portfolio="lm2022", form=added.form)
    projects = reviews.review_projects(session, review)
    generated = answers.generate([(p.code, p.title) for p in projects], {p.code: "Ana" for p in projects})
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    seeded = Seeded(review, added.form, [], dict(generated))
    for i in range(respondents):
        project = projects[i % len(projects)]
        person = people.add_respondent(
            session, review, name=f"Respondent {i}", email=f"r{i}@example.org", project_code=project.code,
            actor="bench",
        )  # fmt: skip
        seeded.people.append((person, project.code, invitations.new_link(session, person, expires_at=expires)[1]))
    return seeded


def build(store: Store, respondents: int) -> tuple[list[str], list[tuple[str, str]]]:
    """The review and its respondents (every one but the first with a draft saved); the tokens of their links and
    the posted fields of one draft."""
    from lmreview.questionnaire import submissions

    with store.session() as session:
        seeded = seed(session, REVIEW, respondents)
        for person, code, _token in seeded.people[1:]:
            draft = submissions.for_respondent(session, seeded.review, person)
            submissions.save(session, draft, seeded.answers[code].data, submit=False)
        return [token for _p, _c, token in seeded.people], seeded.fields()


def _flat(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The posted fields of an instance document: one per instance path (repeats are left out)."""
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{key}/")
        elif isinstance(value, str):
            out += [(f"{prefix}{key}", v) for v in (value.split() if " " in value else [value])]
    return out


def bare_app(engine: Engine) -> FastAPI:
    """One route, one insert: over the store's own engine (the same database file, the same SQLite pragmas)."""
    table = Table("bench_draft", MetaData(), Column("id", Integer, primary_key=True), Column("data", Text))
    table.create(engine, checkfirst=True)
    app = FastAPI()

    @app.post("/save", response_class=HTMLResponse)
    async def save(request: Request) -> str:
        form = await request.form()
        with engine.begin() as connection:
            connection.execute(insert(table), {"data": repr(list(form.multi_items()))})
        return "<p>saved</p>"

    return app


def rate(client: TestClient, path: str, fields: list[tuple[str, str]], requests: int, expect: int = 200) -> float:
    return rates(client, path, fields, requests, expect)[0]


def rates(
    client: TestClient, path: str, fields: list[tuple[str, str]], requests: int, expect: int = 200
) -> tuple[float, float]:
    """Requests per second of wall-clock time and per second of the process's CPU time (client, server and
    database all run in this process: the CPU rate is what a shared machine's load changes least)."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        response = client.post(path, data=_body(fields))
        assert response.status_code == expect, response.text[:500]
    return requests / (time.perf_counter() - start), requests / (time.process_time() - cpu)


def _body(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    body: dict[str, list[str]] = {}
    for key, value in fields:
        body.setdefault(key, []).append(value)
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the 200 respondents")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    from lmreview.settings import Settings
    from lmreview.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or str(Path(tmp) / "bench.db")
        store = open_store(url)
        tokens, fields = build(store, max(2, int(200 * args.scale)))
        with (
            TestClient(bare_app(store.engine)) as bare,
            TestClient(create_app(Settings(database_url=store.url), store)) as client,
        ):
            page = client.get(f"/r/{tokens[0]}").text
            token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            path, posted = f"/r/{tokens[0]}", [*fields, ("csrf_token", token)]
            autosave, button = [*posted, ("action", "autosave")], [*posted, ("action", "save")]
            runs: dict[str, list[tuple[float, float]]] = {"anchor": [], "autosave": [], "page": []}
            for _ in range(args.repeat):  # interleaved: each round of the three meets the same load
                runs["anchor"].append(rates(bare, "/save", fields, args.requests))
                runs["autosave"].append(rates(client, path, autosave, args.requests, 204))
                runs["page"].append(rates(client, path, button, args.requests))
        store.dispose()
    database = "SQLite" if not args.db else args.db.split(":")[0]
    print(f"{len(tokens)} respondents, {platform.machine()}, Python {platform.python_version()}, {database}")
    print(f"{'':36} {'wall req/s':>10} {'ratio':>6}   {'CPU req/s':>10} {'ratio':>6}")
    wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    labels = {
        "anchor": "bare FastAPI insert (anchor)",
        "autosave": "draft save, autosave (204, no page)",
        "page": "draft save, Save draft (form page)",
    }
    for key, label in labels.items():
        print(
            f"{label:36} {wall[key]:10.1f} {wall[key] / wall['anchor']:5.2f}x"
            f"   {cpu[key]:10.1f} {cpu[key] / cpu['anchor']:5.2f}x"
        )


if __name__ == "__main__":
    main()
