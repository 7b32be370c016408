"""Portfolio statistics: budget, duration and no-cost extensions, and the breakdowns the reviews print.

Each summary is over the projects that have a value (``n``) among all projects of the portfolio (``of``); each
breakdown gives projects and budget per value, with the missing value as its own group (``value`` None).

A project flagged in extra["duration_flag"] (a placeholder end date such as 2050-12-31, or an activity that ended
well before its planned end: see portfolio/iati.py) has a duration that is not what it lasted: it is left out of the
duration and NCE summaries, whose ``n`` does not count it, and ``excluded`` says which projects were left out and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from lmreview.figures import Share, Summary
from lmreview.portfolio.dates import whole_months
from lmreview.portfolio.models import Category, Project, Region
from lmreview.portfolio.service import exact_sum, exact_total, get_portfolio
from lmreview.store.base import Scaled

BREAKDOWNS: dict[str, Callable[[Project], str | None]] = {  # a loaded project's value (the analysis groups by these)
    "region": lambda p: p.region.name if p.region else None,
    "fund_line": lambda p: p.fund_line,
    "funding_year": lambda p: str(p.funding_year) if p.funding_year is not None else None,
    "category": lambda p: p.category.name if p.category else None,
}
# The same values as SQL, the group keys of the statistics (None is the missing value's group).
BREAKDOWN_COLUMNS: dict[str, Callable[[], Any]] = {  # columns or expressions
    "region": lambda: Region.name,
    "fund_line": lambda: Project.fund_line,
    "funding_year": lambda: cast(Project.funding_year, String),
    "category": lambda: Category.name,
}
DURATION_RULE = "planned_months + nce_months, else whole months from start_date to end_date"


DURATION_FLAG = "duration_flag"  # the key of Project.extra that keeps a project out of the duration statistics


@dataclass(frozen=True, slots=True)
class Excluded:
    """A project left out of the duration and NCE summaries, and why."""

    code: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PortfolioStats:
    portfolio: str
    projects: int
    budget_usd: Summary
    duration_months: Summary
    nce_months: Summary
    breakdowns: dict[str, list[Share]]
    excluded: tuple[Excluded, ...] = ()

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "portfolio": self.portfolio,
            "projects": self.projects,
            "budget_usd": self.budget_usd.as_json(),
            "duration_months": self.duration_months.as_json(),
            "nce_months": self.nce_months.as_json(),
            "excluded_from_duration": [e.as_json() for e in self.excluded],
        }
        for name, shares in self.breakdowns.items():
            data[f"by_{name}"] = [s.as_json() for s in shares]
        return data


def _projects(portfolio_id: int, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(Project)
        .outerjoin(Region, Project.region_id == Region.id)
        .outerjoin(Category, Project.category_id == Category.id)
        .where(Project.portfolio_id == portfolio_id)
    )


def _flag() -> ColumnElement[str]:
    flag: ColumnElement[str] = Project.extra[DURATION_FLAG].as_string()
    return flag


def _not_flagged() -> ColumnElement[bool]:
    return or_(_flag().is_(None), _flag() == "")


def _median(session: Session, query: Select[Any], value: ColumnElement[Any], n: int) -> Decimal:
    """The middle value (or the mean of the two middle values) in SQL order: exact, as statistics.median."""
    middle: list[Decimal] = list(session.scalars(query.order_by(value).limit(2 - n % 2).offset((n - 1) // 2)))
    return middle[0] if n % 2 else (middle[0] + middle[1]) / 2


def _summary(
    session: Session,
    portfolio_id: int,
    field: str,
    value: Any,  # a column or an expression
    of: int,
    rule: str,
    rows: bool,
    where: Sequence[ColumnElement[bool]] = (),
) -> Summary:
    """n, total, mean, median, min and max of ``value`` as SQL aggregates over the projects that have one."""
    conditions = [value.is_not(None), *where]
    n, big, small, low, high = session.execute(
        _projects(portfolio_id, func.count(value), *exact_sum(value), func.min(value), func.max(value)).where(
            *conditions
        )
    ).one()
    total = exact_total(big, small)
    if not n:
        return Summary(field, of, 0, None, None, None, None, None, (), rule)
    median = _median(session, _projects(portfolio_id, value).where(*conditions), value, n)
    codes: tuple[str, ...] = ()
    if rows:
        codes = tuple(session.scalars(_projects(portfolio_id, Project.code).where(*conditions).order_by(Project.code)))
    assert total is not None, "n > 0 values have a sum"
    return Summary(field, of, n, total, total / n, median, low, high, codes, rule)


def _duration(session: Session, portfolio_id: int, of: int, rule: str, rows: bool) -> Summary:
    """planned + NCE months in SQL; projects without both but with dates count their whole months (computed here,
    the rule lives in portfolio/dates.py), and then the summary is made from the values."""
    both = and_(Project.planned_months.is_not(None), Project.nce_months.is_not(None))
    added = type_coerce(Project.planned_months + Project.nce_months, Scaled(2))
    dated = session.execute(
        _projects(portfolio_id, Project.code, Project.start_date, Project.end_date)
        .where(~both, Project.start_date.is_not(None), Project.end_date.is_not(None))
        .where(Project.start_date <= Project.end_date, _not_flagged())
    ).all()
    if not dated:
        return _summary(session, portfolio_id, "duration_months", added, of, rule, rows, [both, _not_flagged()])
    values = [(code, Decimal(whole_months(start, end))) for code, start, end in dated]
    values += [
        (code, value)
        for code, value in session.execute(_projects(portfolio_id, Project.code, added).where(both, _not_flagged()))
    ]
    values.sort(key=lambda v: v[0])  # the order of the rows behind the figure: by code, as the other summaries
    return Summary.of_values("duration_months", of, values, rule)


def _breakdown(
    session: Session, portfolio_id: int, key: Any, of: int, budget_of: Decimal | None, rows: bool
) -> list[Share]:
    groups = session.execute(
        _projects(
            portfolio_id, key, func.count(), func.count(Project.budget_usd), *exact_sum(Project.budget_usd)
        ).group_by(key)
    ).all()
    members: dict[str | None, list[str]] = defaultdict(list)
    if rows:
        for value, code in session.execute(_projects(portfolio_id, key, Project.code).order_by(Project.code)):
            members[value].append(code)
    shares = [
        Share(
            value=value,
            projects=count,
            of=of,
            budget_usd=exact_total(big, small) if budgeted else None,
            budget_of=budget_of,
            rows=tuple(members.get(value, ())),
        )
        for value, count, budgeted, big, small in groups
    ]
    shares.sort(key=lambda s: (-s.projects, s.value is None, s.value or ""))
    return shares


def portfolio_stats(session: Session, name: str, *, rows: bool = True) -> PortfolioStats:
    """The statistics of portfolio ``name``, computed by the database (SQLite or PostgreSQL, the same numbers).

    ``rows=False`` leaves out the codes of the projects behind each figure (``Summary.rows``, ``Share.rows``),
    which the CLI's --json and the JSON API do not print: only the aggregates are then read.
    """
    portfolio = get_portfolio(session, name)
    pid = portfolio.id
    of = session.scalar(select(func.count()).select_from(Project).where(Project.portfolio_id == pid)) or 0
    flagged = session.execute(
        _projects(pid, Project.code, _flag()).where(_flag().is_not(None), _flag() != "").order_by(Project.code)
    ).all()
    excluded = tuple(Excluded(code, str(flag)) for code, flag in flagged)
    note = f"; excludes {len(excluded)} flagged: " + ", ".join(e.code for e in excluded) if excluded else ""
    budget = _summary(session, pid, "budget_usd", Project.budget_usd, of, "budget_usd", rows)
    return PortfolioStats(
        portfolio=portfolio.name,
        projects=of,
        budget_usd=budget,
        duration_months=_duration(session, pid, of, DURATION_RULE + note, rows),
        nce_months=_summary(
            session, pid, "nce_months", Project.nce_months, of, "nce_months" + note, rows, [_not_flagged()]
        ),
        breakdowns={
            name: _breakdown(session, pid, key(), of, budget.total if budget.total else None, rows)
            for name, key in BREAKDOWN_COLUMNS.items()
        },
        excluded=excluded,
    )
