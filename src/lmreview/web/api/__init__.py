"""The REST API, ``/api/v1``: a FastAPI application of its own, mounted in the web app, so that its OpenAPI
description (``/api/v1/openapi.json``, OpenAPI 3.1) holds only its operations and its errors are always JSON
``{"error": …, "problems": […]}`` (404, 405 and 422 included), never an HTML page.

Its operations call the same service functions as the CLI and the web pages; see docs/api.md."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, OperationalError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from lmreview import __version__
from lmreview.errors import BadInput, DatabaseUnavailable, LmreviewError
from lmreview.web.api import (
    coding,
    exchange,
    jobs,
    library,
    members,
    portfolios,
    reviews,
    schemas,
    tracking_writes,
    writes,
)
from lmreview.web.pages import refuse_control_characters, render

PREFIX = "/api/v1"
_ERROR = {"model": schemas.ApiError}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "the request cannot be answered"},
    401: {**_ERROR, "description": "no login and no valid API token"},
    403: {**_ERROR, "description": "the user's role, or a read token, does not allow this"},
    404: {**_ERROR, "description": "no such record, or one the user may not see"},
    409: {**_ERROR, "description": "the change conflicts with what is stored"},
    422: {**_ERROR, "description": "invalid values, or a file with located problems (nothing was written)"},
}
DESCRIPTION = (
    "lmreview's REST API. Authenticate with a personal API token (`Authorization: Bearer lmr_…`, made with "
    "`lmreview user token create` or on your account page) or with the web session (changes then need the "
    '`X-CSRF-Token` header). Errors are JSON `{"error": …, "problems": […]}`. Reads carry an ETag; send it '
    "back in `If-None-Match` to get 304 while nothing changed."
)
HTTP_MESSAGES = {
    404: "there is no API operation at this address (see /api/v1/docs)",
    405: "this address does not take this method (see /api/v1/docs)",
}


def _json_error(message: str, status: int, problems: list[str] | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="lmreview"'} if status == 401 else None
    return JSONResponse({"error": message, "problems": problems or []}, status_code=status, headers=headers)


def create_api(parent: FastAPI) -> FastAPI:
    """The API application, sharing ``parent``'s store, settings and templates."""
    api = FastAPI(
        title="lmreview API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # FastAPI's Swagger and ReDoc pages load from a CDN: /docs below is rendered here
        redoc_url=None,
        dependencies=[Depends(refuse_control_characters)],
    )
    api.state = parent.state
    routers = (library, portfolios, exchange, reviews, members, jobs, writes, tracking_writes, coding)
    for router in (module.router for module in routers):
        api.include_router(router, responses=ERRORS)

    @api.exception_handler(LmreviewError)
    async def _error(request: Request, exc: LmreviewError) -> Response:
        # a refused file's warnings too, after its errors (each reads "FILE:ROW:COLUMN: warning: …")
        problems = [str(p) for p in [*exc.problems, *exc.warnings]] if isinstance(exc, BadInput) else []
        return _json_error(exc.message, exc.status, problems)

    @api.exception_handler(UnicodeEncodeError)
    async def _unicode(request: Request, exc: UnicodeEncodeError) -> Response:
        """Text no database stores (a lone surrogate escaped in JSON, ``"\\ud800"``) that reached the store through a
        field without its own check: the request's fault, not the server's."""
        return _json_error(f"the request holds text that is not valid Unicode ({exc.reason})", 422)

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _json_error(HTTP_MESSAGES.get(exc.status_code, str(exc.detail)), exc.status_code)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        """A path id out of range names no record (404); any other value a FastAPI could not convert is a 422."""
        errors = exc.errors()
        if any(error.get("loc", ("",))[0] == "path" for error in errors):
            return _json_error("there is no such record", 404)
        lines = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors]
        return _json_error("the request has invalid values", 422, lines)

    @api.exception_handler(StatementError)
    async def _database(request: Request, exc: StatementError) -> Response:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        if isinstance(exc, OperationalError):
            return await _error(request, DatabaseUnavailable(f"the database cannot be used now ({reason})"))
        if isinstance(exc, DataError) or (
            not isinstance(exc, DBAPIError) and isinstance(exc.orig, ValueError | OverflowError)
        ):
            return _json_error(f"the database refused a value ({reason})", 422)
        raise exc

    @api.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def reference(request: Request) -> Response:
        """The operations of the OpenAPI description as a plain page (no scripts, nothing from another site)."""
        from lmreview.web.api.reference import operations, schema_list, spans

        spec = api.openapi()
        return render(
            request, "api/reference.html", operations=operations(spec), schemas=schema_list(spec), spans=spans
        )

    return api
