"""Background jobs: what running work as a job costs against the foreground command, and the queue's latency on
huey's SQLite storage and on Redis, in the same run.

1. An evidence ingest of the generated PDF corpus (benchmarks/_evidence_corpus.py, >= 300 pages): the anchor is
   `lmreview evidence add FILES --jobs 1` in a fresh process on a fresh SQLite file; against it, `lmreview jobs
   ingest FILES` handed to a running `lmreview worker --threads 1`, timed from the command to the job's end.
2. The queue's round trip: a small portfolio import as a job, from `create_job` + enqueue to the job's end, with a
   warm worker, on huey's SQLite storage and on Redis (when it answers at 127.0.0.1:6379).

    python benchmarks/bench_jobs.py                 # >= 300 pages, 3 repeats, 20 round trips per queue
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _evidence_corpus import pdf_corpus
from _portfolio_data import machine, median

LMREVIEW = [sys.executable, "-c", "from lmreview.cli.main import main; main()"]
CSV = b"code,title,budget_usd\nB.1,One,100\nB.2,Two,200\n"


def env_for(db: Path, **more: str) -> dict[str, str]:
    return {**os.environ, "LMREVIEW_DATABASE_URL": f"sqlite:///{db}", **more}


def fresh(folder: Path, name: str) -> Path:
    db = folder / f"{name}-{uuid.uuid4().hex[:6]}.db"
    subprocess.run([*LMREVIEW, "db", "upgrade"], env=env_for(db), check=True, capture_output=True)
    return db


def foreground(files: list[Path], folder: Path) -> float:
    db = fresh(folder, "fg")
    started = time.perf_counter()
    done = subprocess.run(
        [*LMREVIEW, "evidence", "add", *map(str, files), "--jobs", "1"], env=env_for(db), capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if f"{len(files)} added" not in done.stdout:
        raise SystemExit(f"evidence add failed: {done.stdout[-400:]} {done.stderr[-1000:]}")
    return seconds


def start_worker(env: dict[str, str], db: Path) -> subprocess.Popen[bytes]:
    from lmreview.jobs import queue
    from lmreview.store import open_store

    worker = subprocess.Popen(
        [*LMREVIEW, "worker", "--threads", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    store = open_store(f"sqlite:///{db}")
    deadline = time.monotonic() + 60
    while not queue.worker_running(store):
        if time.monotonic() > deadline or worker.poll() is not None:
            raise SystemExit("the worker did not start")
        time.sleep(0.1)
    store.dispose()
    return worker


def wait_done(db: Path, job_id: int, timeout: float = 900, every: float = 0.02) -> str:
    """The job's final status, polled every ``every`` seconds (a slow poll for a long job: polling competes with
    the worker for the two cores)."""
    from lmreview.jobs.models import Job
    from lmreview.store import Store

    store = Store(f"sqlite:///{db}")
    deadline = time.monotonic() + timeout
    try:
        while True:
            with store.session() as session:
                status = session.get(Job, job_id).status  # type: ignore[union-attr]
            if status in ("done", "failed", "cancelled"):
                return str(status)
            if time.monotonic() > deadline:
                raise SystemExit(f"job {job_id} still {status}")
            time.sleep(every)
    finally:
        store.dispose()


def run_time(db: Path, job_id: int) -> float:
    """Seconds from the worker's claim of the job to its end (the work itself, without enqueueing and pickup)."""
    from lmreview.jobs.models import Job
    from lmreview.store import Store

    store = Store(f"sqlite:///{db}")
    with store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert job.started_at is not None
        assert job.finished_at is not None
        seconds = (job.finished_at - job.started_at).total_seconds()
    store.dispose()
    return seconds


def as_job(files: list[Path], folder: Path) -> tuple[float, float]:
    db = fresh(folder, "job")
    env = env_for(db, LMREVIEW_QUEUE_NAME=f"bench-{uuid.uuid4().hex[:6]}")
    worker = start_worker(env, db)
    try:
        started = time.perf_counter()
        done = subprocess.run([*LMREVIEW, "jobs", "ingest", *map(str, files)], env=env, capture_output=True, text=True)
        job_id = int(done.stdout.split("Queued job ")[1].split(".")[0])
        status = wait_done(db, job_id, every=0.25)
        seconds = time.perf_counter() - started
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=120)
    if status != "done":
        raise SystemExit(f"the ingest job {status}")
    return seconds, run_time(db, job_id)


def round_trips(folder: Path, count: int, queue_url: str | None) -> list[float]:
    from lmreview.jobs import queue, service
    from lmreview.settings import Settings
    from lmreview.store import open_store

    db = fresh(folder, "rt")
    extra = {"LMREVIEW_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:6]}"}
    if queue_url:
        extra["LMREVIEW_QUEUE_URL"] = queue_url
    env = env_for(db, **extra)
    worker = start_worker(env, db)
    settings = Settings(database_url=f"sqlite:///{db}", queue_url=queue_url, queue_name=extra["LMREVIEW_QUEUE_NAME"])
    store = open_store(settings.database_url)
    dispatcher = queue.Dispatcher(settings, store)
    times = []
    try:
        for n in range(count):
            started = time.perf_counter()
            with store.session() as session:
                job = service.create_job(
                    session,
                    kind="import",
                    title="bench",
                    actor="bench",
                    user=None,
                    params={"portfolio": f"bench{n}"},
                    inputs=[service.Input(name="b.csv", content=CSV)],
                )
                job_id = job.id
            dispatcher.enqueue(job_id)
            if wait_done(db, job_id) != "done":
                raise SystemExit("a round-trip job failed")
            times.append(time.perf_counter() - started)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
        store.dispose()
    return times


def redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2).ping())
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trips", type=int, default=20)
    args = parser.parse_args()
    files, pages = pdf_corpus(args.pages)
    print(machine())
    print(f"corpus: {len(files)} PDFs, {pages} pages; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        fg, job, work = [], [], []
        for _ in range(args.repeat):  # interleaved, so that both see the same load
            fg.append(foreground(files, folder))
            whole, inside = as_job(files, folder)
            job.append(whole)
            work.append(inside)
        print(
            f"ingest, foreground `evidence add --jobs 1`: median {median(fg):.2f} s ({pages / median(fg):.1f} pages/s)"
        )
        print(
            f"ingest as a job on a running worker:       median {median(job):.2f} s ({pages / median(job):.1f} pages/s)"
        )
        print(f"the job's run on the worker alone:        median {median(work):.2f} s")
        print(f"ratio job / foreground: {median(job) / median(fg):.2f}; its run alone: {median(work) / median(fg):.2f}")
        queues = [("huey on SQLite", None)] + (
            [("huey on Redis", "redis://127.0.0.1:6379/0")] if redis_answers() else []
        )
        for name, url in queues:
            trips = sorted(round_trips(folder, args.trips, url))
            p95 = trips[min(len(trips) - 1, int(0.95 * len(trips)))]
            shown = f"median {median(trips) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
            print(f"round trip of a small import job, {name}: {shown}")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
