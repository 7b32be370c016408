"""Follow-up in the web UI: the dashboard (all reviews, one review, one unit), a review's register, a
recommendation's page (response, key actions, progress, history), the matrix and the status report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile as FormFile

from lmreview.access import can_see, visible_review_ids
from lmreview.errors import BadInput, Problem
from lmreview.questionnaire.reviews import get_review, list_reviews
from lmreview.store.base import find_row
from lmreview.store.models import User
from lmreview.text import is_number
from lmreview.tracking import lessons, mail, matrix, service, values
from lmreview.tracking import report as tracking_report
from lmreview.tracking.models import ACTION_STATUSES, STANCES, Action, Recommendation
from lmreview.tracking.status import WHICH, actions_behind, tracking_status
from lmreview.web.pages import RowId, flash, read_upload, render, segment
from lmreview.web.security import check_csrf, require, require_member, require_member_of, visible_reviews

router = APIRouter()
FILTERS = ("review", "unit", "year", "theme")
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


def _filters(request: Request, user: User) -> service.RecFilters:
    """The filters of the query, limited to the reviews ``user`` may see."""
    params = request.query_params
    year = (params.get("year") or "").strip()
    if year and not is_number(year, 4):
        raise BadInput([Problem("year", 0, "-", f"{year!r} is not a year")], message=f"year: {year!r} is not a year")
    return service.RecFilters(
        review=params.get("review") or None,
        stance=params.get("stance") or None,
        unit=params.get("unit") or None,
        year=int(year) if year else None,
        theme=params.get("theme") or None,
        visible=_visible(request, user),
    )


def _visible(request: Request, user: User) -> frozenset[int] | None:
    visible = visible_reviews(request, user)
    return None if visible is None else frozenset(visible)


def _rec_access(request: Request, rec_id: int, need: str = "read") -> User:
    """The user when they may ``need`` the review of recommendation ``rec_id`` (a recommendation of an evidence
    document needs the site role: reviewer to change it)."""
    with request.app.state.store.session() as session:
        rec = find_row(session, Recommendation, rec_id)
        review_id = rec.review_id if rec is not None else None
    return require_member_of(
        request,
        review_id,
        need,
        site_role="viewer" if need == "read" else "reviewer",
        missing=f"there is no recommendation {rec_id}: lmreview tracking recs list shows their ids",
    )


def _action_access(request: Request, action_id: int, need: str = "read") -> User:
    with request.app.state.store.session() as session:
        action = find_row(session, Action, action_id)
        rec = find_row(session, Recommendation, action.recommendation_id) if action is not None else None
        review_id = rec.review_id if rec is not None else None
    return require_member_of(
        request,
        review_id,
        need,
        site_role="viewer" if need == "read" else "reviewer",
        missing=f"there is no key action {action_id}: lmreview tracking recs show ID lists them",
    )


def _date(value: str, what: str) -> dt.date | None:
    if not value.strip():
        return None
    day = values.date(value)
    if day is None:
        raise BadInput([Problem(what, 0, "-", f"{value!r} is not a date")], message=f"{what}: {value!r} is not a date")
    return day


def _choices(session: Any, visible: frozenset[int] | None) -> dict[str, Any]:
    recs = service.list_recommendations(session, service.RecFilters(visible=visible))
    return {
        "reviews": [r.name for r in list_reviews(session) if visible is None or r.id in visible],
        "years": sorted({str(r.year) for r in recs if r.year}),
        "themes": sorted({t for r in recs for t in r.themes}),
    }


@router.get("/tracking", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    user = require(request)
    filters = _filters(request, user)
    params = {k: v for k, v in request.query_params.items() if k in FILTERS and v}
    with request.app.state.store.session() as session:
        figures = tracking_status(session, filters)
        units = [(u.name, u.email, u.last_reminded_at) for u in service.list_units(session)]
        choices = _choices(session, filters.visible)
    return render(
        request,
        "tracking/dashboard.html",
        user=user,
        data=figures.as_json(),
        figures=figures,
        params=params,
        units=units,
        stance_labels=values.STANCE_LABELS,
        status_labels=values.STATUS_LABELS,
        **choices,
    )


@router.get("/api/tracking/status")
def api_status(request: Request) -> dict[str, Any]:
    """What `lmreview tracking status --json` prints, for the same filters."""
    user = require(request)
    with request.app.state.store.session() as session:
        return tracking_status(session, _filters(request, user)).as_json()


@router.get("/api/tracking/recommendations")
def api_recommendations(request: Request) -> list[dict[str, Any]]:
    """What `lmreview tracking recs list --json` prints."""
    user = require(request)
    today = dt.date.today()
    with request.app.state.store.session() as session:
        recs = service.list_recommendations(session, _filters(request, user))
        return [service.recommendation_json(session, r, today) for r in recs]


@router.get("/tracking/actions", response_class=HTMLResponse)
def actions_page(request: Request, which: str = "all") -> Response:
    """The key actions behind a figure of the dashboard."""
    user = require(request)
    if which not in WHICH:
        raise BadInput([Problem("which", 0, "-", f"use one of {', '.join(WHICH)}")], message=f"no list {which!r}")
    today = dt.date.today()
    with request.app.state.store.session() as session:
        figures = tracking_status(session, _filters(request, user), today)
        rows = []
        for action_id in actions_behind(figures, which):
            action = service.get_action(session, action_id)
            rec = action.recommendation
            rows.append((service.source_name(session, rec), rec, service.action_json(action, today)))
    params = {k: v for k, v in request.query_params.items() if k in FILTERS and v}
    return render(
        request,
        "tracking/actions.html",
        user=user,
        rows=rows,
        title=WHICH[which],
        params=params,
        status_labels=values.STATUS_LABELS,
    )


@router.get("/tracking/reviews/{name}", response_class=HTMLResponse)
def register_page(request: Request, name: str) -> Response:
    user = require_member(request, name)
    today = dt.date.today()
    with request.app.state.store.session() as session:
        review = get_review(session, name)
        filters = service.RecFilters(review=name)
        recs = [service.recommendation_json(session, r, today) for r in service.list_recommendations(session, filters)]
        figures = tracking_status(session, filters, today)
        title = review.title or review.name
    return render(
        request,
        "tracking/register.html",
        user=user,
        review=name,
        review_title=title,
        recs=recs,
        data=figures.as_json(),
        figures=figures,
        stance_labels=values.STANCE_LABELS,
        status_labels=values.STATUS_LABELS,
    )


@router.post("/tracking/reviews/{name}")
def add_recommendation(
    request: Request,
    name: str,
    csrf_token: Annotated[str, Form()] = "",
    number: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    rationale: Annotated[str, Form()] = "",
    units: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "",
    time_implication: Annotated[str, Form()] = "",
    resource_implication: Annotated[str, Form()] = "",
    projects: Annotated[str, Form()] = "",
    themes: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
) -> Response:
    user = require_member(request, name, "write")
    check_csrf(request, csrf_token)
    if year.strip() and not is_number(year.strip(), 4):
        raise BadInput([Problem("year", 0, "-", f"{year!r} is not a year")], message=f"year: {year!r} is not a year")
    with request.app.state.store.session() as session:
        rec = service.add_recommendation(
            session,
            name,
            number=number,
            text=text,
            actor=user.name,
            rationale=rationale,
            units=units.split(";"),
            priority=priority,
            time_implication=time_implication,
            resource_implication=resource_implication,
            projects=projects.split(";"),
            themes=themes.split(";"),
            year=int(year) if year.strip() else None,
        )
        rec_id = rec.id
    flash(request, f"Added recommendation {number}.")
    return RedirectResponse(f"/tracking/recs/{rec_id}", status_code=303)


@router.get("/tracking/recs/{rec_id}", response_class=HTMLResponse)
def recommendation_page(request: Request, rec_id: RowId) -> Response:
    user = _rec_access(request, rec_id)
    today = dt.date.today()
    with request.app.state.store.session() as session:
        rec = service.get_recommendation(session, rec_id)
        data = service.recommendation_json(session, rec, today)
        comment_ids = {a.id: [c.id for c in a.comments] for a in rec.actions}
        events = [(e.at, e.actor, e.summary) for e in service.history(session, rec)]
        links = [
            (link.unit, link.email, link.sent_at, link.expires_at, link.answered_at)
            for link in service.response_links(session, rec.id)
        ]
    return render(
        request,
        "tracking/recommendation.html",
        user=user,
        rec=data,
        comment_ids=comment_ids,
        events=events,
        links=links,
        stances=STANCES,
        statuses=ACTION_STATUSES,
        stance_labels=values.STANCE_LABELS,
        status_labels=values.STATUS_LABELS,
    )


@router.post("/tracking/recs/{rec_id}")
async def edit_recommendation(request: Request, rec_id: RowId) -> Response:
    user = _rec_access(request, rec_id, "write")
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    changes: dict[str, str | list[str] | int | None] = {
        k: str(form[k]) for k in service.EDITABLE if isinstance(form.get(k), str)
    }
    year = str(form.get("year") or "").strip()
    if year and not is_number(year, 4):
        raise BadInput([Problem("year", 0, "-", f"{year!r} is not a year")], message=f"year: {year!r} is not a year")
    changes["year"] = int(year) if year else None
    with request.app.state.store.session() as session:
        service.update_recommendation(session, rec_id, changes, actor=user.name)
    flash(request, "Saved the recommendation.")
    return RedirectResponse(f"/tracking/recs/{rec_id}", status_code=303)


@router.post("/tracking/recs/{rec_id}/response")
def respond(
    request: Request,
    rec_id: RowId,
    csrf_token: Annotated[str, Form()] = "",
    stance: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    by: Annotated[str, Form()] = "",
) -> Response:
    user = _rec_access(request, rec_id, "write")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        service.respond(session, rec_id, stance=stance, text=text, by=by or user.name, actor=user.name)
    flash(request, "Saved the management response.")
    return RedirectResponse(f"/tracking/recs/{rec_id}", status_code=303)


@router.post("/tracking/recs/{rec_id}/send")
def send_links(request: Request, rec_id: RowId, csrf_token: Annotated[str, Form()] = "") -> Response:
    """E-mail each responsible unit of the recommendation its personal link."""
    user = _rec_access(request, rec_id, "write")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        rec = service.get_recommendation(session, rec_id)
        results = mail.send_links(session, request.app.state.settings, [rec], actor=user.name)
    for r in results:
        if r.outcome == "skipped":
            flash(request, f"Not sent to {r.unit}: {r.detail}.", "error")
        elif r.outcome == "bounced":
            flash(request, f"The mail to {r.unit} <{r.email}> was refused: {r.detail}.", "error")
        else:
            flash(request, f"Sent the link to {r.unit} <{r.email}>.")
    return RedirectResponse(f"/tracking/recs/{rec_id}", status_code=303)


@router.post("/tracking/recs/{rec_id}/actions")
def add_action(
    request: Request,
    rec_id: RowId,
    csrf_token: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    due: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "not_initiated",
) -> Response:
    user = _rec_access(request, rec_id, "write")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        service.add_action(
            session,
            rec_id,
            description=description,
            unit=unit,
            due=_date(due, "due date"),
            status=status,
            actor=user.name,
        )
    flash(request, "Added the key action.")
    return RedirectResponse(f"/tracking/recs/{rec_id}", status_code=303)


@router.post("/tracking/actions/{action_id}")
async def update_action(request: Request, action_id: RowId) -> Response:
    user = _action_access(request, action_id, "write")
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    upload = form.get("file")
    attached = None
    if isinstance(upload, FormFile) and upload.filename:
        attached = await read_upload(request, upload)  # type: ignore[arg-type]

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    with request.app.state.store.session() as session:
        action = service.get_action(session, action_id)
        status = text("status") or None
        action = service.update_action(
            session,
            action_id,
            actor=user.name,
            status=status if status != action.status else None,
            due=_date(text("due"), "due date") if text("due") != str(action.due_date or "") else None,
            comment=text("comment") or None,
            attachment=attached,
        )
        rec_id = action.recommendation_id
    flash(request, "Saved the key action.")
    return RedirectResponse(f"/tracking/recs/{rec_id}#action-{action_id}", status_code=303)


@router.get("/tracking/actions/{action_id}/files/{comment_id}")
def attached_file(request: Request, action_id: RowId, comment_id: RowId) -> Response:
    _action_access(request, action_id)
    with request.app.state.store.session() as session:
        filename, content = service.attachment(session, action_id, comment_id)
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{segment(filename)}"},
    )


@router.get("/tracking/export")
def export(request: Request, format: str = "xlsx") -> Response:
    """The management-response matrix (xlsx, docx) or the status report (html, pdf) of the filtered set."""
    user = require(request)
    if format not in MEDIA:
        raise BadInput([Problem("format", 0, "-", "use xlsx, docx, html or pdf")], message=f"no format {format!r}")
    filters = _filters(request, user)
    with request.app.state.store.session() as session:
        if format in ("html", "pdf"):
            data = tracking_report.render(session, filters, format)
            stem = "follow-up-status"
        else:
            recs = service.list_recommendations(session, filters)
            title = filters.review or "all reviews"
            data = matrix.export_xlsx(session, recs) if format == "xlsx" else matrix.export_docx(session, recs, title)
            stem = "management-response"
    name = f"{stem}{'-' + filters.review if filters.review else ''}.{format}"
    disposition = "inline" if format == "html" else "attachment"
    return Response(
        data,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{segment(name)}"},
    )


MATRIX_LINES_SHOWN = 20  # the changes a dry run lists one by one on the page


@router.post("/tracking/import", response_class=HTMLResponse)
async def import_matrix(
    request: Request,
    file: UploadFile,
    csrf_token: Annotated[str, Form()] = "",
    dry_run: Annotated[str | None, Form()] = None,
) -> Response:
    user = require(request)  # each row's review is checked: its reviewer role (see tracking/matrix.py)
    check_csrf(request, csrf_token)
    filename, data = await read_upload(request, file)
    with request.app.state.store.session() as session:
        report = matrix.import_matrix(session, data, filename, actor=user.name, user=user, dry_run=bool(dry_run))
    if report.dry_run:
        shown = report.lines[:MATRIX_LINES_SHOWN]
        more = len(report.lines) - len(shown)
        for line in shown:
            flash(request, f"Would change {line}.")
        if more:
            flash(request, f"… and {more} more changes.")
    flash(request, f"{filename}: {report.summary()}.")
    return RedirectResponse("/tracking", status_code=303)


def _unit_page(request: Request, token: str, session: Any, saved: bool = False) -> Response:
    link, rec = mail.open_link(session, token)
    return render(
        request,
        "tracking/respond.html",
        rec=service.recommendation_json(session, rec, dt.date.today()),
        unit=link.unit,
        token=token,
        saved=saved,
        stances=STANCES,
        stance_labels=values.STANCE_LABELS,
        status_labels=values.STATUS_LABELS,
    )


@router.get("/t/{token}", response_class=HTMLResponse)
def unit_response_page(request: Request, token: str, saved: int = 0) -> Response:
    """A responsible unit's page, opened from its personal link (no account)."""
    with request.app.state.store.session() as session:
        return _unit_page(request, token, session, saved=bool(saved))


