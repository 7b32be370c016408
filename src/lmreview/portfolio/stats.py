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

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from lmreview.figures import Share, Summary
from lmreview.portfolio.dates import whole_months
from lmreview.portfolio.models import Category, Portfolio, Project, Region, unknown_portfolio
from lmreview.store.base import Scaled
from lmreview.store.sums import exact_sum, exact_total

# The statistics read the tables with Core (no ORM entity): a command that only prints statistics never configures
# the mappers, and so never imports the models of the other stages (store/base.py).
P, R, C = Project.__table__.c, Region.__table__.c, Category.__table__.c

BREAKDOWNS: dict[str, Callable[[Project], str | None]] = {  # a loaded project's value (the analysis groups by these)
    "region": lambda p: p.region.name if p.region else None,
    "fund_line": lambda p: p.fund_line,
    "funding_year": lambda p: str(p.funding_year) if p.funding_year is not None else None,
    "category": lambda p: p.category.name if p.category else None,
}
# The same values as SQL, the group keys of the statistics (None is the missing value's group).
BREAKDOWN_COLUMNS: dict[str, Callable[[], Any]] = {  # columns or expressions
    "region": lambda: R.name,
    "fund_line": lambda: P.fund_line,
    "funding_year": lambda: cast(P.funding_year, String),
    "category": lambda: C.name,
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

    def as_json(self, rows: bool = False) -> dict[str, Any]:
        """The statistics as JSON; with ``rows`` (computed with ``rows=True``), each figure also lists the codes of
        the projects behind it."""
        data: dict[str, Any] = {
            "portfolio": self.portfolio,
            "projects": self.projects,
            "budget_usd": self.budget_usd.as_json(rows),
            "duration_months": self.duration_months.as_json(rows),
            "nce_months": self.nce_months.as_json(rows),
            "excluded_from_duration": [e.as_json() for e in self.excluded],
        }
        for name, shares in self.breakdowns.items():
            data[f"by_{name}"] = [s.as_json(rows) for s in shares]
        return data


def _projects(portfolio_id: int, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(Project.__table__)
        .outerjoin(Region.__table__, P.region_id == R.id)
        .outerjoin(Category.__table__, P.category_id == C.id)
        .where(P.portfolio_id == portfolio_id)
    )


def _flag() -> ColumnElement[str]:
    flag: ColumnElement[str] = P.extra[DURATION_FLAG].as_string()
    return flag


def _may_be_flagged() -> ColumnElement[bool]:
    """Whether a project's extra names the flag at all: a text test of the JSON that spares reading the JSON of
    every project (almost none are flagged), on both databases."""
    return cast(P.extra, String).contains(DURATION_FLAG, autoescape=True)


def _flagged() -> ColumnElement[bool]:
    return and_(_may_be_flagged(), _flag().is_not(None), _flag() != "")


def _not_flagged() -> ColumnElement[bool]:
    return or_(~_may_be_flagged(), _flag().is_(None), _flag() == "")


def _median(session: Session, portfolio_id: int, value: ColumnElement[Any], where: Sequence[Any], n: int) -> Decimal:
    """The middle value (or the mean of the two middle values) in SQL order: exact, as statistics.median."""
    query = _projects(portfolio_id, value).where(value.is_not(None), *where)
    middle: list[Decimal] = list(session.scalars(query.order_by(value).limit(2 - n % 2).offset((n - 1) // 2)))
    return middle[0] if n % 2 else (middle[0] + middle[1]) / 2


class _Measure:
    """One summary's aggregates (n, the exact sum's two parts, min, max) as columns of the one query that reads
    every summary in a single pass over the portfolio's projects."""

    def __init__(self, field: str, value: Any, rule: str, where: Sequence[Any] = ()) -> None:
        self.field, self.value, self.rule, self.where = field, value, rule, list(where)
        kept = case((and_(value.is_not(None), *where), value)) if where else value
        self.columns = [func.count(kept), *exact_sum(kept), func.min(kept), func.max(kept)]

    def summary(self, session: Session, portfolio_id: int, of: int, found: Sequence[Any], rows: bool) -> Summary:
        n, big, small, low, high = found
        if not n:
            return Summary(self.field, of, 0, None, None, None, None, None, (), self.rule)
        total = exact_total(big, small)
        assert total is not None, "n > 0 values have a sum"
        median = _median(session, portfolio_id, self.value, self.where, n)
        codes: tuple[str, ...] = ()
        if rows:
            query = _projects(portfolio_id, P.code).where(self.value.is_not(None), *self.where).order_by(P.code)
            codes = tuple(session.scalars(query))
        return Summary(self.field, of, n, total, total / n, median, low, high, codes, self.rule)


def _durations(
    session: Session, portfolio_id: int, of: int, rule: str, kept: Sequence[ColumnElement[bool]]
) -> Summary | None:
    """planned + NCE months are summed in SQL (the :class:`_Measure` of the one pass); projects without both but
    with dates count their whole months (computed here, the rule lives in portfolio/dates.py): when there are such
    projects, the summary is made from the values, and this returns it; else None."""
    both = and_(P.planned_months.is_not(None), P.nce_months.is_not(None))
    dated = session.execute(
        _projects(portfolio_id, P.code, P.start_date, P.end_date)
        .where(~both, P.start_date.is_not(None), P.end_date.is_not(None))
        .where(P.start_date <= P.end_date, *kept)
    ).all()
    if not dated:
        return None
    values = [(code, Decimal(whole_months(start, end))) for code, start, end in dated]
    values += [
        (code, value) for code, value in session.execute(_projects(portfolio_id, P.code, _added()).where(both, *kept))
    ]
    values.sort(key=lambda v: v[0])  # the order of the rows behind the figure: by code, as the other summaries
    return Summary.of_values("duration_months", of, values, rule)


def _added() -> ColumnElement[Decimal]:
    return type_coerce(P.planned_months + P.nce_months, Scaled(2))


def _breakdowns(
    session: Session, portfolio_id: int, of: int, budget_of: Decimal | None, rows: bool
) -> dict[str, list[Share]]:
    """Projects and budget by each breakdown, from one ``GROUP BY`` of every breakdown's key together (a few
    hundred groups), added up here per key: counts and the exact sum's parts add exactly."""
    names = list(BREAKDOWN_COLUMNS)
    keys = [BREAKDOWN_COLUMNS[name]() for name in names]
    groups = session.execute(
        _projects(portfolio_id, *keys, func.count(), func.count(P.budget_usd), *exact_sum(P.budget_usd)).group_by(*keys)
    ).all()
    added: list[dict[str | None, list[int]]] = [{} for _ in names]
    for row in groups:
        count, budgeted, big, small = row[len(names) :]
        for i, value in enumerate(row[: len(names)]):
            sums = added[i].setdefault(value, [0, 0, 0, 0])
            sums[0] += count
            sums[1] += budgeted
            sums[2] += int(big or 0)
            sums[3] += int(small or 0)
    members: list[dict[str | None, list[str]]] = [defaultdict(list) for _ in names]
    if rows:
        for code, *values in session.execute(_projects(portfolio_id, P.code, *keys).order_by(P.code)):
            for i, value in enumerate(values):
                members[i][value].append(code)
    found: dict[str, list[Share]] = {}
    for i, name in enumerate(names):
        shares = [
            Share(
                value=value,
                projects=count,
                of=of,
                budget_usd=exact_total(big, small) if budgeted else None,
                budget_of=budget_of,
                rows=tuple(members[i].get(value, ())),
            )
            for value, (count, budgeted, big, small) in added[i].items()
        ]
        shares.sort(key=lambda s: (-s.projects, s.value is None, s.value or ""))
        found[name] = shares
    return found


def portfolio_stats(session: Session, name: str, *, rows: bool = True) -> PortfolioStats:
    """The statistics of portfolio ``name``, computed by the database (SQLite or PostgreSQL, the same numbers).

    Every summary's aggregates come from one pass over the portfolio's projects, every breakdown from one
    ``GROUP BY``; each median is one ordered query. ``rows=False`` leaves out the codes of the projects behind each
    figure (``Summary.rows``, ``Share.rows``), which the CLI's --json and the JSON API do not print: only the
    aggregates are then read.
    """
    portfolio = session.execute(
        select(Portfolio.__table__.c.id, Portfolio.__table__.c.name).where(Portfolio.__table__.c.name == name)
    ).first()
    if portfolio is None:
        raise unknown_portfolio(session, name)
    pid = portfolio.id
    flagged = session.execute(_projects(pid, P.code, _flag()).where(_flagged()).order_by(P.code)).all()
    excluded = tuple(Excluded(code, str(flag)) for code, flag in flagged)
    note = f"; excludes {len(excluded)} flagged: " + ", ".join(e.code for e in excluded) if excluded else ""
    # Without a flagged project (the usual case) the flag is not read again; planned + NCE is NULL unless both are
    # given, so that sum needs no other condition.
    kept = [_not_flagged()] if excluded else []
    measures = [
        _Measure("budget_usd", P.budget_usd, "budget_usd"),
        _Measure("duration_months", _added(), DURATION_RULE + note, kept),
        _Measure("nce_months", P.nce_months, "nce_months" + note, kept),
    ]
    found = session.execute(_projects(pid, func.count(), *(c for m in measures for c in m.columns))).one()
    of = found[0] or 0
    parts = [found[1 + 5 * i : 6 + 5 * i] for i in range(len(measures))]
    budget = measures[0].summary(session, pid, of, parts[0], rows)
    duration = _durations(session, pid, of, DURATION_RULE + note, kept) or measures[1].summary(
        session, pid, of, parts[1], rows
    )
    return PortfolioStats(
        portfolio=portfolio.name,
        projects=of,
        budget_usd=budget,
        duration_months=duration,
        nce_months=measures[2].summary(session, pid, of, parts[2], rows),
        breakdowns=_breakdowns(session, pid, of, budget.total if budget.total else None, rows),
        excluded=excluded,
    )
