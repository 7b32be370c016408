"""Running a job: claim its row, do the work through the stages' own services, record progress, outcome, errors
and what it made; and find the jobs a dead process left behind.

A job is claimed with one conditional UPDATE (``queued`` → ``running``), so that two processes handed the same id
(a message delivered twice, a recovery racing a slow worker) never run it twice. While it runs, a heartbeat moves
``heartbeat_at`` every few seconds. A job whose runner died (its process is gone, or its heartbeat is older than
:data:`STALE_SECONDS`) is queued again until it has been tried ``max_attempts`` times, then marked failed with the
reason: never lost silently. An evidence ingest resumes where it stopped: each file's outcome is committed with
the document it made.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, LmreviewError
from lmreview.jobs.models import FINISHED, Job, JobFile
from lmreview.settings import Settings
from lmreview.store.base import utcnow
from lmreview.store.engine import Store
from lmreview.text import is_number

log = logging.getLogger("lmreview.jobs")
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class Cancelled(Exception):
    """The job was asked to stop (``lmreview jobs cancel``, the Cancel button)."""


def runner_name(mode: str = "worker") -> str:
    """Who runs a job: ``worker host:pid`` or ``thread host:pid``."""
    return f"{mode} {socket.gethostname()}:{os.getpid()}"


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _local_process(runner: str | None) -> int | None:
    """The process id ``runner`` names when it is a process of this machine."""
    if not runner or " " not in runner:
        return None
    host, _, pid = runner.split(" ", 1)[1].rpartition(":")
    return int(pid) if host == socket.gethostname() and is_number(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True


def _runner_died(job: Job, now: dt.datetime, stale_seconds: float) -> bool:
    """A runner on this machine died when its process is gone; one elsewhere when its heartbeat stopped."""
    pid = _local_process(job.runner)
    if pid is not None:
        return not _alive(pid)
    beat = _aware(job.heartbeat_at) or _aware(job.started_at) or now
    return (now - beat).total_seconds() > stale_seconds


class Context:
    """What a job's work reports through: progress, a check for cancellation, and the heartbeat."""

    def __init__(self, store: Store, job_id: int) -> None:
        self.store = store
        self.job_id = job_id
        self._last = 0.0

    def progress(
        self, done: int, total: int | None, message: str = "", *, force: bool = False, session: Session | None = None
    ) -> None:
        """Record progress (at most twice a second unless ``force``); stop when the job was cancelled. Work that
        holds a write transaction passes its ``session``: on SQLite a second connection would wait for it."""
        now = time.monotonic()
        write = force or now - self._last >= 0.5
        if write:
            self._last = now
        values: dict[str, Any] = {"done": done, "total": total, "heartbeat_at": utcnow()}
        if message:
            values["message"] = message
        if session is not None:
            if write:
                session.execute(update(Job).where(Job.id == self.job_id).values(**values))
            cancelled = self.cancelled(session)
        else:
            with self.store.session() as own:
                if write:
                    own.execute(update(Job).where(Job.id == self.job_id).values(**values))
                cancelled = self.cancelled(own)
        if cancelled:
            raise Cancelled()

    def cancelled(self, session: Session) -> bool:
        return bool(session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))


@contextmanager
def _heartbeat(store: Store, job_id: int) -> Iterator[None]:
    """Move the job's heartbeat every few seconds from a thread: on a server database, where workers on other
    machines judge a job by it. An SQLite workspace is one machine: a job's runner is judged by its process id,
    and a second connection would only wait for the work's own write transaction."""
    if store.is_sqlite:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                with store.session() as session:
                    session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))
            except Exception:  # a busy database: the next beat tries again
                log.warning("job %s: heartbeat not recorded", job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_SECONDS)


