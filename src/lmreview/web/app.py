"""``create_app(settings, store)``: the FastAPI application, built on demand (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from lmreview import __version__
from lmreview.errors import BadInput, LmreviewError, Problem
from lmreview.figures import fmt_number, fmt_pct, fmt_quantity, plural
from lmreview.settings import Settings
from lmreview.store import Store, open_store
from lmreview.web.security import LoginRequired, LoginThrottle, csrf_token, current_user, session_secret

HERE = Path(__file__).parent
SESSION_DAYS = 14


def url_with(path: str, params: dict[str, str], **changes: str | None) -> str:
    """``path`` with the query ``params`` and ``changes`` applied (a None or empty value removes a key)."""
    merged = {**params, **changes}
    query = urlencode({k: v for k, v in merged.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def segment(value: object) -> str:
    """One path segment of a URL: a project code may hold "/", "#", "?" or spaces."""
    return quote(str(value), safe="")


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    user = context.pop("user", None) or current_user(request)
    flashes = request.session.pop("flash", [])
    return templates.TemplateResponse(
        request,
        template,
        {"user": user, "csrf_token": csrf_token(request), "flashes": flashes, "version": __version__, **context},
        status_code=status_code,
    )


async def read_upload(request: Request, file: UploadFile) -> tuple[str, bytes]:
    """The name and bytes of an uploaded file, refused (422) above LMREVIEW_MAX_UPLOAD_BYTES."""
    filename = Path(file.filename or "upload").name
    limit: int = request.app.state.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise BadInput([Problem(filename, 0, "-", f"the file is larger than {limit // 1024 // 1024} MiB")])
    if not data:
        raise BadInput([Problem(filename, 0, "-", "the file is empty (or no file was chosen)")])
    return filename, data


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session.setdefault("flash", []).append({"kind": kind, "message": message})


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    store = store or open_store(settings.database_url)
    app = FastAPI(
        title="lmreview", version=__version__, docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json"
    )
    app.state.settings = settings
    app.state.store = store
    app.state.login_throttle = LoginThrottle(store)
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

    from lmreview.web.routes import admin, analysis, audit, auth, health, portfolio, ratings, report, respond, reviews

    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(portfolio.router)
    app.include_router(reviews.router)
    app.include_router(ratings.router)
    app.include_router(analysis.router)
    app.include_router(report.router)
    app.include_router(audit.router)
    app.include_router(respond.router)
    app.include_router(admin.router)

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

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
