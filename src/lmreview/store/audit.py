"""The audit log: every create, update and delete of a record, with who, when, before and after."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lmreview.store.models import AuditEvent, User


class _Lookup(Enum):
    USER = "look the user up by the actor's name"


LOOKUP = _Lookup.USER


def actor_user_id(session: Session, actor: str) -> int | None:
    """The id of the user named ``actor``, if there is one (the web acts as a user; the CLI may)."""
    return session.scalar(select(User.id).where(User.name == actor))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    summary: str = "",
    import_batch_id: int | None = None,
    user_id: int | Literal[_Lookup.USER] | None = LOOKUP,
) -> AuditEvent:
    """Add one event. The event links to the user named ``actor`` (a web user, or a CLI ``--user``); a caller
    writing many events looks the user up once and passes ``user_id`` (None when there is no such user)."""
    if user_id is LOOKUP:
        user_id = actor_user_id(session, actor)
    event = AuditEvent(
        actor=actor,
        user_id=user_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        summary=summary,
        import_batch_id=import_batch_id,
    )
    session.add(event)
    return event


def history(session: Session, entity: str, entity_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        )
    )


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    before, after = before or {}, after or {}
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def events(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    actor: str | None = None,
    hidden: tuple[str, ...] = (),
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEvent], int]:
    """One page of the audit log, newest first, and how many events match; ``hidden`` entities are left out."""
    conditions = []
    if entity is not None:
        conditions.append(AuditEvent.entity == entity)
    if entity_id is not None:
        conditions.append(AuditEvent.entity_id == entity_id)
    if actor is not None:
        conditions.append(AuditEvent.actor == actor)
    if hidden:
        conditions.append(AuditEvent.entity.not_in(hidden))
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEvent)
        .where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
