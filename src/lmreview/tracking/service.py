"""The register: recommendations of a review, the management response to each, key actions and their progress.

Every change is written to the audit log (entity ``recommendation`` or ``key_action``) with the record before and
after, so that a recommendation's page can show its whole history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lmreview import access
from lmreview.errors import BadInput, NotFound, Problem
from lmreview.evidence.models import Document
from lmreview.questionnaire.models import Review
from lmreview.questionnaire.respondents import email_problem
from lmreview.questionnaire.reviews import get_review
from lmreview.store import audit
from lmreview.store.base import find_row, get_row
from lmreview.store.models import AuditEvent
from lmreview.text import is_number
from lmreview.tracking import values
from lmreview.tracking.models import Action, Comment, Recommendation, ResponseLink, Unit

MAX_ATTACHMENT = 20 * 1024 * 1024
UNIT_NAME_MAX = 120  # tracking_unit.name
REC_FIELDS = (
    "number",
    "text",
    "rationale",
    "units",
    "priority",
    "time_implication",
    "resource_implication",
    "projects",
    "themes",
    "year",
)


def _bad(what: str, message: str) -> BadInput:
    return BadInput([Problem(what, 0, "-", message)], message=f"{what}: {message}")


def rec_snapshot(rec: Recommendation) -> dict[str, Any]:
    return {
        **{name: getattr(rec, name) for name in REC_FIELDS},
        "stance": rec.stance,
        "response_text": rec.response_text,
        "responded_by": rec.responded_by,
        "responded_at": rec.responded_at.isoformat() if rec.responded_at else None,
    }


def action_snapshot(action: Action) -> dict[str, Any]:
    return {
        "description": action.description,
        "unit": action.unit,
        "due_date": action.due_date.isoformat() if action.due_date else None,
        "status": action.status,
    }


def overdue(action: Action, today: dt.date) -> bool:
    """Past its due date and neither completed nor no longer applicable."""
    return (
        action.due_date is not None
        and action.due_date < today
        and action.status not in ("completed", "no_longer_applicable")
    )


def _names(items: list[str] | None, what: str = "name") -> list[str]:
    """The names given, stripped, each once, in the order given; a name over 120 characters is refused."""
    names = list(dict.fromkeys(i.strip() for i in items or [] if i.strip()))
    for name in names:
        if len(name) > UNIT_NAME_MAX:
            raise _bad(what, f"{name[:40]}… is longer than {UNIT_NAME_MAX} characters; separate several with ;")
    return names


def add_recommendation(
    session: Session,
    review: str | None,
    *,
    number: str,
    text: str,
    actor: str,
    document_id: int | None = None,
    page: int | None = None,
    rationale: str | None = None,
    units: list[str] | None = None,
    priority: str | None = None,
    time_implication: str | None = None,
    resource_implication: str | None = None,
    projects: list[str] | None = None,
    themes: list[str] | None = None,
    year: int | None = None,
) -> Recommendation:
    """Add a recommendation of a review, or one found on a page of an evidence document; its number is unique
    within its review or document."""
    if (review is None) == (document_id is None):
        raise _bad("source", "a recommendation comes from a review or from an evidence document: name one")
    target = get_review(session, review) if review is not None else None
    if page is not None and document_id is None:
        raise _bad("page", "a page belongs to a document: give the document too")
    if document_id is not None:
        document = get_row(
            session, Document, document_id, f"there is no document {document_id} in the evidence library"
        )
        if page is not None and not 1 <= page <= document.page_count:
            raise _bad("page", f"document {document_id} has pages 1 to {document.page_count}")
    number = number.strip()
    if not number:
        raise _bad("number", "a recommendation needs a number, such as 1 or 3.2")
    if not text.strip():
        raise _bad("text", "a recommendation needs its text")
    same = Recommendation.review_id == target.id if target is not None else Recommendation.document_id == document_id
    if session.scalar(select(Recommendation.id).where(same, Recommendation.number == number)):
        where = f"review {review}" if review is not None else f"document {document_id}"
        raise _bad("number", f"{where} already has a recommendation {number}")
    rec = Recommendation(
        review_id=target.id if target is not None else None,
        document_id=document_id,
        page=page,
        number=number,
        text=text.strip(),
        rationale=rationale or None,
        units=_names(units, "unit"),
        priority=priority or None,
        time_implication=time_implication or None,
        resource_implication=resource_implication or None,
        projects=_names(projects),
        themes=_names(themes),
        year=year,
    )
    session.add(rec)
    session.flush()
    for unit in rec.units:
        _ensure_unit(session, unit)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="recommendation",
        entity_id=rec.id,
        after=rec_snapshot(rec),
        summary=f"added recommendation {number} of {source_name(session, rec)}",
    )
    return rec


EDITABLE = ("text", "rationale", "units", "priority", "time_implication", "resource_implication", "projects", "themes")


def update_recommendation(
    session: Session, rec_id: int, changes: dict[str, str | list[str] | int | None], *, actor: str
) -> Recommendation:
    """Correct a recommendation's fields (an empty text clears an optional field); the change is audited."""
    rec = get_recommendation(session, rec_id)
    before = rec_snapshot(rec)
    for key, value in changes.items():
        if key not in (*EDITABLE, "year"):
            raise _bad(key, f"{key} cannot be changed; change {', '.join(EDITABLE)} or year")
        if key in ("units", "projects", "themes"):
            setattr(rec, key, _names(value if isinstance(value, list) else str(value or "").split(";")))
        elif key == "year":
            setattr(rec, key, value if isinstance(value, int) else None)
        elif key == "text":
            if not str(value or "").strip():
                raise _bad("text", "a recommendation needs its text")
            rec.text = str(value).strip()
        else:
            setattr(rec, key, str(value or "").strip() or None)
    after = rec_snapshot(rec)
    changed = audit.changed_fields(before, after)
    if not changed:
        raise _bad("recommendation", "nothing to change")
    for unit in rec.units:
        _ensure_unit(session, unit)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="recommendation",
        entity_id=rec.id,
        before=before,
        after=after,
        summary=f"recommendation {rec.number}: " + ", ".join(changed),
    )
    return rec


