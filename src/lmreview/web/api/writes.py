"""``/api/v1`` writes of the later stages: documents added to the evidence library (inline, or as a job when there
are many), the management response to a tracked recommendation, a key action's progress, criteria ratings from a
file, the report's narrative sections, and a document's details and project links. The same service
functions as the web pages and the CLI; the same rights (a recommendation of a review: its reviewers and managers;
of an evidence document: the site's reviewers)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from lmreview import access
from lmreview.errors import BadInput, Forbidden, LmreviewError, NotFound, Problem
from lmreview.evidence import service as evidence
from lmreview.evidence.models import DOCUMENT_TYPES
from lmreview.jobs import service as jobs
from lmreview.store.base import find_row
from lmreview.store.models import User
from lmreview.store.users import can
from lmreview.tracking import service as tracking
from lmreview.tracking.models import Action, Recommendation
from lmreview.web.api import schemas
from lmreview.web.api.deps import CallerDep, WriterDep, created, etag_json, need_role
from lmreview.web.api.jobs import JobDetail, started
from lmreview.web.api.schemas import Line
from lmreview.web.pages import RowId, read_upload

router = APIRouter()
INLINE_FILES = 5  # as the web's upload: more files than this are added by a job, off the request


class DocumentAdded(BaseModel):
    id: int
    file: str
    title: str | None
    pages: int


class DocumentsAdded(BaseModel):
    added: list[DocumentAdded]
    already_there: list[dict[str, Any]] = Field(description='{"file", "document"}: the same content is there')
    refused: list[dict[str, str]] = Field(description='{"file", "reason"}: one line each')


@router.post(
    "/evidence/documents",
    response_model=DocumentsAdded,
    status_code=201,
    tags=["evidence"],
    summary="Add documents to the evidence library",
    responses={202: {"model": JobDetail, "description": "more than five files: a job adds them (see Location)"}},
)
async def add_documents(
    request: Request,
    who: WriterDep,
    files: list[UploadFile],
    doc_type: Annotated[str, Form(description=", ".join(DOCUMENT_TYPES) + " (default: read from the text)")] = "",
    project: Annotated[str, Form(description="a project code the documents are about", max_length=80)] = "",
) -> Response:
    """PDF, DOCX, text, Markdown or HTML files, as the library's Upload: each is read, structured, its items
    extracted and indexed; a duplicate (same content) or a file lmreview cannot read is listed with its reason and
    the others are added. More than five files, or a worker running, go to a job (202, its ``Location``)."""
    need_role(who, "reviewer")
    if doc_type and doc_type not in DOCUMENT_TYPES:
        raise BadInput([Problem("doc_type", 0, "-", f"unknown document type {doc_type[:40]!r}")])
    received: list[tuple[str, bytes]] = []
    refused: list[Problem] = []
    for file in files:
        try:
            received.append(await read_upload(request, file))
        except BadInput as exc:
            refused += exc.problems
    if not received:
        raise BadInput(refused or [Problem("files", 0, "-", "no file was sent")])
    if len(received) > INLINE_FILES or request.app.state.jobs.uses_queue():
        with request.app.state.store.session() as session:
            job_id = jobs.create_job(
                session,
                kind="ingest",
                title=f"Add {len(received)} documents to the evidence library",
                actor=who.user.name,
                user=who.user,
                params={"doc_type": doc_type or None, "project": project or None},
                inputs=[jobs.Input(name=name, content=data) for name, data in received],
            ).id
        return started(request, who, job_id)

    def run() -> dict[str, Any]:
        with request.app.state.store.write_session() as session:
            report = evidence.add_files(
                session,
                received,
                actor=who.user.name,
                doc_type=doc_type or None,
                project=project or None,
                patterns_of_codes=request.app.state.settings.project_code_patterns,
            )
            return {
                "added": [
                    {"id": d.id, "file": d.filename, "title": d.title, "pages": d.page_count} for d in report.added
                ],
                "already_there": [{"file": f, "document": i} for f, i in report.duplicates],
                "refused": [{"file": p.file, "reason": p.message} for p in [*refused, *report.refused]],
            }

    data = await run_in_threadpool(run)
    if not data["added"] and not data["already_there"]:
        raise BadInput([Problem(r["file"], 0, "-", r["reason"]) for r in data["refused"]])
    return created(data, DocumentsAdded)


def changeable_recommendation(session: Session, user: User, rec_id: int) -> Recommendation:
    """The recommendation when ``user`` may change it; a non-member of its review hears what an unknown id hears."""
    missing = NotFound(f"there is no recommendation {rec_id}")
    rec = find_row(session, Recommendation, rec_id)
    if rec is None:
        raise missing
    if rec.review_id is not None:
        if access.review_role(session, user, rec.review_id) is None:
            raise missing
        access.require_review(session, user, rec.review_id, "write")
    elif not can(user, "reviewer"):
        raise Forbidden(f"this needs the reviewer role; you are a {user.role}")
    return rec


class ResponseIn(BaseModel):
    stance: str | None = Field(
        default=None, max_length=40, description="agrees, partially_agrees, disagrees or no_response (required)"
    )
    text: str | None = Field(default=None, max_length=20_000, description="the response (needed unless it agrees)")
    by: str | None = Field(default=None, max_length=200, description="who responded (default: you)")


@router.post(
    "/tracking/recommendations/{rec_id}/response",
    response_model=schemas.JsonObject,
    tags=["tracking"],
    summary="Record the management response to a recommendation",
)
def respond(request: Request, who: WriterDep, rec_id: RowId, body: ResponseIn | None = None) -> Response:
    """As the recommendation's page and ``lmreview tracking respond``: replaces an earlier response (audited)."""
    with request.app.state.store.session() as session:
        changeable_recommendation(session, who.user, rec_id)  # who may, before what they sent is judged
        if body is None or not body.stance:
            raise BadInput([Problem("stance", 0, "-", "give the stance")], message="stance: give the stance")
        rec = tracking.respond(
            session, rec_id, stance=body.stance, text=body.text, by=body.by or who.user.name, actor=who.user.name
        )
        data = tracking.recommendation_json(session, rec, dt.date.today())
    return created(data, schemas.JsonObject, status_code=200)


