"""The review manager's pages: questionnaires, reviews, the roster, invitations and the response dashboard."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from lmreview.access import can_see, make_manager, visible_review_ids
from lmreview.errors import BadInput, NotFound, Problem
from lmreview.portfolio import service as portfolio_service
from lmreview.questionnaire import (
    attachments,
    engine,
    forms,
    invitations,
    media,
    respondents,
    responses,
    reviews,
    submissions,
)
from lmreview.questionnaire.models import REVIEW_STATES
from lmreview.questionnaire.view import FormView, choose_language
from lmreview.store import review_archive
from lmreview.text import is_number
from lmreview.web.pages import RowId, attachment, flash, media_response, page_number, pager, read_upload, render
from lmreview.web.security import check_csrf, require, require_member

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- questionnaires --------------------------------------------------------------------------------------------------


@router.get("/forms", response_class=HTMLResponse)
def forms_page(request: Request) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        found = forms.list_forms(session)
    return render(request, "questionnaire/forms.html", user=user, forms=found, templates=forms.templates())


@router.post("/forms", response_class=HTMLResponse)
async def upload_form(
    request: Request,
    file: UploadFile,
    csrf_token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    attach: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    filename, data = await read_upload(request, file)
    files: dict[str, bytes] = {}
    for upload in attach or []:
        if not upload.filename and not upload.size:
            continue  # the file field left empty
        attached_name = Path(upload.filename or "attachment").name
        content = await upload.read(attachments.MAX_ATTACHMENT_BYTES + 1)
        problem = attachments.size_problem(attached_name, upload.size or len(content))
        if problem is not None:
            raise BadInput([problem])
        files[attached_name] = content

    def run() -> forms.AddedForm:
        with request.app.state.store.session() as session:
            return forms.add_form(session, data, filename, actor=user.name, name=name.strip() or None, files=files)

    added = await run_in_threadpool(run)
    if added.outcome == "unchanged":
        flash(request, f"Form {added.form} is unchanged (version {added.version}).")
    else:
        attached = f" Attached: {', '.join(added.attachments)}." if added.attachments else ""
        flash(request, f"Added form {added.form}, version {added.version}: {added.questions} questions.{attached}")
    for warning in added.warnings:
        flash(request, f"pyxform: {warning}", "warn")
    return RedirectResponse(f"/forms/{added.form}", status_code=303)


@router.get("/forms/templates/{name}.xlsx")
def template_download(request: Request, name: str) -> Response:
    require(request)
    data = forms.template_xlsx(name)
    return Response(data, media_type=XLSX, headers=attachment(f"{name}.xlsx"))


@router.get("/forms/{name}.xlsx")
def form_download(request: Request, name: str, version: str | None = None) -> Response:
    require(request)
    with request.app.state.store.session() as session:
        chosen = forms.get_version(forms.get_form(session, name), version)
        data = forms.form_xlsx(chosen)
        label = chosen.version
    return Response(data, media_type=XLSX, headers=attachment(f"{name}-{label}.xlsx"))


@router.get("/forms/{name}.zip")
def form_package_download(request: Request, name: str, version: str | None = None) -> Response:
    """The version's workbook (XLSX) and the files attached to it, in one zip."""
    require(request)
    with request.app.state.store.session() as session:
        chosen = forms.get_version(forms.get_form(session, name), version)
        data = forms.form_package(chosen, name)
        label = chosen.version
    return Response(data, media_type="application/zip", headers=attachment(f"{name}-{label}.zip"))


@router.get("/forms/{name}", response_class=HTMLResponse)
def form_page(request: Request, name: str, lang: str | None = None) -> Response:
    """A preview: the newest version rendered empty, as a respondent would see it, plus its versions."""
    user = require(request)
    with request.app.state.store.session() as session:
        form = forms.get_form(session, name)
        version = forms.latest_version(form)
        definition = forms.definition_of(version)
        language = choose_language(definition, lang)
        evaluation = engine.evaluate(definition, {}, language=language)
        view = FormView(definition, language, evaluation, editable=False)
        versions = [
            (
                v.version,
                " + ".join(filter(None, [v.filename, ", ".join(v.definition.get("attachments", []))])),
                v.created_at,
                v.actor,
                v.warnings,
                bool(v.definition.get("attachments")) and not forms.missing_files(v),
            )
            for v in reversed(form.versions)
        ]  # the workbook, then the files attached to it
    return render(
        request, "questionnaire/form.html", user=user, name=name, f=view, nodes=evaluation.nodes, versions=versions
    )