@router.post("/t/{token}", response_class=HTMLResponse)
async def unit_response(request: Request, token: str) -> Response:
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    descriptions = [v for v in form.getlist("action_description") if isinstance(v, str)]
    dues = [v for v in form.getlist("action_due") if isinstance(v, str)]
    with request.app.state.store.session() as session:
        mail.answer(
            session,
            token,
            stance=text("stance"),
            text=text("text"),
            by=text("by"),
            actions=list(zip(descriptions, dues + [""] * (len(descriptions) - len(dues)), strict=False)),
        )
    return RedirectResponse(f"/t/{token}?saved=1", status_code=303)


@router.get("/tracking/lessons", response_class=HTMLResponse)
def lessons_page(request: Request) -> Response:
    """The library of lessons and good practices: search, filters, and (for reviewers) a form to add one."""
    user = require(request)
    p = request.query_params
    if p.get("review"):
        require_member(request, p["review"])  # a review the user may not see is no filter either
    year = (p.get("year") or "").strip()
    if year and not is_number(year, 4):
        raise BadInput([Problem("year", 0, "-", f"{year!r} is not a year")], message=f"year: {year!r} is not a year")
    filters = lessons.LessonFilters(
        query=p.get("q") or None,
        kind=p.get("kind") or None,
        project=p.get("project") or None,
        theme=p.get("theme") or None,
        year=int(year) if year else None,
        review=p.get("review") or None,
    )
    with request.app.state.store.session() as session:
        visible = visible_review_ids(session, user)  # a lesson drawn from a review the user may not see is left out
        found = [lessons.lesson_json(session, x) for x in lessons.list_lessons(session, filters, visible)]
        reviews = [r.name for r in list_reviews(session) if can_see(visible, r.id)]
    return render(
        request,
        "tracking/lessons.html",
        user=user,
        lessons=found,
        params={k: v for k, v in p.items() if v},
        reviews=reviews,
        kind_labels=lessons.KIND_LABELS,
        lesson_fields=lessons.LESSON_FIELDS,
        practice_fields=lessons.PRACTICE_FIELDS,
    )


