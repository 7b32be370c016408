"""What a review's figures were computed from, in one short string: it changes whenever anything the analysis reads
changes (the review, its questionnaire's versions, its submissions, its roster, its portfolio's projects), so a page
computed from the review can be kept, and revalidated with an ETag, until then. A few aggregate queries on indexed
columns; nothing is loaded row by row."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview.portfolio.models import Project
from lmreview.questionnaire.models import FormVersion, Respondent, Review, Submission


def _stamp(session: Session, model: Any, where: Any) -> tuple[Any, ...]:
    row = session.execute(select(func.count(), func.max(model.id), func.max(model.updated_at)).where(where)).one()
    return tuple(str(value) for value in row)


def last_change(session: Session, review: Review) -> str:
    """A digest of the review's last change, e.g. ``"3f1c…"`` (changes when any figure of its analysis may)."""
    parts: list[Any] = [review.id, review.name, str(review.updated_at), review.form_id, review.portfolio_id]
    if review.form_id is not None:
        parts.append(session.scalar(select(func.max(FormVersion.id)).where(FormVersion.form_id == review.form_id)))
    parts.append(_stamp(session, Submission, Submission.review_id == review.id))
    parts.append(_stamp(session, Respondent, Respondent.review_id == review.id))
    if review.portfolio_id is not None:
        parts.append(_stamp(session, Project, Project.portfolio_id == review.portfolio_id))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