def _ensure_unit(session: Session, name: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.name == name))
    if unit is None:
        unit = Unit(name=name)
        session.add(unit)
        session.flush()
    return unit


def set_unit(session: Session, name: str, *, email: str, actor: str) -> Unit:
    """Record the address a unit's links and reminders go to."""
    name, email = name.strip(), email.strip()
    if not name:
        raise _bad("unit", "name the unit")
    if problem := email_problem(email):
        raise _bad("email", problem)
    unit = _ensure_unit(session, name)
    before = {"email": unit.email}
    unit.email = email
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="unit",
        entity_id=unit.id,
        before=before,
        after={"email": unit.email},
        summary=f"set the address of {name}",
    )
    return unit


def list_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.name)))


def get_recommendation(session: Session, rec_id: int) -> Recommendation:
    """The recommendation ``rec_id`` (on the CLI run as ``--user NAME``, only one of that user's reviews)."""
    missing = f"there is no recommendation {rec_id}: lmreview tracking recs list shows their ids"
    rec = get_row(session, Recommendation, rec_id, missing)
    access.check_acting_record(session, rec.review_id, missing)
    return rec


def find_recommendation(
    session: Session, review: Review | None, number: str, document_id: int | None = None
) -> Recommendation | None:
    """The recommendation ``number`` of a review (or, with ``review`` None, of document ``document_id``)."""
    same = Recommendation.review_id == review.id if review is not None else Recommendation.document_id == document_id
    return session.scalar(select(Recommendation).where(same, Recommendation.number == number.strip()))


@dataclass(frozen=True)
class RecFilters:
    review: str | None = None
    stance: str | None = None
    unit: str | None = None
    year: int | None = None
    theme: str | None = None
    document: int | None = None
    # The reviews the reader may see (lmreview.access.visible_review_ids); None: every review. Recommendations
    # found in evidence documents belong to no review and are always listed.
    visible: frozenset[int] | None = None


