"""``lmreview worker`` and ``lmreview jobs``: background jobs (evidence ingest, imports, report builds, reminders).

``lmreview jobs ingest|import|responses|report|remind`` put work on the queue and return at once; ``lmreview worker``
runs it; ``jobs list|show|cancel|files`` follow it. The foreground commands (``evidence add``, ``portfolio import``,
``report build``, ``review remind``…) still do the same work at once with their progress bar.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from lmreview.cli.common import State, console, err, print_json, progress_bar, state
from lmreview.errors import BadInput, Forbidden, LmreviewError, Problem
from lmreview.jobs import queue, runner, service
from lmreview.jobs.models import FINISHED, Job

app = typer.Typer(help="Background jobs: put long work on the queue, follow it, cancel it.", no_args_is_help=True)
JobId = Annotated[int, typer.Argument(help="The job's id (lmreview jobs list).", min=1)]
ReviewOption = Annotated[str, typer.Option("--review", "-r", help="Review name.")]
Here = Annotated[
    bool, typer.Option("--here", help="Run the job in this process now (no worker needed), with a progress bar.")
]
Wait = Annotated[bool, typer.Option("--wait", help="Wait until a worker has run the job, with a progress bar.")]


def worker(
    ctx: typer.Context,
    threads: Annotated[int, typer.Option("--threads", min=1, max=32, help="Jobs run at once.")] = 2,
) -> None:
    """Run the background jobs of the queue until stopped (Ctrl+C lets running jobs finish first).

    The queue is LMREVIEW_QUEUE_URL (Redis), or a file beside an SQLite database. At start, jobs a stopped worker
    left running are queued again (or marked failed after their last attempt), and so are jobs waiting for more
    than 10 minutes, whose message may have been lost.

    Example: LMREVIEW_QUEUE_URL=redis://127.0.0.1:6379/0 lmreview --db postgresql://lmreview@db/lmreview worker
    """
    import logging

    st = state(ctx)
    settings = st.settings
    if settings.reminder_schedule:
        queue.schedule_fields(settings.reminder_schedule)  # a wrong schedule stops the worker before it starts
    url = queue.queue_url(settings)
    if url is None:
        raise LmreviewError(
            "there is no queue for a worker: with PostgreSQL set LMREVIEW_QUEUE_URL=redis://HOST:PORT/DB "
            "(see docs/deploy.md); without one the web process runs jobs itself"
        )
    store = st.store()
    huey = queue.make_huey(settings, lambda: store)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    queue.mark_worker_seen(store)
    again = runner.recover(store, waiting_minutes=10)
    for job_id in again:
        huey.lmreview_run(job_id)
    stop = threading.Event()

    def seen() -> None:
        while not stop.wait(10):
            try:
                queue.mark_worker_seen(store)
            except Exception:  # the database is busy or down: the next round tries again
                logging.getLogger("lmreview.jobs").warning("could not record that the worker runs", exc_info=True)

    threading.Thread(target=seen, name="worker-seen", daemon=True).start()
    schedule = f"; reminders at {settings.reminder_schedule!r} (UTC)" if settings.reminder_schedule else ""
    requeued = f"; {len(again)} interrupted jobs queued again" if again else ""
    console.print(
        f"lmreview worker: {threads} threads on the queue {queue.describe(url)}{schedule}{requeued}  (Ctrl+C to stop)",
        markup=False,
    )
    consumer = huey.create_consumer(workers=threads, worker_type="thread", periodic=True, max_delay=1.0)
    try:
        consumer.run()
    finally:
        stop.set()


def _account(st: State, session: Any, site_role: str | None = None) -> Any:
    """The account ``--user`` names (None: the local operator); a site job needs the site role ``site_role``."""
    user = st.account(session)
    if site_role is not None and user is not None and not (user.active and user.role in ("reviewer", "admin")):
        raise Forbidden(f"this needs the {site_role} role; you are a {user.role}")
    return user


def _start(st: State, job_id: int, here: bool, wait: bool) -> None:
    """Hand job ``job_id`` over (or run it here) and say where it is."""
    settings = st.settings
    store = st.store()
    if here or queue.queue_url(settings) is None:
        if not here:
            err.print("There is no queue (PostgreSQL without LMREVIEW_QUEUE_URL): running the job here.", markup=False)
        with progress_bar("Working") as progress:
            thread = threading.Thread(target=runner.run_job, args=(store, settings, job_id, runner.runner_name("cli")))
            thread.start()
            _follow(st, job_id, progress, thread)
        _report_end(st, job_id)
        return
    dispatcher = queue.Dispatcher(settings, store)
    dispatcher.enqueue(job_id)
    if wait:
        with progress_bar("Waiting") as progress:
            _follow(st, job_id, progress)
        _report_end(st, job_id)
        return
    running = "" if queue.worker_running(store) else " No worker is running now: start one with lmreview worker."
    console.print(f"Queued job {job_id}. Follow it with: lmreview jobs show {job_id}.{running}", markup=False)


def _follow(st: State, job_id: int, progress: Any, thread: threading.Thread | None = None) -> None:
    while True:
        with st.store().session() as session:
            job = session.get(Job, job_id)
            assert job is not None
            status, done, total = job.status, job.done, job.total
        progress(done, total)
        if status in FINISHED and (thread is None or not thread.is_alive()):
            return
        time.sleep(0.3)


def _report_end(st: State, job_id: int) -> None:
    with st.store().session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        status, message, errors = job.status, job.message, list(job.errors)
    for line in errors:
        err.print(line, markup=False, soft_wrap=True)
    console.print(f"Job {job_id} {status}: {message}", markup=False, soft_wrap=True)
    if status != "done":
        sys.exit(2)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="queued, running, done, failed or cancelled.")] = None,
    review: Annotated[str | None, typer.Option("--review", "-r", help="Only this review's jobs.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The jobs, newest first.

    Example: lmreview jobs list --status running
    """
    st = state(ctx)
    with st.session() as session:
        jobs, total = service.list_jobs(session, _account(st, session), status=status, review=review, limit=limit)
        names = service.review_names(session, jobs)
        shown = [service.job_json(j, names.get(j.review_id or 0), with_files=False) for j in jobs]
    if as_json:
        print_json({"total": total, "jobs": shown})
        return
    if not shown:
        console.print("No jobs.")
        return
    table = Table("id", "kind", "title", "status", "progress", "message", "created")
    for j in shown:
        progress = f"{j['done']} of {j['total']}" if j["total"] else ""
        table.add_row(
            str(j["id"]), j["kind"], j["title"], j["status"], progress, j["message"], (j["created_at"] or "")[:19]
        )
    console.print(table)
    if total > len(shown):
        console.print(f"{len(shown)} of {total} jobs shown (--limit).")


