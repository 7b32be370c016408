"""The analysis pages of a review: every question tabulated with its denominators, each count linked to the
projects behind it."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview import __version__
from lmreview.analysis.freshness import last_change
from lmreview.analysis.questions import bad_option
from lmreview.analysis.tabulate import NOT_TABULATED, PROJECT_FIELDS, Tabulation, tabulate, tabulate_many
from lmreview.errors import NotFound
from lmreview.questionnaire import forms, reviews
from lmreview.questionnaire.models import Review, Submission
from lmreview.questionnaire.xlsform import FormDefinition
from lmreview.web.pages import render
from lmreview.web.security import csrf_token, require_member

if TYPE_CHECKING:
    from lmreview.report.charts import Chart

router = APIRouter()
OVERVIEW_TYPES = ("select_one", "select_multiple", "integer", "decimal", "image", "audio", "video", "file")
PAGE_ANSWERS = 12_000  # about as many answers (questions x submissions) on one page of the overview
MIN_QUESTIONS = 5  # questions on a page, however many submissions
LINKED_ROWS = 100  # a figure links to the project list with its codes up to this many rows; beyond, to its rows page
ROWS_PAGE = 200


_COMPUTED: OrderedDict[tuple[str, str, str | None, str | None, int, int], _Page] = OrderedDict()  # change, query, page
_COMPUTED_MAX = 16
_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Page:
    tables: list[Tabulation]
    charts: dict[str, Chart]
    portfolio: str | None
    generated: int  # how many submissions hold sample answers


@router.get("/reviews/{name}/analysis", response_class=HTMLResponse)
def analysis_page(
    request: Request,
    name: str,
    question: str | None = None,
    by: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """All closed questions at a glance, or one question (``?question=``) with an optional cross-tab (``&by=``).

    A review with many submissions shows its questions a page at a time (about :data:`PAGE_ANSWERS` answers to a
    page). The figures are kept until the review next changes (:func:`last_change`), and the page carries an ETag
    made of that change, the user and the query: a browser asking again gets 304 Not Modified until something
    changed."""
    user = require_member(request, name)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        if review.form is None:
            raise NotFound(f"review {name} has no questionnaire yet")
        changed = last_change(session, review)
        tag = _etag(request, changed, user.name)
        if tag in request.headers.get("if-none-match", "") and not request.session.get("flash"):
            return Response(status_code=304, headers={"ETag": tag, "Cache-Control": "private, no-cache"})
        listed = [question] if question else _overview(review)
        per_page = _per_page(session, review)
        pages = max(1, -(-len(listed) // per_page))
        page = min(page, pages)
        shown = listed if question else listed[(page - 1) * per_page : page * per_page]
        key = (changed, name, question, by if question else None, page, per_page)
        with _LOCK:
            computed = _COMPUTED.get(key)
        if computed is None:
            computed = _compute(session, review, shown, by if question else None, overview=not question)
            with _LOCK:
                _COMPUTED[key] = computed
                while len(_COMPUTED) > _COMPUTED_MAX:
                    _COMPUTED.popitem(last=False)
    params = {k: v for k, v in request.query_params.items() if k != "page"}
    first = (page - 1) * per_page + 1
    response = render(
        request,
        "analysis/review.html",
        user=user,
        review=review,
        portfolio=computed.portfolio,
        tables=computed.tables,
        single=question,
        by=by,
        fields=PROJECT_FIELDS,
        generated=computed.generated,
        charts=computed.charts,
        page=page,
        pages=pages,
        listed=len(listed),
        first=first,
        params=params,
        linked=LINKED_ROWS,
    )
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _overview(review: Review) -> list[str]:
    """The closed questions the overview tabulates, in form order."""
    assert review.form is not None
    definition = forms.definition_of(forms.latest_version(review.form))
    return [q.path for q in definition.walk() if q.type in OVERVIEW_TYPES and q.type not in NOT_TABULATED]


def _per_page(session: Session, review: Review) -> int:
    """Questions to a page: all of them for a review of a few hundred submissions, fewer as they grow."""
    submissions = session.scalar(select(func.count()).where(Submission.review_id == review.id)) or 0
    return max(MIN_QUESTIONS, PAGE_ANSWERS // max(submissions, 1))


ROW_KINDS = ("units", "responded", "from_documents", "not_relevant", "skipped", "answered", "value")


@router.get("/reviews/{name}/analysis/rows", response_class=HTMLResponse)
def analysis_rows(
    request: Request,
    name: str,
    question: str,
    what: str,
    value: str | None = None,
    by: str | None = None,
    group: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """The rows behind one figure of a tabulation (``what``: a denominator, or ``value`` for an option's count), a
    page at a time: the analysis page links here when a figure stands for more rows than a link can carry."""
    user = require_member(request, name)
    if what not in ROW_KINDS:
        raise bad_option("what", f'"{what}" is not a figure; choose one of {", ".join(ROW_KINDS)}')
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        table = tabulate(session, review, question, by=by)
        if group is not None and group >= len(table.groups):
            raise NotFound(
                f"the cross-tab by {by or 'nothing'} has {len(table.groups)} groups; there is no group {group}"
            )
        block = table.whole if group is None else table.groups[group].block
        data = block.as_json()
        if what == "value":
            found = next((c for c in data["counts"] or [] if c["value"] == value), None)
            if found is None:
                raise NotFound(f'question {table.question} has no count for the value "{value or ""}"')
            rows: list[str] = found["rows"]
            label = f"{found['label']}: {found['n']}"
        else:
            rows = data["rows"].get(what, [])
            label = f"{what.replace('_', ' ')}: {len(rows)}"
        portfolio = reviews.portfolio_name(session, review) if table.unit == "project" else None
    pages = max(1, -(-len(rows) // ROWS_PAGE))
    page = min(page, pages)
    params = {k: v for k, v in request.query_params.items() if k != "page"}
    group_label = None if group is None else (table.groups[group].label or table.groups[group].value or "(none)")
    return render(
        request,
        "analysis/rows.html",
        user=user,
        review=review,
        table=table,
        label=label,
        group_label=group_label,
        rows=[(ref, ref.split("/", 1)[0]) for ref in rows[(page - 1) * ROWS_PAGE : page * ROWS_PAGE]],
        total=len(rows),
        first=(page - 1) * ROWS_PAGE + 1,
        page=page,
        pages=pages,
        params=params,
        portfolio=portfolio,
    )


def _etag(request: Request, changed: str, user: str) -> str:
    """Varies with what the page shows: the figures, the user, the query, the session's form token, the version."""
    token = csrf_token(request)
    seen = "\n".join([changed, user, str(request.url.query), token, __version__])
    return '"' + hashlib.sha256(seen.encode()).hexdigest()[:32] + '"'


def _compute(session: Session, review: Review, chosen: list[str], by: str | None, overview: bool) -> _Page:
    assert review.form is not None
    definition = forms.definition_of(forms.latest_version(review.form))
    tables = tabulate_many(session, review, chosen, by=by)
    portfolio = reviews.portfolio_name(session, review)
    generated = _generated(session, review)
    charts = _charts(definition, tables) if overview else {}
    first: dict[str, str] = {}  # the report's chart of a section, drawn beside the section's first table
    for t in tables:
        key = t.question.split("/")[0] if "/" in t.question else ""
        if key in charts and key not in first.values():
            first[t.question] = key
    return _Page(tables, {path: charts[key] for path, key in first.items()}, portfolio, generated)


def _generated(session: Session, review: Review) -> int:
    """How many submissions of the review hold sample answers (as :func:`reviews.response_status` counts them),
    without loading the submissions and the portfolio's projects."""
    metas = session.scalars(select(Submission.meta).where(Submission.review_id == review.id))
    return sum(1 for meta in metas if (meta or {}).get("generated"))


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
