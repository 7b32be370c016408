"""The status report for a board: the figures of `tracking status`, each recommendation with its response and key
actions, and the overdue actions by age; one self-contained HTML file, or a PDF of it (WeasyPrint, as report/)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from lmreview.report.pdf import render_pdf
from lmreview.tracking import service, values
from lmreview.tracking.status import tracking_status

HERE = Path(__file__).parent


def render_html(session: Session, filters: service.RecFilters, today: dt.date | None = None) -> str:
    day = today or dt.date.today()
    figures = tracking_status(session, filters, day)
    recs = [service.recommendation_json(session, r, day) for r in service.list_recommendations(session, filters)]
    scope = ", ".join(
        f"{label} {value}"
        for label, value in (
            ("review", filters.review),
            ("unit", filters.unit),
            ("year", filters.year),
            ("theme", filters.theme),
        )
        if value
    )
    context: dict[str, Any] = {
        "title": "Follow-up of recommendations" + (f": {filters.review}" if filters.review else ""),
        "today": day.isoformat(),
        "scope": scope,
        "data": figures.as_json(),
        "rate": figures.rate,
        "completed": len(figures.completed_due),
        "due": len(figures.due),
        "late": figures.late,
        "recs": recs,
        "stance_labels": values.STANCE_LABELS,
        "status_labels": values.STATUS_LABELS,
    }
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
    return env.get_template("status.html").render(**context)


def render(session: Session, filters: service.RecFilters, fmt: str, today: dt.date | None = None) -> bytes:
    html = render_html(session, filters, today)
    return render_pdf(html) if fmt == "pdf" else html.encode("utf-8")
