"""``/api/v1/reviews/{name}/members``: who may read a review, work in it (reviewer) or manage it, as the review's
Members page and ``lmreview review member``. Any member reads the list; its managers and site administrators add,
change and remove members (the last manager stays, unless a site administrator changes it); a non-member hears
404, word for word what a review that does not exist answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from lmreview import access
from lmreview.errors import BadInput, Problem
from lmreview.store.models import MEMBER_ROLES
from lmreview.web.api.deps import CallerDep, WriterDep, created, etag_json
from lmreview.web.api.schemas import Line

router = APIRouter(tags=["reviews"])
ROLES = ", ".join(MEMBER_ROLES)


class Member(BaseModel):
    user: str
    role: str = Field(description=ROLES)
    site_role: str = Field(description="the user's role on the site")
    active: bool
    added_by: str | None
    added_at: str | None


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: Line | None = Field(default=None, max_length=120, description="the user's name (required)")
    role: Line | None = Field(default=None, max_length=40, description=f"{ROLES} (default reader)")


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Line | None = Field(default=None, max_length=40, description=f"{ROLES} (required)")


class Removed(BaseModel):
    review: str
    removed: str


def _member(members: list[access.Member], name: str) -> dict[str, object]:
    return next(m.as_json() for m in members if m.user == name)


@router.get("/reviews/{name}/members", response_model=list[Member], summary="A review's members")
def list_members(request: Request, who: CallerDep, name: str) -> Response:
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name)
        data = [m.as_json() for m in access.list_members(session, review)]
    return etag_json(request, who, data, list[Member])


@router.post("/reviews/{name}/members", response_model=Member, status_code=201, summary="Add a member to a review")
def add_member(request: Request, who: WriterDep, name: str, body: MemberIn | None = None) -> Response:
    """As the Members page: a user of this lmreview joins the review with a role (409 when already a member)."""
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name, "manage")
        if body is None or not (body.user or "").strip():
            raise BadInput([Problem("user", 0, "-", "name the user to add")], message="user: name the user to add")
        member = (body.user or "").strip()
        access.add_member(session, review, member, (body.role or "reader").strip(), actor=who.user.name)
        data = _member(access.list_members(session, review), member)
    return created(data, Member)


@router.post("/reviews/{name}/members/{member}", response_model=Member, summary="Change a member's role")
def change_member(request: Request, who: WriterDep, name: str, member: str, body: RoleIn | None = None) -> Response:
    """The member's new role (the same role changes nothing); audited."""
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name, "manage")
        if body is None or not (body.role or "").strip():
            raise BadInput([Problem("role", 0, "-", f"give the role: {ROLES}")], message=f"role: give one of {ROLES}")
        access.change_member(
            session, review, member, (body.role or "").strip(), actor=who.user.name, by_admin=access.is_admin(who.user)
        )
        data = _member(access.list_members(session, review), member)
    return created(data, Member, status_code=200)


@router.delete("/reviews/{name}/members/{member}", response_model=Removed, summary="Remove a member from a review")
def remove_member(request: Request, who: WriterDep, name: str, member: str) -> Response:
    """The user no longer sees the review; audited."""
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name, "manage")
        access.remove_member(session, review, member, actor=who.user.name, by_admin=access.is_admin(who.user))
        data = {"review": review.name, "removed": member}
    return created(data, Removed, status_code=200)