def list_recommendations(session: Session, filters: RecFilters | None = None) -> list[Recommendation]:
    """Recommendations in review order and by number (3 before 10), filtered."""
    f = filters or RecFilters()
    visible = f.visible if f.visible is not None else access.acting_visible(session)  # the CLI run as --user
    query = select(Recommendation)
    if f.document is not None:
        query = query.where(Recommendation.document_id == f.document)
    if f.review:
        review = get_review(session, f.review)
        if visible is not None and review.id not in visible:
            raise NotFound(f"there is no review {f.review!r}")
        query = query.where(Recommendation.review_id == review.id)
    if visible is not None:
        query = query.where(or_(Recommendation.review_id.is_(None), Recommendation.review_id.in_(visible)))
    if f.stance:
        name = values.stance(f.stance)
        if name is None:
            raise _bad("stance", f"{f.stance!r} is not a stance; use {values.stance_choices()}")
        query = query.where(Recommendation.stance == name)
    if f.year is not None:
        query = query.where(Recommendation.year == f.year)
    recs = list(session.scalars(query))
    if f.unit:
        recs = [r for r in recs if f.unit in r.units or any(a.unit == f.unit for a in r.actions)]
    if f.theme:
        recs = [r for r in recs if f.theme in r.themes]
    names: dict[int, str] = {row.id: row.name for row in session.execute(select(Review.id, Review.name))}
    return sorted(recs, key=lambda r: (names.get(r.review_id or 0, ""), r.document_id or 0, _number_key(r.number)))


def _number_key(number: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if is_number(p, 18) else (1 << 30, p) for p in number.replace(".", " ").split())


def source_name(session: Session, rec: Recommendation) -> str:
    """The review's name, or "document N" for a recommendation found in an evidence document."""
    if rec.review_id is None:
        return f"document {rec.document_id}"
    review = session.get(Review, rec.review_id)
    return review.name if review else ""


def recommendation_json(session: Session, rec: Recommendation, today: dt.date) -> dict[str, Any]:
    return {
        "id": rec.id,
        "review": source_name(session, rec) if rec.review_id is not None else None,
        "document_id": rec.document_id,
        "page": rec.page,
        "passage_id": rec.passage_id,
        "source": source_name(session, rec),
        **{name: getattr(rec, name) for name in REC_FIELDS},
        "response": {
            "stance": rec.stance,
            "text": rec.response_text,
            "by": rec.responded_by,
            "on": rec.responded_at.isoformat() if rec.responded_at else None,
        },
        "actions": [action_json(a, today) for a in rec.actions],
    }


def action_json(action: Action, today: dt.date) -> dict[str, Any]:
    late = overdue(action, today)
    return {
        "id": action.id,
        "recommendation_id": action.recommendation_id,
        **action_snapshot(action),
        "overdue": late,
        "days_overdue": (today - action.due_date).days if late and action.due_date else None,
        "comments": [
            {"on": c.written_on.isoformat(), "author": c.author, "text": c.text, "file": c.filename}
            for c in action.comments
        ],
    }


def respond(
    session: Session,
    rec_id: int,
    *,
    stance: str,
    text: str | None,
    by: str,
    actor: str,
    on: dt.date | None = None,
) -> Recommendation:
    """Record (or replace) the management response to a recommendation."""
    rec = get_recommendation(session, rec_id)
    name = values.stance(stance)
    if name is None:
        raise _bad("stance", f"{stance!r} is not a stance; use {values.stance_choices()}")
    if name in ("partially_agrees", "disagrees") and not (text or "").strip():
        raise _bad("text", "say why management only partially agrees or disagrees")
    before = rec_snapshot(rec)
    rec.stance = name
    rec.response_text = (text or "").strip() or None
    rec.responded_by = by.strip() or actor
    rec.responded_at = on or dt.date.today()
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="recommendation",
        entity_id=rec.id,
        before=before,
        after=rec_snapshot(rec),
        summary=f"response to recommendation {rec.number}: {values.STANCE_LABELS[name].lower()}",
    )
    return rec


