"""Qualitative coding in the browser: codebooks, a review's material, an answer sheet or a document to code, a
code's segments, agreement with disagreements and consensus; and the JSON calls the coding page makes."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from lmreview.access import can_see, require_review, review_role, visible_review_ids
from lmreview.coding import agreement, codebooks, segments, suggest, view
from lmreview.coding.matrix import code_matrix, pick_codebook
from lmreview.coding.models import Coding
from lmreview.errors import Forbidden, LmreviewError, NotFound
from lmreview.questionnaire.models import Submission
from lmreview.questionnaire.reviews import get_review, list_reviews
from lmreview.store.base import INT_MAX, find_row
from lmreview.store.models import User
from lmreview.store.users import can
from lmreview.web.pages import RowId, flash, render, segment
from lmreview.web.security import check_csrf, require, require_member

router = APIRouter()


def _viewer(user: User) -> view.Viewer:
    return view.Viewer(user.name, user.role == "admin")


@router.get("/coding", response_class=HTMLResponse)
def index(request: Request) -> Response:
    user = require(request, "reviewer")
    with request.app.state.store.session() as session:
        books = codebooks.list_codebooks(session)
        visible = visible_review_ids(session, user)
        reviews = [r.name for r in list_reviews(session) if can_see(visible, r.id)]
    return render(request, "coding/index.html", user=user, books=books, reviews=reviews)


@router.post("/coding/codebooks")
def create_codebook(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    starter: Annotated[str, Form()] = "",
) -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        if starter:
            book = codebooks.install_starter(session, starter, actor=user.name, name=name or None)
        else:
            book = codebooks.create_codebook(session, name.strip(), actor=user.name)
        created = book.name
    flash(request, f"Created codebook {created}.")
    return RedirectResponse(f"/coding/codebooks/{segment(created)}", status_code=303)


@router.get("/coding/codebooks/{name}", response_class=HTMLResponse)
def codebook_page(request: Request, name: str) -> Response:
    user = require(request, "reviewer")
    with request.app.state.store.session() as session:
        data = codebooks.codebook_json(codebooks.get_codebook(session, name))
        codes = view.codes_json(codebooks.get_codebook(session, name))
        visible = visible_review_ids(session, user)
        reviews = [r.name for r in list_reviews(session) if can_see(visible, r.id)]
    return render(request, "coding/codebook.html", user=user, book=data, codes=codes, reviews=reviews)


@router.post("/coding/codebooks/{name}")
def add_code(
    request: Request,
    name: str,
    csrf_token: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    parent: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    colour: Annotated[str, Form()] = "",
    group: Annotated[str, Form()] = "",
) -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        book = codebooks.get_codebook(session, name)
        codebooks.add_code(
            session,
            book,
            code,
            actor=user.name,
            parent=parent or None,
            description=description or None,
            colour=colour or None,
            group=group or None,
        )
    flash(request, f"Added code {code}.")
    return RedirectResponse(f"/coding/codebooks/{segment(name)}", status_code=303)


@router.post("/coding/codebooks/{name}/groups")
async def add_group(request: Request, name: str) -> Response:
    user = require(request, "reviewer")
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    group = str(form.get("group") or "").strip()
    if not group:
        raise LmreviewError("a group needs a name")
    with request.app.state.store.session() as session:
        book = codebooks.get_codebook(session, name)
        codebooks.add_group(
            session,
            book,
            group,
            exclusive=form.get("exclusive") == "yes",
            actor=user.name,
            codes=[str(c) for c in form.getlist("code")],
        )
    flash(request, f"Added group {group}.")
    return RedirectResponse(f"/coding/codebooks/{segment(name)}", status_code=303)


@router.get("/coding/reviews/{review}", response_class=HTMLResponse)
def material_page(request: Request, review: str, codebook: str = "") -> Response:
    user = require_member(request, review)
    with request.app.state.store.session() as session:
        data = view.material(session, review)
        books = [b.name for b in codebooks.list_codebooks(session)]
        table = None
        if codebook or len(books) == 1:
            book = pick_codebook(session, codebook or None)
            coders = view.visible_coders(session, _viewer(user), book, get_review(session, review))
            table = code_matrix(session, review, codebook=book.name, coders=coders, segment_ids=False)
    chosen = codebook or (books[0] if len(books) == 1 else "")
    return render(request, "coding/material.html", user=user, data=data, books=books, codebook=chosen, matrix=table)


def _sheet(request: Request, data: dict[str, Any], user: User, title: str) -> Response:
    return render(
        request,
        "coding/sheet.html",
        user=user,
        data=data,
        title=title,
        data_json=json.dumps(data, ensure_ascii=False).replace("<", "\\u003c"),
    )


@router.get("/coding/reviews/{review}/answers/{submission_id}", response_class=HTMLResponse)
def answers_page(request: Request, review: str, submission_id: RowId, codebook: str) -> Response:
    user = require_member(request, review)
    with request.app.state.store.session() as session:
        data = view.answers_sheet(session, review, submission_id, codebook, _viewer(user))
    return _sheet(request, data, user, f"Answers of {data['project'] or 'submission ' + str(submission_id)}")


@router.get("/coding/reviews/{review}/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, review: str, document_id: RowId, codebook: str) -> Response:
    user = require_member(request, review)
    with request.app.state.store.session() as session:
        data = view.document_sheet(session, review, document_id, codebook, _viewer(user))
    return _sheet(request, data, user, data["document"]["title"])


@router.get("/coding/reviews/{review}/items/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, review: str, item_id: RowId, codebook: str) -> Response:
    user = require_member(request, review)
    with request.app.state.store.session() as session:
        data = view.item_sheet(session, review, item_id, codebook, _viewer(user))
    return _sheet(request, data, user, f"{data['item']['label']} of {data['item']['document']}")


@router.get("/coding/reviews/{review}/codes/{code_id}", response_class=HTMLResponse)
def code_page(request: Request, review: str, code_id: RowId, codebook: str) -> Response:
    user = require_member(request, review)
    with request.app.state.store.session() as session:
        data = view.code_segments(session, review, codebook, code_id, _viewer(user))
    return render(request, "coding/code.html", user=user, data=data)


@router.get("/coding/reviews/{review}/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, review: str, codebook: str) -> Response:
    user = require_member(request, review)
    result, rows, closed = None, [], None
    with request.app.state.store.session() as session:
        try:
            result = agreement.agreement(session, review, codebook=codebook)
            rows = agreement.disagreements(session, review, codebook=codebook)
        except LmreviewError as exc:
            closed = exc.message
    return render(
        request,
        "coding/agreement.html",
        user=user,
        review=review,
        codebook=codebook,
        result=result,
        rows=rows,
        closed=closed,
    )


@router.post("/coding/reviews/{review}/compare")
def open_comparison(
    request: Request, review: str, codebook: Annotated[str, Form()], csrf_token: Annotated[str, Form()] = ""
) -> Response:
    user = require_member(request, review, "manage")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        agreement.open_comparison(session, review, codebook, actor=user.name)
    flash(request, f"The coders of {codebook} now see one another's codings.")
    return RedirectResponse(
        f"/coding/reviews/{segment(review)}/agreement?codebook={segment(codebook)}", status_code=303
    )


@router.post("/coding/reviews/{review}/consensus")
async def consensus(request: Request, review: str) -> Response:
    user = require_member(request, review, "manage")
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    codebook, unit = str(form.get("codebook", "")), str(form.get("unit", ""))
    kept = [str(c) for c in form.getlist("code")]
    with request.app.state.store.session() as session:
        agreement.consensus(
            session,
            review,
            codebook=codebook,
            unit=unit,
            codes=kept,
            actor=user.name,
            reason=str(form.get("reason") or "") or None,
        )
    flash(request, f"Recorded the consensus on {unit}.")
    return RedirectResponse(
        f"/coding/reviews/{segment(review)}/agreement?codebook={segment(codebook)}", status_code=303
    )


async def _json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or the one-line reason it is none."""
    try:
        body = await request.json()
    except ValueError:
        raise LmreviewError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise LmreviewError("the body is not a JSON object")
    return body


