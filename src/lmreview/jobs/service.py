"""Jobs as rows: create one, list and show what a user may see, cancel, and the files a job made.

Who sees a job: a job of a review is seen by the members of that review (a non-member hears "there is no job N", as
for a job that does not exist); a site job (evidence ingest, portfolio import) by the site admins and the user who
started it. ``user=None`` is the CLI run without ``--user``: the local operator sees every job.

Example::

    job = create_job(session, kind="report", title="Report of r16", actor="ana", user=ana, review_id=3,
                     params={"formats": ["html", "pdf"]})
    shown = job_json(get_job(session, ana, job.id))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from lmreview import access
from lmreview.errors import BadInput, Conflict, Forbidden, NotFound, Problem
from lmreview.jobs.models import FINISHED, KINDS, STATUSES, Job, JobFile
from lmreview.questionnaire.models import Review
from lmreview.store.base import utcnow
from lmreview.store.models import ReviewMember, User


@dataclass(frozen=True)
class Input:
    """A file given to a job: its name and either its path on the worker's machine or its bytes."""

    name: str
    path: str | None = None
    content: bytes | None = None


def create_job(
    session: Session,
    *,
    kind: str,
    title: str,
    actor: str,
    user: User | None,
    review_id: int | None = None,
    params: dict[str, Any] | None = None,
    inputs: Sequence[Input] = (),
    max_attempts: int = 3,
) -> Job:
    """A queued job (committed by the caller's session); the caller then hands its id to the queue."""
    if kind not in KINDS:
        raise ValueError(f"kind is one of {', '.join(KINDS)}, not {kind!r}")
    job = Job(
        kind=kind,
        title=title,
        actor=actor,
        user_id=user.id if user is not None else None,
        review_id=review_id,
        params=params or {},
        status="queued",
        done=0,
        total=len(inputs) or None,
        message="waiting for a worker",
        errors=[],
        attempts=0,
        max_attempts=max_attempts,
        cancel_requested=False,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    for item in inputs:
        session.add(
            JobFile(
                job_id=job.id,
                role="input",
                name=item.name[:500],
                path=item.path,
                content=item.content,
                size=len(item.content) if item.content is not None else 0,
                status="pending",
                detail="",
            )
        )
    session.flush()
    return job


def _visible(query: Select[Any], session: Session, user: User | None) -> Select[Any]:
    if user is None or access.is_admin(user):
        return query
    if not user.active:
        return query.where(Job.id.is_(None))
    member_of = select(ReviewMember.review_id).where(ReviewMember.user_id == user.id)
    return query.where(
        or_(Job.review_id.in_(member_of), (Job.review_id.is_(None) & (Job.user_id == user.id))),
    )


def _not_found(job_id: object) -> NotFound:
    return NotFound(f"there is no job {job_id}")


def list_jobs(
    session: Session,
    user: User | None,
    *,
    status: str | None = None,
    review: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Job], int]:
    """The jobs ``user`` may see, newest first, and how many there are in all (for pages)."""
    if status is not None and status not in STATUSES:
        raise BadInput([Problem("status", 0, "-", f"unknown status {status!r}: {', '.join(STATUSES)}")])
    if kind is not None and kind not in KINDS:
        raise BadInput([Problem("kind", 0, "-", f"unknown kind {kind!r}: {', '.join(KINDS)}")])
    if not (1 <= limit <= 500) or offset < 0:
        raise BadInput([Problem("limit", 0, "-", "limit is between 1 and 500 and offset is 0 or more")])
    query = _visible(select(Job), session, user)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if review is not None:
        review_id = session.scalar(select(Review.id).where(Review.name == review))
        if review_id is None or (user is not None and access.review_role(session, user, review_id) is None):
            raise NotFound(f"there is no review {review!r}")
        query = query.where(Job.review_id == review_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    jobs = session.scalars(query.order_by(Job.id.desc()).limit(limit).offset(offset)).all()
    return list(jobs), total


def get_job(session: Session, user: User | None, job_id: int) -> Job:
    """Job ``job_id`` with its files, when ``user`` may see it; otherwise NotFound, as for an unknown id."""
    # the bytes of the files stay in the database until asked for (a page of 200 uploaded PDFs reloads every 2 s)
    files = selectinload(Job.files).defer(JobFile.content)
    query = _visible(select(Job).where(Job.id == job_id), session, user).options(files)
    job: Job | None = session.scalar(query)
    if job is None:
        raise _not_found(job_id)
    return job


def cancel_job(session: Session, user: User | None, job_id: int) -> Job:
    """Ask job ``job_id`` to stop: a queued job is cancelled at once, a running one at its next step (what it did
    until then stays done). Who may: the starter, a site admin, a reviewer or manager of the job's review."""
    job = get_job(session, user, job_id)
    if user is not None and not access.is_admin(user) and job.user_id != user.id:
        if job.review_id is None:
            raise Forbidden("only the user who started a job, or an admin, may cancel it")
        access.require_review(session, user, job.review_id, "write")
    if job.status in FINISHED:
        raise Conflict(f"job {job.id} has already ended ({job.status})")
    job.cancel_requested = True
    if job.status == "queued":
        session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == "queued")
            .values(status="cancelled", message="cancelled before it started", finished_at=utcnow())
        )
        session.expire(job)
    session.flush()
    return job