@app.command("show")
def show(
    ctx: typer.Context, job_id: JobId, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """A job: its status, progress, result, errors, the files it was given and made.

    Example: lmreview jobs show 12
    """
    st = state(ctx)
    with st.session() as session:
        job = service.get_job(session, _account(st, session), job_id)
        data = service.job_json(job, service.review_names(session, [job]).get(job.review_id or 0))
    if as_json:
        print_json(data)
        return
    for key in ("id", "kind", "title", "review", "status", "message", "actor", "created_at", "finished_at", "link"):
        if data[key] is not None:
            console.print(f"{key}: {data[key]}", markup=False, soft_wrap=True)
    if data["total"]:
        console.print(f"progress: {data['done']} of {data['total']}", markup=False)
    console.print(f"attempts: {data['attempts']} of {data['max_attempts']}", markup=False)
    if data["result"]:
        console.print(f"result: {', '.join(f'{k} {v}' for k, v in data['result'].items())}", markup=False)
    for line in data["errors"]:
        console.print(f"error: {line}", markup=False, soft_wrap=True)
    for out in data["outputs"]:
        console.print(f"file {out['id']}: {out['name']} ({out['size']:,} bytes)", markup=False)


@app.command("cancel")
def cancel(ctx: typer.Context, job_id: JobId) -> None:
    """Cancel a job: a queued one does not start, a running one stops after its current step.

    Example: lmreview jobs cancel 12
    """
    st = state(ctx)
    with st.session() as session:
        job = service.cancel_job(session, _account(st, session), job_id)
        status = job.status
    said = "cancelled" if status == "cancelled" else "asked to stop after its current step"
    console.print(f"Job {job_id} {said}.", markup=False)


@app.command("files")
def files(
    ctx: typer.Context,
    job_id: JobId,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files into.")] = Path("."),
) -> None:
    """Write the files a job made (a report build's documents) into a folder.

    Example: lmreview jobs files 12 --out reports/
    """
    st = state(ctx)
    with st.session() as session:
        job = service.get_job(session, _account(st, session), job_id)
        made = [(f.name, f.content) for f in job.files if f.role == "output" and f.content is not None]
    if not made:
        raise LmreviewError(f"job {job_id} made no files")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput([Problem(str(out), 0, "-", f"cannot create the folder ({exc.strerror})")]) from None
    for name, content in made:
        path = out / Path(name).name
        assert content is not None
        path.write_bytes(content)
        console.print(f"Wrote {path} ({len(content):,} bytes)", markup=False)


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (read recursively): PDF, DOCX, TXT, MD, HTML.")],
    doc_type: Annotated[str | None, typer.Option("--type", help="Document type (as lmreview evidence add).")] = None,
    project: Annotated[str | None, typer.Option("--project", help="A project code the documents concern.")] = None,
    here: Here = False,
    wait: Wait = False,
) -> None:
    """Add documents to the evidence library as a job (lmreview evidence add does it in the foreground). The worker
    reads the files from their paths, so it must see the same folders.

    Example: lmreview jobs ingest reports/ --type evaluation_report
    """
    from lmreview.evidence import service as evidence
    from lmreview.evidence.models import DOCUMENT_TYPES

    st = state(ctx)
    found, problems, skipped = evidence.expand(paths)
    if problems:
        raise BadInput(problems)
    if not found:
        raise BadInput([Problem(str(paths[0]), 0, "-", "no file lmreview reads (PDF, DOCX, TXT, MD, HTML) is there")])
    if doc_type is not None and doc_type not in DOCUMENT_TYPES:
        message = f"unknown document type {doc_type!r}: {', '.join(DOCUMENT_TYPES)}"
        raise BadInput([Problem("--type", 0, "-", message)])
    inputs = [service.Input(name=str(p), path=str(p.resolve())) for p in found]
    with st.session() as session:
        job = service.create_job(
            session,
            kind="ingest",
            title=f"Add {len(found)} documents to the evidence library",
            actor=st.settings.actor,
            user=_account(st, session, "reviewer"),
            params={"doc_type": doc_type, "project": project},
            inputs=inputs,
        )
        job_id = job.id
    if skipped:
        err.print(f"{len(skipped)} files skipped (not a format lmreview reads)", markup=False)
    _start(st, job_id, here, wait)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or IATI activity XML.")],
    portfolio: Annotated[str | None, typer.Option("--portfolio", "-p", help="Portfolio name.")] = None,
    here: Here = False,
    wait: Wait = False,
) -> None:
    """Import a portfolio file as a job (lmreview portfolio import does it in the foreground).

    Example: lmreview jobs import portfolio-2024.xlsx --portfolio p2024
    """
    from lmreview.files import read_input
    from lmreview.portfolio import importing

    st = state(ctx)
    data = read_input(file)
    name = portfolio or importing.portfolio_name_for(file)
    importing.check_portfolio_name(name)
    with st.session() as session:
        job = service.create_job(
            session,
            kind="import",
            title=f"Import {file.name} into portfolio {name}",
            actor=st.settings.actor,
            user=_account(st, session, "reviewer"),
            params={"portfolio": name},
            inputs=[service.Input(name=file.name, content=data)],
        )
        job_id = job.id
    _start(st, job_id, here, wait)


