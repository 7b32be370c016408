"""JSON-safe pictures of a project, used to detect changes on re-import and kept in the audit log.

The same shape is built from a stored project (:func:`of_project`) and from a record read from a file
(:func:`of_record`), so comparing the two tells exactly which fields an import changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from lmreview.portfolio.models import Project, Result
from lmreview.portfolio.schemas import ProjectRecord, ResultRecord

SCALARS = (
    "title",
    "funding_year",
    "fund_line",
    "budget_usd",
    "currency",
    "objective",
    "start_date",
    "end_date",
    "planned_start",
    "planned_end",
    "planned_months",
    "nce_months",
    "status",
    "iati_identifier",
)
Snapshot = dict[str, Any]


_AS_IS = frozenset({str, int, bool, float, type(None)})


def plain(value: Any, places: int = 2) -> Any:
    if type(value) in _AS_IS:  # most values: nothing to convert
        return value
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal(1).scaleb(-places)))
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _result(result: Result | ResultRecord) -> Snapshot:
    """Stored results and results read from a file have the same attribute names."""
    return {
        "level": result.level,
        "title": result.title,
        "description": result.description,
        "indicators": [
            {
                "title": i.title,
                "description": i.description,
                "measure": i.measure,
                "ascending": i.ascending,
                "baseline": i.baseline,
                "baseline_year": i.baseline_year,
                "periods": [
                    {
                        "period_start": plain(p.period_start),
                        "period_end": plain(p.period_end),
                        "target": p.target,
                        "actual": p.actual,
                    }
                    for p in i.periods
                ],
            }
            for i in result.indicators
        ],
        "children": [_result(c) for c in result.children],
    }


def _budget(b: Any) -> Snapshot:
    return {
        "kind": b.kind,
        "status": b.status,
        "period_start": plain(b.period_start),
        "period_end": plain(b.period_end),
        "value": plain(b.value),
        "currency": b.currency,
        "value_date": plain(b.value_date),
    }


def _country(c: Any) -> Snapshot:
    return {"name": c.name, "iso3": c.iso3, "percentage": plain(c.percentage, 4)}


def _tag(scheme: str, code: str, name: str | None, percentage: Any, significance: Any) -> Snapshot:
    return {
        "scheme": scheme,
        "code": code,
        "name": name,
        "percentage": plain(percentage, 4),
        "significance": significance,
    }


def of_project(project: Project, *, children: bool = True) -> Snapshot:
    snap: Snapshot = {"code": project.code}
    for name in SCALARS:
        snap[name] = plain(getattr(project, name))
    snap["region"] = project.region.name if project.region else None
    snap["category"] = project.category.name if project.category else None
    snap["countries"] = [_country(c) for c in project.countries]
    snap["extra"] = dict(project.extra or {})
    if children:
        snap["budgets"] = [_budget(b) for b in project.budgets]
        snap["results"] = [_result(r) for r in project.results]
        snap["tags"] = sorted(
            (_tag(t.tag.scheme, t.tag.code, t.tag.name, t.percentage, t.significance) for t in project.tags),
            key=lambda t: (t["scheme"], t["code"]),
        )
    return snap


def of_record(record: ProjectRecord, provided: set[str], old_extra: dict[str, Any]) -> Snapshot:
    """The snapshot the project will have for the fields the file provides (``provided``)."""
    snap: Snapshot = {"code": record.code}
    for name in SCALARS:
        if name in provided:
            snap[name] = plain(getattr(record, name))
    for name in ("region", "category"):
        if name in provided:
            snap[name] = getattr(record, name)
    if "countries" in provided:
        snap["countries"] = [_country(c) for c in record.countries]
    extra = dict(old_extra)
    for key in provided:
        if key.startswith("extra:"):
            name = key.removeprefix("extra:")
            if record.extra.get(name):
                extra[name] = record.extra[name]
            else:
                extra.pop(name, None)
    snap["extra"] = extra
    if "budgets" in provided:
        snap["budgets"] = [_budget(b) for b in record.budgets]
    if "results" in provided:
        snap["results"] = [_result(r) for r in record.results]
    if "tags" in provided:
        snap["tags"] = sorted(
            (_tag(t.scheme, t.code, t.name, t.percentage, t.significance) for t in record.tags),
            key=lambda t: (t["scheme"], t["code"]),
        )
    return snap