class ProgressIn(BaseModel):
    status: str | None = Field(
        default=None, max_length=40, description="not_initiated, initiated, completed or no_longer_applicable"
    )
    comment: str | None = Field(default=None, max_length=20_000, description="a dated progress comment")
    due: dt.date | None = Field(default=None, description="a new due date")


@router.post(
    "/tracking/actions/{action_id}/progress",
    response_model=schemas.JsonObject,
    tags=["tracking"],
    summary="Record a key action's progress",
)
def progress(request: Request, who: WriterDep, action_id: RowId, body: ProgressIn | None = None) -> Response:
    """A new status, due date and/or progress comment of a key action, as its page and ``lmreview tracking action
    update``; the recommendation with its actions comes back."""
    with request.app.state.store.session() as session:
        action = find_row(session, Action, action_id)
        if action is None:
            raise NotFound(f"there is no key action {action_id}")
        try:
            changeable_recommendation(session, who.user, action.recommendation_id)
        except NotFound:
            raise NotFound(f"there is no key action {action_id}") from None
        given = body or ProgressIn()
        tracking.update_action(
            session,
            action_id,
            actor=who.user.name,
            status=given.status,
            due=given.due,
            comment=given.comment,
            author=who.user.name,
        )
        rec = tracking.get_recommendation(session, action.recommendation_id)
        data = tracking.recommendation_json(session, rec, dt.date.today())
    return created(data, schemas.JsonObject, status_code=200)


class RatingsImported(BaseModel):
    created: int
    replaced: int
    unchanged: int
    warnings: list[str]


