"""The report of a review: its narrative sections (edited here, in Markdown, every version kept) and the downloads.

``/reviews/NAME/report.html`` is the report as the CLI writes it, except that every figure links to the rows behind
it (``/portfolios/P?codes=...``, or for a figure of more than ``html.LINK_CODES`` projects
``/reviews/NAME/report/rows/DIGEST``, a page of its own); the other formats are downloads.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.analysis.review_report import evaluation_brief, review_report
from lmreview.errors import NotFound
from lmreview.questionnaire import reviews
from lmreview.questionnaire.exchange.layout import escape_formula
from lmreview.report import narrative
from lmreview.web.pages import attachment, flash, page_number, pager, render, segment
from lmreview.web.security import check_csrf, require_member

if TYPE_CHECKING:
    from lmreview.report.html import Block

router = APIRouter()
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BRIEF_FORMATS = ("html", "docx", "pdf")


@router.get("/reviews/{name}/report", response_class=HTMLResponse)
def report_page(request: Request, name: str) -> Response:
    from lmreview.report.pdf import pdf_available

    user = require_member(request, name)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        sections = narrative.current_sections(session, review)
        history = {key: narrative.section_history(session, review, key)[1:] for key in sections}
        return render(
            request,
            "report/report.html",
            user=user,
            review=review,
            sections=sections,
            history=history,
            formats=list(MEDIA),
            pdf_problem=pdf_available(),
        )


@router.post("/reviews/{name}/report/sections/{key}")
def save_section(
    request: Request,
    name: str,
    key: str,
    markdown: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = require_member(request, name, "write")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        saved = narrative.save_section(session, review, key, markdown, actor=user.name, title=title or None)
    s = saved.section
    flash(request, f"Saved {s.title} as version {s.version}." if saved.changed else f"{s.title} is unchanged.")
    return RedirectResponse(f"/reviews/{segment(name)}/report#section-{key}", status_code=303)


@router.get("/reviews/{name}/report.{fmt}")
def download_report(request: Request, name: str, fmt: str) -> Response:
    """The report in ``fmt``; HTML opens in the browser with every figure linked to its rows."""
    from lmreview.report import charts, docx, html, pdf, xlsx

    require_member(request, name)
    if fmt not in MEDIA:
        raise NotFound(f"there is no report format {fmt!r}; choose {', '.join(MEDIA)}")
    with request.app.state.store.session() as session:
        report = review_report(session, name)
    drawn = charts.report_charts(report, png=fmt == "docx")  # only Word needs the pictures
    if fmt == "html":
        page = html.render_html(report, drawn, link_base="")
        _keep_figures(request.app.state.store.url, name, html.outline(report, drawn))  # laid out once, for both
        return HTMLResponse(page)
    if fmt == "pdf":
        data = pdf.render_pdf(html.render_print_html(report, drawn))
    elif fmt == "docx":
        data = docx.render_docx(report, drawn)
    else:
        data = xlsx.render_xlsx(report, drawn)
    return Response(data, media_type=MEDIA[fmt], headers=attachment(f"{report.review}-report.{fmt}"))


@router.get("/reviews/{name}/brief.{fmt}")
def download_brief(request: Request, name: str, fmt: str) -> Response:
    """The 2-page evaluation brief; header fields from the brief_header section."""
    from lmreview.report import docx, html, pdf

    require_member(request, name)
    if fmt not in BRIEF_FORMATS:
        raise NotFound(f"there is no brief format {fmt!r}; choose {', '.join(BRIEF_FORMATS)}")
    with request.app.state.store.session() as session:
        brief = evaluation_brief(review_report(session, name))
    if fmt == "html":
        return HTMLResponse(html.render_brief_html(brief))
    data = docx.render_brief_docx(brief) if fmt == "docx" else pdf.render_pdf(html.render_brief_html(brief))
    return Response(data, media_type=MEDIA[fmt], headers=attachment(f"{brief.review}-brief.{fmt}"))


# The rows of the large figures (more than html.LINK_CODES projects) of the reports built here, by (database, review,
# digest), kept when the web report is rendered: a click on such a figure finds its rows here. A digest names its
# codes exactly (html.figure_digest), so what is kept never goes stale; it is bounded by the codes kept in all.
_FIGURES: OrderedDict[tuple[str, str, str], tuple[str, ...]] = OrderedDict()
_FIGURES_CODES = 500_000
_FIGURES_LOCK = threading.Lock()
_kept_codes = 0
# A figure not kept (another worker rendered the report, the process restarted, or it was evicted) is found by
# building the report again: one build at a time per review, and none again within BUILD_INTERVAL seconds of the
# last, so that addresses naming no figure cannot make the server build the report at every request.
BUILD_INTERVAL = 30.0
_BUILDS: dict[tuple[str, str], tuple[threading.Lock, list[float]]] = {}
_DIGEST = re.compile(r"[0-9a-f]{32}")
ROWS_PAGE = 100


def _keep_figures(database: str, name: str, blocks: list[Block]) -> None:
    """Keep the rows of the report's figures that link to their own page (those over ``html.LINK_CODES``)."""
    from lmreview.report import html

    global _kept_codes
    large = [rows for rows in html.figure_rows(blocks) if len(rows) > html.LINK_CODES]
    with _FIGURES_LOCK:
        for rows in large:
            key = (database, name, html.figure_digest(rows))
            if key in _FIGURES:
                _FIGURES.move_to_end(key)
                continue
            _FIGURES[key] = rows
            _kept_codes += len(rows)
        while len(_FIGURES) > 1 and _kept_codes > _FIGURES_CODES:
            _kept_codes -= len(_FIGURES.popitem(last=False)[1])


