"""``/health`` (the process answers) and ``/ready`` (it can serve: database reachable, at this lmreview's revision).

Both answer JSON without a login, for a load balancer, a container orchestrator or a monitoring probe; ``/ready``
answers 503 while the database is down or needs ``lmreview db upgrade``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from lmreview import __version__
from lmreview.store import Store
from lmreview.store.migrate import current_revision, head_revision

router = APIRouter(include_in_schema=False)


@router.get("/health")
def health() -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__}, headers={"Cache-Control": "no-store"})


@router.get("/ready")
def ready(request: Request) -> JSONResponse:
    store: Store = request.app.state.store
    head = head_revision()
    body: dict[str, object] = {"version": __version__, "database": store.engine.dialect.name, "needs": head}
    try:
        revision = current_revision(store)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        body |= {"status": "unavailable", "error": f"cannot reach the database ({reason})"}
        return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
    body["revision"] = revision
    if revision != head:
        body |= {"status": "unavailable", "error": f"the database is at revision {revision or 'empty'}"}
        return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
    body["status"] = "ready"
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