@app.command("responses")
def responses(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="KoboToolbox export (XLSX/CSV), ODK Central export (CSV/zip), or XLSX.")],
    review: ReviewOption,
    here: Here = False,
    wait: Wait = False,
) -> None:
    """Import responses into a review as a job (lmreview form import-responses does it in the foreground).

    Example: lmreview jobs responses kobo-export.xlsx --review lm2022-review
    """
    from lmreview.files import read_input
    from lmreview.questionnaire import reviews

    st = state(ctx)
    data = read_input(file)
    with st.session() as session:
        found = reviews.get_review(session, review)
        if found.form is None:
            raise LmreviewError(f"review {review} has no questionnaire: choose one before importing responses")
        job = service.create_job(
            session,
            kind="responses",
            title=f"Import responses {file.name} into review {review}",
            actor=st.settings.actor,
            user=_account(st, session),
            review_id=found.id,
            inputs=[service.Input(name=file.name, content=data)],
        )
        job_id = job.id
    _start(st, job_id, here, wait)


@app.command("report")
def report(
    ctx: typer.Context,
    review: ReviewOption,
    fmt: Annotated[str, typer.Option("--format", "-f", help="html, pdf, docx, xlsx or all.")] = "all",
    here: Here = False,
    wait: Wait = False,
) -> None:
    """Build the review report as a job; lmreview jobs files ID writes what it made (lmreview report build does it
    in the foreground).

    Example: lmreview jobs report --review r16 --format pdf,docx
    """
    from lmreview.cli.report import _formats
    from lmreview.questionnaire import reviews

    st = state(ctx)
    formats = _formats(fmt)
    with st.session() as session:
        found = reviews.get_review(session, review)
        job = service.create_job(
            session,
            kind="report",
            title=f"Report of review {review} ({', '.join(formats)})",
            actor=st.settings.actor,
            user=_account(st, session),
            review_id=found.id,
            params={"formats": formats},
        )
        job_id = job.id
    _start(st, job_id, here, wait)