def claim(store: Store, job_id: int, runner: str) -> bool:
    """Mark job ``job_id`` running by ``runner`` if it is queued; False when someone else has it or it has ended
    (a cancelled job, a duplicate message)."""
    with store.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != "queued":
            return False
        if job.cancel_requested:
            job.status, job.message, job.finished_at = "cancelled", "cancelled before it started", utcnow()
            return False
        if job.attempts >= job.max_attempts:
            _finish(job, "failed", f"interrupted {job.attempts} times; not tried again")
            return False
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(
                status="running",
                runner=runner,
                attempts=Job.attempts + 1,
                started_at=utcnow(),
                heartbeat_at=utcnow(),
                message="started" if job.attempts == 0 else f"started again (attempt {job.attempts + 1})",
            )
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _finish(job: Job, status: str, message: str) -> None:
    job.status, job.message, job.finished_at = status, message, utcnow()


def run_job(store: Store, settings: Settings, job_id: int, runner: str | None = None) -> str | None:
    """Run job ``job_id`` if it is queued; its final status (None when it was not this process's to run)."""
    if not claim(store, job_id, runner or runner_name()):
        return None
    context = Context(store, job_id)
    status, message, result, link = "done", "", None, None
    errors: list[str] = []
    with _heartbeat(store, job_id):
        try:
            with store.session() as session:
                job = session.get(Job, job_id)
                assert job is not None
                work = WORK[job.kind]
            result, link, message, errors = work(store, settings, job_id, context)
            if errors and not result:
                status = "failed"
        except Cancelled:
            status, message = "cancelled", "cancelled; what was done before stays done"
        except BadInput as exc:
            status, message = "failed", exc.message
            errors = [str(p) for p in exc.problems] + [str(w) for w in exc.warnings]
        except LmreviewError as exc:
            status, message = "failed", exc.message
        except Exception as exc:  # a bug or a lost database: recorded on the job, logged with its traceback
            log.exception("job %s failed", job_id)
            status, message = "failed", f"lmreview could not finish this job ({type(exc).__name__}: {exc})"
    with store.session() as session:
        job = session.get(Job, job_id)
        if job is None:  # deleted with its review meanwhile
            return status
        if job.status != "running":  # recovered by another process meanwhile: its outcome stands
            return job.status
        _finish(job, status, message or job.message)
        job.errors = [*job.errors, *errors][:1000]  # after the notes of interrupted attempts
        job.result, job.link = result, link
        if status == "done" and job.total is not None:
            job.done = job.total
        session.execute(update(JobFile).where(JobFile.job_id == job_id, JobFile.role == "input").values(content=None))
    return status


Outcome = tuple[dict[str, Any] | None, str | None, str, list[str]]  # result, link, message, errors
Work = Callable[[Store, Settings, int, Context], Outcome]


def _input_bytes(file: JobFile) -> bytes:
    if file.content is not None:
        return file.content
    if file.path is None:
        raise LmreviewError(f"the file {file.name} of this job is no longer stored")
    try:
        return Path(file.path).read_bytes()
    except OSError as exc:
        raise LmreviewError(f"cannot read {file.path} ({exc.strerror or exc})") from None


def _ingest(store: Store, settings: Settings, job_id: int, context: Context) -> Outcome:
    from lmreview.errors import Problem
    from lmreview.evidence import service as evidence

    with store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        params, actor = dict(job.params), job.actor
        files = session.scalars(
            select(JobFile.id).where(JobFile.job_id == job_id, JobFile.role == "input").order_by(JobFile.id)
        ).all()
    total = len(files)
    for number, file_id in enumerate(files, start=1):
        with store.write_session() as session:
            file = session.get(JobFile, file_id)
            assert file is not None
            if file.status == "pending":  # done before an interruption: not read again
                try:
                    data = _input_bytes(file)
                except LmreviewError as exc:
                    file.status, file.detail = "refused", exc.message
                else:
                    report = evidence.add_files(
                        session,
                        [(file.name, data)],
                        actor=actor,
                        doc_type=params.get("doc_type"),
                        project=params.get("project"),
                        patterns_of_codes=settings.project_code_patterns,
                    )
                    if report.added:
                        file.status, file.document_id = "done", report.added[0].id
                        file.detail = report.added[0].title or ""
                    elif report.duplicates:
                        file.status, file.document_id = "duplicate", report.duplicates[0][1]
                        file.detail = f"already in the library as document {report.duplicates[0][1]}"
                    else:
                        problem = report.refused[0] if report.refused else Problem(file.name, 0, "-", "not added")
                        file.status, file.detail = "refused", problem.message
                file.content = None  # read and written: only the outcome is kept
            # the file's outcome and its document are committed together: a restart resumes after this file
        context.progress(number, total, f"read {number} of {total} files", force=number == total)
    with store.session() as session:
        rows = session.execute(
            select(JobFile.name, JobFile.status, JobFile.detail).where(
                JobFile.job_id == job_id, JobFile.role == "input"
            )
        ).all()
    counts = {s: sum(1 for r in rows if r.status == s) for s in ("done", "duplicate", "refused")}
    errors = [f"{r.name}: {r.detail}" for r in rows if r.status == "refused"]
    result = {"added": counts["done"], "already_there": counts["duplicate"], "refused": counts["refused"]}
    message = f"{counts['done']} added, {counts['duplicate']} already there, {counts['refused']} refused"
    return result, "/evidence", message, errors