@router.post(
    "/reviews/{name}/ratings",
    response_model=RatingsImported,
    status_code=201,
    tags=["ratings"],
    summary="Import criteria ratings (CSV or XLSX)",
)
async def import_ratings(
    request: Request,
    who: WriterDep,
    name: str,
    file: UploadFile,
    scale: Annotated[str, Form(max_length=80, description="the rating scale (default six-point)")] = "six-point",
) -> Response:
    """As the ratings page's upload and ``lmreview ratings import``: columns criterion, source, score (and weight,
    project, comment); one transaction, every located problem on 422."""
    with request.app.state.store.session() as session:
        access.require_review_named(session, who.user, name, "write")
    filename, data = await read_upload(request, file)

    def run() -> dict[str, Any]:
        from lmreview.ratings import service as ratings

        with request.app.state.store.session() as session:
            review = access.require_review_named(session, who.user, name, "write")
            done = ratings.import_ratings(session, review, data, filename, actor=who.user.name, scale_name=scale)
            return {
                "created": done.created,
                "replaced": done.replaced,
                "unchanged": done.unchanged,
                "warnings": [str(w) for w in done.warnings],
            }

    return created(await run_in_threadpool(run), RatingsImported)


class Section(BaseModel):
    key: str
    title: str
    markdown: str
    version: int = Field(description="0: not written yet")
    actor: str | None
    at: str | None


class SectionIn(BaseModel):
    markdown: str | None = Field(
        default=None, max_length=500_000, description="Markdown (## heading, **bold**, - item, 1. item); required"
    )
    title: str | None = Field(default=None, max_length=300, description="default: the current title")


def _section_json(section: Any) -> dict[str, Any]:
    return {
        "key": section.key,
        "title": section.title,
        "markdown": section.markdown,
        "version": section.version,
        "actor": section.actor,
        "at": section.at.isoformat() if section.at else None,
    }


@router.get(
    "/reviews/{name}/sections",
    response_model=list[Section],
    tags=["reports"],
    summary="The report's narrative sections, current versions",
)
def sections(request: Request, who: CallerDep, name: str) -> Response:
    from lmreview.report import narrative

    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name)
        data = [_section_json(x) for x in narrative.current_sections(session, review).values()]
    return etag_json(request, who, data, list[Section])


@router.post(
    "/reviews/{name}/sections/{key}",
    response_model=Section,
    tags=["reports"],
    summary="Save a new version of a narrative section",
)
def save_section(request: Request, who: WriterDep, name: str, key: str, body: SectionIn | None = None) -> Response:
    """A new version (earlier ones are kept; the same text and title change nothing), as the report page and
    ``lmreview report section``. ``key``: summary, introduction, findings, conclusions, recommendations, lessons,
    brief_header."""
    from lmreview.report import narrative

    with request.app.state.store.session() as session:
        review = access.require_review_named(session, who.user, name, "write")
        if body is None or body.markdown is None:
            raise BadInput([Problem("markdown", 0, "-", "send the section's Markdown")], message="markdown: missing")
        saved = narrative.save_section(session, review, key, body.markdown, actor=who.user.name, title=body.title)
        data = _section_json(saved.section)
    return created(data, Section, status_code=200)


class DocumentChange(BaseModel):
    """The fields of a document to change, as the document page's form: only those sent change; ``null`` or ``""``
    clears an optional one (a title cannot be cleared)."""

    model_config = ConfigDict(extra="forbid")

    title: Line | None = Field(default=None, max_length=500)
    doc_type: Line | None = Field(default=None, max_length=40, description=", ".join(DOCUMENT_TYPES))
    evaluation_type: Line | None = Field(default=None, max_length=80, description="e.g. final independent")
    organisation: Line | None = Field(default=None, max_length=200)
    evaluators: Line | None = Field(default=None, max_length=500)
    period: Line | None = Field(default=None, max_length=80, description="the period evaluated, e.g. 2017-2021")
    year: int | None = Field(
        default=None, strict=True, ge=1, le=9999, description="the year of the document, 1900 to 2100"
    )
    language: Line | None = Field(default=None, max_length=10, description="e.g. en, fr, es")
    project_codes: list[Annotated[Line, Field(max_length=80)]] | None = Field(
        default=None, max_length=500, description="the project codes it is about (replaces the list)"
    )

    @field_validator("project_codes")
    @classmethod
    def _no_comma(cls, codes: list[str] | None) -> list[str] | None:
        """The service reads the codes as a comma-separated list: a comma inside one would make two."""
        for code in codes or []:
            if "," in code:
                raise ValueError(f"the project code {code[:40]!r} holds a comma; send each code as an item")
        return codes


