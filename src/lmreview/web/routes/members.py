"""A review's members: who may read it, work in it (reviewer) or manage it (see lmreview/access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from lmreview import access
from lmreview.questionnaire import reviews
from lmreview.store.models import MEMBER_ROLES
from lmreview.store.users import list_users
from lmreview.web.pages import render, segment, wants_json
from lmreview.web.security import check_csrf, require_member

router = APIRouter()


@router.get("/reviews/{name}/members", response_class=HTMLResponse)
def members_page(request: Request, name: str) -> Response:
    user = require_member(request, name)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        members = access.list_members(session, review)
        if wants_json(request):
            return JSONResponse([m.as_json() for m in members])
        manager = request.state.review_role == "manager"
        taken = {m.user for m in members}
        others = [u.name for u in list_users(session) if u.active and u.name not in taken] if manager else []
        return render(
            request,
            "access/members.html",
            user=user,
            review=review,
            members=members,
            others=others,
            roles=MEMBER_ROLES,
            manager=manager,
        )


@router.post("/reviews/{name}/members")
def add_member(
    request: Request,
    name: str,
    member: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "reader",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = require_member(request, name, "manage")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        access.add_member(session, review, member.strip(), role, actor=user.name)
    return RedirectResponse(f"/reviews/{segment(name)}/members", status_code=303)


@router.post("/reviews/{name}/members/{member}")
def change_member(
    request: Request,
    name: str,
    member: str,
    role: Annotated[str, Form()] = "",
    remove: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """A new role for ``member``, or (with ``remove``) the end of their membership."""
    user = require_member(request, name, "manage")
    check_csrf(request, csrf_token)
    by_admin = access.is_admin(user)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        if remove:
            access.remove_member(session, review, member, actor=user.name, by_admin=by_admin)
        else:
            access.change_member(session, review, member, role, actor=user.name, by_admin=by_admin)
    return RedirectResponse(f"/reviews/{segment(name)}/members", status_code=303)
