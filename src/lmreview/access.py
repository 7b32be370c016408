"""Who may see and change each review: review membership.

A review has members, each with a role in it:

* ``manager``: everything in the review, its members included;
* ``reviewer``: also answers, codings, ratings, follow-up and drafts of the report (``write``);
* ``reader``: reads only (``read``).

A site admin (``User.role == "admin"``) is a manager of every review without a membership row. Anyone else sees a
review only as a member of it: a review they are not a member of answers "not found" everywhere (lists, search, the
web pages, the API, the CLI run as ``--user NAME``), the same answer as a review that does not exist, so that
names do not leak. A member whose role is too low for a change gets :class:`Forbidden` (403).

Inside a review the review role decides, not the site role: a site viewer made reviewer of one review may code it.
The site roles keep deciding what is not review-scoped (portfolios, the evidence library, users).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, Conflict, Forbidden, NotFound, Problem
from lmreview.questionnaire.models import Review
from lmreview.store import audit
from lmreview.store.base import find_row
from lmreview.store.models import MEMBER_ROLES, ReviewMember, User

ROLE_RANK = {"reader": 0, "reviewer": 1, "manager": 2}
NEEDS = {"read": "reader", "write": "reviewer", "manage": "manager"}
# The review role an existing user gets from their site role (migration 0010 does the same for old reviews).
ROLE_FOR_SITE_ROLE = {"admin": "manager", "reviewer": "reviewer", "viewer": "reader"}


def is_admin(user: User | None) -> bool:
    return user is not None and user.active and user.role == "admin"


def review_role(session: Session, user: User | None, review_id: int) -> str | None:
    """The role of ``user`` in review ``review_id``: ``manager`` for a site admin, None for a non-member."""
    if user is None or not user.active:
        return None
    if user.role == "admin":
        return "manager" if find_row(session, Review, review_id) is not None else None
    role = session.scalar(
        select(ReviewMember.role).where(ReviewMember.review_id == review_id, ReviewMember.user_id == user.id)
    )
    return role


def visible_review_ids(session: Session, user: User | None) -> set[int] | None:
    """The ids of the reviews ``user`` may see; None means every review (a site admin)."""
    if is_admin(user):
        return None
    if user is None or not user.active:
        return set()
    return set(session.scalars(select(ReviewMember.review_id).where(ReviewMember.user_id == user.id)))


def can_see(visible: set[int] | None, review_id: int | None) -> bool:
    """Whether a review id is in what :func:`visible_review_ids` returned (None = all)."""
    return visible is None or (review_id is not None and review_id in visible)


def _not_found(review_id: object) -> NotFound:
    return NotFound(f"there is no review {review_id}")


def require_review(session: Session, user: User | None, review_id: int, need: str = "read") -> Review:
    """The review ``review_id`` when ``user`` may ``need`` it (read, write or manage).

    Not a member (or no such review): :class:`NotFound`; a member whose role is too low: :class:`Forbidden`."""
    if need not in NEEDS:
        raise ValueError(f"need is one of {', '.join(NEEDS)}, not {need!r}")
    review = find_row(session, Review, review_id)
    if review is None:
        raise _not_found(review_id)
    role = review_role(session, user, review.id)
    if role is None:  # the same answer as for a review that does not exist: no name leaks
        raise _not_found(review_id)
    if ROLE_RANK[role] < ROLE_RANK[NEEDS[need]]:
        raise Forbidden(f"this needs the {NEEDS[need]} role in review {review.name}; you are a {role} there")
    return review


def require_review_named(session: Session, user: User | None, name: str, need: str = "read") -> Review:
    """:func:`require_review` for a review named ``name`` (a non-member hears the same as for an unknown name)."""
    review_id = session.scalar(select(Review.id).where(Review.name == name))
    if review_id is None or review_role(session, user, review_id) is None:
        raise NotFound(f"there is no review {name!r}")  # what questionnaire.reviews.get_review says on the web
    return require_review(session, user, review_id, need)


# --- the CLI run as --user NAME ---------------------------------------------------------------------------------------

ACTING = "lmreview.access.acting"  # session.info key: (user, need) of a CLI command run as a user's account
CLI = "lmreview.access.cli"  # session.info key: the session of a CLI command (messages may list review names)


def act_as(session: Session, user: User, need: str) -> None:
    """Every review this session looks up by name (``questionnaire.reviews.get_review``) must be one ``user`` may
    ``need``, and lists of reviews hold only theirs: the CLI run as ``--user NAME`` behaves as the web does."""
    if need not in NEEDS:
        raise ValueError(f"need is one of {', '.join(NEEDS)}, not {need!r}")
    session.info[ACTING] = (user, need)


def acting_user(session: Session) -> User | None:
    acting = session.info.get(ACTING)
    return acting[0] if acting else None


def check_acting(session: Session, review: Review) -> None:
    """Raise as :func:`require_review` does when the session acts as a user who may not use ``review``."""
    acting = session.info.get(ACTING)
    if acting:
        require_review(session, acting[0], review.id, acting[1])


def check_acting_record(session: Session, review_id: int | None, missing: str) -> None:
    """For a record of review ``review_id`` looked up by its id (a recommendation, a key action): raise as
    :func:`require_review` does when the session acts as a user who may not use that review; a non-member hears
    ``missing``, word for word what an unknown id hears. A record of no review (one found in an evidence document)
    is changed by a site reviewer."""
    acting = session.info.get(ACTING)
    if not acting:
        return
    user, need = acting
    if review_id is None:
        if need != "read" and not (user.active and user.role in ("reviewer", "admin")):
            raise Forbidden(f"this needs the reviewer role; you are a {user.role}")
        return
    if review_role(session, user, review_id) is None:
        raise NotFound(missing)
    require_review(session, user, review_id, need)


def acting_visible(session: Session) -> set[int] | None:
    """The reviews the acting user may see (None: all, also when the session acts as nobody)."""
    acting = session.info.get(ACTING)
    return visible_review_ids(session, acting[0]) if acting else None


# --- membership ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    user: str
    role: str
    site_role: str
    active: bool
    added_by: str
    added_at: str

    def as_json(self) -> dict[str, object]:
        return {
            "user": self.user,
            "role": self.role,
            "site_role": self.site_role,
            "active": self.active,
            "added_by": self.added_by,
            "added_at": self.added_at,
        }


def list_members(session: Session, review: Review) -> list[Member]:
    rows = session.execute(
        select(ReviewMember, User)
        .join(User, User.id == ReviewMember.user_id)
        .where(ReviewMember.review_id == review.id)
        .order_by(User.name)
    ).all()
    return [
        Member(u.name, m.role, u.role, u.active, m.added_by, m.added_at.isoformat(timespec="seconds")) for m, u in rows
    ]


def _check_role(role: str) -> str:
    if role not in MEMBER_ROLES:
        raise BadInput(
            [Problem("role", 0, "-", f'"{role}" is not a review role; use {", ".join(MEMBER_ROLES)}')],
            message=f'"{role}" is not a review role; use {", ".join(MEMBER_ROLES)}',
        )
    return role


def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f'no user named "{name}"')
    return user


def _membership(session: Session, review: Review, user: User) -> ReviewMember | None:
    return session.scalar(
        select(ReviewMember).where(ReviewMember.review_id == review.id, ReviewMember.user_id == user.id)
    )


def _record(
    session: Session,
    member: ReviewMember,
    *,
    actor: str,
    action: str,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity="review_member",
        entity_id=member.id,
        summary=summary,
        before=before,
        after=after,
    )


def _json(review: Review, user: User, role: str) -> dict[str, Any]:
    return {"review": review.name, "user": user.name, "role": role}


def make_manager(session: Session, review: Review, user: User | None, *, actor: str) -> None:
    """The user who created ``review`` becomes its manager (nothing to do for an admin or no user)."""
    if user is None or is_admin(user) or _membership(session, review, user) is not None:
        return
    member = ReviewMember(review_id=review.id, user_id=user.id, role="manager", added_by=actor)
    session.add(member)
    session.flush()
    _record(
        session,
        member,
        actor=actor,
        action="create",
        summary=f"{user.name} manages review {review.name} (created it)",
        after=_json(review, user, "manager"),
    )


def add_member(session: Session, review: Review, user_name: str, role: str, *, actor: str) -> ReviewMember:
    """Make ``user_name`` a member of ``review`` with ``role``."""
    _check_role(role)
    user = _user(session, user_name)
    existing = _membership(session, review, user)
    if existing is not None:
        raise Conflict(f"{user.name} is already a {existing.role} of review {review.name}; change the role instead")
    member = ReviewMember(review_id=review.id, user_id=user.id, role=role, added_by=actor)
    session.add(member)
    session.flush()
    _record(
        session,
        member,
        actor=actor,
        action="create",
        summary=f"{user.name} joined review {review.name} as {role}",
        after=_json(review, user, role),
    )
    return member


def _keep_a_manager(session: Session, review: Review, member: ReviewMember, user: User, by_admin: bool) -> None:
    if member.role != "manager" or by_admin:
        return
    managers = session.scalar(
        select(func.count())
        .select_from(ReviewMember)
        .where(ReviewMember.review_id == review.id, ReviewMember.role == "manager")
    )
    if (managers or 0) <= 1:
        raise Conflict(f"{user.name} is the last manager of review {review.name}: make another member manager first")


def change_member(
    session: Session, review: Review, user_name: str, role: str, *, actor: str, by_admin: bool = False
) -> ReviewMember:
    """A member's new role; the last manager stays a manager unless a site admin changes it."""
    _check_role(role)
    user = _user(session, user_name)
    member = _membership(session, review, user)
    if member is None:
        raise NotFound(f"{user.name} is not a member of review {review.name}")
    if member.role == role:
        return member
    if role != "manager":
        _keep_a_manager(session, review, member, user, by_admin)
    before = _json(review, user, member.role)
    member.role = role
    _record(
        session,
        member,
        actor=actor,
        action="update",
        summary=f"{user.name} in review {review.name}: {before['role']} → {role}",
        before=before,
        after=_json(review, user, role),
    )
    return member


def remove_member(session: Session, review: Review, user_name: str, *, actor: str, by_admin: bool = False) -> None:
    """``user_name`` is no longer a member; the last manager stays unless a site admin removes them."""
    user = _user(session, user_name)
    member = _membership(session, review, user)
    if member is None:
        raise NotFound(f"{user.name} is not a member of review {review.name}")
    _keep_a_manager(session, review, member, user, by_admin)
    _record(
        session,
        member,
        actor=actor,
        action="delete",
        summary=f"{user.name} left review {review.name}",
        before=_json(review, user, member.role),
    )
    session.delete(member)
