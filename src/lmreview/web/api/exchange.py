"""``/api/v1``: a whole review exported as one zip, and imported from one (``lmreview review export`` / ``import``)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from lmreview import access
from lmreview.store import review_archive
from lmreview.web.api import schemas
from lmreview.web.api.deps import CallerDep, WriterDep, created, need_role
from lmreview.web.pages import attachment, read_upload

router = APIRouter(tags=["reviews"])


@router.get(
    "/reviews/{name}/export",
    summary="Export the whole review as one zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "the zip"}},
)
async def export_review(request: Request, who: CallerDep, name: str) -> Response:
    """The review with its portfolio, questionnaire, respondents, submissions and their versions and files,
    ratings, codings, report sections, follow-up and audit events, as ``lmreview review export`` writes it (a
    manager of the review). ``POST /reviews/import`` of another lmreview reads it."""
    store = request.app.state.store
    with store.session() as session:
        access.require_review_named(session, who.user, name, "manage")
    folder = tempfile.mkdtemp(prefix="lmreview-export-")
    path = Path(folder) / f"{name}.zip"
    try:
        await run_in_threadpool(review_archive.export_review, store, name, path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type="application/zip",
        headers=attachment(f"{name}.zip"),
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.post(
    "/reviews/import", response_model=schemas.ReviewImport, status_code=201, summary="Import a review's export"
)
async def import_review(
    request: Request,
    who: WriterDep,
    file: UploadFile,
    as_name: Annotated[str, Form(description="import the review under this name")] = "",
) -> Response:
    """A zip written by ``GET /reviews/{name}/export`` (or ``lmreview review export``), all or nothing (the site
    reviewer role; the caller manages the new review). The portfolio, questionnaire, codebooks and documents are
    reused when this lmreview has them under the same name; an error answers 422 or 409 and writes nothing."""
    need_role(who, "reviewer")
    filename, data = await read_upload(request, file)

    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="lmreview-import-") as folder:
            path = Path(folder) / filename
            path.write_bytes(data)
            with request.app.state.store.write_session() as session:
                result = review_archive.import_review(
                    session, path, new_name=as_name.strip() or None, actor=who.user.name, user=who.user
                )
                return result.as_json()

    return created(await run_in_threadpool(run), schemas.ReviewImport)
