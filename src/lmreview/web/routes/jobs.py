"""Background jobs in the web UI: the list, a job's page (progress, result, errors, a link to what it made, the files
it built), cancel, and the buttons of other pages that start jobs (the report build; the evidence upload and the
reminders hand their work here when it is long or a worker runs, see their routes).

A job of a review is seen by the members of that review only (404 for anyone else, as for an unknown id); a site
job (evidence ingest, portfolio import) by the admins and the user who started it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.errors import BadInput, Problem
from lmreview.jobs import service
from lmreview.jobs.models import FINISHED, KINDS, STATUSES
from lmreview.jobs.queue import Dispatcher
from lmreview.questionnaire import reviews
from lmreview.store.models import User
from lmreview.web.pages import RowId, flash, media_response, render
from lmreview.web.security import check_csrf, require, require_member

router = APIRouter()


def start(request: Request, job_id: int) -> Response:
    """Hand job ``job_id`` (committed, queued) over and send the browser to its page."""
    dispatcher: Dispatcher = request.app.state.jobs
    where = dispatcher.submit(job_id)
    flash(request, f"Started job {job_id}" + (" on the worker." if where == "queue" else "."))
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


def _param(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise BadInput([Problem(name, 0, "-", f"unknown {name} {value[:40]!r}: {', '.join(allowed)}")])
    return value


def _page(value: int) -> int:
    if not 1 <= value <= 100_000:
        raise BadInput([Problem("page", 0, "-", "page is a number from 1")])
    return value


def _user_jobs(request: Request, user: User, **filters: Any) -> tuple[list[dict[str, Any]], int]:
    with request.app.state.store.session() as session:
        jobs, total = service.list_jobs(session, user, **filters)
        names = service.review_names(session, jobs)
        return [service.job_json(j, names.get(j.review_id or 0), with_files=False) for j in jobs], total


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request, status: str | None = None, kind: str | None = None, review: str | None = None, page: int = 1
) -> Response:
    user = require(request)
    filters = {"status": _param(status, STATUSES, "status"), "kind": _param(kind, KINDS, "kind")}
    if review:
        require_member(request, review)
    size = 50
    shown, total = _user_jobs(
        request, user, **filters, review=review or None, limit=size, offset=(_page(page) - 1) * size
    )
    return render(
        request,
        "jobs/list.html",
        user=user,
        jobs=shown,
        total=total,
        page=page,
        pages=max(1, -(-total // size)),
        params={k: v for k, v in {**filters, "review": review}.items() if v},
        statuses=STATUSES,
        kinds=KINDS,
        finished=FINISHED,
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: RowId) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        job = service.get_job(session, user, job_id)
        data = service.job_json(job, service.review_names(session, [job]).get(job.review_id or 0))
    return render(request, "jobs/job.html", user=user, job=data, finished=FINISHED)


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, job_id: RowId, csrf_token: Annotated[str, Form()] = "") -> Response:
    user = require(request)
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        job = service.cancel_job(session, user, job_id)
        status = job.status
    flash(request, f"Job {job_id} " + ("cancelled." if status == "cancelled" else "stops after its current step."))
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/jobs/{job_id}/files/{file_id}")
def job_file(request: Request, job_id: RowId, file_id: RowId) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        file = service.output_file(session, user, job_id, file_id)
        name, media_type, content = file.name, file.media_type or "application/octet-stream", file.content
    assert content is not None
    return media_response(name, media_type, content, inline=False)


@router.post("/reviews/{name}/report/build")
def build_report(
    request: Request,
    name: str,
    csrf_token: Annotated[str, Form()] = "",
    formats: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Build the report in the chosen formats as a job; its page offers the files."""
    user = require_member(request, name, "write")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        job = service.create_report_job(session, review, formats, actor=user.name, user=user)
        job_id = job.id
    return start(request, job_id)
