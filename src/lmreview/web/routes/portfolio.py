"""Pages of the portfolio register: portfolios, projects, statistics, imports and revisions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lmreview.errors import BadInput, Problem
from lmreview.evidence.links import project_documents
from lmreview.portfolio import categories, importing, service
from lmreview.portfolio.schemas import REVISION_TYPES
from lmreview.portfolio.stats import portfolio_stats
from lmreview.portfolio.values import parse_date
from lmreview.web.pages import flash, read_upload, render, segment
from lmreview.web.security import check_csrf, require

router = APIRouter()
BREAKDOWN_LABELS = {
    "region": "Region",
    "fund_line": "Fund line",
    "funding_year": "Funding year",
    "category": "Category",
}
SORT_LABELS = {
    "code": "Code",
    "funding_year": "Year",
    "fund_line": "Line",
    "budget_usd": "Budget (USD)",
    "region": "Region",
    "category": "Category",
    "duration_months": "Months",
    "title": "Title",
}


def _query(request: Request) -> service.ProjectQuery:
    params = request.query_params
    codes = [c.strip() for c in params.get("codes", "").split(",") if c.strip()]
    return service.ProjectQuery(
        region=params.get("region") or None,
        funding_year=params.get("funding_year") or None,
        fund_line=params.get("fund_line") or None,
        category=params.get("category") or None,
        status=params.get("status") or None,
        q=params.get("q") or None,
        codes=codes,
        has=params.get("has") or None,
        sort=params.get("sort") or "code",
        descending=params.get("desc") == "1",
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        portfolios = service.list_portfolios(session)
    return render(request, "portfolio/index.html", user=user, portfolios=portfolios)


@router.post("/import", response_class=HTMLResponse)
async def import_upload(
    request: Request,
    file: UploadFile,
    csrf_token: Annotated[str, Form()] = "",
    portfolio: Annotated[str, Form()] = "",
    dry_run: Annotated[str | None, Form()] = None,
) -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    filename, data = await read_upload(request, file)
    name = portfolio.strip() or importing.portfolio_name_for(Path(filename))
    if not dry_run and request.app.state.jobs.uses_queue():  # a worker runs: the import is its job
        from lmreview.jobs import service as jobs
        from lmreview.web.routes.jobs import start

        importing.check_portfolio_name(name)
        with request.app.state.store.session() as session:
            job = jobs.create_job(
                session,
                kind="import",
                title=f"Import {filename} into portfolio {name}",
                actor=user.name,
                user=user,
                params={"portfolio": name},
                inputs=[jobs.Input(name=filename, content=data)],
            )
            job_id = job.id
        return start(request, job_id)

    def run() -> importing.ImportReport:
        with request.app.state.store.write_session() as session:
            return importing.import_data(
                session, data, filename=filename, portfolio=name, actor=user.name, dry_run=bool(dry_run)
            )

    try:
        report = await run_in_threadpool(run)
    except BadInput as exc:
        return render(
            request,
            "portfolio/import_result.html",
            status_code=422,
            user=user,
            report=None,
            errors=exc.problems,
            warnings=exc.warnings,
            filename=filename,
            portfolio=name,
        )
    return render(
        request,
        "portfolio/import_result.html",
        user=user,
        report=report,
        errors=[],
        warnings=report.warnings,
        filename=filename,
        portfolio=name,
    )


PAGE_SIZE = 200  # projects per page of the project list


@router.get("/portfolios/{name}", response_class=HTMLResponse)
def projects(request: Request, name: str, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    user = require(request)
    query = _query(request)
    with request.app.state.store.session() as session:
        portfolio = service.get_portfolio(session, name)
        rows = service.list_projects(session, name, query)
        all_count = service.count_projects(session, portfolio.id)
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        page = min(page, pages)
        params = {k: v for k, v in request.query_params.items() if k != "page"}
        facets = service.facets(session, name)
        batches = service.import_batches(session, name)[:10]
        return render(
            request,
            "portfolio/projects.html",
            user=user,
            portfolio=portfolio,
            projects=rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            matched=len(rows),
            page=page,
            pages=pages,
            first=(page - 1) * PAGE_SIZE + 1,
            total=all_count,
            facets=facets,
            query=query,
            params=params,
            sort_labels=SORT_LABELS,
            batches=batches,
        )


@router.get("/portfolios/{name}/stats", response_class=HTMLResponse)
def stats_page(request: Request, name: str) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        # The page's figures link to the project list filtered by their value: the codes behind them are not read.
        result = portfolio_stats(session, name, rows=False)
    from lmreview.report.charts import portfolio_charts  # matplotlib: loaded when a page draws a chart

    charts = portfolio_charts(result)
    return render(request, "portfolio/stats.html", user=user, stats=result, labels=BREAKDOWN_LABELS, charts=charts)


@router.get("/portfolios/{name}/projects/{code:path}", response_class=HTMLResponse)
def project_page(request: Request, name: str, code: str) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        project = service.get_project(session, name, code)
        history = service.project_history(session, project)
        documents = project_documents(session, [project.code])
        return render(
            request,
            "portfolio/project.html",
            user=user,
            portfolio_name=name,
            p=project,
            history=history,
            documents=documents,
            revision_types=REVISION_TYPES,
            today=dt.date.today().isoformat(),
            categories=[c.name for c in categories.list_categories(session, name)],
        )


@router.post("/portfolios/{name}/projects/{code:path}/revisions")
def add_revision(
    request: Request,
    name: str,
    code: str,
    type: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    date: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    when = None
    if date.strip():
        try:
            when = parse_date(date)
        except ValueError as exc:
            raise BadInput([Problem("date", 0, "date", str(exc))]) from None
    with request.app.state.store.session() as session:
        service.add_revision(
            session, name, code, type=type, date=when, reason=reason.strip(), note=note.strip(), actor=user.name
        )
    flash(request, f"Recorded a {type.replace('_', ' ')} revision.")
    return RedirectResponse(f"/portfolios/{name}/projects/{segment(code)}#revisions", status_code=303)


@router.post("/portfolios/{name}/projects/{code:path}/delete")
def delete_project(request: Request, name: str, code: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    user = require(request, "admin")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        service.delete_project(session, name, code, actor=user.name)
    flash(request, f"Deleted {code}; its values are kept in the audit log.")
    return RedirectResponse(f"/portfolios/{name}", status_code=303)


@router.get("/api/portfolios")
def api_portfolios(request: Request) -> list[dict[str, Any]]:
    require(request)
    with request.app.state.store.session() as session:
        return [
            {
                "portfolio": s.name,
                "projects": s.projects,
                "budget_usd": str(s.budget_usd) if s.budget_usd is not None else None,
            }
            for s in service.list_portfolios(session)
        ]


@router.get("/api/portfolios/{name}/stats")
def api_stats(request: Request, name: str, rows: bool = False) -> dict[str, Any]:
    """The same object as `lmreview stats --json` (``?rows=true``: `--json --rows`)."""
    require(request)
    with request.app.state.store.session() as session:
        return portfolio_stats(session, name, rows=rows).as_json(rows)


@router.get("/api/portfolios/{name}/projects")
def api_projects(request: Request, name: str) -> list[dict[str, Any]]:
    """The projects of a portfolio, with the filters of the project list (region, funding_year, codes...)."""
    require(request)
    with request.app.state.store.session() as session:
        return [service.project_summary(p) for p in service.list_projects(session, name, _query(request))]


@router.get("/portfolios/{name}/categories", response_class=HTMLResponse)
def categories_page(request: Request, name: str) -> Response:
    user = require(request)
    with request.app.state.store.session() as session:
        listed = categories.list_categories(session, name)
        found = categories.suggestions(session, name)
        total = len(service.portfolio_projects(session, service.get_portfolio(session, name).id))
    return render(
        request,
        "portfolio/categories.html",
        user=user,
        portfolio=name,
        categories=listed,
        suggestions=found,
        total=total,
        uncategorised=total - sum(c.projects for c in listed),
    )


@router.post("/portfolios/{name}/categories")
def set_keywords(
    request: Request,
    name: str,
    category: Annotated[str, Form()],
    keywords: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        categories.set_keywords(session, name, category, keywords.split(";"), actor=user.name)
    flash(request, f"Saved the keywords of {category.strip()}.")
    return RedirectResponse(f"/portfolios/{name}/categories", status_code=303)


@router.post("/portfolios/{name}/categorise")
def categorise(
    request: Request,
    name: str,
    code: Annotated[str, Form()],
    category: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = require(request, "reviewer")
    check_csrf(request, csrf_token)
    with request.app.state.store.session() as session:
        categories.set_category(session, name, code, category.strip() or None, actor=user.name)
    flash(request, f"{code}: {category.strip() or 'no category'}.")
    target = f"/portfolios/{name}/projects/{segment(code)}" if back == "project" else f"/portfolios/{name}/categories"
    return RedirectResponse(target, status_code=303)
