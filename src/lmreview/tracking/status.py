"""The follow-up figures: responses by stance, key actions by status, the implementation rate and overdue actions.

Definitions (docs/tracking.md repeats them for readers):

* an action is **due** when it has a due date on or before the day of the count and is not "no longer applicable";
* the **implementation rate** is the number of due actions that are completed divided by the number of due actions
  (unrounded; None when no action is due);
* an action is **overdue** when its due date has passed and it is neither completed nor no longer applicable; its
  **ageing** is the number of days since its due date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from lmreview.tracking.models import ACTION_STATUSES, STANCES, Action, Recommendation
from lmreview.tracking.service import RecFilters, list_recommendations, overdue, source_name


@dataclass(frozen=True)
class Late:
    action_id: int
    recommendation_id: int
    review: str  # the review's name, or "document N"
    number: str
    description: str
    unit: str | None
    due_date: dt.date
    days: int


@dataclass
class Status:
    """The counts of a set of recommendations; ``due`` and ``completed_due`` are the action ids behind the rate."""

    today: dt.date
    recommendations: list[int] = field(default_factory=list)
    stances: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    total: int = 0
    actions: list[int] = field(default_factory=list)
    due: list[int] = field(default_factory=list)
    completed_due: list[int] = field(default_factory=list)
    late: list[Late] = field(default_factory=list)

    @property
    def rate(self) -> Fraction | None:
        return Fraction(len(self.completed_due), len(self.due)) if self.due else None

    def as_json(self) -> dict[str, Any]:
        """Exactly the keys `lmreview tracking status --json` promises."""
        rate = self.rate
        return {
            "recommendations": len(self.recommendations),
            "responses": {name: self.stances[name] for name in STANCES},
            "actions": {"total": self.total, **{name: self.statuses[name] for name in ACTION_STATUSES}}
            | {"overdue": len(self.late)},
            "implementation_rate": None if rate is None else rate.numerator / rate.denominator,
        }


def is_due(action: Action, today: dt.date) -> bool:
    return action.due_date is not None and action.due_date <= today and action.status != "no_longer_applicable"


def compute(session: Session, recs: list[Recommendation], today: dt.date, unit: str | None = None) -> Status:
    """The figures of ``recs``; with ``unit``, only that unit's key actions count."""
    status = Status(today=today, stances=dict.fromkeys(STANCES, 0), statuses=dict.fromkeys(ACTION_STATUSES, 0))
    names: dict[int, str] = {}
    for rec in recs:
        status.recommendations.append(rec.id)
        status.stances[rec.stance] += 1
        for action in rec.actions:
            if unit is not None and action.unit != unit:
                continue
            status.total += 1
            status.actions.append(action.id)
            status.statuses[action.status] += 1
            if is_due(action, today):
                status.due.append(action.id)
                if action.status == "completed":
                    status.completed_due.append(action.id)
            if overdue(action, today) and action.due_date is not None:
                if rec.id not in names:
                    names[rec.id] = source_name(session, rec)
                status.late.append(
                    Late(
                        action.id,
                        rec.id,
                        names[rec.id],
                        rec.number,
                        action.description,
                        action.unit,
                        action.due_date,
                        (today - action.due_date).days,
                    )
                )
    status.late.sort(key=lambda late: (-late.days, late.action_id))
    return status


def tracking_status(session: Session, filters: RecFilters | None = None, today: dt.date | None = None) -> Status:
    """The figures of the recommendations the filters select (all of them by default).

    A unit filter counts the actions of that unit only (and the recommendations addressed to it)."""
    f = filters or RecFilters()
    day = today or dt.date.today()
    return compute(session, list_recommendations(session, f), day, f.unit)


WHICH = {
    "all": "all key actions",
    "due": "key actions due",
    "completed_due": "key actions due and completed",
    "overdue": "overdue key actions",
}


def actions_behind(status: Status, which: str) -> list[int]:
    """The ids of the actions behind a figure: ``all``, ``due``, ``completed_due`` or ``overdue``."""
    if which == "overdue":
        return [late.action_id for late in status.late]
    return list({"all": status.actions, "due": status.due, "completed_due": status.completed_due}.get(which, []))
