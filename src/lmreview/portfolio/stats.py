"""Portfolio statistics: budget, duration and no-cost extensions, and the breakdowns the reviews print.

Each summary is over the projects that have a value (``n``) among all projects of the portfolio (``of``); each
breakdown gives projects and budget per value, with the missing value as its own group (``value`` None).

A project flagged in extra["duration_flag"] (a placeholder end date such as 2050-12-31, or an activity that ended
well before its planned end: see portfolio/iati.py) has a duration that is not what it lasted: it is left out of the
duration and NCE summaries, whose ``n`` does not count it, and ``excluded`` says which projects were left out and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from lmreview.figures import Share, Summary
from lmreview.portfolio.models import Project
from lmreview.portfolio.service import get_portfolio, portfolio_projects

BREAKDOWNS: dict[str, Callable[[Project], str | None]] = {
    "region": lambda p: p.region.name if p.region else None,
    "fund_line": lambda p: p.fund_line,
    "funding_year": lambda p: str(p.funding_year) if p.funding_year is not None else None,
    "category": lambda p: p.category.name if p.category else None,
}


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


def breakdown(projects: list[Project], key: Callable[[Project], str | None]) -> list[Share]:
    budget_of = sum((p.budget_usd for p in projects if p.budget_usd is not None), Decimal(0))
    groups: dict[str | None, list[Project]] = defaultdict(list)
    for project in projects:
        groups[key(project)].append(project)
    shares = []
    for value, members in groups.items():
        budgets = [p.budget_usd for p in members if p.budget_usd is not None]
        shares.append(
            Share(
                value=value,
                projects=len(members),
                of=len(projects),
                budget_usd=sum(budgets, Decimal(0)) if budgets else None,
                budget_of=budget_of if budget_of else None,
                rows=tuple(p.code for p in members),
            )
        )
    shares.sort(key=lambda s: (-s.projects, s.value is None, s.value or ""))
    return shares


def portfolio_stats(session: Session, name: str) -> PortfolioStats:
    portfolio = get_portfolio(session, name)
    projects = portfolio_projects(session, portfolio.id)
    of = len(projects)
    excluded = tuple(Excluded(p.code, str(flag)) for p in projects if (flag := (p.extra or {}).get(DURATION_FLAG)))
    left_out = {e.code for e in excluded}
    note = f"; excludes {len(excluded)} flagged: " + ", ".join(e.code for e in excluded) if excluded else ""

    def values(get: Callable[[Project], Decimal | None], skip: set[str] | None = None) -> list[tuple[str, Decimal]]:
        return [(p.code, v) for p in projects if (v := get(p)) is not None and p.code not in (skip or set())]

    return PortfolioStats(
        portfolio=portfolio.name,
        projects=of,
        budget_usd=Summary.of_values("budget_usd", of, values(lambda p: p.budget_usd), "budget_usd"),
        duration_months=Summary.of_values(
            "duration_months",
            of,
            values(lambda p: p.duration_months, left_out),
            "planned_months + nce_months, else whole months from start_date to end_date" + note,
        ),
        nce_months=Summary.of_values("nce_months", of, values(lambda p: p.nce_months, left_out), "nce_months" + note),
        breakdowns={name: breakdown(projects, key) for name, key in BREAKDOWNS.items()},
        excluded=excluded,
    )