@app.command("remind")
def remind(
    ctx: typer.Context,
    review: Annotated[str | None, typer.Option("--review", "-r", help="Review name.")] = None,
    invite: Annotated[bool, typer.Option("--invite", help="Send the first invitations instead of reminders.")] = False,
    followup: Annotated[
        bool, typer.Option("--followup", help="Remind the responsible units of their key actions instead.")
    ] = False,
    dry_run: Annotated[
        Path | None, typer.Option("--dry-run", help="Write the messages as .eml files in this folder; send nothing.")
    ] = None,
    here: Here = False,
    wait: Wait = False,
) -> None:
    """Send a review's reminders (or invitations, or the follow-up's reminders) as a job (lmreview review remind
    does it in the foreground).

    Example: lmreview jobs remind --review lm2022-review
    """
    from lmreview.questionnaire import reviews

    st = state(ctx)
    if followup == (review is not None):
        raise BadInput([Problem("--review", 0, "-", "give either --review NAME or --followup")])
    params: dict[str, Any] = {"dry_run": str(dry_run.resolve()) if dry_run else None}
    with st.session() as session:
        review_id = None
        if review is not None:
            review_id = reviews.get_review(session, review).id
            params["reminders"] = not invite
            title = f"{'Invitations' if invite else 'Reminders'} of review {review}"
        else:
            params["followup"] = True
            title = "Reminders of the follow-up's key actions"
        job = service.create_job(
            session,
            kind="remind",
            title=title,
            actor=st.settings.actor,
            user=_account(st, session),
            review_id=review_id,
            params=params,
        )
        job_id = job.id
    _start(st, job_id, here, wait)
