"""What every operation of the REST API shares: who is calling (an API token or the web session), what they may
do, answers with an ETag, and pages of long lists."""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter

from lmreview import __version__
from lmreview.errors import Forbidden, Unauthorized
from lmreview.store import tokens
from lmreview.store.models import User
from lmreview.store.users import can
from lmreview.web.security import current_user

CSRF_HEADER = "X-CSRF-Token"
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A personal API token (`lmreview user token create`), sent as `Authorization: Bearer lmr_…`.",
)


@dataclass(frozen=True)
class Caller:
    user: User
    via: str  # token | session
    scope: str  # read | write


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None
) -> Caller:
    """The user of an ``Authorization: Bearer`` token, else of the web session; 401 otherwise."""
    header = request.headers.get("authorization")
    if header is not None:
        if credentials is None or not credentials.credentials.strip():
            raise Unauthorized("send the API token as: Authorization: Bearer lmr_…")
        with request.app.state.store.session() as session:
            found = tokens.authenticate(session, credentials.credentials.strip())
            if found is None:
                raise Unauthorized("the API token is unknown, revoked or expired, or its user is switched off")
            user, token = found
            session.expunge(user)
            return Caller(user, "token", token.scope)
    logged_in = current_user(request)
    if logged_in is None:
        raise Unauthorized("log in first, or send a personal API token: Authorization: Bearer lmr_…")
    return Caller(logged_in, "session", "write")


CallerDep = Annotated[Caller, Depends(caller)]


def writer(request: Request, who: CallerDep) -> Caller:
    """A caller that may change things: a write token, or the web session with its CSRF token in the
    ``X-CSRF-Token`` header (a token request carries no cookie, so no other site can make it)."""
    if who.via == "token" and who.scope != "write":
        raise Forbidden("this API token may only read: make a write token (lmreview user token create --scope write)")
    if who.via == "session":
        expected = request.session.get("csrf")
        sent = request.headers.get(CSRF_HEADER, "")
        if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
            raise Forbidden(f"a change made with the web session needs its CSRF token in the {CSRF_HEADER} header")
    return who


WriterDep = Annotated[Caller, Depends(writer)]


def need_role(who: Caller, role: str) -> None:
    if not can(who.user, role):
        raise Forbidden(f"this needs the {role} role; you are a {who.user.role}")


@functools.cache
def adapter_of(shape: Any) -> TypeAdapter[Any]:
    """The pydantic adapter of ``shape``, built once per shape (building one costs more than using it)."""
    return TypeAdapter(shape)


def etag_json(request: Request, who: Caller, data: Any, shape: Any, status_code: int = 200) -> Response:
    """``data`` checked against ``shape`` (a pydantic type) as JSON, with an ETag of what it holds and who reads it;
    ``If-None-Match`` with that tag answers 304 Not Modified, without a body."""
    adapter = adapter_of(shape)
    body = adapter.dump_json(adapter.validate_python(data))
    seen = hashlib.sha256(body + f"\n{who.user.name}\n{who.user.role}\n{__version__}".encode()).hexdigest()
    tag = f'"{seen[:32]}"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
    asked = [t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")]
    if status_code == 200 and (tag in asked or "*" in asked):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def created(data: Any, shape: Any, status_code: int = 201) -> Response:
    """The answer to a change: ``data`` checked against ``shape``, without an ETag (it is no read)."""
    adapter = adapter_of(shape)
    body = adapter.dump_json(adapter.validate_python(data))
    return Response(body, status_code=status_code, media_type="application/json")


MAX_LIMIT = 1000
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="rows to skip")]


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    return {"items": items[offset : offset + limit], "total": len(items), "limit": limit, "offset": offset}
