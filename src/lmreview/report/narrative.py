"""The narrative of a review's report: sections reviewers write in Markdown, every saved version kept.

Saving a section adds a version (1, 2, 3...) and an audit event; nothing is overwritten, so an earlier wording can
always be read again. Saving the same text and title as the current version changes nothing. The report shows the
current (highest) version of each section; ``brief_header`` holds the header fields of the evaluation brief as
``Field: value`` lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview.errors import BadInput, NotFound, Problem
from lmreview.questionnaire.models import Review
from lmreview.report.models import ReportSection
from lmreview.store import audit

# The sections of the report, in the order it prints them, with the title each gets unless the reviewer gives one.
SECTIONS: dict[str, str] = {
    "summary": "Executive summary",
    "introduction": "Introduction",
    "findings": "Findings",
    "conclusions": "Conclusions",
    "recommendations": "Recommendations",
    "lessons": "Lessons learned",
    "brief_header": "Header of the evaluation brief",
}
MAX_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class Section:
    """One version of one section; ``version`` 0 means nobody has written it yet."""

    key: str
    title: str
    markdown: str
    version: int
    actor: str | None
    at: dt.datetime | None

    @property
    def written(self) -> bool:
        return self.version > 0 and bool(self.markdown.strip())

    def as_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "title": self.title,
            "version": self.version,
            "actor": self.actor,
            "at": self.at.isoformat() if self.at else None,
            "markdown": self.markdown,
        }


@dataclass(frozen=True, slots=True)
class Saved:
    section: Section
    changed: bool  # False when the text and title were those of the current version


def check_key(key: str) -> str:
    if key not in SECTIONS:
        known = ", ".join(SECTIONS)
        raise BadInput([Problem("--key", 0, "-", f'there is no report section "{key}"; the sections are: {known}')])
    return key


def _section(row: ReportSection) -> Section:
    return Section(row.key, row.title, row.markdown, row.version, row.actor, row.at)


def _empty(key: str) -> Section:
    return Section(key, SECTIONS[key], "", 0, None, None)


def _current_row(session: Session, review: Review, key: str) -> ReportSection | None:
    return session.scalar(
        select(ReportSection)
        .where(ReportSection.review_id == review.id, ReportSection.key == key)
        .order_by(ReportSection.version.desc())
        .limit(1)
    )


def save_section(
    session: Session, review: Review, key: str, markdown: str, *, actor: str, title: str | None = None
) -> Saved:
    """Save ``markdown`` as the next version of section ``key`` (the current title is kept unless ``title``)."""
    check_key(key)
    if len(markdown) > MAX_CHARS:
        raise BadInput([Problem(key, 0, "-", f"a section holds at most {MAX_CHARS:,} characters")])
    text = markdown.replace("\r\n", "\n").strip() + "\n"
    current = _current_row(session, review, key)
    new_title = (title or "").strip() or (current.title if current else SECTIONS[key])
    if current is not None and current.markdown == text and current.title == new_title:
        return Saved(_section(current), changed=False)
    version = (
        session.scalar(
            select(func.max(ReportSection.version)).where(
                ReportSection.review_id == review.id, ReportSection.key == key
            )
        )
        or 0
    ) + 1
    row = ReportSection(review_id=review.id, key=key, version=version, title=new_title, markdown=text, actor=actor)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create" if version == 1 else "update",
        entity="report_section",
        entity_id=row.id,
        before={"version": current.version, "title": current.title, "markdown": current.markdown} if current else None,
        after={"review": review.name, "key": key, "version": version, "title": new_title, "markdown": text},
        summary=f"saved version {version} of section {key} of review {review.name}",
    )
    return Saved(_section(row), changed=True)


def current_sections(session: Session, review: Review) -> dict[str, Section]:
    """The current version of every section (an empty version 0 for those not written), in report order."""
    rows = session.scalars(
        select(ReportSection).where(ReportSection.review_id == review.id).order_by(ReportSection.version)
    )
    latest = {row.key: _section(row) for row in rows}  # ascending: the last one seen is the current version
    return {key: latest.get(key) or _empty(key) for key in SECTIONS}


def section_history(session: Session, review: Review, key: str) -> list[Section]:
    """Every saved version of section ``key``, newest first."""
    check_key(key)
    rows = session.scalars(
        select(ReportSection)
        .where(ReportSection.review_id == review.id, ReportSection.key == key)
        .order_by(ReportSection.version.desc())
    )
    return [_section(row) for row in rows]


def section_version(session: Session, review: Review, key: str, version: int) -> Section:
    for section in section_history(session, review, key):
        if section.version == version:
            return section
    raise NotFound(f"section {key} of review {review.name} has no version {version}")
