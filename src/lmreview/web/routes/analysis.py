"""The analysis pages of a review: every question tabulated with its denominators, each count linked to the
projects behind it."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from lmreview import __version__
from lmreview.analysis.freshness import last_change
from lmreview.analysis.tabulate import NOT_TABULATED, PROJECT_FIELDS, Tabulation, tabulate
from lmreview.errors import NotFound
from lmreview.questionnaire import forms, reviews
from lmreview.questionnaire.models import Review
from lmreview.questionnaire.xlsform import FormDefinition
from lmreview.web.pages import render
from lmreview.web.security import csrf_token, require_member

if TYPE_CHECKING:
    from lmreview.report.charts import Chart

router = APIRouter()
OVERVIEW_TYPES = ("select_one", "select_multiple", "integer", "decimal", "image", "audio", "video", "file")


_COMPUTED: OrderedDict[tuple[str, str, str | None, str | None], _Page] = OrderedDict()  # by last change, question, by
_COMPUTED_MAX = 16
_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Page:
    tables: list[Tabulation]
    charts: dict[str, Chart]
    portfolio: str | None
    generated: int  # how many submissions hold sample answers


@router.get("/reviews/{name}/analysis", response_class=HTMLResponse)
def analysis_page(request: Request, name: str, question: str | None = None, by: str | None = None) -> Response:
    """All closed questions at a glance, or one question (``?question=``) with an optional cross-tab (``&by=``).

    The figures are kept until the review next changes (:func:`last_change`), and the page carries an ETag made of
    that change, the user and the query: a browser asking again gets 304 Not Modified until something changed."""
    user = require_member(request, name)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        if review.form is None:
            raise NotFound(f"review {name} has no questionnaire yet")
        changed = last_change(session, review)
        tag = _etag(request, changed, user.name)
        if tag in request.headers.get("if-none-match", "") and not request.session.get("flash"):
            return Response(status_code=304, headers={"ETag": tag, "Cache-Control": "private, no-cache"})
        key = (changed, name, question, by if question else None)
        with _LOCK:
            page = _COMPUTED.get(key)
        if page is None:
            page = _compute(session, review, question, by)
            with _LOCK:
                _COMPUTED[key] = page
                while len(_COMPUTED) > _COMPUTED_MAX:
                    _COMPUTED.popitem(last=False)
    response = render(
        request,
        "analysis/review.html",
        user=user,
        review=review,
        portfolio=page.portfolio,
        tables=page.tables,
        single=question,
        by=by,
        fields=PROJECT_FIELDS,
        generated=page.generated,
        charts=page.charts,
    )
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _etag(request: Request, changed: str, user: str) -> str:
    """Varies with what the page shows: the figures, the user, the query, the session's form token, the version."""
    token = csrf_token(request)
    seen = "\n".join([changed, user, str(request.url.query), token, __version__])
    return '"' + hashlib.sha256(seen.encode()).hexdigest()[:32] + '"'


def _compute(session: Session, review: Review, question: str | None, by: str | None) -> _Page:
    assert review.form is not None
    definition = forms.definition_of(forms.latest_version(review.form))
    if question:
        chosen = [question]
    else:
        chosen = [q.path for q in definition.walk() if q.type in OVERVIEW_TYPES and q.type not in NOT_TABULATED]
    tables = [tabulate(session, review, path, by=by if question else None) for path in chosen]
    portfolio = reviews.portfolio_name(session, review)
    generated = reviews.response_status(session, review).generated
    charts = _charts(definition, tables) if not question else {}
    first: dict[str, str] = {}  # the report's chart of a section, drawn beside the section's first table
    for t in tables:
        key = t.question.split("/")[0] if "/" in t.question else ""
        if key in charts and key not in first.values():
            first[t.question] = key
    return _Page(tables, {path: charts[key] for path, key in first.items()}, portfolio, generated)


def _charts(definition: FormDefinition, tables: list[Tabulation]) -> dict[str, Chart]:
    """The report's charts of the findings sections (SVG only), by section, drawn from the page's own tables."""
    from lmreview.analysis.review_report import SELECTS, FindingSection, QuestionFinding, _finding
    from lmreview.report.charts import section_charts  # SVG written directly: no matplotlib on a page

    questions = definition.by_path()
    grouped: dict[str, list[QuestionFinding]] = {}
    for t in tables:
        if t.type in SELECTS and t.question in questions:
            key = t.question.split("/")[0] if "/" in t.question else ""
            grouped.setdefault(key, []).append(_finding(t, questions[t.question]))
    language = definition.default_language
    sections = [
        FindingSection(key, questions[key].label(language) if key else "Other questions", found)
        for key, found in grouped.items()
    ]
    return section_charts(sections)


@router.get("/api/reviews/{name}/tabulate")
def api_tabulate(request: Request, name: str, question: str, by: str | None = None) -> dict[str, Any]:
    """The same object as `lmreview tabulate --review NAME --question PATH [--by FIELD] --json`."""
    require_member(request, name)
    with request.app.state.store.session() as session:
        return tabulate(session, name, question, by=by).as_json()
