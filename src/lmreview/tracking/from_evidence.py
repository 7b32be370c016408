"""Recommendations found by the evidence library, brought into the register with a link back to their page.

The evidence library extracts, from an evaluation report, each recommendation with its responsible unit, priority,
time and resource implication (where a table gives them) and the management or office response printed in the
report, with its stance. Importing them makes each a recommendation of its document (``document N``), its response
taken over: "agrees", "partially agrees" and "disagrees" as they are, a response that only takes note as *No
response yet* with the office's text kept. A recommendation already in the register (same document and number) is
left as it is, so an import can be repeated. Lessons learned and good practices come into the library the same way,
titled by their opening words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lmreview.evidence import service as evidence
from lmreview.store import audit
from lmreview.tracking import lessons, service
from lmreview.tracking.models import STANCES, Lesson


def split_units(text: str) -> list[str]:
    """ "Labour Migration (MIGRANT), regional offices; DCOMM" → its units: split at commas and semicolons that are not
    inside brackets."""
    units, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char in ",;" and depth <= 0:
            units.append(current)
            current = ""
        else:
            current += char
    return [u.strip() for u in [*units, current] if u.strip()]


@dataclass
class EvidenceImport:
    added: list[tuple[int, str, str]] = field(default_factory=list)  # (id, source, number)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (source, number, why)


def _extracted(
    session: Session, document_id: int | None, kinds: tuple[str, ...] = ("recommendation",)
) -> list[tuple[dict[str, Any], Any]]:
    if document_id is not None:
        evidence.get_document(session, document_id)
    return [
        (evidence.item_json(item, document), document)
        for kind in kinds
        for item, document in evidence.items(session, kind=kind, document_id=document_id)
    ]


def import_evidence(session: Session, *, actor: str, document_id: int | None = None) -> EvidenceImport:
    """Add the recommendations the evidence library found (in one document, or in all) to the register."""
    report = EvidenceImport()
    for item, document in _extracted(session, document_id):
        source = f"document {document.id}"
        number = str(item["number"] or "").strip()
        if not number:
            report.skipped.append((source, "-", "it has no number"))
            continue
        existing = service.find_recommendation(session, None, number, document.id)
        if existing is not None:
            report.skipped.append((source, number, f"already in the register (id {existing.id})"))
            continue
        fields: dict[str, str] = item["fields"] or {}
        pages: list[int] = item["pages"] or []
        rec = service.add_recommendation(
            session,
            None,
            document_id=document.id,
            page=pages[0] if pages else None,
            number=number,
            text=item["text"],
            actor=actor,
            units=split_units(fields.get("responsible_unit", "")),
            priority=fields.get("priority"),
            time_implication=fields.get("time_implication"),
            resource_implication=fields.get("resource_implication"),
            projects=list(document.project_codes),
            year=document.year,
        )
        rec.passage_id = item.get("passage")
        response = item.get("response")
        if response:
            stance = response["stance"] if response["stance"] in STANCES else "no_response"
            before = service.rec_snapshot(rec)
            rec.stance = stance
            rec.response_text = (response.get("text") or "").strip() or None
            rec.responded_by = document.organisation or f"the response printed in {source}"
            where = f", p. {response['pages'][0]}" if response.get("pages") else ""
            audit.record(
                session,
                actor=actor,
                action="update",
                entity="recommendation",
                entity_id=rec.id,
                before=before,
                after=service.rec_snapshot(rec),
                summary=f"response to recommendation {number} taken from {source}{where}",
            )
        report.added.append((rec.id, source, number))
    return report


def _title(text: str, words: int = 12) -> str:
    """The opening words of a lesson as its title."""
    parts = text.split()
    return " ".join(parts[:words]).rstrip(".,;:") + ("…" if len(parts) > words else "")


def import_lessons(session: Session, *, actor: str, document_id: int | None = None) -> EvidenceImport:
    """Add the lessons and good practices the evidence library found to the library (once each)."""
    report = EvidenceImport()
    for item, document in _extracted(session, document_id, ("lesson", "good_practice")):
        source, number = f"document {document.id}", str(item["number"] or "-")
        text = " ".join(str(item["text"]).split())
        known = session.scalar(
            select(Lesson.id).where(Lesson.document_id == document.id, Lesson.kind == item["kind"], Lesson.text == text)
        )
        if known is not None:
            report.skipped.append((source, number, f"already in the library (id {known})"))
            continue
        pages: list[int] = item["pages"] or []
        lesson = lessons.add_lesson(
            session,
            kind=item["kind"],
            title=_title(text),
            text=text,
            actor=actor,
            document_id=document.id,
            page=pages[0] if pages else None,
            projects=list(document.project_codes),
            year=document.year,
        )
        report.added.append((lesson.id, source, number))
    return report
