"""``/api/v1`` follow-up writes beyond the response and the progress (see writes.py): a review's new
recommendations, their corrections and key actions, and the library of lessons learned and good practices — the
same service functions as the follow-up pages and ``lmreview tracking``.

Rights as on the web: a recommendation of a review is added and changed by the review's reviewers and managers (a
reader hears 403, a non-member 404 as for an unknown id); lessons by the site's reviewers. A lesson drawn from a
review the caller may not see is, to them, no lesson at all: left out of the list, 404 by its id."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lmreview import access
from lmreview.errors import BadInput, NotFound, Problem
from lmreview.store.models import User
from lmreview.tracking import lessons
from lmreview.tracking import service as tracking
from lmreview.tracking.models import Action, Lesson, Recommendation
from lmreview.web.api import schemas
from lmreview.web.api.deps import CallerDep, WriterDep, created, etag_json, need_role
from lmreview.web.api.schemas import Line, Text
from lmreview.web.api.writes import changeable_recommendation
from lmreview.web.pages import RowId, attachment, read_upload

router = APIRouter(tags=["tracking"])
Year = Annotated[int, Field(strict=True, ge=1, le=9999, description="a year, 1 to 9999")]
Names = Annotated[list[Annotated[Line, Field(max_length=120)]], Field(max_length=200)]
LongText = Annotated[Text, Field(max_length=20_000)]
NAME_LISTS = ("units", "projects", "themes")


def _missing(field: str, message: str) -> BadInput:
    return BadInput([Problem(field, 0, "-", message)], message=f"{field}: {message}")


def _readable_recommendation(session: Session, user: User, rec_id: int) -> Recommendation:
    """The recommendation when ``user`` may read it; a non-member of its review hears what an unknown id hears."""
    rec = session.get(Recommendation, rec_id)
    if rec is None or (rec.review_id is not None and access.review_role(session, user, rec.review_id) is None):
        raise NotFound(f"there is no recommendation {rec_id}")
    return rec


class RecommendationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: Line | None = Field(default=None, max_length=20, description="unique in the review, e.g. 3 or 3.2")
    text: LongText | None = Field(default=None, description="the recommendation (required)")
    rationale: LongText | None = None
    units: Names | None = Field(default=None, description="the responsible units")
    priority: Line | None = Field(default=None, max_length=40)
    time_implication: Line | None = Field(default=None, max_length=200)
    resource_implication: Line | None = Field(default=None, max_length=200)
    projects: Names | None = Field(default=None, description="project codes")
    themes: Names | None = None
    year: Year | None = None


@router.post(
    "/reviews/{name}/recommendations",
    response_model=schemas.JsonObject,
    status_code=201,
    summary="Add a recommendation to a review's follow-up",
)
def add_recommendation(request: Request, who: WriterDep, name: str, body: RecommendationIn | None = None) -> Response:
    """As the review's register page and ``lmreview tracking recs add``: a reviewer or manager of the review; the
    recommendation comes back as ``GET /tracking/recommendations/{id}`` shows it."""
    with request.app.state.store.session() as session:
        access.require_review_named(session, who.user, name, "write")
        given = body or RecommendationIn()
        if not (given.number or "").strip():
            raise _missing("number", "a recommendation needs a number, such as 1 or 3.2")
        rec = tracking.add_recommendation(
            session,
            name,
            number=given.number or "",
            text=given.text or "",
            actor=who.user.name,
            rationale=(given.rationale or "").strip() or None,
            units=given.units,
            priority=(given.priority or "").strip() or None,
            time_implication=(given.time_implication or "").strip() or None,
            resource_implication=(given.resource_implication or "").strip() or None,
            projects=given.projects,
            themes=given.themes,
            year=given.year,
        )
        data = tracking.recommendation_json(session, rec, dt.date.today())
    return created(data, schemas.JsonObject)


@router.get(
    "/tracking/recommendations/{rec_id}",
    response_model=schemas.JsonObject,
    summary="One recommendation with its response and key actions",
)
def get_recommendation(request: Request, who: CallerDep, rec_id: RowId) -> Response:
    with request.app.state.store.session() as session:
        rec = _readable_recommendation(session, who.user, rec_id)
        data = tracking.recommendation_json(session, rec, dt.date.today())
    return etag_json(request, who, data, schemas.JsonObject)


class RecommendationChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: LongText | None = Field(default=None, description="cannot be emptied")
    rationale: LongText | None = None
    units: Names | None = None
    priority: Line | None = Field(default=None, max_length=40)
    time_implication: Line | None = Field(default=None, max_length=200)
    resource_implication: Line | None = Field(default=None, max_length=200)
    projects: Names | None = None
    themes: Names | None = None
    year: Year | None = None


@router.post(
    "/tracking/recommendations/{rec_id}",
    response_model=schemas.JsonObject,
    summary="Correct a recommendation",
)
def edit_recommendation(
    request: Request, who: WriterDep, rec_id: RowId, body: RecommendationChange | None = None
) -> Response:
    """As the recommendation's edit form: only the fields sent change (``null`` or ``""`` clears an optional one;
    a list replaces the list); audited with the values before and after. Nothing to change answers 422."""
    with request.app.state.store.session() as session:
        changeable_recommendation(session, who.user, rec_id)
        given = body or RecommendationChange()
        changes: dict[str, str | list[str] | int | None] = {}
        for key in given.model_fields_set:
            value = getattr(given, key)
            changes[key] = value if value is not None or key == "year" else ([] if key in NAME_LISTS else "")
        if not changes:
            raise _missing(
                "recommendation", "send the fields to change: " + ", ".join(RecommendationChange.model_fields)
            )
        rec = tracking.update_recommendation(session, rec_id, changes, actor=who.user.name)
        data = tracking.recommendation_json(session, rec, dt.date.today())
    return created(data, schemas.JsonObject, status_code=200)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: LongText | None = Field(default=None, description="what is to be done (required)")
    unit: Line | None = Field(default=None, max_length=120, description="the responsible unit")
    due: dt.date | None = Field(default=None, description="the due date")
    status: Line | None = Field(
        default=None, max_length=40, description="not_initiated (default), initiated, completed or no_longer_applicable"
    )


class ActionAdded(BaseModel):
    action: schemas.JsonObject
    recommendation: schemas.JsonObject


@router.post(
    "/tracking/recommendations/{rec_id}/actions",
    response_model=ActionAdded,
    status_code=201,
    summary="Add a key action to a recommendation",
)
def add_action(request: Request, who: WriterDep, rec_id: RowId, body: ActionIn | None = None) -> Response:
    """As the recommendation's page and ``lmreview tracking action add``: the new action, and the recommendation
    with all its actions."""
    with request.app.state.store.session() as session:
        changeable_recommendation(session, who.user, rec_id)
        given = body or ActionIn()
        if not (given.description or "").strip():
            raise _missing("description", "describe the key action")
        action = tracking.add_action(
            session,
            rec_id,
            description=given.description or "",
            unit=given.unit,
            due=given.due,
            status=(given.status or "").strip() or "not_initiated",
            actor=who.user.name,
        )
        today = dt.date.today()
        rec = tracking.get_recommendation(session, rec_id)
        data = {
            "action": tracking.action_json(action, today),
            "recommendation": tracking.recommendation_json(session, rec, today),
        }
    return created(data, ActionAdded)


# --- lessons learned and good practices ----------------------------------------------------------------------------


class LessonOut(BaseModel):
    id: int
    kind: str = Field(description="lesson or good_practice")
    title: str
    text: str
    fields: dict[str, str | None] = Field(
        description="a lesson's context, challenge, targeted_users, relevance; a good practice's success_elements, "
        "replicability, objectives_link, impact"
    )
    source: dict[str, Any] = Field(description='{"review", "document_id", "document", "page"}')
    projects: list[str]
    themes: list[str]
    year: int | None


FIELD_NAMES = ", ".join([*lessons.LESSON_FIELDS, *lessons.PRACTICE_FIELDS])
Fields = Annotated[
    dict[Annotated[Line, Field(max_length=40)], LongText],
    Field(max_length=8, description=f"template fields by name: {FIELD_NAMES}"),
]


class LessonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Line | None = Field(default=None, max_length=40, description="lesson or good_practice (required)")
    title: Line | None = Field(default=None, max_length=300, description="required")
    text: LongText | None = Field(default=None, description="required")
    fields: Fields | None = None
    review: Line | None = Field(default=None, max_length=80, description="the review it is drawn from")
    document: int | None = Field(default=None, strict=True, ge=1, le=2**31 - 1, description="or the evidence document")
    page: int | None = Field(default=None, strict=True, ge=1, le=2**31 - 1, description="the page of that document")
    projects: Names | None = None
    themes: Names | None = None
    year: Year | None = None


class LessonChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line | None = Field(default=None, max_length=300, description="cannot be emptied")
    text: LongText | None = Field(default=None, description="cannot be emptied")
    fields: Fields | None = Field(default=None, description="the fields sent; an empty value clears one")
    projects: Names | None = None
    themes: Names | None = None
    year: Year | None = Field(default=None, description="null clears it")


def _lesson(session: Session, user: User, lesson_id: int) -> Lesson:
    """The lesson, when its review (if any) is one ``user`` may see; otherwise what an unknown id hears."""
    return lessons.get_lesson(session, lesson_id, access.visible_review_ids(session, user))


@router.get("/tracking/lessons", response_model=list[LessonOut], summary="The library of lessons and good practices")
def list_lessons(
    request: Request,
    who: CallerDep,
    q: Annotated[str, Query(max_length=500, description="words, each in one of the text fields")] = "",
    kind: Annotated[str, Query(max_length=40)] = "",
    project: Annotated[str, Query(max_length=120)] = "",
    theme: Annotated[str, Query(max_length=120)] = "",
    year: Annotated[int | None, Query(ge=1, le=9999)] = None,
    review: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    """Newest first, with the filters of the library page; lessons of reviews you may not see are left out."""
    with request.app.state.store.session() as session:
        if review:
            access.require_review_named(session, who.user, review)
        filters = lessons.LessonFilters(
            query=q or None,
            kind=kind or None,
            project=project or None,
            theme=theme or None,
            year=year,
            review=review or None,
        )
        visible = access.visible_review_ids(session, who.user)
        data = [lessons.lesson_json(session, x) for x in lessons.list_lessons(session, filters, visible)]
    return etag_json(request, who, data, list[LessonOut])


@router.get("/tracking/lessons/{lesson_id}", response_model=LessonOut, summary="A lesson or good practice")
def get_lesson(request: Request, who: CallerDep, lesson_id: RowId) -> Response:
    with request.app.state.store.session() as session:
        data = lessons.lesson_json(session, _lesson(session, who.user, lesson_id))
    return etag_json(request, who, data, LessonOut)


@router.post("/tracking/lessons", response_model=LessonOut, status_code=201, summary="Add a lesson or good practice")
def add_lesson(request: Request, who: WriterDep, body: LessonIn | None = None) -> Response:
    """As the library's form and ``lmreview tracking lessons add`` (the site reviewer role; a review named as the
    source must be one you may see). Audited."""
    need_role(who, "reviewer")
    given = body or LessonIn()
    with request.app.state.store.session() as session:
        if given.review:
            access.require_review_named(session, who.user, given.review)
        lesson = lessons.add_lesson(
            session,
            kind=given.kind or "",
            title=given.title or "",
            text=given.text or "",
            actor=who.user.name,
            fields=given.fields,
            review=given.review or None,
            document_id=given.document,
            page=given.page,
            projects=given.projects,
            themes=given.themes,
            year=given.year,
        )
        data = lessons.lesson_json(session, lesson)
    return created(data, LessonOut)


@router.post("/tracking/lessons/{lesson_id}", response_model=LessonOut, summary="Change a lesson or good practice")
def edit_lesson(request: Request, who: WriterDep, lesson_id: RowId, body: LessonChange | None = None) -> Response:
    """Only the fields sent change (``"year": null`` clears the year); audited with the values before and after."""
    need_role(who, "reviewer")
    given = body or LessonChange()
    with request.app.state.store.session() as session:
        _lesson(session, who.user, lesson_id)
        lesson = lessons.update_lesson(
            session,
            lesson_id,
            actor=who.user.name,
            title=given.title,
            text=given.text,
            fields=given.fields,
            projects=given.projects,
            themes=given.themes,
            year=given.year,
            clear_year="year" in given.model_fields_set and given.year is None,
        )
        data = lessons.lesson_json(session, lesson)
    return created(data, LessonOut, status_code=200)


class LessonRemoved(BaseModel):
    id: int
    removed: str = Field(description="its title")


@router.delete(
    "/tracking/lessons/{lesson_id}", response_model=LessonRemoved, summary="Remove a lesson or good practice"
)
def remove_lesson(request: Request, who: WriterDep, lesson_id: RowId) -> Response:
    """Out of the library; the audit log keeps what it said."""
    need_role(who, "reviewer")
    with request.app.state.store.session() as session:
        _lesson(session, who.user, lesson_id)
        title = lessons.remove_lesson(session, lesson_id, actor=who.user.name)
    return created({"id": lesson_id, "removed": title}, LessonRemoved, status_code=200)


# --- a file with a progress comment, and the links mailed to the responsible units ---------------------------------


class CommentAdded(BaseModel):
    comment_id: int = Field(description="the file is at GET /tracking/actions/{id}/files/{comment_id}")
    file: str
    recommendation: schemas.JsonObject


def _action_for(session: Session, user: User, action_id: int, need: str) -> Action:
    """The key action when ``user`` may ``need`` (read or write) its recommendation; a non-member of its review
    hears what an unknown id hears."""
    missing = NotFound(f"there is no key action {action_id}")
    action = session.get(Action, action_id)
    if action is None:
        raise missing
    try:
        if need == "read":
            _readable_recommendation(session, user, action.recommendation_id)
        else:
            changeable_recommendation(session, user, action.recommendation_id)
    except NotFound:
        raise missing from None
    return action


@router.post(
    "/tracking/actions/{action_id}/files",
    response_model=CommentAdded,
    status_code=201,
    summary="Attach a file to a key action, with a progress comment",
)
async def attach_file(
    request: Request,
    who: WriterDep,
    action_id: RowId,
    file: UploadFile,
    comment: Annotated[str, Form(max_length=20_000, description="the progress comment the file goes with")] = "",
) -> Response:
    """As the key action's form on the recommendation's page: a dated progress comment with its file (the
    evidence of progress: a decree, minutes, a report), audited."""
    with request.app.state.store.session() as session:
        _action_for(session, who.user, action_id, "write")
    attached = await read_upload(request, file)

    def run() -> dict[str, Any]:
        with request.app.state.store.session() as session:
            action = _action_for(session, who.user, action_id, "write")
            tracking.update_action(
                session, action_id, actor=who.user.name, comment=comment, author=who.user.name, attachment=attached
            )
            note = action.comments[-1]
            rec = tracking.get_recommendation(session, action.recommendation_id)
            return {
                "comment_id": note.id,
                "file": note.filename or "",
                "recommendation": tracking.recommendation_json(session, rec, dt.date.today()),
            }

    return created(await run_in_threadpool(run), CommentAdded)


@router.get(
    "/tracking/actions/{action_id}/files/{comment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
    summary="A file attached to a key action's progress comment",
)
def attached_file(request: Request, who: CallerDep, action_id: RowId, comment_id: RowId) -> Response:
    with request.app.state.store.session() as session:
        _action_for(session, who.user, action_id, "read")
        filename, content = tracking.attachment(session, action_id, comment_id)
    return Response(content, media_type="application/octet-stream", headers=attachment(filename))


class Mailed(BaseModel):
    unit: str
    email: str
    outcome: str = Field(description="sent, written (a dry run), bounced or skipped (with the reason)")
    detail: str


class LinksSent(BaseModel):
    mailed: list[Mailed]


@router.post(
    "/tracking/recommendations/{rec_id}/send",
    response_model=LinksSent,
    summary="E-mail each responsible unit its link to answer the recommendation",
)
def send_links(request: Request, who: WriterDep, rec_id: RowId) -> Response:
    """As the recommendation's page (Send links) and ``lmreview tracking send``: one message per responsible unit
    with an e-mail address, through the configured mail server; a unit without one is skipped, with the reason."""
    from lmreview.tracking import mail

    with request.app.state.store.session() as session:
        changeable_recommendation(session, who.user, rec_id)
        rec = tracking.get_recommendation(session, rec_id)
        results = mail.send_links(session, request.app.state.settings, [rec], actor=who.user.name)
        data = {
            "mailed": [{"unit": r.unit, "email": r.email, "outcome": r.outcome, "detail": r.detail} for r in results]
        }
    return created(data, LinksSent, status_code=200)
