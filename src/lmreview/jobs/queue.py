"""The queue between the web (or ``lmreview jobs …``) and ``lmreview worker``: huey, on SQLite or Redis.

* ``LMREVIEW_QUEUE_URL=redis://HOST:PORT/DB`` (or ``LMREVIEW_REDIS_URL``): huey's Redis storage, for a server with
  several web processes and workers, on one machine or many.
* unset, with an SQLite database: huey's SQLite storage in a file beside the database (``DATABASE.jobs``), so the
  embedded workspace needs no other server.
* unset with PostgreSQL, or ``thread``: no queue; the web process runs jobs in a thread of its own.

Wherever a job runs, its row in the database (``job``) is the truth; a message only carries the job's id, and a
message lost with a killed worker is made good by :func:`lmreview.jobs.runner.recover`.

The web hands a job to the queue only when a worker has been seen lately (``lmreview worker`` records itself in
``app_setting`` every few seconds); otherwise it runs the job in a thread of the web process, so that a laptop
without a worker still gets its long work done off the request.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from lmreview.errors import LmreviewError
from lmreview.jobs import runner
from lmreview.settings import Settings
from lmreview.store.base import utcnow
from lmreview.store.engine import Store
from lmreview.store.models import AppSetting

log = logging.getLogger("lmreview.jobs")
WORKER_SEEN = "jobs.worker_seen"  # app_setting key: when a worker last said it runs (ISO time, UTC)
WORKER_FRESH_SECONDS = 30.0
TASK = "lmreview.run_job"


def queue_url(settings: Settings) -> str | None:
    """The queue's address: ``redis://…`` or ``sqlite:///FILE``; None for no queue (jobs run in a thread)."""
    url = (settings.queue_url or settings.redis_url or "").strip()
    if url == "thread":
        return None
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://", "sqlite:///")):
            raise LmreviewError(
                f"LMREVIEW_QUEUE_URL must be redis://HOST:PORT/DB, sqlite:///FILE or thread, not {url[:60]!r}"
            )
        return url
    database = make_url(settings.database_url)
    if database.get_backend_name() == "sqlite" and database.database not in (None, "", ":memory:"):
        return f"sqlite:///{database.database}.jobs"
    return None


def describe(url: str | None) -> str:
    """The queue as a person reads it (a Redis password left out)."""
    if url is None:
        return "no queue: jobs run in a thread of the web process"
    if url.startswith("sqlite:///"):
        return f"SQLite file {url.removeprefix('sqlite:///')}"
    shown = make_url(url.replace("redis://", "redis+x://", 1)) if url.startswith("redis://") else None
    return f"Redis {shown.host}:{shown.port or 6379}" if shown is not None else "Redis"


def make_huey(settings: Settings, store_factory: Callable[[], Store]) -> Any:
    """The huey instance for ``settings``'s queue, with the task that runs a job and the periodic tasks (recovery,
    scheduled reminders) registered; None when there is no queue. ``store_factory`` opens the database in the
    worker (once)."""
    from huey import RedisHuey, SqliteHuey, crontab

    url = queue_url(settings)
    if url is None:
        return None
    name = settings.queue_name
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        huey: Any = SqliteHuey(name, filename=str(path), results=False)
    else:
        huey = RedisHuey(name, url=url, results=False)
    opened: list[Store] = []
    lock = threading.Lock()

    def store() -> Store:
        with lock:
            if not opened:
                opened.append(store_factory())
            return opened[0]

    @huey.task(name=TASK)  # type: ignore[untyped-decorator]
    def run(job_id: int) -> None:
        runner.run_job(store(), settings, job_id)

    @huey.periodic_task(crontab(minute="*"), name="lmreview.recover")  # type: ignore[untyped-decorator]
    def recover_jobs() -> None:
        for job_id in runner.recover(store()):
            run(job_id)

    if settings.reminder_schedule:
        minute, hour, day, month, weekday = schedule_fields(settings.reminder_schedule)

        @huey.periodic_task(  # type: ignore[untyped-decorator]
            crontab(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday), name="lmreview.remind"
        )
        def scheduled_reminders() -> None:
            from lmreview.jobs import scheduled

            for job_id in scheduled.create_reminder_jobs(store()):
                run(job_id)

    huey.lmreview_run = run  # how enqueue() finds the task on this instance
    return huey