def _status(value: str) -> str:
    name = values.status(value)
    if name is None:
        raise _bad("status", f"{value!r} is not a status; use {values.status_choices()}")
    return name


def add_action(
    session: Session,
    rec_id: int,
    *,
    description: str,
    actor: str,
    unit: str | None = None,
    due: dt.date | None = None,
    status: str = "not_initiated",
) -> Action:
    rec = get_recommendation(session, rec_id)
    if not description.strip():
        raise _bad("description", "describe the key action")
    action = Action(
        recommendation_id=rec.id,
        description=description.strip(),
        unit=next(iter(_names([unit or ""], "unit")), None),
        due_date=due,
        status=_status(status),
    )
    rec.actions.append(action)
    session.flush()
    if action.unit:
        _ensure_unit(session, action.unit)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="key_action",
        entity_id=action.id,
        after={**action_snapshot(action), "recommendation_id": rec.id},
        summary=f"added a key action to recommendation {rec.number}",
    )
    return action


def get_action(session: Session, action_id: int) -> Action:
    """The key action ``action_id`` (on the CLI run as ``--user NAME``, only one of that user's reviews)."""
    missing = f"there is no key action {action_id}: lmreview tracking recs show ID lists them"
    action = get_row(session, Action, action_id, missing)
    access.check_acting_record(session, action.recommendation.review_id, missing)
    return action


def update_action(
    session: Session,
    action_id: int,
    *,
    actor: str,
    status: str | None = None,
    due: dt.date | None = None,
    description: str | None = None,
    unit: str | None = None,
    comment: str | None = None,
    author: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    on: dt.date | None = None,
) -> Action:
    """Change an action's status, due date, description or unit, and/or add a dated progress comment."""
    action = get_action(session, action_id)
    before = action_snapshot(action)
    if status is not None:
        action.status = _status(status)
    if due is not None:
        action.due_date = due
    if description is not None and description.strip():
        action.description = description.strip()
    if unit is not None:
        action.unit = next(iter(_names([unit], "unit")), None)
        if action.unit:
            _ensure_unit(session, action.unit)
    if attachment is not None and len(attachment[1]) > MAX_ATTACHMENT:
        raise _bad(attachment[0], f"the file is larger than {MAX_ATTACHMENT // 1024 // 1024} MiB")
    if attachment is not None and not (comment or "").strip():
        raise _bad("comment", "a file is attached to a progress comment: write one")
    after = action_snapshot(action)
    if comment is not None and comment.strip():
        note = Comment(
            written_on=on or dt.date.today(),
            author=(author or "").strip() or actor,
            text=comment.strip(),
            filename=attachment[0] if attachment else None,
            content=attachment[1] if attachment else None,
        )
        action.comments.append(note)
        after["comment"] = note.text + (f" [{note.filename}]" if note.filename else "")
    if after == before:
        raise _bad("action", "nothing to change: give a status, a due date, a description, a unit or a comment")
    session.flush()
    changed = audit.changed_fields(before, after)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="key_action",
        entity_id=action.id,
        before=before,
        after=after,
        summary=f"key action {action.id}: " + ", ".join(changed),
    )
    return action


def attachment(session: Session, action_id: int, comment_id: int) -> tuple[str, bytes]:
    note = find_row(session, Comment, comment_id)
    if note is None or note.action_id != action_id or note.filename is None or note.content is None:
        raise NotFound("there is no such attached file")
    return note.filename, note.content


def history(session: Session, rec: Recommendation) -> list[AuditEvent]:
    """Every audited change of a recommendation and of its key actions, newest first."""
    action_ids = [a.id for a in rec.actions]
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    (AuditEvent.entity == "recommendation") & (AuditEvent.entity_id == rec.id),
                    (AuditEvent.entity == "key_action") & AuditEvent.entity_id.in_(action_ids or [-1]),
                )
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        )
    )


def response_links(session: Session, rec_id: int) -> list[ResponseLink]:
    """The personal links sent for a recommendation, oldest first."""
    query = select(ResponseLink).where(ResponseLink.recommendation_id == rec_id).order_by(ResponseLink.id)
    return list(session.scalars(query))