# --- reviews ---------------------------------------------------------------------------------------------------------


@router.get("/reviews", response_class=HTMLResponse)
def reviews_page(request: Request) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        visible = visible_review_ids(session, user)
        shown = [r for r in reviews.list_reviews(session) if can_see(visible, r.id)]
        rows = [(r, reviews.response_status(session, r)) for r in shown]
        return render(
            request,
            "questionnaire/reviews.html",
            user=user,
            reviews=rows,
            portfolios=[p.name for p in portfolio_service.list_portfolios(session)],
            forms=[f.name for f in forms.list_forms(session)],
            templates=forms.templates(),
        )


@router.post("/reviews")
def create_review(
    request: Request,
    name: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    portfolio: Annotated[str, Form()] = "",
    questionnaire: Annotated[str, Form()] = "",
) -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    kind, _, value = questionnaire.partition(":")
    with request.app.state.store.session() as session:
        review = reviews.create_review(
            session,
            name.strip(),
            actor=user.name,
            title=title.strip() or None,
            portfolio=portfolio or None,
            template=value if kind == "template" else None,
            form=value if kind == "form" else None,
        )
        make_manager(session, review, user, actor=user.name)
        review_name = review.name
    flash(request, f"Created review {review_name}. Next: import the respondents.")
    return RedirectResponse(f"/reviews/{review_name}", status_code=303)


@router.post("/reviews/import")
async def import_review(
    request: Request,
    file: UploadFile,
    csrf_token: Annotated[str, Form()] = "",
    as_name: Annotated[str, Form()] = "",
) -> Response:
    """A review exported by another lmreview (``lmreview review export``); the importer manages it."""
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    filename, data = await read_upload(request, file)

    def run() -> review_archive.ImportResult:
        with tempfile.TemporaryDirectory(prefix="lmreview-import-") as folder:
            path = Path(folder) / filename
            path.write_bytes(data)
            with request.app.state.store.write_session() as session:
                return review_archive.import_review(
                    session, path, new_name=as_name.strip() or None, actor=user.name, user=user
                )

    result = await run_in_threadpool(run)
    flash(request, f"Imported review {result.review} from {filename}: {sum(result.added.values())} rows added.")
    if result.users_missing:
        flash(
            request, f"Users this lmreview does not have (not made members): {', '.join(result.users_missing)}", "warn"
        )
    return RedirectResponse(f"/reviews/{result.review}", status_code=303)


