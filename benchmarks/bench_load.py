"""Load test (issue 14): 50 respondents at once saving drafts and submitting for 60 s against
``lmreview serve --workers 2``; 0 errors, every submitted answer in the database afterwards, latency percentiles.

Data (seeded): the lm2022 sample portfolio, the demo's 2022 questionnaire and a review with ``--links`` respondents,
each with a personal link. ``--users`` virtual respondents (asyncio, httpx, one cookie jar each) take the next link
in turn and do what a person does: open the form (GET), save a draft ``--drafts`` times, then submit (POST); then
the next link. Each draft carries a marker in one text answer (``load-LINK-N``); after the run, every submission
the server acknowledged (303) must be in the database as submitted, with the marker of its last post.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_load.py [--db URL] [--seconds 60] [--users 50] [--workers 2]

Without ``--db``, a temporary SQLite file. With a PostgreSQL URL, use a scratch database: its tables are replaced.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _portfolio_data import free_port
from bench_respond import seed

from lmreview.store import Store, open_store

REVIEW = "bench-load"


def build(store: Store, links: int) -> tuple[list[str], list[tuple[str, str]], str]:
    """The review and its respondents: their link tokens, the posted fields of one draft, and the path of the
    text answer that carries the marker."""
    from lmreview.questionnaire import forms

    with store.session() as session:
        seeded = seed(session, REVIEW, links)
        definition = forms.definition_of(forms.latest_version(forms.get_form(session, seeded.form)))
        tokens = [token for _p, _c, token in seeded.people]
        fields = seeded.fields()
    by_path = definition.by_path()
    texts = [p for p, _ in fields if (q := by_path.get(p)) is not None and q.type == "text" and not q.constraint]
    if not texts:
        raise SystemExit("the demo questionnaire has no text question in the posted answers")
    marker = texts[0]
    return tokens, [(k, v) for k, v in fields if k != marker], marker


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"open": [], "save": [], "submit": []})
    errors: list[str] = field(default_factory=list)
    submitted: dict[int, str] = field(default_factory=dict)  # link number → the marker of its last post


async def respondent(
    url: str, tokens: list[str], queue: asyncio.Queue[int], fields: list[tuple[str, str]], marker: str,
    drafts: int, deadline: float, tally: Tally,
) -> None:  # fmt: skip
    while time.monotonic() < deadline:
        try:
            number = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        link = f"/r/{tokens[number]}"
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            try:
                start = time.perf_counter()
                page = await client.get(link)
                tally.latencies["open"].append(time.perf_counter() - start)
                if page.status_code != 200:
                    tally.errors.append(f"GET {page.status_code}")
                    continue
                csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                for n in range(drafts + 1):
                    action = "submit" if n == drafts else "save"
                    value = f"load-{number}-{n}"
                    body = [*fields, (marker, value), ("csrf_token", csrf), ("action", action)]
                    start = time.perf_counter()
                    answer = await client.post(link, data=_body(body), follow_redirects=False)
                    tally.latencies[action].append(time.perf_counter() - start)
                    wanted = 303 if action == "submit" else 200
                    if answer.status_code != wanted:
                        tally.errors.append(f"{action} {answer.status_code}: {answer.text[:200]!r}")
                        break
                    if action == "submit":
                        tally.submitted[number] = value
                    if time.monotonic() >= deadline and action == "save":
                        break  # time is up: a draft left unsubmitted, as people do
            except httpx.HTTPError as exc:
                tally.errors.append(f"{type(exc).__name__}: {exc}")


def _body(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    body: dict[str, list[str]] = {}
    for key, value in fields:
        body.setdefault(key, []).append(value)
    return body


def verify(store: Store, tokens: list[str], marker: str, tally: Tally) -> list[str]:
    """Every submission the server acknowledged, in the database as submitted with its last marker."""
    from sqlalchemy import select

    from lmreview.questionnaire import engine, invitations
    from lmreview.questionnaire.models import Invitation, Submission

    hashes = {invitations.token_hash(tokens[n]): n for n in tally.submitted}
    problems: list[str] = []
    with store.session() as session:
        rows = session.execute(
            select(Invitation.token_hash, Submission.status, Submission.data)
            .join(Submission, Submission.respondent_id == Invitation.respondent_id)
            .where(Invitation.token_hash.in_(list(hashes)))
        ).all()
    found = {hashes[h]: (status, data) for h, status, data in rows}
    for number, value in tally.submitted.items():
        if number not in found:
            problems.append(f"link {number}: no submission")
            continue
        status, data = found[number]
        if status != "submitted" or engine.get_path(data, marker) != value:
            problems.append(f"link {number}: {status}, {engine.get_path(data, marker)!r} instead of {value!r}")
    return problems


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def drive(url: str, tokens: list[str], fields: list[tuple[str, str]], marker: str, args: Any) -> Tally:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(len(tokens)):
        queue.put_nowait(n)
    tally = Tally()
    deadline = time.monotonic() + args.seconds
    users = [respondent(url, tokens, queue, fields, marker, args.drafts, deadline, tally) for _ in range(args.users)]
    await asyncio.gather(*users)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file); a scratch database")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=50, help="respondents at once")
    parser.add_argument("--drafts", type=int, default=3, help="drafts saved before each submission")
    parser.add_argument("--links", type=int, default=1000, help="respondents of the review (links to use)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or str(Path(tmp) / "bench.db")
        if args.db:  # a scratch database: start from empty tables
            from lmreview.store.backup import _drop_lmreview

            scratch = Store(url)
            with scratch.engine.begin() as connection:
                _drop_lmreview(connection)
            scratch.dispose()
        store = open_store(url)
        started = time.perf_counter()
        tokens, fields, marker = build(store, args.links)
        print(f"seeded {len(tokens)} links in {time.perf_counter() - started:.0f} s", flush=True)
        store.dispose()
        port = free_port()
        env = {**os.environ, "LMREVIEW_SECRET_KEY": "bench-load-" + "k" * 40}
        command = [sys.executable, "-c", "from lmreview.cli.main import main; main()", "--db", url]
        log = (Path(tmp) / "serve.log").open("wb")
        server = subprocess.Popen(
            [*command, "serve", "--port", str(port), "--workers", str(args.workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            load = os.getloadavg()
            started = time.perf_counter()
            tally = asyncio.run(drive(base, tokens, fields, marker, args))
            elapsed = time.perf_counter() - started
            load_after = os.getloadavg()
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.close()
        problems = verify(Store(url), tokens, marker, tally)
    database = "SQLite (WAL)" if not args.db else "PostgreSQL"
    requests = sum(len(v) for v in tally.latencies.values())
    print(
        f"{database}, serve --workers {args.workers}, {args.users} respondents at once for {elapsed:.0f} s; "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average {load[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print(f"requests: {requests} ({requests / elapsed:.1f}/s); submissions: {len(tally.submitted)}")
    print(f"{'request':10} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    every = [x for v in tally.latencies.values() for x in v]
    for name, values in [*tally.latencies.items(), ("all", every)]:
        print(
            f"{name:10} {len(values):6d} {_pct(values, 0.5):8.0f} {_pct(values, 0.95):8.0f} {_pct(values, 0.99):8.0f}"
            f" {max(values, default=0) * 1000:8.0f}"
        )
    print(f"errors: {len(tally.errors)}" + (f" (first: {tally.errors[0]})" if tally.errors else ""))
    shown = f" ({problems[:3]})" if problems else ""
    print(f"submitted answers missing or wrong in the database: {len(problems)}{shown}")
    if tally.errors or problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
