"""The user's account page for personal API tokens: list, make (the token is shown once) and revoke them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.errors import BadInput, Problem
from lmreview.store import tokens
from lmreview.web.pages import RowId, flash, render
from lmreview.web.security import check_csrf, require

router = APIRouter()


def _page(request: Request, status_code: int = 200, new: tokens.NewToken | None = None) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        rows = [tokens.token_json(token, owner) for token, owner in tokens.list_tokens(session, user.name)]
    return render(
        request, "auth/tokens.html", status_code=status_code, user=user, tokens=rows, new=new, scopes=tokens.SCOPES
    )


@router.get("/account/tokens", response_class=HTMLResponse)
def tokens_page(request: Request) -> Response:
    return _page(request)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    name: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "read",
    expires: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The new token is shown in this answer only (never stored, never put in a redirect or a flash message)."""
    user = require(request)
    check_csrf(request, csrf_token)
    days = None
    if expires.strip():
        if not (expires.strip().isascii() and expires.strip().isdigit()) or len(expires.strip()) > 5:
            raise BadInput([Problem("expires", 0, "-", f"{expires.strip()[:20]!r} is not a number of days")])
        days = int(expires.strip())
    with request.app.state.store.session() as session:
        new = tokens.create_token(session, user.name, name, actor=user.name, scope=scope, expires_days=days)
    response = _page(request, 201, new)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: RowId, csrf_token: Annotated[str, Form()] = "") -> Response:
    user = require(request)
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        token = tokens.revoke_token(session, token_id, actor=user.name, owner=user.name)
        flash(request, f"Revoked the API token {token.name!r}.")
    return RedirectResponse("/account/tokens", status_code=303)