def _kept(key: tuple[str, str, str]) -> tuple[str, ...] | None:
    with _FIGURES_LOCK:
        if key in _FIGURES:
            _FIGURES.move_to_end(key)
            return _FIGURES[key]
    return None


def _figure(request: Request, name: str, digest: str) -> tuple[str, ...]:
    """The codes behind the report figure named ``digest``: kept when the report was rendered, or found by
    building the review's report again (its charts too: a chart's projects are a figure)."""
    from lmreview.report import charts, html

    if not _DIGEST.fullmatch(digest):
        raise NotFound(f"{digest[:40]!r} names no figure: the address of a figure's rows ends in 32 hex digits")
    store = request.app.state.store
    key = (store.url, name, digest)
    found = _kept(key)
    if found is not None:
        return found
    with _FIGURES_LOCK:
        lock, last = _BUILDS.setdefault((store.url, name), (threading.Lock(), [0.0]))
    with lock:  # a request arriving during a build waits for it, and finds its figures kept
        found = _kept(key)
        if found is None and time.monotonic() - last[0] >= BUILD_INTERVAL:
            with store.session() as session:
                report = review_report(session, name)
            _keep_figures(store.url, name, html.outline(report, charts.report_charts(report, png=False)))
            last[0] = time.monotonic()
            found = _kept(key)
    if found is None:
        raise NotFound(
            f"the report of review {name} has no such figure now: its answers or its portfolio changed since the "
            "report was opened; open the report again"
        )
    return found


@router.get("/reviews/{name}/report/rows/{digest}", response_class=HTMLResponse)
def figure_rows_page(request: Request, name: str, digest: str, page: str | None = None, format: str = "") -> Response:
    """The projects behind one figure of the web report (those of more projects than an address can list link
    here): a page of ``ROWS_PAGE`` at a time, each linked to its project, or all of them as CSV (``format=csv``)."""
    from sqlalchemy import select

    from lmreview.portfolio.models import Portfolio, Project

    user = require_member(request, name)
    if format not in ("", "html", "csv"):
        raise NotFound(f"there is no format {format[:20]!r} for a figure's rows; choose html or csv")
    number = page_number(page, "page")
    codes = _figure(request, name, digest)
    with request.app.state.store.session() as session:
        review = reviews.get_review(session, name)
        pid = review.portfolio_id
        portfolio = session.scalar(select(Portfolio.name).where(Portfolio.id == pid)) if pid is not None else None
        shown = codes if format == "csv" else codes[(number - 1) * ROWS_PAGE : number * ROWS_PAGE]
        titles: dict[str, str] = {}
        for start in range(0, len(shown), 5_000):
            query = select(Project.code, Project.title).where(
                Project.portfolio_id == pid, Project.code.in_(shown[start : start + 5_000])
            )
            titles.update((code, title) for code, title in session.execute(query))
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["code", "title"])
        writer.writerows((escape_formula(code), escape_formula(titles.get(code, ""))) for code in shown)
        return Response(
            out.getvalue().encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers=attachment(f"{name}-figure-{digest[:8]}.csv"),
        )
    return render(
        request,
        "report/rows.html",
        user=user,
        review=review,
        portfolio=portfolio or "",
        digest=digest,
        rows=[(code, titles.get(code, "")) for code in shown],
        pager=pager(number, ROWS_PAGE, len(codes), len(shown)),
    )
