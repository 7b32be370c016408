"""The number audit in the browser: upload a draft, see the numbers that do not add up or differ from the data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from lmreview.access import can_see, visible_review_ids
from lmreview.analysis.audit import AuditResult, audit_figures, audit_text
from lmreview.analysis.documents import document_from_bytes
from lmreview.portfolio import service
from lmreview.questionnaire import reviews
from lmreview.store.models import User
from lmreview.web.pages import read_upload, render
from lmreview.web.security import check_csrf, require, require_member

router = APIRouter()


def _choices(request: Request, user: User) -> tuple[list[str], list[str]]:
    """The portfolios and reviews (those ``user`` may see) a report can be compared with."""
    with request.app.state.store.session() as session:
        visible = visible_review_ids(session, user)
        names = [r.name for r in reviews.list_reviews(session) if can_see(visible, r.id)]
        return [p.name for p in service.list_portfolios(session)], names


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> Response:
    user = require(request)
    portfolios, names = _choices(request, user)
    return render(
        request, "analysis/audit.html", user=user, result=None, name=None, portfolios=portfolios, reviews=names
    )


@router.post("/audit", response_class=HTMLResponse)
async def audit_upload(
    request: Request,
    file: UploadFile,
    csrf_token: Annotated[str, Form()] = "",
    portfolio: Annotated[str, Form()] = "",
    review: Annotated[str, Form()] = "",
) -> Response:
    """Nothing is stored: the file is read, checked and forgotten."""
    user = require(request)
    if review:
        require_member(request, review)
    check_csrf(request, csrf_token)
    filename, data = await read_upload(request, file)

    def run() -> AuditResult:
        document = document_from_bytes(data, Path(filename))
        with request.app.state.store.session() as session:
            figures, survey = audit_figures(
                session, portfolio=portfolio or None, review=review or None, form=None, what=filename
            )
        return audit_text(document.blocks, figures, survey)

    result = await run_in_threadpool(run)
    portfolios, names = _choices(request, user)
    return render(
        request,
        "analysis/audit.html",
        user=user,
        result=result,
        name=filename,
        chosen={"portfolio": portfolio, "review": review},
        portfolios=portfolios,
        reviews=names,
    )
