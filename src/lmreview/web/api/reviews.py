"""``/api/v1/reviews`` and ``/api/v1/forms``: reviews, questionnaires, respondents, submissions and their versions,
tabulations, ratings, report files, and the import of a KoboToolbox / ODK export. Everything about one review goes
through ``lmreview.access``: a review the caller may not see is not found (404), one they may see but not change
answers 403 to a change."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from lmreview import access
from lmreview.analysis.ratings import ratings_summary
from lmreview.analysis.tabulate import tabulate
from lmreview.errors import NotFound
from lmreview.questionnaire import forms, respondents, responses, reviews, submissions
from lmreview.questionnaire.models import Review
from lmreview.store.models import User
from lmreview.web.api import schemas
from lmreview.web.api.deps import Caller, CallerDep, Limit, Offset, WriterDep, created, etag_json, need_role
from lmreview.web.pages import RowId, attachment, read_upload

router = APIRouter(tags=["reviews"])
REPORT_MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _review(session: Session, user: User, name: str, need: str = "read") -> Review:
    """The review named ``name`` as ``access`` lets ``user`` have it: a review they may not see answers word for word
    what a review that does not exist answers."""
    return access.require_review_named(session, user, name, need)


def review_json(session: Session, review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "name": review.name,
        "title": review.title,
        "period": review.period,
        "status": review.status,
        "portfolio": reviews.portfolio_name(session, review),
        "form": review.form.name if review.form else None,
        "created_at": review.created_at,
    }


@router.get("/reviews", response_model=list[schemas.Review], summary="List the reviews you may see")
def list_reviews(request: Request, who: CallerDep) -> Response:
    with request.app.state.store.session() as session:
        visible = access.visible_review_ids(session, who.user)
        rows = [review_json(session, r) for r in reviews.list_reviews(session) if visible is None or r.id in visible]
    return etag_json(request, who, rows, list[schemas.Review])


@router.post("/reviews", response_model=schemas.Review, status_code=201, summary="Create a review")
def create_review(request: Request, who: WriterDep, body: schemas.ReviewCreate) -> Response:
    """As the Reviews page and ``lmreview review create``: needs the reviewer role."""
    need_role(who, "reviewer")
    with request.app.state.store.session() as session:
        review = reviews.create_review(
            session,
            body.name.strip(),
            actor=who.user.name,
            title=(body.title or "").strip() or None,
            period=(body.period or "").strip() or None,
            portfolio=body.portfolio or None,
            form=body.form or None,
            template=body.template or None,
        )
        access.make_manager(session, review, who.user, actor=who.user.name)
        session.flush()
        data = review_json(session, review)
    return created(data, schemas.Review)


@router.get("/reviews/{name}", response_model=schemas.ReviewDetail, summary="A review and its response rate")
def get_review(request: Request, who: CallerDep, name: str) -> Response:
    with request.app.state.store.session() as session:
        review = _review(session, who.user, name)
        data = {**review_json(session, review), "response_status": reviews.response_status(session, review).as_json()}
    return etag_json(request, who, data, schemas.ReviewDetail)


def _respondent_json(row: respondents.RespondentRow) -> dict[str, Any]:
    r = row.respondent
    return {
        "id": r.id,
        "name": r.name,
        "email": r.email,
        "project_code": r.project_code,
        "project_title": row.project_title,
        "role": r.role,
        "office": r.office,
        "language": r.language,
        "status": row.status,
    }


@router.get(
    "/reviews/{name}/respondents", response_model=schemas.Page[schemas.Respondent], summary="A review's respondents"
)
def list_respondents(
    request: Request,
    who: CallerDep,
    name: str,
    limit: Limit = 100,
    offset: Offset = 0,
    status: Literal["not_invited", "invited", "opened", "draft", "submitted", "entered", "declined", "bounced"]
    | None = None,
) -> Response:
    """In the roster's order (project code, name), as the review page pages them; ``status`` keeps those at that
    step."""
    with request.app.state.store.session() as session:
        review = _review(session, who.user, name)
        rows, total = respondents.page_respondents(session, review, limit=limit, offset=offset, status=status)
        data = {"items": [_respondent_json(r) for r in rows], "total": total, "limit": limit, "offset": offset}
    return etag_json(request, who, data, schemas.Page[schemas.Respondent])


@router.post(
    "/reviews/{name}/respondents", response_model=schemas.Respondent, status_code=201, summary="Add a respondent"
)
def add_respondent(request: Request, who: WriterDep, name: str, body: schemas.RespondentCreate) -> Response:
    """As the review page: the roster is run by a manager of the review."""
    with request.app.state.store.session() as session:
        review = _review(session, who.user, name, "manage")
        person = respondents.add_respondent(
            session,
            review,
            name=body.name,
            email=body.email or "",
            project_code=body.project_code or "",
            role=(body.role or "").strip() or None,
            office=(body.office or "").strip() or None,
            language=(body.language or "").strip() or None,
            actor=who.user.name,
        )
        session.flush()
        row = next(r for r in respondents.list_respondents(session, review) if r.respondent.id == person.id)
        data = _respondent_json(row)
    return created(data, schemas.Respondent)


def _submission_json(s: Any, detail: bool = False) -> dict[str, Any]:
    data = {
        "id": s.id,
        "instance_id": s.instance_id,
        "status": s.status,
        "review_state": s.review_state,
        "source": s.source,
        "form_version": s.form_version.version,
        "respondent_id": s.respondent_id,
        "project_id": s.project_id,
        "submitted_at": s.submitted_at,
        "updated_at": s.updated_at,
        "changes": len(s.changes),
    }
    if detail:
        data |= {"data": s.data, "original": s.original}
    return data


@router.get(
    "/reviews/{name}/submissions", response_model=schemas.Page[schemas.Submission], summary="A review's submissions"
)
def list_submissions(
    request: Request,
    who: CallerDep,
    name: str,
    limit: Limit = 100,
    offset: Offset = 0,
    status: Literal["draft", "submitted"] | None = None,
    review_state: Literal["received", "has_issues", "approved", "rejected"] | None = None,
) -> Response:
    """In the order they were stored, as the review page pages them, filtered by ``status`` and ``review_state``."""
    with request.app.state.store.session() as session:
        review = _review(session, who.user, name)
        found, total = submissions.page_submissions(
            session, review, limit=limit, offset=offset, status=status, review_state=review_state
        )
        data = {"items": [_submission_json(s) for s in found], "total": total, "limit": limit, "offset": offset}
    return etag_json(request, who, data, schemas.Page[schemas.Submission])


def _version_json(c: Any) -> dict[str, Any]:
    return {"id": c.id, "path": c.path, "old": c.old, "new": c.new, "actor": c.actor, "at": c.at, "reason": c.reason}


def _submission(session: Session, user: User, name: str, submission_id: int) -> Any:
    review = _review(session, user, name)
    found = submissions.get_submission(session, submission_id)
    if found.review_id != review.id:
        raise NotFound(f"review {name} has no submission {submission_id}")
    return found


@router.get(
    "/reviews/{name}/submissions/{submission_id}",
    response_model=schemas.SubmissionDetail,
    summary="A submission with its answers",
)
def get_submission(request: Request, who: CallerDep, name: str, submission_id: RowId) -> Response:
    with request.app.state.store.session() as session:
        data = _submission_json(_submission(session, who.user, name, submission_id), detail=True)
    return etag_json(request, who, data, schemas.SubmissionDetail)


@router.get(
    "/reviews/{name}/submissions/{submission_id}/versions",
    response_model=list[schemas.SubmissionVersion],
    summary="The changes of a submission's answers, oldest first",
)
def submission_versions(request: Request, who: CallerDep, name: str, submission_id: RowId) -> Response:
    with request.app.state.store.session() as session:
        found = _submission(session, who.user, name, submission_id)
        rows = [_version_json(c) for c in found.changes]
    return etag_json(request, who, rows, list[schemas.SubmissionVersion])


@router.post(
    "/reviews/{name}/submissions/{submission_id}/versions",
    response_model=schemas.SubmissionVersion,
    status_code=201,
    summary="Change one answer, with the reason",
)
def change_answer(
    request: Request, who: WriterDep, name: str, submission_id: RowId, body: schemas.AnswerChange
) -> Response:
    """A reviewer's correction, as on the submission page: the new value is checked as the form would check it,
    and the change (a new version of the submission) keeps the old value, who, when and why."""
    with request.app.state.store.session() as session:
        _review(session, who.user, name, "write")
        found = _submission(session, who.user, name, submission_id)
        c = submissions.change_answer(session, found, body.path, body.value, reason=body.reason, actor=who.user.name)
        data = _version_json(c)
    return created(data, schemas.SubmissionVersion)


@router.post(
    "/reviews/{name}/submissions/{submission_id}/state",
    response_model=schemas.Submission,
    summary="Mark a submitted submission received, has_issues, approved or rejected",
)
def set_state(request: Request, who: WriterDep, name: str, submission_id: RowId, body: schemas.ReviewState) -> Response:
    with request.app.state.store.session() as session:
        _review(session, who.user, name, "write")
        found = _submission(session, who.user, name, submission_id)
        submissions.set_review_state(session, found, body.state, actor=who.user.name, comment=body.comment)
        data = _submission_json(found)
    return created(data, schemas.Submission, status_code=200)


@router.get("/reviews/{name}/tabulate", response_model=schemas.JsonObject, summary="Tabulate one question")
def tabulate_question(
    request: Request,
    who: CallerDep,
    name: str,
    question: Annotated[str, Query(description="the question's path or unique name")],
    by: Annotated[str | None, Query(description="a project field or another question to cross-tabulate by")] = None,
) -> Response:
    """Counts, shares with 95% intervals or a numeric summary with every denominator: the same object as
    ``lmreview tabulate --review NAME --question PATH [--by FIELD] --json``."""
    with request.app.state.store.session() as session:
        review = _review(session, who.user, name)
        data = tabulate(session, review, question, by=by or None).as_json()
    return etag_json(request, who, data, schemas.JsonObject)


@router.get("/reviews/{name}/ratings", response_model=schemas.JsonObject, summary="The criteria ratings summary")
def ratings(request: Request, who: CallerDep, name: str) -> Response:
    """The same object as ``lmreview ratings summary --review NAME --json``."""
    with request.app.state.store.session() as session:
        data = ratings_summary(session, _review(session, who.user, name)).as_json()
    return etag_json(request, who, data, schemas.JsonObject)


@router.get(
    "/reviews/{name}/report/{fmt}",
    summary="Download the review's report",
    response_class=Response,
    responses={200: {"content": {m.split(";")[0]: {} for m in REPORT_MEDIA.values()}, "description": "the file"}},
)
def download_report(
    request: Request, who: CallerDep, name: str, fmt: Literal["html", "xlsx", "docx", "pdf"]
) -> Response:
    """The report as the report page offers it, in HTML, XLSX, DOCX or PDF (the CLI's ``report build``)."""
    from lmreview.analysis.review_report import review_report
    from lmreview.report import charts, docx, html, pdf, xlsx

    with request.app.state.store.session() as session:
        review = _review(session, who.user, name)
        report = review_report(session, review.name)
    drawn = charts.report_charts(report, png=fmt == "docx")
    if fmt == "html":
        data = html.render_html(report, drawn, link_base="").encode()
    elif fmt == "pdf":
        data = pdf.render_pdf(html.render_print_html(report, drawn))
    elif fmt == "docx":
        data = docx.render_docx(report, drawn)
    else:
        data = xlsx.render_xlsx(report, drawn)
    return Response(data, media_type=REPORT_MEDIA[fmt], headers=attachment(f"{report.review}-report.{fmt}"))


def _import_json(result: responses.ResponseImport, filename: str) -> dict[str, Any]:
    return {
        "form": result.form,
        "review": result.review,
        "filename": filename,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "attached": result.attached,
        "warnings": [str(w) for w in result.warnings],
    }


async def _import(request: Request, who: Caller, file: UploadFile, form: str | None, review: str | None) -> Response:
    filename, data = await read_upload(request, file)

    def run() -> dict[str, Any]:
        with request.app.state.store.write_session() as session:
            target: Review | None = None
            visible = access.visible_review_ids(session, who.user)
            if review is not None:
                target = _review(session, who.user, review, "write")
            else:
                assert form is not None
                # only the reviews the caller may see are candidates: a non-member learns no name and no id
                found, _ = submissions.review_for_import(session, form, None, visible)
                target = access.require_review(session, who.user, found.id, "write") if found is not None else None
                if target is None:
                    need_role(who, "reviewer")
            form_name = form
            if form_name is None:
                assert target is not None
                if target.form is None:
                    raise NotFound(f"review {target.name} has no questionnaire: choose one before importing responses")
                form_name = target.form.name
            imported = submissions.import_responses(
                session, form_name, data, filename, actor=who.user.name, review=target, visible=visible
            )
            return _import_json(imported.result, filename)

    return created(await run_in_threadpool(run), schemas.ResponseImport)


@router.post(
    "/reviews/{name}/responses",
    response_model=schemas.ResponseImport,
    status_code=201,
    summary="Import a KoboToolbox or ODK export into the review",
)
async def import_review_responses(request: Request, who: WriterDep, name: str, file: UploadFile) -> Response:
    """The same import as the review page and ``lmreview responses import``: one transaction; an export with any
    error writes nothing and answers 422 with every located problem (``FILE:ROW:COLUMN: message``)."""
    return await _import(request, who, file, None, name)


@router.post(
    "/forms/{name}/responses",
    response_model=schemas.ResponseImport,
    status_code=201,
    summary="Import a KoboToolbox or ODK export of a questionnaire",
)
async def import_form_responses(
    request: Request,
    who: WriterDep,
    name: str,
    file: UploadFile,
    review: Annotated[str, Form(description="the review the answers belong to (default: the one using the form)")] = "",
) -> Response:
    """Into the review named, or the one review that uses the questionnaire, or the questionnaire alone."""
    return await _import(request, who, file, name, review.strip() or None)


@router.post(
    "/reviews/{name}/roster",
    response_model=schemas.RosterImport,
    status_code=201,
    summary="Import a roster of respondents (CSV or XLSX)",
)
async def import_roster(request: Request, who: WriterDep, name: str, file: UploadFile) -> Response:
    """As the review page's roster upload and ``lmreview respondents import`` (a manager of the review): a file with
    any error writes nothing."""
    filename, data = await read_upload(request, file)

    def run() -> dict[str, Any]:
        with request.app.state.store.write_session() as session:
            review = _review(session, who.user, name, "manage")
            report = respondents.import_roster(session, review, data, filename, actor=who.user.name)
            return {
                "review": review.name,
                "filename": filename,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "warnings": [str(w) for w in report.warnings],
            }

    return created(await run_in_threadpool(run), schemas.RosterImport)


@router.post("/forms", response_model=schemas.FormAdded, status_code=201, summary="Add a questionnaire (XLSForm)")
async def add_form(
    request: Request,
    who: WriterDep,
    file: UploadFile,
    name: Annotated[str, Form(description="default: the XLSForm's form_id")] = "",
) -> Response:
    """An XLSForm (.xlsx, .xls or the Markdown table form), checked with pyxform: a new form, or a new version of
    the form of that name when it differs from the last one."""
    need_role(who, "reviewer")
    filename, data = await read_upload(request, file)

    def run() -> dict[str, Any]:
        with request.app.state.store.session() as session:
            added = forms.add_form(session, data, filename, actor=who.user.name, name=name.strip() or None)
            return {
                "form": added.form,
                "version": added.version,
                "outcome": added.outcome,
                "questions": added.questions,
                "languages": added.languages,
                "warnings": added.warnings,
            }

    return created(await run_in_threadpool(run), schemas.FormAdded)


@router.get("/forms", response_model=list[schemas.Form], summary="List the questionnaires")
def list_forms(request: Request, who: CallerDep) -> Response:
    with request.app.state.store.session() as session:
        rows = [
            {
                "name": f.name,
                "title": f.title,
                "versions": f.versions,
                "version": f.version,
                "languages": f.languages,
                "questions": f.questions,
                "submissions": f.submissions,
                "updated_at": f.updated_at,
            }
            for f in forms.list_forms(session)
        ]
    return etag_json(request, who, rows, list[schemas.Form])


@router.get("/forms/{name}", response_model=schemas.FormDetail, summary="A questionnaire and its versions")
def get_form(request: Request, who: CallerDep, name: str) -> Response:
    with request.app.state.store.session() as session:
        form = forms.get_form(session, name)
        data = {
            "name": form.name,
            "title": form.title,
            "versions": [
                {
                    "version": v.version,
                    "filename": v.filename,
                    "created_at": v.created_at,
                    "actor": v.actor,
                    "warnings": list(v.warnings or []),
                }
                for v in form.versions
            ],
        }
    return etag_json(request, who, data, schemas.FormDetail)