def schedule_fields(schedule: str) -> tuple[str, str, str, str, str]:
    """The five crontab fields of ``LMREVIEW_REMINDER_SCHEDULE`` (checked by huey's own parser)."""
    from huey import crontab

    fields = schedule.split()
    if len(fields) != 5:
        raise LmreviewError(
            f"LMREVIEW_REMINDER_SCHEDULE needs five crontab fields (minute hour day month weekday), "
            f"e.g. '0 9 * * 1'; not {schedule[:60]!r}"
        )
    minute, hour, day, month, weekday = fields
    try:
        crontab(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday)
    except ValueError as exc:
        raise LmreviewError(f"LMREVIEW_REMINDER_SCHEDULE {schedule!r}: {exc}") from None
    return minute, hour, day, month, weekday


def mark_worker_seen(store: Store) -> None:
    with store.session() as session:
        found = session.get(AppSetting, WORKER_SEEN)
        now = utcnow().isoformat()
        if found is None:
            session.add(AppSetting(key=WORKER_SEEN, value=now))
        else:
            found.value = now


def worker_seen(store: Store) -> dt.datetime | None:
    """When a worker last said it runs."""
    with store.session() as session:
        value = session.scalar(select(AppSetting.value).where(AppSetting.key == WORKER_SEEN))
    if not value:
        return None
    try:
        seen = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return seen if seen.tzinfo else seen.replace(tzinfo=dt.UTC)


def worker_running(store: Store) -> bool:
    seen = worker_seen(store)
    return seen is not None and (utcnow() - seen).total_seconds() < WORKER_FRESH_SECONDS


class Dispatcher:
    """Hands new jobs over: to the queue when a worker runs, else to a thread of this process."""

    def __init__(self, settings: Settings, store: Store, threads: int = 2) -> None:
        self.settings = settings
        self.store = store
        self.url = queue_url(settings)
        self._huey: Any = None
        self._slots = threading.BoundedSemaphore(threads)
        self._lock = threading.Lock()

    def huey(self) -> Any:
        with self._lock:
            if self._huey is None and self.url is not None:
                self._huey = make_huey(self.settings, lambda: self.store)
            return self._huey

    def uses_queue(self) -> bool:
        """Whether a new job goes to the queue (a queue is configured and a worker was seen lately)."""
        return self.url is not None and worker_running(self.store)

    def submit(self, job_id: int) -> str:
        """Start job ``job_id`` (committed queued): ``queue`` or ``thread``, where it went."""
        if self.uses_queue():
            self.enqueue(job_id)
            return "queue"
        self.in_thread(job_id)
        return "thread"

    def enqueue(self, job_id: int) -> None:
        huey = self.huey()
        if huey is None:
            raise LmreviewError("no queue is configured: set LMREVIEW_QUEUE_URL (see docs/deploy.md)")
        huey.lmreview_run(job_id)

    def in_thread(self, job_id: int) -> None:
        """Run the job in a daemon thread of this process, at most ``threads`` at once: a web process that stops
        does not wait for its jobs; they are resumed at the next start, as after a crash."""
        threading.Thread(target=self._run, args=(job_id,), name=f"lmreview-job-{job_id}", daemon=True).start()

    def _run(self, job_id: int) -> None:
        with self._slots:
            try:
                runner.run_job(self.store, self.settings, job_id, runner.runner_name("thread"))
            except Exception:  # run_job records what it can; the thread ends quietly
                log.exception("job %s", job_id)

    def recover(self) -> list[int]:
        """Jobs a dead process left behind, handed over again (at start of the web app when no worker runs)."""
        again = runner.recover(self.store)
        for job_id in again:
            self.submit(job_id)
        return again
