"""Reading and editing the portfolio register: the functions the CLI and the web UI call."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lmreview.errors import BadInput, NotFound, Problem
from lmreview.portfolio import snapshot
from lmreview.portfolio.models import (
    ImportBatch,
    Indicator,
    Portfolio,
    Project,
    Result,
    Revision,
    unknown_portfolio,
)
from lmreview.portfolio.schemas import REVISION_TYPES
from lmreview.store import audit
from lmreview.store.models import AuditEvent
from lmreview.store.sums import exact_sum, exact_total

MISSING = "__none__"  # the filter value that selects projects without a value
SORTS: dict[str, Callable[[Project], Any]] = {
    "code": lambda p: p.code.casefold(),
    "title": lambda p: p.title.casefold(),
    "funding_year": lambda p: p.funding_year,
    "fund_line": lambda p: p.fund_line or "",
    "budget_usd": lambda p: p.budget_usd,
    "region": lambda p: p.region.name if p.region else "",
    "category": lambda p: p.category.name if p.category else "",
    "start_date": lambda p: p.start_date,
    "end_date": lambda p: p.end_date,
    "duration_months": lambda p: p.duration_months,
    "nce_months": lambda p: p.nce_months,
}
FILTERS = ("region", "funding_year", "fund_line", "category", "status")
HAS = ("budget_usd", "duration_months", "nce_months", "start_date", "end_date", "funding_year")


@dataclass(frozen=True, slots=True)
class PortfolioSummary:
    name: str
    title: str | None
    projects: int
    budget_usd: Decimal | None
    imported_at: dt.datetime | None


@dataclass(slots=True)
class ProjectQuery:
    """Filters of the project list; each value is matched exactly, ``MISSING`` selects empty values."""

    region: str | None = None
    funding_year: str | None = None
    fund_line: str | None = None
    category: str | None = None
    status: str | None = None
    q: str | None = None
    codes: list[str] = field(default_factory=list)
    has: str | None = None
    sort: str = "code"
    descending: bool = False


def get_portfolio(session: Session, name: str) -> Portfolio:
    portfolio = session.scalar(select(Portfolio).where(Portfolio.name == name))
    if portfolio is None:
        raise unknown_portfolio(session, name)
    return portfolio


def list_portfolios(session: Session) -> list[PortfolioSummary]:
    """Every portfolio with its count of projects, total budget and last import: three aggregate queries, whatever
    the number of projects (the home page calls this on every request)."""
    totals = select(Project.portfolio_id, func.count(), *exact_sum(Project.budget_usd)).group_by(Project.portfolio_id)
    counts: dict[int, int] = {}
    budgets: dict[int, Decimal | None] = {}
    for pid, count, high, low in session.execute(totals):
        counts[pid], budgets[pid] = count, exact_total(high, low)
    imported = dict(
        session.execute(
            select(ImportBatch.portfolio_id, func.max(ImportBatch.at)).group_by(ImportBatch.portfolio_id)
        ).all()
    )
    return [
        PortfolioSummary(p.name, p.title, counts.get(p.id, 0), budgets.get(p.id), imported.get(p.id))
        for p in session.scalars(select(Portfolio).order_by(Portfolio.name))
    ]


def portfolio_projects(session: Session, portfolio_id: int) -> list[Project]:
    return list(session.scalars(select(Project).where(Project.portfolio_id == portfolio_id).order_by(Project.code)))


def count_projects(session: Session, portfolio_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Project).where(Project.portfolio_id == portfolio_id)) or 0


def project_summary(p: Project) -> dict[str, Any]:
    """The JSON form of a project in a list (CLI `portfolio list --json`, web `/api/.../projects`)."""
    return {
        "code": p.code,
        "title": p.title,
        "funding_year": p.funding_year,
        "fund_line": p.fund_line,
        "budget_usd": snapshot.plain(p.budget_usd),
        "region": p.region.name if p.region else None,
        "category": p.category.name if p.category else None,
        "countries": [c.name for c in p.countries],
        "start_date": snapshot.plain(p.start_date),
        "end_date": snapshot.plain(p.end_date),
        "duration_months": snapshot.plain(p.duration_months),
        "nce_months": snapshot.plain(p.nce_months),
        "status": p.status,
    }


def _value(project: Project, name: str) -> str | None:
    if name == "region":
        return project.region.name if project.region else None
    if name == "category":
        return project.category.name if project.category else None
    if name == "funding_year":
        return str(project.funding_year) if project.funding_year is not None else None
    value = getattr(project, name)
    return None if value is None else str(value)


def _matches(project: Project, query: ProjectQuery) -> bool:
    for name in FILTERS:
        wanted = getattr(query, name)
        if wanted is None or wanted == "":
            continue
        value = _value(project, name)
        if wanted == MISSING:
            if value is not None:
                return False
        elif value is None or value.casefold() != wanted.casefold():
            return False
    if query.codes and project.code not in query.codes:
        return False
    if query.has and getattr(project, query.has) is None:
        return False
    if query.q:
        needle = query.q.casefold()
        haystack = " ".join(
            [project.code, project.title, project.objective or ""] + [c.name for c in project.countries]
        ).casefold()
        if needle not in haystack:
            return False
    return True


def list_projects(session: Session, name: str, query: ProjectQuery | None = None) -> list[Project]:
    """The projects of portfolio ``name`` that match ``query``, sorted (empty values last)."""
    query = query or ProjectQuery()
    if query.sort not in SORTS:
        raise BadInput(
            [Problem("sort", 0, "-", f'cannot sort by "{query.sort}"; use one of {", ".join(SORTS)}')],
            message="the query cannot be answered",
        )
    if query.has and query.has not in HAS:
        raise BadInput(
            [Problem("has", 0, "-", f'"{query.has}" is not a field to filter on; use one of {", ".join(HAS)}')],
            message="the query cannot be answered",
        )
    portfolio = get_portfolio(session, name)
    projects = [p for p in portfolio_projects(session, portfolio.id) if _matches(p, query)]
    key = SORTS[query.sort]
    present = [p for p in projects if key(p) not in (None, "")]
    absent = [p for p in projects if key(p) in (None, "")]
    present.sort(key=lambda p: (key(p), p.code), reverse=query.descending)
    return present + absent


def facets(session: Session, name: str) -> dict[str, list[tuple[str | None, int]]]:
    """For each filter, its values with their project counts (for the filter form)."""
    portfolio = get_portfolio(session, name)
    projects = portfolio_projects(session, portfolio.id)
    result: dict[str, list[tuple[str | None, int]]] = {}
    for filter_name in FILTERS:
        counts = Counter(_value(p, filter_name) for p in projects)
        result[filter_name] = sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    return result


def get_project(session: Session, name: str, code: str) -> Project:
    portfolio = get_portfolio(session, name)
    project = session.scalar(
        select(Project)
        .where(Project.portfolio_id == portfolio.id, func.lower(Project.code) == code.lower())
        .options(
            selectinload(Project.revisions),
            selectinload(Project.budgets),
            selectinload(Project.tags),
            selectinload(Project.results).selectinload(Result.children),
            selectinload(Project.results).selectinload(Result.indicators).selectinload(Indicator.periods),
        )
    )
    if project is None:
        raise NotFound(f'no project "{code}" in portfolio "{name}"')
    return project


def project_history(session: Session, project: Project) -> list[AuditEvent]:
    return audit.history(session, "project", project.id)


def import_batches(session: Session, name: str) -> list[ImportBatch]:
    portfolio = get_portfolio(session, name)
    return list(
        session.scalars(
            select(ImportBatch)
            .where(ImportBatch.portfolio_id == portfolio.id)
            .order_by(ImportBatch.at.desc(), ImportBatch.id.desc())
        )
    )


def add_revision(
    session: Session,
    name: str,
    code: str,
    *,
    type: str,
    date: dt.date | None,
    reason: str | None,
    note: str | None,
    actor: str,
) -> Revision:
    """Record a revision of a project (budget, duration, results matrix or project information)."""
    if type not in REVISION_TYPES:
        raise BadInput(
            [
                Problem(
                    "type",
                    0,
                    "-",
                    f'"{type}" is not a revision type; use {", ".join(REVISION_TYPES)}',
                )
            ]
        )
    project = get_project(session, name, code)
    if date is not None and project.start_date is not None and date < project.start_date:
        raise BadInput(
            [
                Problem(
                    "date",
                    0,
                    "-",
                    f"{date.isoformat()} is before the project started ({project.start_date.isoformat()})",
                )
            ]
        )
    before = {"revisions": [_revision_json(r) for r in project.revisions]}
    revision = Revision(type=type, date=date, reason=reason or None, note=note or None)
    project.revisions.append(revision)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="project",
        entity_id=project.id,
        before=before,
        after={"revisions": [_revision_json(r) for r in project.revisions]},
        summary=f"recorded a {type.replace('_', ' ')} revision",
    )
    return revision


def _revision_json(revision: Revision) -> dict[str, str | None]:
    return {
        "type": revision.type,
        "date": snapshot.plain(revision.date),
        "reason": revision.reason,
        "note": revision.note,
    }


def delete_project(session: Session, name: str, code: str, *, actor: str) -> None:
    project = get_project(session, name, code)
    before = snapshot.of_project(project)
    project_id = project.id
    session.delete(project)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="project",
        entity_id=project_id,
        before=before,
        after=None,
        summary=f"deleted {code} from {name}",
    )
