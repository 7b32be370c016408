"""``/api/v1``: who is calling, the audit log, the evidence library (documents, search, items), the coding matrix
of a review and the tracked recommendations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from lmreview import access
from lmreview.coding.matrix import code_matrix
from lmreview.evidence import service as evidence
from lmreview.evidence.search import YEARS, Filters, search
from lmreview.store import audit, tokens
from lmreview.store.users import can
from lmreview.tracking import service as tracking
from lmreview.web.api import schemas
from lmreview.web.api.deps import CallerDep, Limit, Offset, WriterDep, created, etag_json, page
from lmreview.web.pages import RowId

router = APIRouter()
Year = Annotated[int | None, Query(ge=YEARS[0], le=YEARS[1])]


@router.get("/me", response_model=schemas.Me, tags=["account"], summary="Who you are to the API")
def me(request: Request, who: CallerDep) -> Response:
    data = {"name": who.user.name, "role": who.user.role, "auth": who.via, "scope": who.scope}
    return etag_json(request, who, data, schemas.Me)


@router.get("/tokens", response_model=list[schemas.ApiToken], tags=["account"], summary="Your API tokens")
def my_tokens(request: Request, who: CallerDep) -> Response:
    """Your tokens with their first characters, scope, expiry, last use and state (never the tokens themselves)."""
    with request.app.state.store.session() as session:
        rows = [tokens.token_json(token, owner) for token, owner in tokens.list_tokens(session, who.user.name)]
    return etag_json(request, who, rows, list[schemas.ApiToken])


@router.delete(
    "/tokens/{token_id}", response_model=schemas.ApiToken, tags=["account"], summary="Revoke one of your API tokens"
)
def revoke_token(request: Request, who: WriterDep, token_id: RowId) -> Response:
    """A script may revoke its own token (or another of its user's) when it is done; tokens are made on the account
    page or with ``lmreview user token create``, never by a token."""
    with request.app.state.store.session() as session:
        token = tokens.revoke_token(session, token_id, actor=who.user.name, owner=who.user.name)
        data = tokens.token_json(token, who.user.name)
    return created(data, schemas.ApiToken, status_code=200)


@router.get("/audit", response_model=schemas.Page[schemas.AuditEvent], tags=["audit"], summary="The audit log")
def audit_log(
    request: Request,
    who: CallerDep,
    limit: Limit = 100,
    offset: Offset = 0,
    entity: Annotated[str | None, Query(max_length=40, description="project, review, submission, user…")] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    actor: Annotated[str | None, Query(max_length=120)] = None,
) -> Response:
    """Every create, update and delete, newest first, with the record before and after. A site admin reads the
    whole log; anyone else reads only their own changes (the log names every review, and reviews are seen by their
    members only), without those of user accounts and API tokens."""
    admin = can(who.user, "admin")
    hidden = () if admin else ("user", "api_token")
    with request.app.state.store.session() as session:
        if admin or actor is None or actor == who.user.name:
            rows, total = audit.events(
                session,
                entity=entity,
                entity_id=entity_id,
                actor=actor if admin else who.user.name,
                hidden=hidden,
                limit=limit,
                offset=offset,
            )
        else:
            rows, total = [], 0
        items = [
            {
                "id": e.id,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "summary": e.summary,
                "before": e.before,
                "after": e.after,
                "import_batch_id": e.import_batch_id,
            }
            for e in rows
        ]
    data = {"items": items, "total": total, "limit": limit, "offset": offset}
    return etag_json(request, who, data, schemas.Page[schemas.AuditEvent])


@router.get(
    "/evidence/documents",
    response_model=schemas.Page[schemas.JsonObject],
    tags=["evidence"],
    summary="The documents of the evidence library",
)
def documents(request: Request, who: CallerDep, limit: Limit = 100, offset: Offset = 0) -> Response:
    """Each document as ``lmreview evidence list --json`` prints it."""
    with request.app.state.store.session() as session:
        rows = [evidence.document_json(d) for d in evidence.list_documents(session)]
    return etag_json(request, who, page(rows, limit, offset), schemas.Page[schemas.JsonObject])


@router.get(
    "/evidence/documents/{document_id}",
    response_model=schemas.JsonObject,
    tags=["evidence"],
    summary="One document of the evidence library",
)
def document(request: Request, who: CallerDep, document_id: RowId) -> Response:
    with request.app.state.store.session() as session:
        data = evidence.document_json(evidence.get_document(session, document_id))
    return etag_json(request, who, data, schemas.JsonObject)


@router.get("/evidence/search", response_model=schemas.JsonObject, tags=["evidence"], summary="Search the library")
def search_library(
    request: Request,
    who: CallerDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description='words, "a phrase", -not, OR')],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    type: Annotated[str | None, Query(max_length=80)] = None,
    organisation: Annotated[str | None, Query(max_length=200)] = None,
    project: Annotated[str | None, Query(max_length=80)] = None,
    year_from: Year = None,
    year_to: Year = None,
) -> Response:
    """Passages best first, with the total and the facet counts: as ``lmreview evidence search QUERY --json``."""
    filters = Filters(
        doc_type=type or None,
        organisation=organisation or None,
        year_from=year_from,
        year_to=year_to,
        project=project or None,
    )
    with request.app.state.store.session() as session:
        result = search(session, q, filters, limit)
    data = {
        "query": result.query,
        "total": result.total,
        "hits": [hit.as_json() for hit in result.hits],
        "facets": {k: [{"value": v, "count": n} for v, n in values] for k, values in result.facets.items()},
    }
    return etag_json(request, who, data, schemas.JsonObject)


@router.get(
    "/evidence/items",
    response_model=schemas.Page[schemas.JsonObject],
    tags=["evidence"],
    summary="Recommendations, responses, lessons and findings extracted from the documents",
)
def items(
    request: Request,
    who: CallerDep,
    limit: Limit = 100,
    offset: Offset = 0,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    document: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    project: Annotated[str | None, Query(max_length=80)] = None,
    organisation: Annotated[str | None, Query(max_length=200)] = None,
    year_from: Year = None,
    year_to: Year = None,
) -> Response:
    """As ``lmreview evidence items --json``, with the filters of the Items page."""
    with request.app.state.store.session() as session:
        found = evidence.items(
            session,
            kind=kind or None,
            document_id=document,
            project=project or None,
            organisation=organisation or None,
            year_from=year_from,
            year_to=year_to,
        )
        rows = [evidence.item_json(item, doc) for item, doc in found]
    return etag_json(request, who, page(rows, limit, offset), schemas.Page[schemas.JsonObject])


@router.get(
    "/coding/reviews/{name}/matrix",
    response_model=schemas.JsonObject,
    tags=["coding"],
    summary="The code matrix of a review",
)
def matrix(
    request: Request,
    who: CallerDep,
    name: str,
    codebook: Annotated[str | None, Query(max_length=80)] = None,
    by: Annotated[str, Query(description="project, or a project field")] = "project",
) -> Response:
    """Codes by project (or another dimension) with their denominators: as ``lmreview coding matrix --json``."""
    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name)
        data = code_matrix(session, review.name, codebook=codebook or None, by=by).as_json()
    return etag_json(request, who, data, schemas.JsonObject)


@router.get(
    "/tracking/recommendations",
    response_model=list[schemas.JsonObject],
    tags=["tracking"],
    summary="Tracked recommendations, their responses and key actions",
)
def recommendations(
    request: Request,
    who: CallerDep,
    review: Annotated[str | None, Query(max_length=80)] = None,
    stance: Annotated[str | None, Query(max_length=20)] = None,
    unit: Annotated[str | None, Query(max_length=120)] = None,
    year: Year = None,
    theme: Annotated[str | None, Query(max_length=120)] = None,
) -> Response:
    """As ``lmreview tracking recs list --json``, with the filters of the tracking dashboard."""
    filters = tracking.RecFilters(
        review=review or None, stance=stance or None, unit=unit or None, year=year, theme=theme or None
    )
    today = dt.date.today()
    with request.app.state.store.session() as session:
        visible = access.visible_review_ids(session, who.user)
        rows: list[dict[str, Any]] = [
            tracking.recommendation_json(session, r, today)
            for r in tracking.list_recommendations(session, filters)
            if visible is None or r.review_id is None or r.review_id in visible
        ]
    return etag_json(request, who, rows, list[schemas.JsonObject])
