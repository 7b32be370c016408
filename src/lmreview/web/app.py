"""``create_app(settings, store)``: the FastAPI application, built on demand (never at import time)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError, DBAPIError, OperationalError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from lmreview import __version__
from lmreview.errors import BadInput, DatabaseUnavailable, LmreviewError, Problem
from lmreview.figures import fmt_number, fmt_pct, fmt_quantity, plural
from lmreview.settings import Settings
from lmreview.store import Store, open_store
from lmreview.web.pages import refuse_control_characters, render, segment, url_with, wants_json
from lmreview.web.security import LoginRequired, LoginThrottle, session_secret

HERE = Path(__file__).parent
SESSION_DAYS = 14


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    store = store or open_store(settings.database_url)
    app = FastAPI(
        title="lmreview",
        version=__version__,
        docs_url=None,  # the API has its own OpenAPI and reference page under /api/v1 (no CDN pages)
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(refuse_control_characters)],
    )
    app.state.settings = settings
    app.state.store = store
    app.state.login_throttle = LoginThrottle(store)
    from lmreview.jobs.queue import Dispatcher

    app.state.jobs = Dispatcher(settings, store)
    with contextlib.suppress(DBAPIError):  # a database not ready yet: /ready says so; a worker recovers later
        app.state.jobs.recover()  # jobs a stopped process left running go on (in a thread, or on the worker)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["number"] = fmt_number
    templates.env.filters["pct"] = fmt_pct
    templates.env.filters["quantity"] = fmt_quantity
    templates.env.globals["plural"] = plural
    templates.env.globals["none_value"] = "__none__"
    templates.env.globals["url_with"] = url_with
    templates.env.filters["segment"] = segment
    app.state.templates = templates
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(store, settings.secret_key),
        session_cookie="lmreview_session",
        max_age=SESSION_DAYS * 24 * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    from lmreview.web.middleware import RequestLog, SecurityHeaders, configure_logging

    configure_logging(settings)
    app.add_middleware(SecurityHeaders, settings=settings)
    app.add_middleware(RequestLog)  # outermost: it sees every answer, errors included
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from lmreview.web.routes import (
        account,
        admin,
        analysis,
        audit,
        auth,
        evidence,
        health,
        jobs,
        members,
        portfolio,
        ratings,
        report,
        respond,
        reviews,
    )
    from lmreview.web.routes import coding as coding_routes
    from lmreview.web.routes import tracking as tracking_routes

    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(portfolio.router)
    app.include_router(reviews.router)
    app.include_router(members.router)
    app.include_router(ratings.router)
    app.include_router(analysis.router)
    app.include_router(report.router)
    app.include_router(audit.router)
    app.include_router(respond.router)
    app.include_router(admin.router)
    app.include_router(evidence.router)
    app.include_router(coding_routes.router)
    app.include_router(tracking_routes.router)
    app.include_router(jobs.router)
    from lmreview.web.api import PREFIX, create_api

    app.mount(PREFIX, create_api(app))

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if wants_json(request):
            return JSONResponse({"error": "log in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target}, safe='/')}", status_code=303)

    @app.exception_handler(LmreviewError)
    async def _error(request: Request, exc: LmreviewError) -> Response:
        problems = exc.problems if isinstance(exc, BadInput) else []
        if wants_json(request):
            return JSONResponse({"error": exc.message, "problems": [str(p) for p in problems]}, status_code=exc.status)
        return render(request, "error.html", status_code=exc.status, message=exc.message, problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = "there is no page at this address" if exc.status_code == 404 else str(exc.detail)
        if wants_json(request):
            return JSONResponse({"error": message}, status_code=exc.status_code)
        return render(request, "error.html", status_code=exc.status_code, message=message, problems=[])

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        """A value FastAPI could not convert: a path id out of range is no page (404), anything else a 422."""
        errors = exc.errors()
        if any(error.get("loc", ("",))[0] == "path" for error in errors):
            return await _http(request, StarletteHTTPException(404))
        lines = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', 'invalid')}" for e in errors]
        if wants_json(request):
            return JSONResponse({"error": "the request has invalid values", "problems": lines}, status_code=422)
        problems = [Problem("request", 0, line.split(":", 1)[0], line.split(": ", 1)[-1]) for line in lines]
        return render(
            request, "error.html", status_code=422, message="the request has invalid values", problems=problems
        )

    @app.exception_handler(StatementError)
    async def _database(request: Request, exc: StatementError) -> Response:
        """A value the database or a column type refused (the store's guard catches them first), or a database
        that cannot be reached: a 422 or a 503 page, not a traceback."""
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        if isinstance(exc, OperationalError):
            error: LmreviewError = DatabaseUnavailable(f"the database cannot be used now ({reason})")
        elif isinstance(exc, DataError) or (
            not isinstance(exc, DBAPIError) and isinstance(exc.orig, ValueError | OverflowError)
        ):
            error = BadInput([], message=f"the database refused a value ({reason})")
        else:
            raise exc
        return await _error(request, error)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