def output_file(session: Session, user: User | None, job_id: int, file_id: int) -> JobFile:
    """A file job ``job_id`` made, when ``user`` may see the job."""
    job = get_job(session, user, job_id)
    for file in job.files:
        if file.id == file_id and file.role == "output" and file.content is not None:
            return file
    raise NotFound(f"job {job_id} has no file {file_id}")


def _when(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def job_json(job: Job, review_name: str | None = None, *, with_files: bool = True) -> dict[str, Any]:
    """What ``lmreview jobs show --json`` prints and ``/api/v1/jobs/ID`` returns."""
    data: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "title": job.title,
        "review": review_name,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "message": job.message,
        "result": job.result,
        "errors": list(job.errors or []),
        "link": job.link,
        "actor": job.actor,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "cancel_requested": job.cancel_requested,
        "created_at": _when(job.created_at),
        "started_at": _when(job.started_at),
        "finished_at": _when(job.finished_at),
    }
    if with_files:
        data["inputs"] = [
            {"name": f.name, "status": f.status, "detail": f.detail, "document_id": f.document_id}
            for f in job.files
            if f.role == "input"
        ]
        data["outputs"] = [
            {
                "id": f.id,
                "name": f.name,
                "size": f.size,
                "url": f"/jobs/{job.id}/files/{f.id}",
                "api_url": f"/api/v1/jobs/{job.id}/files/{f.id}",
            }
            for f in job.files
            if f.role == "output"
        ]
    return data


def review_names(session: Session, jobs: Sequence[Job]) -> dict[int, str]:
    """The names of the reviews of ``jobs``, by id."""
    ids = {j.review_id for j in jobs if j.review_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Review.id, Review.name).where(Review.id.in_(ids))).all()
    return dict(rows)


REPORT_FORMATS = ("html", "pdf", "docx", "xlsx")


def create_report_job(
    session: Session, review: Review, formats: Sequence[str] | None, *, actor: str, user: User | None
) -> Job:
    """A queued job building ``review``'s report in ``formats`` (all when none is given), in the order of
    REPORT_FORMATS; BadInput naming the first format there is not."""
    unknown = [f for f in formats or [] if f not in REPORT_FORMATS]
    if unknown:
        message = f"there is no report format {unknown[0][:20]!r}; choose {', '.join(REPORT_FORMATS)}"
        raise BadInput([Problem("formats", 0, "-", message)])
    chosen = [f for f in REPORT_FORMATS if f in (formats or [])] or list(REPORT_FORMATS)
    return create_job(
        session,
        kind="report",
        title=f"Report of review {review.name} ({', '.join(chosen)})",
        actor=actor,
        user=user,
        review_id=review.id,
        params={"formats": chosen},
    )
