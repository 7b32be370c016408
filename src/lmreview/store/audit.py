"""The audit log: every create, update and delete of a record, with who, when, before and after."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from sqlalchemy import select
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
