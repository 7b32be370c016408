"""Who may see and change which review: the one place every front end asks.

This version rests on the site roles alone (``store/users.py``): every active user sees every review, and changing
one needs the reviewer role. Per-review membership can replace the bodies of these functions without their callers
(the web UI, the REST API) changing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lmreview.errors import Forbidden, NotFound
from lmreview.questionnaire.models import Review
from lmreview.store.base import find_row
from lmreview.store.models import User
from lmreview.store.users import can

NEEDS = {"read": "viewer", "write": "reviewer"}


def review_role(session: Session, user: User | None, review_id: int) -> str | None:
    """The role ``user`` has on the review: ``viewer``, ``reviewer`` or ``admin``, or None when they may not see it."""
    if user is None or not user.active or find_row(session, Review, review_id) is None:
        return None
    return user.role


def visible_review_ids(session: Session, user: User | None) -> set[int] | None:
    """The ids of the reviews ``user`` may see; None means every review (an empty set: none)."""
    if user is None or not user.active:
        return set()
    return None


def require_review(session: Session, user: User | None, review_id: int, need: str = "read") -> Review:
    """The review, when ``user`` may ``need`` ("read" or "write") it: NotFound when they may not see it (so that a
    review's existence does not leak), Forbidden when they see it but may not change it."""
    review = find_row(session, Review, review_id)
    role = review_role(session, user, review_id)
    if review is None or role is None:
        raise NotFound(f"there is no review {review_id}")
    if not can(user, NEEDS[need]):
        raise Forbidden(f"changing this review needs the {NEEDS[need]} role; you are a {role}")
    return review