@router.post(
    "/evidence/documents/{document_id}",
    response_model=schemas.JsonObject,
    tags=["evidence"],
    summary="Change a document's details",
)
def edit_document(request: Request, who: WriterDep, document_id: RowId, body: DocumentChange | None = None) -> Response:
    """Title, type, evaluation type, organisation, evaluators, period, year, language and project codes, as the
    document's page and ``lmreview evidence set`` (the site reviewer role); one audit event records the fields
    before and after. The document comes back as ``GET /evidence/documents/{id}`` shows it."""
    need_role(who, "reviewer")
    given = body or DocumentChange()
    changes: dict[str, str | None] = {}
    for name in sorted(given.model_fields_set):
        value = getattr(given, name)
        if name == "project_codes":
            changes[name] = ",".join(value or [])
        elif name == "year":
            changes[name] = "" if value is None else str(value)
        else:
            changes[name] = value if value is not None else ""
    if not changes:
        fields = ", ".join(DocumentChange.model_fields)
        raise BadInput(
            [Problem("document", 0, "-", f"send the fields to change: {fields}")], message="nothing to change"
        )
    with request.app.state.store.session() as session:
        document = evidence.set_metadata(session, document_id, changes, actor=who.user.name)
        session.expire(document, ["projects"])  # as stored (in order), not as just appended
        data = evidence.document_json(document)
    return created(data, schemas.JsonObject, status_code=200)


class LinkDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Line | None = Field(
        default=None,
        max_length=20,
        description="confirm (the code joins the document's codes), reject (it leaves them and is not suggested "
        "again) or suggest (look for projects again)",
    )
    code: Line | None = Field(default=None, max_length=80, description="the project's code (confirm, reject)")


@router.get(
    "/evidence/documents/{document_id}/links",
    response_model=list[schemas.JsonObject],
    tags=["evidence"],
    summary="The projects suggested, confirmed or rejected for a document",
)
def document_links(request: Request, who: CallerDep, document_id: RowId) -> Response:
    """As ``lmreview evidence links ID --json``: suggestions first (best first), then confirmed, then rejected."""
    from lmreview.evidence import links

    with request.app.state.store.session() as session:
        evidence.get_document(session, document_id)
        data = [links.link_json(link) for link in links.links(session, document_id)]
    return etag_json(request, who, data, list[schemas.JsonObject])


@router.post(
    "/evidence/documents/{document_id}/links",
    response_model=list[schemas.JsonObject],
    tags=["evidence"],
    summary="Confirm or reject a project for a document, or look for suggestions again",
)
def decide_link(request: Request, who: WriterDep, document_id: RowId, body: LinkDecision | None = None) -> Response:
    """As the document page's Projects panel (the site reviewer role; audited); the document's links come back."""
    from lmreview.evidence import links

    need_role(who, "reviewer")
    given = body or LinkDecision()
    if given.decision not in ("confirm", "reject", "suggest"):
        raise BadInput(
            [Problem("decision", 0, "-", "choose confirm, reject or suggest")], message="decision: choose one"
        )
    with request.app.state.store.session() as session:
        document = evidence.get_document(session, document_id)
        if given.decision == "suggest":
            links.suggest(session, document)
        else:
            if not (given.code or "").strip():
                raise BadInput([Problem("code", 0, "-", "name the project's code")], message="code: name the project")
            try:
                links.decide(
                    session, document_id, given.code or "", confirm=given.decision == "confirm", actor=who.user.name
                )
            except LmreviewError as exc:  # an invalid code, or none of a portfolio project: the field is wrong
                if type(exc) is not LmreviewError:
                    raise
                raise BadInput([Problem("code", 0, "-", exc.message)], message=f"code: {exc.message}") from None
        data = [links.link_json(link) for link in links.links(session, document_id)]
    return created(data, list[schemas.JsonObject], status_code=200)
