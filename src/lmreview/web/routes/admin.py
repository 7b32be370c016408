"""User administration (admin role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.store import users
from lmreview.store.models import ROLES
from lmreview.web.pages import flash, render
from lmreview.web.security import check_csrf, require, start_session

router = APIRouter()


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request) -> Response:
    user = require(request, "admin")
    with request.app.state.store.session() as session:
        rows = users.list_users(session)
    return render(request, "admin/users.html", user=user, users=rows, roles=ROLES)


@router.post("/admin/users")
def add_user(
    request: Request,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> Response:
    user = require(request, "admin")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        users.add_user(session, name.strip(), role, password, actor=user.name, email=email.strip() or None)
    flash(request, f"Added {role} {name}.")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}")
def update_user(
    request: Request,
    name: str,
    role: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    active: Annotated[str | None, Form()] = None,
) -> Response:
    user = require(request, "admin")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        changed = users.update_user(session, name, actor=user.name, role=role, active=bool(active))
        summary = f"{changed.name}: {changed.role}, {'active' if changed.active else 'inactive'}."
    flash(request, summary)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/password")
def set_password(
    request: Request,
    name: str,
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """A new password for a user: their sessions end (an admin setting their own keeps this browser's)."""
    user = require(request, "admin")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        changed = users.set_password(session, name, password, actor=user.name)
    if changed.id == user.id:
        start_session(request, changed)
    flash(request, f"Changed the password of {changed.name}; their sessions have ended.")
    return RedirectResponse("/admin/users", status_code=303)