def _one_input(session: Session, job_id: int) -> JobFile:
    file = session.scalar(select(JobFile).where(JobFile.job_id == job_id, JobFile.role == "input"))
    if file is None:
        raise LmreviewError("this job was given no file")
    return file


def _import(store: Store, settings: Settings, job_id: int, context: Context) -> Outcome:
    from lmreview.portfolio import importing

    with store.write_session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        file = _one_input(session, job_id)
        portfolio = str(job.params["portfolio"])
        report = importing.import_data(
            session,
            _input_bytes(file),
            filename=file.name,
            portfolio=portfolio,
            actor=job.actor,
            progress=lambda done, total: context.progress(done, total, "writing projects", session=session),
        )
        file.status = "done"
    result = {
        "portfolio": report.portfolio,
        "created": len(report.created),
        "updated": len(report.updated),
        "unchanged": len(report.unchanged),
        "warnings": len(report.warnings),
    }
    message = (
        f"Imported {file.name} into portfolio {report.portfolio}: {len(report.created)} created, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged"
    )
    return result, f"/portfolios/{report.portfolio}", message, [str(w) for w in report.warnings]


def _review(session: Session, job: Job) -> Any:
    from lmreview.questionnaire.models import Review

    review = session.get(Review, job.review_id) if job.review_id is not None else None
    if review is None:
        raise LmreviewError("the review of this job no longer exists")
    return review


def _responses(store: Store, settings: Settings, job_id: int, context: Context) -> Outcome:
    from lmreview.questionnaire import submissions

    with store.write_session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        review = _review(session, job)
        if review.form is None:
            raise LmreviewError(f"review {review.name} has no questionnaire: choose one before importing responses")
        file = _one_input(session, job_id)
        context.progress(0, 1, f"reading {file.name}", force=True, session=session)
        done = submissions.import_responses(
            session,
            review.form.name,
            _input_bytes(file),
            file.name,
            actor=job.actor,
            review=review,
            media_limit=settings.max_media_bytes,
        )
        file.status = "done"
        name = review.name
    r = done.result
    result = {
        "created": len(r.created),
        "updated": len(r.updated),
        "unchanged": len(r.unchanged),
        "files_stored": r.files_stored,
    }
    message = f"Responses {file.name}: {len(r.created)} created, {len(r.updated)} updated, {len(r.unchanged)} unchanged"
    return result, f"/reviews/{name}#subs", message, [str(w) for w in r.warnings]


def _report(store: Store, settings: Settings, job_id: int, context: Context) -> Outcome:
    from lmreview.analysis.review_report import review_report
    from lmreview.report import charts, docx, html, pdf, xlsx

    with store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        name = _review(session, job).name
        formats = [f for f in job.params.get("formats", ["html"]) if f in MEDIA]
        report = review_report(session, name)
    total = len(formats) + 1
    context.progress(0, total, "drawing the charts", force=True)
    drawn = charts.report_charts(report, png="docx" in formats)
    made = []
    for number, fmt in enumerate(formats, start=1):
        context.progress(number, total, f"building {fmt}", force=True)
        if fmt == "html":
            data = html.render_html(report, drawn, link_base="").encode("utf-8")
        elif fmt == "pdf":
            data = pdf.render_pdf(html.render_print_html(report, drawn))
        elif fmt == "docx":
            data = docx.render_docx(report, drawn)
        else:
            data = xlsx.render_xlsx(report, drawn)
        with store.session() as session:
            if context.cancelled(session):
                raise Cancelled()
            filename = f"{report.review}-report.{fmt}"
            session.add(
                JobFile(
                    job_id=job_id,
                    role="output",
                    name=filename,
                    content=data,
                    size=len(data),
                    media_type=MEDIA[fmt],
                    status="done",
                    detail="",
                )
            )
        made.append(filename)
    return {"files": made}, f"/jobs/{job_id}", f"built {', '.join(made)}", []