@router.post("/tracking/lessons")
async def add_lesson(request: Request) -> Response:
    user = require(request, "reviewer")
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def number(name: str) -> int | None:
        value = text(name)
        if value and not is_number(value):
            raise BadInput([Problem(name, 0, "-", f"{value!r} is not a number")], message=f"{name}: not a number")
        return int(value) if value else None

    if text("review"):
        require_member(request, text("review"))
    kind = text("kind")
    names = lessons.LESSON_FIELDS if kind == "lesson" else lessons.PRACTICE_FIELDS
    with request.app.state.store.session() as session:
        lesson = lessons.add_lesson(
            session,
            kind=kind,
            title=text("title"),
            text=text("text"),
            actor=user.name,
            fields={k: text(k) for k in names},
            review=text("review") or None,
            document_id=number("document"),
            page=number("page"),
            projects=text("projects").split(";"),
            themes=text("themes").split(";"),
            year=number("year"),
        )
        lesson_id = lesson.id
    flash(request, "Added to the library.")
    return RedirectResponse(f"/tracking/lessons/{lesson_id}", status_code=303)


@router.get("/tracking/lessons/{lesson_id}", response_class=HTMLResponse)
def lesson_profile(request: Request, lesson_id: RowId) -> Response:
    """A lesson's or good practice's profile, laid out to be printed."""
    user = require(request)
    with request.app.state.store.session() as session:
        data = lessons.lesson_json(session, lessons.get_lesson(session, lesson_id, visible_review_ids(session, user)))
    labels = lessons.LESSON_FIELDS if data["kind"] == "lesson" else lessons.PRACTICE_FIELDS
    return render(
        request, "tracking/lesson.html", user=user, lesson=data, labels=labels, kind_labels=lessons.KIND_LABELS
    )


