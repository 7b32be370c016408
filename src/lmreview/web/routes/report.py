"""The report of a review: its narrative sections (edited here, in Markdown, every version kept) and the downloads.

``/reviews/NAME/report.html`` is the report as the CLI writes it, except that every figure links to the rows behind
it (``/portfolios/P?codes=...``); the other formats are downloads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.analysis.review_report import evaluation_brief, review_report
from lmreview.errors import NotFound
from lmreview.questionnaire import reviews
from lmreview.report import narrative
from lmreview.web.pages import attachment, flash, render, segment
from lmreview.web.security import check_csrf, require_member

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
        return HTMLResponse(html.render_html(report, drawn, link_base=""))
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
