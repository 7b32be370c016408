"""The evidence library: the documents and their upload, the search with facets, a document read at a hit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.errors import BadInput, LmreviewError, Problem
from lmreview.evidence import links, service
from lmreview.evidence.extract import KINDS
from lmreview.evidence.models import DOCUMENT_TYPES, PASSAGE_KINDS
from lmreview.evidence.search import YEARS, Filters, SearchResult, check_year
from lmreview.evidence.view import document_pages, split_marks
from lmreview.store.models import User
from lmreview.web.pages import RowId, flash, read_upload, render
from lmreview.web.security import check_csrf, require

router = APIRouter()
INLINE_FILES = 5  # an upload of more files than this is added by a job, off the request
FILTERS = ("type", "organisation", "year_from", "year_to", "project", "kind")


def _year(value: str | None, name: str) -> int | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise BadInput([Problem(name, 0, "-", f"{value!r} is not a year")], message=f"{name}: {value!r} is not a year")
    digits = value.lstrip("0") or "0"
    if len(digits) > 4:  # no year; and int() of thousands of digits is refused by Python itself
        value = value if len(value) <= 24 else value[:24] + "…"
        message = f"{value} is not a year between {YEARS[0]} and {YEARS[1]}"
        raise LmreviewError(f"{name}: {message}")
    return check_year(int(digits), name)


def _filters(params: dict[str, str]) -> Filters:
    return Filters(
        doc_type=params.get("type") or None,
        organisation=params.get("organisation") or None,
        year_from=_year(params.get("year_from"), "year_from"),
        year_to=_year(params.get("year_to"), "year_to"),
        project=params.get("project") or None,
        kind=params.get("kind") or None,
    )


@router.get("/evidence", response_class=HTMLResponse)
def library(request: Request) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        documents = [service.document_json(d) for d in service.list_documents(session)]
    return render(request, "evidence/library.html", user=user, documents=documents, types=DOCUMENT_TYPES)


@router.get("/api/evidence")
def api_library(request: Request) -> list[dict[str, Any]]:
    """The same list as `lmreview evidence list --json`."""
    require(request)
    with request.app.state.store.session() as session:
        return [service.document_json(d) for d in service.list_documents(session)]


@router.post("/evidence", response_class=HTMLResponse)
async def upload(
    request: Request,
    files: list[UploadFile],
    csrf_token: Annotated[str, Form()] = "",
    doc_type: Annotated[str, Form()] = "",
    project: Annotated[str, Form()] = "",
) -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    received: list[tuple[str, bytes]] = []
    refused: list[Problem] = []
    for file in files:
        try:
            received.append(await read_upload(request, file))
        except BadInput as exc:
            refused += exc.problems
    if received and (len(received) > INLINE_FILES or request.app.state.jobs.uses_queue()):
        return _ingest_job(request, user, received, refused, doc_type, project)

    def run() -> service.AddReport:
        with request.app.state.store.write_session() as session:
            return service.add_files(
                session,
                received,
                actor=user.name,
                doc_type=doc_type or None,
                project=project or None,
                patterns_of_codes=request.app.state.settings.project_code_patterns,
            )

    report = await run_in_threadpool(run)
    report.refused = refused + report.refused
    return render(
        request,
        "evidence/added.html",
        status_code=422 if report.refused else 200,
        user=user,
        added=[(d.id, d.filename, d.title, d.page_count) for d in report.added],
        duplicates=report.duplicates,
        refused=report.refused,
    )


def _ingest_job(
    request: Request,
    user: User,
    received: list[tuple[str, bytes]],
    refused: list[Problem],
    doc_type: str,
    project: str,
) -> Response:
    """Many files (or a worker running): the files are kept with a job that adds them off the request."""
    from lmreview.jobs import service as jobs
    from lmreview.web.routes.jobs import start

    if doc_type and doc_type not in DOCUMENT_TYPES:
        raise BadInput([Problem("doc_type", 0, "-", f"unknown document type {doc_type[:40]!r}")])
    with request.app.state.store.session() as session:
        job = jobs.create_job(
            session,
            kind="ingest",
            title=f"Add {len(received)} documents to the evidence library",
            actor=user.name,
            user=user,
            params={"doc_type": doc_type or None, "project": project or None},
            inputs=[jobs.Input(name=name, content=data) for name, data in received],
        )
        job_id = job.id
    for problem in refused:
        flash(request, f"{problem.file}: {problem.message}", "warn")
    return start(request, job_id)


def _run_search(request: Request, query: str, limit: int) -> SearchResult:
    params = dict(request.query_params)
    with request.app.state.store.session() as session:
        return service.search(session, query, _filters(params), limit)


@router.get("/evidence/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", limit: int = 50) -> Response:
    user = require(request)
    params = {k: v for k, v in request.query_params.items() if k in (*FILTERS, "q")}
    result, error = None, None
    if q.strip():
        try:
            result = _run_search(request, q, limit)
        except LmreviewError as exc:
            error = exc.message
    return render(
        request,
        "evidence/search.html",
        status_code=400 if error else 200,
        user=user,
        q=q,
        params=params,
        result=result,
        error=error,
        split_marks=split_marks,
        types=DOCUMENT_TYPES,
        kinds=PASSAGE_KINDS,
    )


@router.get("/api/evidence/search")
def api_search(request: Request, q: str, limit: int = 20) -> dict[str, Any]:
    """Hits as `lmreview evidence search QUERY --json` prints them, with the total and the facet counts."""
    require(request)
    result = _run_search(request, q, limit)
    return {
        "query": result.query,
        "total": result.total,
        "capped": result.capped,  # more passages match than were counted and ranked (total is the cap)
        "hits": [hit.as_json() for hit in result.hits],
        "facets": {k: [{"value": v, "count": n} for v, n in values] for k, values in result.facets.items()},
    }


def _items(request: Request, document_id: int | None = None) -> list[dict[str, Any]]:
    params = dict(request.query_params)
    with request.app.state.store.session() as session:
        found = service.items(
            session,
            kind=params.get("kind") or None,
            document_id=document_id,
            project=params.get("project") or None,
            organisation=params.get("organisation") or None,
            year_from=_year(params.get("year_from"), "year_from"),
            year_to=_year(params.get("year_to"), "year_to"),
        )
        return [service.item_json(item, document) for item, document in found]


@router.get("/evidence/items", response_class=HTMLResponse)
def items_page(request: Request) -> Response:
    user = require(request)
    params = {k: v for k, v in request.query_params.items() if k in FILTERS}
    return render(request, "evidence/items.html", user=user, items=_items(request), params=params, kinds=KINDS)


@router.get("/api/evidence/items")
def api_items(request: Request) -> list[dict[str, Any]]:
    """The same list as `lmreview evidence items --json`."""
    require(request)
    return _items(request)


@router.get("/evidence/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, document_id: RowId, q: str = "", passage: int | None = None) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        document = service.document_json(service.get_document(session, document_id))
        outline = [(h.id, h.page, h.text) for h in service.outline(session, document_id)]
        pages = document_pages(session, document_id, q)
        found = [service.item_json(i, d) for i, d in service.items(session, document_id=document_id)]
        projects = service.project_matches(session, document["project_codes"])
        project_links = [links.link_json(link) for link in links.links(session, document_id)]
    return render(
        request,
        "evidence/document.html",
        user=user,
        document=document,
        outline=outline,
        pages=pages,
        q=q,
        hit=passage,
        types=DOCUMENT_TYPES,
        items=found,
        projects=projects,
        links=project_links,
    )


@router.post("/evidence/{document_id}")
async def edit_document(request: Request, document_id: RowId) -> Response:
    user = require(request, "reviewer")
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    fields = (*service.EDITABLE, "project_codes")
    changes = {name: str(form[name]) for name in fields if name in form}
    with request.app.state.store.session() as session:
        service.set_metadata(session, document_id, changes, actor=user.name)
    flash(request, "Saved the document's details.")
    return RedirectResponse(f"/evidence/{document_id}", status_code=303)


@router.get("/api/evidence/{document_id}/links")
def api_links(request: Request, document_id: RowId) -> list[dict[str, Any]]:
    """The document's project links as `lmreview evidence links ID --json` prints them (without looking again)."""
    require(request)
    with request.app.state.store.session() as session:
        service.get_document(session, document_id)
        return [links.link_json(link) for link in links.links(session, document_id)]


@router.post("/evidence/{document_id}/links")
def decide_link(
    request: Request,
    document_id: RowId,
    csrf_token: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
) -> Response:
    """Confirm or reject a project suggested for the document (``decision`` confirm or reject, ``code`` the
    project's), or look for suggestions again (``decision`` suggest)."""
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    if decision not in ("confirm", "reject", "suggest"):
        raise LmreviewError("decision: choose confirm, reject or suggest")
    with request.app.state.store.session() as session:
        if decision == "suggest":
            found = len(links.suggest(session, service.get_document(session, document_id)))
            message = f"{found} new project{'s' if found != 1 else ''} suggested."
        else:
            link = links.decide(session, document_id, code, confirm=decision == "confirm", actor=user.name)
            message = f"{link.status.capitalize()} project {link.code}."
    flash(request, message)
    return RedirectResponse(f"/evidence/{document_id}#links", status_code=303)