def _check_source(session: Any, user: User, submission_id: int | None, missing: LmreviewError) -> None:
    """An answer is coded by a reviewer (or manager) of its review, a non-member hears ``missing`` (what an
    unknown source hears); a document of the evidence library is coded by a site reviewer."""
    submission = find_row(session, Submission, submission_id) if submission_id is not None else None
    if submission is not None and submission.review_id is not None:
        if review_role(session, user, submission.review_id) is None:
            raise missing
        require_review(session, user, submission.review_id, "write")
    elif not can(user, "reviewer"):
        raise Forbidden(f"this needs the reviewer role; you are a {user.role}")


@router.post("/api/coding/codings")
async def api_add(request: Request) -> Response:
    """``{"csrf_token", "source", "start", "end", "code_id", "memo"?}`` → the new coding."""
    user = require(request)
    body = await _json_body(request)
    check_csrf(request, body.get("csrf_token"))
    try:
        start, end, code_id = int(body["start"]), int(body["end"]), int(body["code_id"])
        reference = str(body["source"])
    except (KeyError, TypeError, ValueError):
        raise LmreviewError("give source, start, end and code_id") from None
    with request.app.state.store.session() as session:
        source = segments.resolve_source(session, reference)
        if isinstance(source, str):
            raise LmreviewError(source)
        _check_source(session, user, source.submission_id, LmreviewError(segments.unknown_source(reference)))
        code = codebooks.code_by_id(session, code_id)
        coding = segments.apply_code(
            session,
            source,
            code,
            start,
            end,
            coder=user.name,
            actor=user.name,
            memo=str(body.get("memo") or "") or None,
        )
        data = {
            "id": coding.id,
            "start": coding.start,
            "end": coding.end,
            "code": code.name,
            "code_id": code.id,
            "colour": code.colour,
            "coder": coding.coder,
            "memo": coding.memo,
            "source": reference,
        }
    return JSONResponse(data, status_code=201)


