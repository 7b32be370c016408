"""Logging in and out."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.store.users import authenticate
from lmreview.web.pages import render
from lmreview.web.security import LoginThrottle, check_csrf

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
    wait = throttle.wait(name.strip(), time.monotonic())
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
        user = authenticate(session, name.strip(), password)
        user_id = user.id if user else None
    if user_id is None:
        throttle.failed(name.strip(), time.monotonic())
        return render(
            request,
            "auth/login.html",
            status_code=401,
            next=_safe_next(next),
            error="Unknown user or wrong password.",
            name=name,
        )
    throttle.succeeded(name.strip())
    request.session.clear()
    request.session["user_id"] = user_id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