@router.get("/reviews/{name}/export.zip")
async def export_review(request: Request, name: str) -> Response:
    """The whole review as one zip another lmreview imports (a manager of the review)."""
    require_member(request, name, "manage")
    folder = tempfile.mkdtemp(prefix="lmreview-export-")
    path = Path(folder) / f"{name}.zip"
    try:
        await run_in_threadpool(review_archive.export_review, request.app.state.store, name, path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type="application/zip",
        headers=attachment(f"{name}.zip"),
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


PAGE_SIZES = (25, 50, 100, 200)  # rows per page of the review page's respondents and submissions


def _page_size(value: str | None) -> int:
    if not value:
        return PAGE_SIZES[1]
    if not is_number(value, 7) or int(value) not in PAGE_SIZES:
        sizes = ", ".join(str(n) for n in PAGE_SIZES)
        raise BadInput([Problem("size", 0, "-", f"{value[:20]!r} is not a page size; use {sizes}")])
    return int(value)


@router.get("/reviews/{name}", response_class=HTMLResponse)
def review_page(
    request: Request,
    name: str,
    size: str | None = None,
    respondents_page: str | None = None,
    respondents_status: str | None = None,
    submissions_page: str | None = None,
    submissions_status: str | None = None,
    submissions_state: str | None = None,
) -> Response:
    """The review: its response rate, then its respondents and its submissions, a page of each (``size`` rows, 50 by
    default), each filtered by status in the URL (as the API's ``limit``/``offset``/``status``)."""
    user = require_member(request, name)
    rows = _page_size(size)
    r_page = page_number(respondents_page, "respondents_page")
    s_page = page_number(submissions_page, "submissions_page")
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        status = reviews.response_status(session, review)
        people, people_total = respondents.page_respondents(
            session, review, limit=rows, offset=(r_page - 1) * rows, status=respondents_status or None
        )
        subs, subs_total = submissions.page_submissions(
            session,
            review,
            limit=rows,
            offset=(s_page - 1) * rows,
            status=submissions_status or None,
            review_state=submissions_state or None,
        )
        ids = {s.project_id for s in subs if s.project_id is not None}
        codes = reviews.project_codes(session, ids)
        params = {k: v for k, v in request.query_params.items() if k in REVIEW_PAGE_PARAMS and v}
        return render(
            request,
            "questionnaire/review.html",
            user=user,
            review=review,
            portfolio=reviews.portfolio_name(session, review),
            status=status,
            respondents=people,
            respondents_pager=pager(r_page, rows, people_total, len(people)),
            respondents_status=respondents_status or "",
            submissions=subs,
            submissions_pager=pager(s_page, rows, subs_total, len(subs)),
            submissions_status=submissions_status or "",
            submissions_state=submissions_state or "",
            page_sizes=PAGE_SIZES,
            path=request.url.path,
            params=params,
            respondent_statuses=reviews.RESPONDENT_STATUSES,
            submission_statuses=submissions.SUBMISSION_STATUSES,
            review_states=REVIEW_STATES,
            project_codes=codes,
            smtp=bool(request.app.state.settings.smtp_host),
            mail=invitations.mail_templates(review),
            placeholders=invitations.PLACEHOLDERS,
        )


REVIEW_PAGE_PARAMS = (
    "size",
    "respondents_page",
    "respondents_status",
    "submissions_page",
    "submissions_status",
    "submissions_state",
)


@router.post("/reviews/{name}/roster", response_class=HTMLResponse)
async def upload_roster(
    request: Request, name: str, file: UploadFile, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    user = require_member(request, name, "manage")
    check_csrf(request, csrf_token)
    filename, data = await read_upload(request, file)

    def run() -> respondents.RosterReport:
        with request.app.state.store.write_session() as session:
            review = reviews.get_review(session, name)
            return respondents.import_roster(session, review, data, filename, actor=user.name)

    report = await run_in_threadpool(run)
    flash(
        request,
        f"Roster {filename}: {len(report.created)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged.",
    )
    for warning in report.warnings:
        flash(request, str(warning), "warn")
    return RedirectResponse(f"/reviews/{name}#respondents", status_code=303)


@router.post("/reviews/{name}/respondents")
def add_respondent(
    request: Request,
    name: str,
    respondent: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    project_code: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
) -> Response:
    user = require_member(request, name, "manage")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        respondents.add_respondent(
            session,
            review,
            name=respondent,
            email=email,
            project_code=project_code,
            role=role.strip() or None,
            language=language.strip() or None,
            actor=user.name,
        )
    flash(request, f"Added {respondent.strip()}.")
    return RedirectResponse(f"/reviews/{name}#respondents", status_code=303)


@router.post("/reviews/{name}/invite")
def invite(
    request: Request, name: str, csrf_token: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = ""
) -> Response:
    user = require_member(request, name, "manage")
    check_csrf(request, csrf_token)
    if request.app.state.jobs.uses_queue():  # a worker runs: the messages go out from there
        from lmreview.jobs import service as jobs
        from lmreview.web.routes.jobs import start

        with request.app.state.store.session() as session:
            review = reviews.get_review(session, name)
            job = jobs.create_job(
                session,
                kind="remind",
                title=f"{'Reminders' if kind == 'reminders' else 'Invitations'} of review {review.name}",
                actor=user.name,
                user=user,
                review_id=review.id,
                params={"reminders": kind == "reminders"},
            )
            job_id = job.id
        return start(request, job_id)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        sent = invitations.send_invitations(
            session, review, request.app.state.settings, actor=user.name, reminders=kind == "reminders"
        )
    done = [s for s in sent if s.outcome == "sent"]
    bounced = [s for s in sent if s.outcome == "bounced"]
    failed = [s for s in sent if s.outcome == "failed"]
    word = "reminders" if kind == "reminders" else "invitations"
    flash(
        request, f"Sent {len(done)} {word}" + (f"; {len(bounced)} refused by the mail server" if bounced else "") + "."
    )
    for s in failed:
        flash(
            request,
            f"Not sent to {s.respondent} <{s.email}> ({s.detail}); not recorded, so a new try sends it.",
            "warn",
        )
    return RedirectResponse(f"/reviews/{name}", status_code=303)


@router.post("/reviews/{name}/mail")
def mail_texts(
    request: Request,
    name: str,
    csrf_token: Annotated[str, Form()] = "",
    mail_subject: Annotated[str, Form()] = "",
    mail_body: Annotated[str, Form()] = "",
    reminder_subject: Annotated[str, Form()] = "",
    reminder_body: Annotated[str, Form()] = "",
) -> Response:
    user = require_member(request, name, "manage")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        invitations.set_mail_templates(
            session,
            review,
            actor=user.name,
            subject=mail_subject,
            body=mail_body,
            reminder_subject=reminder_subject,
            reminder_body=reminder_body,
        )
    flash(request, "Saved the texts of invitations and reminders.")
    return RedirectResponse(f"/reviews/{name}#mail", status_code=303)


@router.post("/reviews/{name}/respondents/{respondent_id}/revoke")
def revoke(request: Request, name: str, respondent_id: RowId, csrf_token: Annotated[str, Form()] = "") -> Response:
    user = require_member(request, name, "manage")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        person = respondents.get_respondent(session, reviews.get_review(session, name), respondent_id)
        count = invitations.revoke(session, person, actor=user.name)
        who = person.name
    flash(request, f"Withdrew {count} link{'s' if count != 1 else ''} of {who}.")
    return RedirectResponse(f"/reviews/{name}#respondents", status_code=303)


@router.post("/reviews/{name}/responses", response_class=HTMLResponse)
async def upload_responses(
    request: Request, name: str, file: UploadFile, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    user = require_member(request, name, "write")
    check_csrf(request, csrf_token)
    filename, data = await read_upload(request, file)
    if request.app.state.jobs.uses_queue():  # a worker runs: the import is its job
        from lmreview.jobs import service as jobs
        from lmreview.web.routes.jobs import start

        with request.app.state.store.session() as session:
            review = reviews.get_review(session, name)
            if review.form is None:
                raise NotFound(f"review {name} has no questionnaire: choose one before importing responses")
            job = jobs.create_job(
                session,
                kind="responses",
                title=f"Import responses {filename} into review {review.name}",
                actor=user.name,
                user=user,
                review_id=review.id,
                inputs=[jobs.Input(name=filename, content=data)],
            )
            job_id = job.id
        return start(request, job_id)

    def run() -> responses.ResponseImport:
        with request.app.state.store.write_session() as session:
            review = reviews.get_review(session, name)
            if review.form is None:
                raise NotFound(f"review {name} has no questionnaire: choose one before importing responses")
            form = review.form.name
            limit = request.app.state.settings.max_media_bytes
            visible = visible_review_ids(session, user)
            done = submissions.import_responses(
                session, form, data, filename, actor=user.name, review=review, media_limit=limit, visible=visible
            )
            return done.result

    result = await run_in_threadpool(run)
    flash(
        request,
        f"Responses {filename}: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
        + (f"; {result.files_stored} media files stored." if result.files_stored else "."),
    )
    for warning in result.warnings[:20]:
        flash(request, str(warning), "warn")
    return RedirectResponse(f"/reviews/{name}#subs", status_code=303)


@router.get("/reviews/{name}/responses.{fmt}")
def download_responses(request: Request, name: str, fmt: str, original: bool = False) -> Response:
    require_member(request, name)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        if review.form is None:
            raise NotFound(f"review {name} has no questionnaire yet")
        data = responses.export_responses(session, review.form.name, fmt, review=review, original=original)
    suffix = "zip" if fmt == "csv" and data.startswith(b"PK") else fmt
    content_type = {"xlsx": XLSX, "zip": "application/zip"}.get(suffix, "text/csv; charset=utf-8")
    label = "original" if original else "current"
    return Response(data, media_type=content_type, headers=attachment(f"{name}-{label}.{suffix}"))


# --- submissions -----------------------------------------------------------------------------------------------------


def _submission_context(session: Any, name: str, submission_id: int) -> dict[str, Any]:
    review = reviews.get_review(session, name)
    submission = submissions.get_submission(session, submission_id)
    if submission.review_id != review.id:
        raise NotFound(f"review {name} has no submission {submission_id}")
    definition = submissions.definition(submission)
    evaluation = engine.evaluate(definition, submission.data)
    view = FormView(definition, definition.default_language, evaluation, editable=False)
    return {
        "review": review,
        "submission": submission,
        "f": view,
        "nodes": evaluation.nodes,
        "fields": [f for f in engine.iter_fields(evaluation.nodes) if f.relevant and f.question.type not in ("note",)],
        "changes": list(submission.changes),
        "comments": list(submission.comments),
        "states": REVIEW_STATES,
        "files": {s.path: s for s in media.answers_with_files(session, submission, definition)},
    }


@router.get("/reviews/{name}/submissions/{submission_id}", response_class=HTMLResponse)
def submission_page(request: Request, name: str, submission_id: RowId) -> Response:
    user = require_member(request, name)
    with request.app.state.store.session() as session:
        return render(
            request, "questionnaire/submission.html", user=user, **_submission_context(session, name, submission_id)
        )


@router.get("/reviews/{name}/submissions/{submission_id}/files/{filename}")
def submission_file(request: Request, name: str, submission_id: RowId, filename: str) -> Response:
    """A file sent with a submission's answers: images shown, every other file downloaded (to the review's members:
    anyone else hears 404, as for a review that does not exist)."""
    require_member(request, name)
    with request.app.state.store.session() as session:
        submission = _submission_context(session, name, submission_id)["submission"]
        row, content = media.read(session, submission.id, filename)
        served = media.serving(row)
        return media_response(row.filename, served.media_type, content, served.inline)


@router.post("/reviews/{name}/submissions/{submission_id}/change")
def change_answer(
    request: Request,
    name: str,
    submission_id: RowId,
    path: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    value: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = require_member(request, name, "write")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        context = _submission_context(session, name, submission_id)
        submissions.change_answer(session, context["submission"], path, value, reason=reason, actor=user.name)
    flash(request, f"Changed {path}.")
    return RedirectResponse(f"/reviews/{name}/submissions/{submission_id}#history", status_code=303)


@router.post("/reviews/{name}/submissions/{submission_id}/state")
def review_state(
    request: Request,
    name: str,
    submission_id: RowId,
    state: Annotated[str, Form()],
    comment: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = require_member(request, name, "write")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        context = _submission_context(session, name, submission_id)
        submissions.set_review_state(session, context["submission"], state, actor=user.name, comment=comment)
    flash(request, f"Marked the submission {state.replace('_', ' ')}.")
    return RedirectResponse(f"/reviews/{name}/submissions/{submission_id}", status_code=303)


@router.get("/api/reviews/{name}/status")
def api_status(request: Request, name: str) -> dict[str, object]:
    """The same object as `lmreview responses status --review NAME --json`."""
    require_member(request, name)
    with request.app.state.store.session() as session:
        return reviews.response_status(session, reviews.get_review(session, name)).as_json()
