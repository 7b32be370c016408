"""The demo's Jobs page: the draft report of the review in flight built as a background job (HTML and XLSX), run
to its end while the demo loads, so the page shows a finished job, its progress messages and the files it made."""

from __future__ import annotations

from sqlalchemy import select

from lmreview.jobs import runner, service
from lmreview.jobs.models import Job
from lmreview.questionnaire.reviews import get_review
from lmreview.settings import Settings
from lmreview.store import Store

FORMATS = ["html", "xlsx"]


def load_jobs(store: Store, settings: Settings, review: str, *, actor: str) -> tuple[int, str | None]:
    """Build ``review``'s report as a job once (a later run finds it); returns the job's id and status."""
    with store.session() as session:
        found = get_review(session, review)
        existing = session.scalar(select(Job).where(Job.kind == "report", Job.review_id == found.id).limit(1))
        if existing is not None:
            return existing.id, existing.status
        job_id = service.create_job(
            session,
            kind="report",
            title=f"Report of review {found.name} ({', '.join(FORMATS)})",
            actor=actor,
            user=None,
            review_id=found.id,
            params={"formats": FORMATS},
        ).id
    return job_id, runner.run_job(store, settings, job_id)