@router.post("/api/coding/suggestions")
async def api_suggest(request: Request) -> Response:
    """``{"csrf_token", "review", "codebook", "sources": [...], "code_id", "words", "regex"?}`` (a rule) or
    ``{..., "earlier": true}`` (codes given earlier to the same passage) → the suggested codings of those sources
    for the acting coder (a reviewer of the review; anyone else is told there is no such review). Nothing is
    coded: the page lists them for the coder to accept or reject."""
    require(request)
    body = await _json_body(request)
    user = require_member(request, str(body.get("review") or ""), "write")
    check_csrf(request, body.get("csrf_token"))
    wanted = body.get("sources")
    if not isinstance(wanted, list) or not all(isinstance(x, str) for x in wanted):
        raise LmreviewError("give sources, the references of the texts to look in")
    review, codebook = str(body.get("review") or ""), str(body.get("codebook") or "")
    with request.app.state.store.session() as session:
        book = codebooks.get_codebook(session, codebook)
        ids = {c.name: c.id for c in reversed(book.codes)}
        if body.get("earlier") is True:
            found = suggest.from_earlier(session, review, codebook=book.name, coder=user.name, sources=set(wanted))
        else:
            try:
                code_id = int(body["code_id"])
            except (KeyError, TypeError, ValueError):
                raise LmreviewError("choose the code to suggest") from None
            code = next((c for c in book.codes if c.id == code_id), None)
            if code is None:
                raise LmreviewError(f"no code {code_id} in codebook {book.name}")
            ids = {code.name: code.id}
            found = suggest.suggest(
                session,
                review,
                codebook=book.name,
                code=codebooks.code_path(code, {c.id: c for c in book.codes}),
                rule=str(body.get("words") or ""),
                coder=user.name,
                regex=body.get("regex") is True,
                sources=set(wanted),
            )
    rows = [
        {"source": x.source, "start": x.start, "end": x.end, "code": x.code, "code_id": ids.get(x.code), "text": x.text}
        for x in found
    ]
    return JSONResponse({"suggestions": rows})


@router.post("/api/coding/suggestions/reject")
async def api_reject(request: Request) -> Response:
    """``{"csrf_token", "review", "codebook", "source", "start", "end", "code_id"}``: the acting coder rejects a
    suggestion; it is not proposed to them again while the source holds the same text there."""
    require(request)
    body = await _json_body(request)
    user = require_member(request, str(body.get("review") or ""), "write")
    check_csrf(request, body.get("csrf_token"))
    try:
        start, end, code_id = (int(body[k]) for k in ("start", "end", "code_id"))
    except (KeyError, TypeError, ValueError):
        raise LmreviewError("give the suggestion's source, start, end and code_id") from None
    if not all(0 <= n <= INT_MAX for n in (start, end, code_id)):
        raise LmreviewError("start, end and code_id are out of range")
    source = str(body.get("source") or "")
    with request.app.state.store.session() as session:
        book = codebooks.get_codebook(session, str(body.get("codebook") or ""))
        code = next((c for c in book.codes if c.id == code_id), None)
        if code is None:
            raise LmreviewError(f"no code {code_id} in codebook {book.name}")
        resolved = segments.resolve_source(session, source)
        if isinstance(resolved, str):
            raise LmreviewError(resolved)
        _check_source(session, user, resolved.submission_id, LmreviewError(segments.unknown_source(source)))
        path = codebooks.code_path(code, {c.id: c for c in book.codes})
        found = suggest.Suggestion(source, start, end, path, user.name, "", "")
        rejection = suggest.reject(session, found, codebook=book.name, actor=user.name)
        data = {"id": rejection.id, "source": source, "start": start, "end": end, "text": rejection.text}
    return JSONResponse(data, status_code=201)


@router.delete("/api/coding/codings/{coding_id}")
def api_remove(request: Request, coding_id: RowId) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        found = find_row(session, Coding, coding_id)
        missing = NotFound(f"no coding {coding_id}" + ("" if user.role == "admin" else f" of {user.name}"))
        _check_source(session, user, found.submission_id if found is not None else None, missing)
        check_csrf(request, request.headers.get("x-csrf-token"))
        segments.remove_coding(session, coding_id, actor=user.name, coder=None if user.role == "admin" else user.name)
    return JSONResponse({"removed": coding_id})
