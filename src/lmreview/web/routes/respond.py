"""The respondent's side: a personal link opens the questionnaire; no account, no other page.

``GET /r/{token}`` shows the form (pre-filled, in the respondent's language or ``?lang=``); ``POST`` saves a draft,
adds or removes a repeat instance, or submits. Without JavaScript everything works: relevance is applied when the
page comes back from the server; with it, questions appear and disappear as the respondent answers.

The form engine and the database run in the thread pool (sync endpoints, or ``run_in_threadpool`` after the body is
read), never on the event loop: one respondent's form cannot hold up the other requests. An answer the engine
refuses to store (too long, or a number outside its type's range) comes back with its message and nothing is saved.

The form is posted as ``multipart/form-data``: a file question's file arrives under the question's instance path
(``PATH.remove`` empties the answer) and is judged and stored by ``questionnaire/media.py``; a file refused (too
large, not the kind asked for) is a refused answer like the others. ``GET /r/{token}/files/{name}`` serves the
respondent's own files back.

A select with a long list of options is a search box (``questionnaire/long_lists.py``): ``GET
/r/{token}/options/{path}?q=`` gives the options matching what is typed, and without JavaScript the box's Search
button (``action=search:PATH``) saves the draft and brings the page back with the matches.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Select, bindparam, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lmreview.errors import BadInput, Conflict, NotFound, Problem
from lmreview.portfolio.models import Project
from lmreview.questionnaire import engine, form_types, invitations, long_lists, media, submissions
from lmreview.questionnaire.view import FormView, choose_language
from lmreview.questionnaire.xlsform import FormDefinition, pick
from lmreview.store import audit
from lmreview.store.base import utcnow
from lmreview.text import is_number
from lmreview.web.pages import media_response, render
from lmreview.web.security import check_csrf

if TYPE_CHECKING:
    from lmreview.questionnaire.models import Respondent, Review, Submission

    _Loaded = tuple[Respondent, Review, Submission, FormDefinition]  # what a save read, for the page after it

router = APIRouter()
MAX_FORM_FIELDS = 5000


def _page(
    request: Request,
    token: str,
    session: Any,
    *,
    data: dict[str, Any] | None = None,
    language: str | None = None,
    show_errors: bool = False,
    saved: bool = False,
    refused: dict[str, str] | None = None,
    status_code: int = 200,
    page: int | None = None,
    step: int = 0,
    loaded: _Loaded | None = None,
    evaluation: engine.Evaluation | None = None,
    searches: dict[str, str] | None = None,
) -> Response:
    """The form page; with ``refused``, the answers that were not saved are the only errors shown. A form with
    ``style: pages`` shows one page: ``page``, else ``?page=``, else the page of the first error shown. ``loaded``
    and ``evaluation`` are what a save has just read and decided (in the page's language), so the page after a
    save does not do it again."""
    if loaded is None:
        _invitation, respondent, review = invitations.open_link(session, token)
        submission = submissions.for_respondent(session, review, respondent, create=False)
        form = submissions.definition(submission)
    else:
        respondent, review, submission, form = loaded
    # What this request writes (the link's first opening, a save) ends here, so that SQLite's write lock is not held
    # while the form is judged and the page rendered: under load, other respondents' saves would wait for it.
    session.commit()
    language = _language(request, form, language, respondent)
    current = submission.data if data is None else data
    previous = submissions.previous_for(session, submission, form) if submission.status == "draft" else None
    if evaluation is None:
        new = submissions.new_instances(previous) if submission.status == "draft" else None
        evaluation = engine.evaluate(form, current, language=language, new_instances=new, previous=previous)
    if refused:
        for path, item in evaluation.fields.items():
            item.error = refused.get(path)
        evaluation.repeat_errors.clear()
    view = FormView(
        form,
        language,
        evaluation,
        editable=submission.status != "submitted",
        show_errors=show_errors,
        searches=searches or {},
        options_url=f"/r/{token}/options/",
    )
    pages = view.pages()
    if page is None:
        asked = request.query_params.get("page", "")
        errors = evaluation.errors if show_errors else {}
        page = int(asked) if is_number(asked, 6) else (view.page_of(next(iter(errors))) if errors else 0)
    page = min(max(page, 0), len(pages) - 1) if submission.status != "submitted" else 0
    shown = view.shown_pages()
    if step:  # Next and Previous go to the nearest page with something relevant, judged with the answers just saved
        ahead = [n for n in shown if n > page] if step > 0 else [n for n in reversed(shown) if n < page]
        page = ahead[0] if ahead else page
    project = session.get(Project, submission.project_id) if submission.project_id else None
    return render(
        request,
        "questionnaire/respond.html",
        status_code=status_code,
        page_lang=view.language_code(language) if view.language_code(language) != language else "en",
        f=view,
        nodes=evaluation.nodes if submission.status == "submitted" else pages[page],
        page=page,
        pages=len(pages),
        previous_page=max((n for n in shown if n < page), default=None),
        next_page=min((n for n in shown if n > page), default=None),
        outside=view.outside_values(page) if len(pages) > 1 else {},
        last_saved=engine.last_saved_values(previous),
        errors=evaluation.errors,
        labels=view.labels_by_path(),
        review_title=review.title or review.name,
        project_code=project.code if project else respondent.project_code,
        project_title=project.title if project else None,
        submitted=submission.status == "submitted",
        submitted_on=submissions.submitted_on(submission),
        saved=saved,
        not_saved=bool(refused),
        decline_url=f"/r/{token}/decline",
        files_url=f"/r/{token}/files/",
        files={row.filename: row for row in media.files_of(session, submission.id)} if submission.id else {},
        media_accept=media.accept_attribute,
    )


@router.get("/r/{token}", response_class=HTMLResponse)
def open_form(request: Request, token: str) -> Response:
    with request.app.state.store.session() as session:
        return _page(request, token, session)


@router.post("/r/{token}", response_class=HTMLResponse)
async def post_form(request: Request, token: str) -> Response:
    form_data = await request.form(max_fields=MAX_FORM_FIELDS)
    check_csrf(request, form_data.get("csrf_token"))
    fields: dict[str, list[str]] = {}
    uploads: dict[str, tuple[str, bytes]] = {}
    limit: int = request.app.state.settings.max_media_bytes
    for key, value in form_data.multi_items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
        elif isinstance(value, UploadFile) and value.filename and len(uploads) < 100:
            uploads[key] = (value.filename, await value.read(limit + 1))  # one byte more tells "too big"
    if (fields.get("action") or [""])[-1] == "autosave" and not uploads:
        quick = await run_in_threadpool(_quick_autosave, request, token, fields)
        if quick is not None:
            return quick
    return await run_in_threadpool(_answer, request, token, fields, uploads)


def _quick_autosave(request: Request, token: str, fields: dict[str, list[str]]) -> Response | None:
    """The usual background save in one query and one UPDATE, without ORM objects: a link already opened, neither
    withdrawn nor expired, whose draft exists, on a form version whose definition this process has read and that
    asks for no file. None for anything else, which :func:`_answer` handles (and explains)."""
    with request.app.state.store.session() as session:
        found = session.connection().execute(_quick_query(), {"token_hash": invitations.token_hash(token)}).first()
        if found is None:
            return None
        revoked, expires, opened, submission_id, status, stored, version_id, sha256, version = found
        expires = expires if expires.tzinfo else expires.replace(tzinfo=dt.UTC)
        if revoked is not None or expires < utcnow() or opened is None or status != "draft":
            return None
        form = submissions.known_definition(version_id, sha256, version)
        if form is None or _has_files(form):
            return None
        data = submissions.form_data(form, fields, stored if isinstance(stored, dict) else {})
        refused = engine.refused(form, data)
        if refused:
            return JSONResponse({"refused": refused}, status_code=422)
        if not submissions.store_draft(session, submission_id, data):
            return None
    return Response(status_code=204)


def _files(
    form: FormDefinition,
    data: dict[str, Any],
    fields: dict[str, list[str]],
    uploads: dict[str, tuple[str, bytes]],
    limit: int,
) -> tuple[dict[str, tuple[Any, str, bytes]], dict[str, str]]:
    """The files sent for the form's file questions (instance path -> question, name, bytes) and what is wrong with
    any of them; a file removed (``PATH.remove``) leaves its answer empty."""
    by_path = form.by_path()
    kept: dict[str, tuple[Any, str, bytes]] = {}
    problems: dict[str, str] = {}
    for key in fields:
        if key.endswith(".remove") and "1" in fields[key]:
            path = key.removesuffix(".remove")
            question = by_path.get(re.sub(r"\[\d+\]", "", path))
            if question is not None and question.type in form_types.MEDIA_TYPES:
                engine.set_path(data, path, None)
    for path, (filename, content) in uploads.items():
        question = by_path.get(re.sub(r"\[\d+\]", "", path))
        if question is None or question.type not in form_types.MEDIA_TYPES:
            continue  # a file for no file question: ignored, like any unknown field
        name = media.safe_name(filename)
        problem = media.problem_with(question, name, content, limit)
        if problem:
            problems[path] = f"{name}: {problem}"
        else:
            kept[path] = (question, name, content)
    return kept, problems


def _answer(
    request: Request, token: str, fields: dict[str, list[str]], uploads: dict[str, tuple[str, bytes]] | None = None
) -> Response:
    """Save, resize or submit from the posted fields: the database and the form engine, off the event loop."""
    action = (fields.get("action") or ["save"])[-1]
    language = fields["lang"][-1] if fields.get("lang") else None
    posted = (fields.get("page") or [""])[-1]
    posted_page = int(posted) if is_number(posted, 4) else None
    searches = {  # a long list's search box, sent without JavaScript: the page comes back with its matches
        key.removesuffix(".search"): values[-1][: long_lists.MAX_QUERY]
        for key, values in fields.items()
        if key.endswith(".search") and values and values[-1].strip()
    }
    with request.app.state.store.session() as session:
        _invitation, respondent, review = invitations.open_link(session, token)
        submission = submissions.for_respondent(session, review, respondent)
        form = submissions.definition(submission)
        data = submissions.form_data(form, fields, submission.data if submission.status == "draft" else {})
        limit = request.app.state.settings.max_media_bytes
        files, bad_files = _files(form, data, fields, uploads or {}, limit)
        previous = submissions.previous_for(session, submission, form)
        new = submissions.new_instances(previous)
        if action.startswith("add:"):
            _resize(data, action.removeprefix("add:"), add=True, form=form, new=new)
        elif action.startswith("remove:"):
            _resize(data, action.removeprefix("remove:"), add=False)
        refused = engine.refused(form, data) if submission.status == "draft" else {}
        if submission.status == "draft":
            refused.update(bad_files)
        if action == "autosave":
            return _autosave(session, submission, form, data, files, refused, limit)
        if refused:
            return _page(
                request,
                token,
                session,
                data=data,
                language=language,
                show_errors=True,
                refused=refused,
                status_code=422,
                page=posted_page,
                searches=searches,
            )
        turn = action in ("next", "previous")  # a paged form: the draft is saved on every page turn
        if submission.status == "draft":
            for path, (question, name, content) in files.items():
                kept = media.store(session, submission, question, path, name, content, limit=limit)
                engine.set_path(data, path, kept.filename)
        chosen = _language(request, form, language, respondent)
        saved = submissions.save(
            session, submission, data, submit=action == "submit", language=chosen, new=new, previous=previous
        )
        media.prune(session, submission, form)
        if saved.submitted:
            audit.record(
                session,
                actor=f"respondent:{respondent.id}",
                action="update",
                entity="submission",
                entity_id=submission.id,
                after={"status": "submitted"},
                summary=f"submitted by {respondent.name}",
            )
            return RedirectResponse(f"/r/{token}", status_code=303)
        return _page(
            request,
            token,
            session,
            data=data,
            language=language,
            show_errors=action == "submit",
            saved=action == "save" or turn or action.startswith("search:"),
            status_code=422 if action == "submit" else 200,
            page=None if action == "submit" else posted_page,
            step={"next": 1, "previous": -1}.get(action, 0),
            loaded=(respondent, review, submission, form),
            evaluation=saved.evaluation,
            searches=searches if not turn else {},
        )


@functools.cache
def _quick_query() -> Select[Any]:
    """The link's state and its draft, as plain columns (built once)."""
    from lmreview.questionnaire.models import FormVersion, Invitation, Respondent, Submission

    return (
        select(
            Invitation.revoked_at,
            Invitation.expires_at,
            Invitation.opened_at,
            Submission.id,
            Submission.status,
            Submission.data,
            FormVersion.id,
            FormVersion.sha256,
            FormVersion.version,
        )
        .join(Respondent, Respondent.id == Invitation.respondent_id)
        .join(
            Submission,
            (Submission.respondent_id == Respondent.id) & (Submission.review_id == Respondent.review_id),
        )
        .join(FormVersion, FormVersion.id == Submission.form_version_id)
        .where(Invitation.token_hash == bindparam("token_hash"))
    )


def _autosave(
    session: Any,
    submission: Submission,
    form: FormDefinition,
    data: dict[str, Any],
    files: dict[str, tuple[Any, str, bytes]],
    refused: dict[str, str],
    limit: int,
) -> Response:
    """The form's script saving the draft in the background: ``204 No Content`` once saved, ``422`` with the
    refused answers (by instance path) when nothing was saved, ``409`` when the questionnaire was submitted. No
    page is rendered and the answers are not judged (a draft keeps every answer, right or wrong, until it is
    submitted): the respondent sees the page's judgement when they press a button."""
    if submission.status != "draft":
        return JSONResponse({"error": "this questionnaire was already submitted"}, status_code=409)
    if refused:
        return JSONResponse({"refused": refused}, status_code=422)
    for path, (question, name, content) in files.items():
        kept = media.store(session, submission, question, path, name, content, limit=limit)
        engine.set_path(data, path, kept.filename)
    submissions.save_draft(session, submission, data)
    if files or _has_files(form):
        media.prune(session, submission, form)
    return Response(status_code=204)


_HAS_FILES: dict[int, tuple[FormDefinition, bool]] = {}  # definitions are kept per form version for the process


def _has_files(form: FormDefinition) -> bool:
    """Whether the form has a file question (the only answers that keep files to prune)."""
    known = _HAS_FILES.get(id(form))
    if known is not None and known[0] is form:
        return known[1]
    found = any(q.type in form_types.MEDIA_TYPES for q in form.walk())
    if len(_HAS_FILES) >= 256:
        _HAS_FILES.clear()
    _HAS_FILES[id(form)] = (form, found)
    return found


def _language(request: Request, form: FormDefinition, asked: str | None, respondent: Respondent) -> str:
    """The page's language: the one asked for (the form's ``lang`` field or ``?lang=``), else the respondent's."""
    return choose_language(form, asked or request.query_params.get("lang") or respondent.language)


def _resize(
    data: dict[str, Any],
    path: str,
    *,
    add: bool,
    form: FormDefinition | None = None,
    new: engine.NewInstances | None = None,
) -> None:
    """Add an instance (made by ``new``: its defaults) at the end of the repeat at ``path``, or remove the instance
    ``path`` (``outcomes[2]``)."""
    if add:
        items = engine.get_path(data, path)
        items = items if isinstance(items, list) else []
        repeat = form.by_path().get(re.sub(r"\[\d+\]", "", path)) if form is not None else None
        if repeat is None or repeat.type != "repeat":
            return
        if len(items) < engine.MAX_REPEATS:
            instance = f"{path}[{len(items) + 1}]"
            items.append(new(repeat, instance) if new is not None else engine.instance_defaults(repeat, instance))
        engine.set_path(data, path, items)
        return
    name, _, index = path.rpartition("[")
    items = engine.get_path(data, name)
    try:
        position = int(index.rstrip("]")) - 1
    except ValueError:
        raise BadInput([Problem("action", 0, "-", f"cannot remove {path}")]) from None
    if isinstance(items, list) and 0 <= position < len(items):
        del items[position]


@router.get("/r/{token}/files/{filename}")
def respondent_file(request: Request, token: str, filename: str) -> Response:
    """A file the respondent sent with their answers (the page shows images, links the others)."""
    with request.app.state.store.session() as session:
        _invitation, respondent, review = invitations.open_link(session, token)
        submission = submissions.for_respondent(session, review, respondent, create=False)
        if submission.id is None:
            raise NotFound(f"this questionnaire has no file named {filename!r}")
        row, content = media.read(session, submission.id, filename)
        served = media.serving(row)
        return media_response(row.filename, served.media_type, content, served.inline)


@router.get("/r/{token}/options/{path:path}")
def long_list_options(request: Request, token: str, path: str, q: str = "", lang: str | None = None) -> JSONResponse:
    """The options of a long list matching ``q``, after the question's ``choice_filter`` read with the saved draft:
    ``{"options": [{"name", "label"}], "total": N}``, the first :data:`long_lists.SHOWN` of the N that match."""
    with request.app.state.store.session() as session:
        _invitation, respondent, review = invitations.open_link(session, token)
        submission = submissions.for_respondent(session, review, respondent, create=False)
        form = submissions.definition(submission)
        question = form.by_path().get(re.sub(r"\[\d+\]", "", path))
        if question is None or not long_lists.is_long(form, question):
            raise NotFound(f"this questionnaire has no long list of options at {path!r}")
        language = _language(request, form, lang, respondent)
        allowed = None
        value = ""
        if question.choice_filter or "[" in path:
            previous = submissions.previous_for(session, submission, form)
            evaluation = engine.evaluate(form, submission.data, language=language, previous=previous)
            field = evaluation.fields.get(path)
            if field is None:
                raise NotFound(f"this questionnaire has no question at {path!r}; save the page and try again")
            value = field.value
            if question.choice_filter:
                allowed = engine.visible_choices(form, question, field.scope or {}, dt.date.today())
        else:
            current = engine.get_path(submission.data, path)
            value = current if isinstance(current, str) else ""
        chosen = frozenset(c.name for c in long_lists.picked(form, question, value))
        found = long_lists.search(form, question, q, language, allowed=allowed, leave_out=chosen)
        options = [{"name": c.name, "label": pick(c.labels, language) or c.name} for c in found.options]
        return JSONResponse({"options": options, "total": found.total})


@router.post("/r/{token}/decline", response_class=HTMLResponse)
async def decline(request: Request, token: str) -> Response:
    form_data = await request.form()
    check_csrf(request, form_data.get("csrf_token"))
    reason = str(form_data.get("reason") or "").strip()[:2000]
    return await run_in_threadpool(_decline, request, token, reason)


def _decline(request: Request, token: str, reason: str) -> Response:
    with request.app.state.store.session() as session:
        _invitation, respondent, review = invitations.open_link(session, token)
        if submissions.for_respondent(session, review, respondent, create=False).status == "submitted":
            raise Conflict("this questionnaire was already submitted; write to the review team to withdraw it")
        respondent.declined_at = utcnow()
        audit.record(
            session,
            actor=f"respondent:{respondent.id}",
            action="update",
            entity="respondent",
            entity_id=respondent.id,
            after={"declined": True, "reason": reason},
            summary=f"{respondent.name} declined" + (f": {reason}" if reason else ""),
        )
    return render(request, "questionnaire/declined.html")