def _remind(store: Store, settings: Settings, job_id: int, context: Context) -> Outcome:
    from lmreview.questionnaire import invitations

    with store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        dry_run = Path(job.params["dry_run"]) if job.params.get("dry_run") else None
        if job.params.get("followup"):
            from lmreview.tracking import mail

            reminded = mail.remind(session, settings, actor=job.actor, dry_run=dry_run)
            sent = [r for r in reminded if r.outcome in ("sent", "written")]
            failed = [f"{r.unit}: {r.detail}" for r in reminded if r.outcome not in ("sent", "written")]
            message = f"reminded {len(sent)} units of their key actions" + (
                f"; {len(failed)} not sent" if failed else ""
            )
            return {"sent": len(sent), "failed": len(failed)}, "/tracking", message, failed
        review = _review(session, job)
        reminders = bool(job.params.get("reminders", True))
        results = invitations.send_invitations(
            session,
            review,
            settings,
            actor=job.actor,
            reminders=reminders,
            dry_run=dry_run,
            progress=lambda done, total: context.progress(done, total, "sending", session=session),
            not_since=job.created_at if reminders and job.attempts > 1 else None,  # a retry: not twice
        )
        name = review.name
    word = "reminders" if reminders else "invitations"
    gone = [r for r in results if r.outcome in ("sent", "written")]
    failed = [f"{r.respondent} <{r.email}>: {r.outcome} {r.detail}".strip() for r in results if r not in gone]
    message = f"{len(gone)} {word} sent" + (f"; {len(failed)} not sent (a new run tries them again)" if failed else "")
    if not results:
        message = f"no {word} to send: nobody is waiting for one"
    return {"sent": len(gone), "failed": len(failed)}, f"/reviews/{name}", message, failed


WORK: dict[str, Work] = {
    "ingest": _ingest,
    "import": _import,
    "responses": _responses,
    "report": _report,
    "remind": _remind,
}


def recover(store: Store, *, stale_seconds: float = STALE_SECONDS, waiting_minutes: float | None = None) -> list[int]:
    """Queue again the jobs whose runner died (its process is gone, or no heartbeat for ``stale_seconds``); a job
    tried ``max_attempts`` times is marked failed instead. With ``waiting_minutes``, also the jobs queued longer ago
    than that (their message may be lost: a database restored from a backup, a queue file deleted; a message
    delivered twice is harmless, :func:`claim` runs a job once). The ids to hand over again."""
    now = utcnow()
    again: list[int] = []
    with store.session() as session:
        if waiting_minutes is not None:
            since = now - dt.timedelta(minutes=waiting_minutes)
            waiting = select(Job.id).where(Job.status == "queued", Job.created_at < since).order_by(Job.id)
            again += session.scalars(waiting).all()
        running = session.scalars(select(Job).where(Job.status == "running")).all()
        for job in running:
            if not _runner_died(job, now, stale_seconds):
                continue
            who = job.runner or "its worker"
            if job.attempts >= job.max_attempts:
                _finish(job, "failed", f"interrupted {job.attempts} times ({who} stopped); not tried again")
                job.errors = [*job.errors, f"attempt {job.attempts}: {who} stopped before the job ended"]
            else:
                job.status, job.runner = "queued", None
                job.message = f"{who} stopped during attempt {job.attempts}; queued again"
                job.errors = [*job.errors, f"attempt {job.attempts}: {who} stopped before the job ended"]
                again.append(job.id)
    return again


def ended(status: str) -> bool:
    return status in FINISHED
