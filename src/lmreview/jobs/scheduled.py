"""Scheduled reminders (``LMREVIEW_REMINDER_SCHEDULE``): at each time of the schedule the worker creates one
reminder job per open review with respondents invited who have not answered, and one job for the follow-up's key
actions when some are due; the jobs then run like any other (listed, with their outcome, on the Jobs page)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select

from lmreview.jobs.models import Job
from lmreview.jobs.service import create_job
from lmreview.questionnaire.models import Invitation, Respondent, Review
from lmreview.store.engine import Store
from lmreview.tracking.models import Action

ACTOR = "lmreview:schedule"
FOLLOWUP_DAYS = 30  # key actions due within this many days are reminded, as `lmreview tracking remind` does


def create_reminder_jobs(store: Store, today: dt.date | None = None) -> list[int]:
    """The ids of the reminder jobs made now (committed, queued); a review whose last scheduled reminder job has
    not ended gets no second one."""
    made: list[int] = []
    with store.session() as session:
        invited = exists().where(Invitation.respondent_id == Respondent.id, Respondent.review_id == Review.id)
        open_reviews = session.scalars(
            select(Review).where(Review.status == "open", Review.form_id.is_not(None), invited).order_by(Review.id)
        ).all()
        waiting = set(
            session.scalars(
                select(Job.review_id).where(Job.kind == "remind", Job.status.in_(("queued", "running")))
            ).all()
        )
        for review in open_reviews:
            if review.id in waiting:
                continue
            job = create_job(
                session,
                kind="remind",
                title=f"Scheduled reminders of review {review.name}",
                actor=ACTOR,
                user=None,
                review_id=review.id,
                params={"reminders": True, "scheduled": True},
            )
            made.append(job.id)
        horizon = (today or dt.date.today()) + dt.timedelta(days=FOLLOWUP_DAYS)
        due = select(Action.id).where(
            Action.status.in_(("not_initiated", "initiated")), Action.due_date <= horizon, Action.unit.is_not(None)
        )
        if session.scalar(due.limit(1)) is not None and None not in waiting:
            job = create_job(
                session,
                kind="remind",
                title="Scheduled reminders of the follow-up's key actions",
                actor=ACTOR,
                user=None,
                params={"followup": True, "scheduled": True},
            )
            made.append(job.id)
    return made
