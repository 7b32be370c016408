"""``/api/v1/jobs``: background jobs (evidence ingest, imports, report builds, reminders) the caller may see: those
of their reviews, and the site jobs they started (all of them for a site admin). A job of another review is 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from lmreview import access
from lmreview.jobs import service
from lmreview.jobs.models import KINDS, STATUSES
from lmreview.web.api.deps import CallerDep, Offset, WriterDep, created, etag_json
from lmreview.web.api.schemas import Page
from lmreview.web.pages import RowId, media_response

REPORT_FORMATS = service.REPORT_FORMATS

router = APIRouter()


class JobInput(BaseModel):
    name: str
    status: str = Field(description="pending, done, duplicate or refused")
    detail: str
    document_id: int | None = Field(description="the evidence document the file became, or was already")


class JobOutput(BaseModel):
    id: int
    name: str
    size: int
    url: str = Field(description="where the web UI (with a session) downloads it")
    api_url: str = Field(description="where a script (with a token) downloads it")


class Job(BaseModel):
    id: int
    kind: str = Field(description=", ".join(KINDS))
    title: str
    review: str | None = Field(description="the review it works on; none for a site job")
    status: str = Field(description=", ".join(STATUSES))
    done: int
    total: int | None
    message: str
    result: dict[str, Any] | None
    errors: list[str]
    link: str | None = Field(description="the web page of what it made")
    actor: str
    attempts: int
    max_attempts: int
    cancel_requested: bool
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class JobDetail(Job):
    inputs: list[JobInput]
    outputs: list[JobOutput]


Status = Annotated[str | None, Query(description=", ".join(STATUSES), max_length=20)]
Kind = Annotated[str | None, Query(description=", ".join(KINDS), max_length=20)]
JobLimit = Annotated[int, Query(ge=1, le=500, description="rows per page")]


@router.get("/jobs", response_model=Page[Job], tags=["jobs"], summary="Background jobs, newest first")
def list_jobs(
    request: Request,
    who: CallerDep,
    limit: JobLimit = 50,
    offset: Offset = 0,
    status: Status = None,
    kind: Kind = None,
    review: Annotated[str | None, Query(max_length=200, description="only this review's jobs")] = None,
) -> Response:
    with request.app.state.store.session() as session:
        jobs, total = service.list_jobs(
            session, who.user, status=status, kind=kind, review=review, limit=limit, offset=offset
        )
        names = service.review_names(session, jobs)
        items = [service.job_json(j, names.get(j.review_id or 0), with_files=False) for j in jobs]
    data = {"items": items, "total": total, "limit": limit, "offset": offset}
    return etag_json(request, who, data, Page[Job])


@router.get("/jobs/{job_id}", response_model=JobDetail, tags=["jobs"], summary="One job")
def show_job(request: Request, who: CallerDep, job_id: RowId) -> Response:
    """Its status, progress, result, errors, the files it was given and the files it made."""
    with request.app.state.store.session() as session:
        job = service.get_job(session, who.user, job_id)
        data = service.job_json(job, service.review_names(session, [job]).get(job.review_id or 0))
    return etag_json(request, who, data, JobDetail)


@router.post("/jobs/{job_id}/cancel", response_model=JobDetail, tags=["jobs"], summary="Cancel a job")
def cancel_job(request: Request, who: WriterDep, job_id: RowId) -> Response:
    """A queued job does not start; a running one stops after its current step. The starter, a site admin, or a
    reviewer or manager of the job's review may."""
    with request.app.state.store.session() as session:
        job = service.cancel_job(session, who.user, job_id)
        session.flush()
        job = service.get_job(session, who.user, job_id)
        data = service.job_json(job, service.review_names(session, [job]).get(job.review_id or 0))
    return created(data, JobDetail, status_code=200)


class ReportJobRequest(BaseModel):
    formats: list[str] = Field(
        default_factory=lambda: list(REPORT_FORMATS),
        max_length=len(REPORT_FORMATS),
        description="any of " + ", ".join(REPORT_FORMATS) + " (default: all)",
    )


def started(request: Request, who: Any, job_id: int) -> Response:
    """Hand the committed job over (to the worker, or a thread of this process) and answer 202 with it."""
    request.app.state.jobs.submit(job_id)
    with request.app.state.store.session() as session:
        job = service.get_job(session, who.user, job_id)
        data = service.job_json(job, service.review_names(session, [job]).get(job.review_id or 0))
    response = created(data, JobDetail, status_code=202)
    response.headers["Location"] = f"/api/v1/jobs/{job_id}"
    return response


@router.post(
    "/reviews/{name}/report/jobs",
    response_model=JobDetail,
    status_code=202,
    tags=["jobs"],
    summary="Build a review's report as a job",
)
def start_report_job(request: Request, who: WriterDep, name: str, body: ReportJobRequest | None = None) -> Response:
    """The report in the formats asked, built off the request; follow the job at its ``Location`` and download
    what it made from ``/api/v1/jobs/{id}/files/{file_id}``. Needs the reviewer role in the review."""
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name, "write")
        formats = body.formats if body is not None else None
        job_id = service.create_report_job(session, review, formats, actor=who.user.name, user=who.user).id
    return started(request, who, job_id)


@router.get(
    "/jobs/{job_id}/files/{file_id}",
    tags=["jobs"],
    summary="Download a file a job made",
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
)
def job_file(request: Request, who: CallerDep, job_id: RowId, file_id: RowId) -> Response:
    with request.app.state.store.session() as session:
        file = service.output_file(session, who.user, job_id, file_id)
        name, media_type, content = file.name, file.media_type or "application/octet-stream", file.content
    assert content is not None
    return media_response(name, media_type, content, inline=False)
