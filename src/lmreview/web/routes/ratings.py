"""The criteria ratings of a review: the triangulated scores with their sources, the import, the weights."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.analysis.ratings import ratings_summary
from lmreview.questionnaire import reviews
from lmreview.ratings import service
from lmreview.web.pages import flash, read_upload, render
from lmreview.web.security import check_csrf, require_member

router = APIRouter()


@router.get("/reviews/{name}/ratings", response_class=HTMLResponse)
def ratings_page(request: Request, name: str) -> Response:
    user = require_member(request, name)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        summary = ratings_summary(session, review)
        return render(
            request,
            "ratings/ratings.html",
            user=user,
            review=review,
            summary=summary,
            scales=[s.name for s in service.list_scales(session)],
        )


@router.get("/api/reviews/{name}/ratings")
def api_ratings(request: Request, name: str) -> dict[str, object]:
    """The same object as `lmreview ratings summary --review NAME --json`."""
    require_member(request, name)
    with request.app.state.store.session() as session:
        return ratings_summary(session, reviews.get_review(session, name)).as_json()


@router.post("/reviews/{name}/ratings", response_class=HTMLResponse)
async def upload_ratings(
    request: Request,
    name: str,
    file: UploadFile,
    csrf_token: Annotated[str, Form()] = "",
    scale: Annotated[str, Form()] = "six-point",
) -> Response:
    user = require_member(request, name, "write")
    check_csrf(request, csrf_token)
    filename, data = await read_upload(request, file)

    def run() -> service.RatingsImport:
        with request.app.state.store.session() as session:
            review = reviews.get_review(session, name)
            return service.import_ratings(session, review, data, filename, actor=user.name, scale_name=scale)

    result = await run_in_threadpool(run)
    flash(
        request,
        f"Ratings {filename}: {result.created} added, {result.replaced} replaced, {result.unchanged} unchanged.",
    )
    for warning in result.warnings:
        flash(request, str(warning), "warn")
    return RedirectResponse(f"/reviews/{name}/ratings", status_code=303)


@router.post("/reviews/{name}/ratings/weights")
async def weights(request: Request, name: str) -> Response:
    user = require_member(request, name, "write")
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    changes = {
        key.removeprefix("weight:"): str(value) for key, value in form.multi_items() if key.startswith("weight:")
    }
    with request.app.state.store.session() as session:
        service.set_weights(session, reviews.get_review(session, name), changes, actor=user.name)
    flash(request, "Saved the weights.")
    return RedirectResponse(f"/reviews/{name}/ratings", status_code=303)


@router.post("/reviews/{name}/ratings/scales")
def add_scale(
    request: Request,
    name: str,
    scale: Annotated[str, Form()],
    levels: Annotated[str, Form()],
    title: Annotated[str, Form()] = "",
    allows_na: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = require_member(request, name, "write")
    check_csrf(request, csrf_token)
    lines = [line.strip() for line in levels.splitlines() if line.strip()]
    with request.app.state.store.session() as session:
        service.add_scale(
            session, scale, lines, actor=user.name, title=title.strip() or None, allows_na=bool(allows_na)
        )
    flash(request, f"Added the scale {scale.strip()}.")
    return RedirectResponse(f"/reviews/{name}/ratings", status_code=303)
