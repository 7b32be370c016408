"""Plain records passed between the portfolio importers and the store.

Importers (CSV/XLSX, IATI XML) parse a file into :class:`ProjectRecord` objects and a list of problems; the
importing service validates them as a whole and writes them in one transaction. Nothing here touches the ORM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

RESULT_LEVELS = ("objective", "impact", "outcome", "output", "other")
REVISION_TYPES = ("budget", "duration", "results_matrix", "project_info")


@dataclass(slots=True)
class CountryRef:
    """A benefitting country as written in the file, with its ISO 3166 alpha-3 code when it is known."""

    name: str
    iso3: str | None = None
    percentage: Decimal | None = None


@dataclass(slots=True)
class TagRef:
    """A code from a classification: an IATI sector, policy marker or recipient region, an SDG target..."""

    scheme: str  # e.g. "sector:1" (DAC 5-digit), "policy-marker:1", "region:1"
    code: str
    name: str | None = None
    percentage: Decimal | None = None
    significance: int | None = None


@dataclass(slots=True)
class BudgetRecord:
    kind: str  # "original" | "revised"
    value: Decimal
    currency: str
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    value_date: dt.date | None = None
    status: str | None = None  # "indicative" | "committed"


@dataclass(slots=True)
class IndicatorPeriodRecord:
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    target: str | None = None
    actual: str | None = None


@dataclass(slots=True)
class IndicatorRecord:
    title: str
    measure: str | None = None  # "unit" | "percentage" | "nominal" | "ordinal" | "qualitative"
    ascending: bool | None = None
    baseline: str | None = None
    baseline_year: int | None = None
    description: str | None = None
    periods: list[IndicatorPeriodRecord] = field(default_factory=list)


@dataclass(slots=True)
class ResultRecord:
    level: str  # one of RESULT_LEVELS
    title: str
    description: str | None = None
    indicators: list[IndicatorRecord] = field(default_factory=list)
    children: list[ResultRecord] = field(default_factory=list)


@dataclass(slots=True)
class ProjectRecord:
    """One project as read from a file. ``row`` is where it starts in the file (for messages)."""

    row: int
    code: str
    title: str
    funding_year: int | None = None
    fund_line: str | None = None
    budget_usd: Decimal | None = None
    currency: str = "USD"
    countries: list[CountryRef] = field(default_factory=list)
    region: str | None = None
    category: str | None = None
    objective: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    planned_months: Decimal | None = None
    nce_months: Decimal | None = None
    status: str | None = None
    iati_identifier: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    budgets: list[BudgetRecord] = field(default_factory=list)
    results: list[ResultRecord] = field(default_factory=list)
    tags: list[TagRef] = field(default_factory=list)
