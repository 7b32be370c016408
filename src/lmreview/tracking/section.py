"""The report's "Recommendations" section written from the register: once a review has recommendations in the
register, the report (HTML, PDF, DOCX) and the brief print them from there instead of the free-text section, each
with its responsible units, priority, implications and the management response."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.report.narrative import SECTIONS, Section
from lmreview.tracking import values
from lmreview.tracking.models import Recommendation
from lmreview.tracking.service import RecFilters, list_recommendations


def register_markdown(recs: list[Recommendation]) -> str:
    """One list item a recommendation: its number and text, then its details on an indented line."""
    lines: list[str] = []
    for rec in recs:
        lines.append(f"- **{rec.number}.** {' '.join(rec.text.split())}")
        details = [
            f"*Responsible:* {', '.join(rec.units)}" if rec.units else "",
            f"*Priority:* {rec.priority}" if rec.priority else "",
            f"*Time:* {rec.time_implication}" if rec.time_implication else "",
            f"*Resources:* {rec.resource_implication}" if rec.resource_implication else "",
        ]
        if rec.stance != "no_response":
            response = values.STANCE_LABELS[rec.stance]
            if rec.response_text:
                response += f": {' '.join(rec.response_text.split())}"
            details.append(f"*Management response:* {response}")
        shown = " · ".join(d for d in details if d)
        if shown:
            lines.append(f"  {shown}")
    return "\n".join(lines)


def register_section(session: Session, review_id: int, review_name: str) -> Section | None:
    """The Recommendations section from the register, or None when the review has none there."""
    if session.scalar(select(Recommendation.id).where(Recommendation.review_id == review_id).limit(1)) is None:
        return None
    recs = list_recommendations(session, RecFilters(review=review_name))
    latest = max(recs, key=lambda r: r.updated_at)
    return Section(
        key="recommendations",
        title=SECTIONS["recommendations"],
        markdown=register_markdown(recs),
        version=0,
        actor="the recommendations register",
        at=latest.updated_at,
    )