@router.post("/tracking/lessons/{lesson_id}")
async def edit_lesson(request: Request, lesson_id: RowId) -> Response:
    """Save the edit form of a lesson's profile: every field of the form is the new value (empty clears)."""
    user = require(request, "reviewer")
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    year = text("year")
    if year and not (is_number(year, 4) and 1 <= int(year) <= 9999):
        raise BadInput([Problem("year", 0, "-", f"{year!r} is not a year")], message=f"year: {year!r} is not a year")
    with request.app.state.store.session() as session:
        kind = lessons.get_lesson(session, lesson_id, visible_review_ids(session, user)).kind
        names = lessons.LESSON_FIELDS if kind == "lesson" else lessons.PRACTICE_FIELDS
        lessons.update_lesson(
            session,
            lesson_id,
            actor=user.name,
            title=text("title"),
            text=text("text"),
            fields={k: text(k) for k in names},
            projects=text("projects").split(";"),
            themes=text("themes").split(";"),
            year=int(year) if year else None,
            clear_year=not year,
        )
    flash(request, "Saved.")
    return RedirectResponse(f"/tracking/lessons/{lesson_id}", status_code=303)


@router.post("/tracking/lessons/{lesson_id}/remove")
def remove_lesson(request: Request, lesson_id: RowId, csrf_token: Annotated[str, Form()] = "") -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        lessons.get_lesson(session, lesson_id, visible_review_ids(session, user))  # one of a hidden review: 404
        title = lessons.remove_lesson(session, lesson_id, actor=user.name)
    flash(request, f"Removed {title!r} from the library.")
    return RedirectResponse("/tracking/lessons", status_code=303)
