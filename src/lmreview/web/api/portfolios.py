"""``/api/v1/portfolios``: portfolios, their projects (paged, with the project list's filters and sorting), their
statistics, and the import of a portfolio file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from lmreview.portfolio import importing, service, snapshot
from lmreview.portfolio.stats import portfolio_stats
from lmreview.web.api import schemas
from lmreview.web.api.deps import CallerDep, Limit, Offset, WriterDep, created, etag_json, need_role, page
from lmreview.web.pages import read_upload

router = APIRouter(tags=["portfolios"])
Sort = Literal[
    "code",
    "title",
    "funding_year",
    "fund_line",
    "budget_usd",
    "region",
    "category",
    "start_date",
    "end_date",
    "duration_months",
    "nce_months",
]  # service.SORTS (tests/test_api.py checks they agree)
Has = Literal["budget_usd", "duration_months", "nce_months", "start_date", "end_date", "funding_year"]


@router.get("/portfolios", response_model=list[schemas.Portfolio], summary="List the portfolios")
def list_portfolios(request: Request, who: CallerDep) -> Response:
    """Every portfolio with its count of projects, total budget (USD) and last import, as on the home page."""
    with request.app.state.store.session() as session:
        rows = [
            {
                "name": s.name,
                "title": s.title,
                "projects": s.projects,
                "budget_usd": str(s.budget_usd) if s.budget_usd is not None else None,
                "imported_at": s.imported_at,
            }
            for s in service.list_portfolios(session)
        ]
    return etag_json(request, who, rows, list[schemas.Portfolio])


@router.get(
    "/portfolios/{name}/projects", response_model=schemas.Page[schemas.Project], summary="List a portfolio's projects"
)
def list_projects(
    request: Request,
    who: CallerDep,
    name: str,
    limit: Limit = 100,
    offset: Offset = 0,
    region: str | None = None,
    funding_year: str | None = None,
    fund_line: str | None = None,
    category: str | None = None,
    status: str | None = None,
    q: Annotated[str | None, Query(description="words in the code, title or objective")] = None,
    codes: Annotated[str | None, Query(description="project codes, comma-separated")] = None,
    has: Has | None = None,
    sort: Sort = "code",
    desc: bool = False,
) -> Response:
    """The projects of the portfolio, filtered and sorted as the web page's project list (``__none__`` selects an
    empty value); ``total`` counts every match."""
    query = service.ProjectQuery(
        region=region or None,
        funding_year=funding_year or None,
        fund_line=fund_line or None,
        category=category or None,
        status=status or None,
        q=q or None,
        codes=[c.strip() for c in (codes or "").split(",") if c.strip()],
        has=has,
        sort=sort,
        descending=desc,
    )
    with request.app.state.store.session() as session:
        rows = [service.project_summary(p) for p in service.list_projects(session, name, query)]
    return etag_json(request, who, page(rows, limit, offset), schemas.Page[schemas.Project])


@router.get(
    "/portfolios/{name}/projects/{code:path}", response_model=schemas.JsonObject, summary="One project, in full"
)
def get_project(request: Request, who: CallerDep, name: str, code: str) -> Response:
    """Every field of the project, its countries, revisions, budgets, results and tags: the record the audit log
    keeps of it."""
    with request.app.state.store.session() as session:
        data = snapshot.of_project(service.get_project(session, name, code))
    return etag_json(request, who, data, schemas.JsonObject)


@router.get("/portfolios/{name}/stats", response_model=schemas.JsonObject, summary="A portfolio's statistics")
def stats(request: Request, who: CallerDep, name: str, rows: bool = False) -> Response:
    """Budget, duration and NCE summaries and the breakdowns: the same object as ``lmreview stats --json``; with
    ``rows=true``, each figure also lists the codes of the projects behind it (``--json --rows``)."""
    with request.app.state.store.session() as session:
        data = portfolio_stats(session, name, rows=rows).as_json(rows)
    return etag_json(request, who, data, schemas.JsonObject)


def import_json(report: importing.ImportReport) -> dict[str, Any]:
    return {
        "portfolio": report.portfolio,
        "filename": report.filename,
        "format": report.file_format,
        "dry_run": report.dry_run,
        "batch_id": report.batch_id,
        "created": report.created,
        "updated": [{"code": c.code, "fields": [f.field for f in c.changes]} for c in report.updated],
        "unchanged": report.unchanged,
        "not_in_file": report.not_in_file,
        "warnings": [str(w) for w in report.warnings],
    }


@router.post(
    "/portfolios/import",
    response_model=schemas.PortfolioImport,
    status_code=201,
    summary="Import a portfolio file (CSV, XLSX or IATI XML)",
)
async def import_portfolio(
    request: Request,
    who: WriterDep,
    file: UploadFile,
    portfolio: Annotated[str, Form(description="default: from the file name")] = "",
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """The same import as ``lmreview portfolio import`` and the web's Import: one transaction; a file with any
    error writes nothing and answers 422 with every located problem."""
    need_role(who, "reviewer")
    filename, data = await read_upload(request, file)
    name = portfolio.strip() or importing.portfolio_name_for(Path(filename))

    def run() -> importing.ImportReport:
        with request.app.state.store.write_session() as session:
            return importing.import_data(
                session, data, filename=filename, portfolio=name, actor=who.user.name, dry_run=dry_run
            )

    report = await run_in_threadpool(run)
    return created(import_json(report), schemas.PortfolioImport)
