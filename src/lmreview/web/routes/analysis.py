"""The analysis pages of a review: every question tabulated with its denominators, each count linked to the
projects behind it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from lmreview.analysis.tabulate import NOT_TABULATED, PROJECT_FIELDS, tabulate
from lmreview.errors import NotFound
from lmreview.questionnaire import forms, reviews
from lmreview.web.pages import render
from lmreview.web.security import require

router = APIRouter()
OVERVIEW_TYPES = ("select_one", "select_multiple", "integer", "decimal")


@router.get("/reviews/{name}/analysis", response_class=HTMLResponse)
def analysis_page(request: Request, name: str, question: str | None = None, by: str | None = None) -> Response:
    """All closed questions at a glance, or one question (``?question=``) with an optional cross-tab (``&by=``)."""
    user = require(request)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        if review.form is None:
            raise NotFound(f"review {name} has no questionnaire yet")
        definition = forms.definition_of(forms.latest_version(review.form))
        if question:
            chosen = [question]
        else:
            chosen = [q.path for q in definition.walk() if q.type in OVERVIEW_TYPES and q.type not in NOT_TABULATED]
        tables = [tabulate(session, review, path, by=by if question else None) for path in chosen]
        portfolio = reviews.portfolio_name(session, review)
    return render(
        request,
        "analysis/review.html",
        user=user,
        review=review,
        portfolio=portfolio,
        tables=tables,
        single=question,
        by=by,
        fields=PROJECT_FIELDS,
    )


@router.get("/api/reviews/{name}/tabulate")
def api_tabulate(request: Request, name: str, question: str, by: str | None = None) -> dict[str, Any]:
    """The same object as `lmreview tabulate --review NAME --question PATH [--by FIELD] --json`."""
    require(request)
    with request.app.state.store.session() as session:
        return tabulate(session, name, question, by=by).as_json()
