"""Logging in and out, and changing one's own password."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.errors import BadInput, Problem
from lmreview.store import users
from lmreview.web.pages import flash, render
from lmreview.web.security import LoginThrottle, check_csrf, current_user, require, start_session

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a user to another site after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "auth/login.html", next=_safe_next(next), error=None, name="")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf_token)
    throttle: LoginThrottle = request.app.state.login_throttle
    wait = throttle.wait(name.strip(), time.time())
    if wait:
        minutes = max(1, round(wait / 60))
        return render(
            request,
            "auth/login.html",
            status_code=429,
            next=_safe_next(next),
            error=f"Too many failed attempts for this name: try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            name=name,
        )
    with request.app.state.store.session() as session:
        user = users.authenticate(session, name.strip(), password)
    if user is None:
        throttle.failed(name.strip(), time.time())
        return render(
            request,
            "auth/login.html",
            status_code=401,
            next=_safe_next(next),
            error="Unknown user or wrong password.",
            name=name,
        )
    throttle.succeeded(name.strip())
    start_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    """Ends every session of the user (a copied cookie too), not only this browser's."""
    check_csrf(request, csrf_token)
    user = current_user(request)
    if user is not None:
        with request.app.state.store.session() as session:
            users.log_out(session, user.id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request) -> Response:
    user = require(request)
    return render(request, "auth/password.html", user=user, error=None)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    current: Annotated[str, Form()],
    new: Annotated[str, Form()],
    again: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """A new password ends the user's other sessions; this browser stays logged in with a fresh one."""
    user = require(request)
    check_csrf(request, csrf_token)
    if new != again:
        raise BadInput([Problem("password", 0, "-", "the two new passwords differ")])
    throttle: LoginThrottle = request.app.state.login_throttle
    if throttle.wait(user.name, time.time()):
        return render(
            request, "auth/password.html", status_code=429, user=user, error="Too many wrong passwords: try later."
        )
    with request.app.state.store.session() as session:
        if users.authenticate(session, user.name, current) is None:
            throttle.failed(user.name, time.time())
            return render(
                request, "auth/password.html", status_code=403, user=user, error="The current password is wrong."
            )
        changed = users.set_password(session, user.name, new, actor=user.name)
    start_session(request, changed)
    flash(request, "Changed your password; your other sessions have ended.")
    return RedirectResponse("/", status_code=303)
