"""Tables owned by the store itself: users, review membership, the audit log and application settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from lmreview.store.base import Base, Timestamped, utcnow

ROLES = ("admin", "reviewer", "viewer")


class User(Timestamped, Base):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint("role in ('admin', 'reviewer', 'viewer')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised by logout, a password change, deactivation and a role change: a session cookie carries the version it
    # was issued at and is refused once the account's version has moved on.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditEvent(Base):
    """Who changed what, when, with the record before and after (JSON snapshots)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))  # create | update | delete
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer, index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id", ondelete="SET NULL"))


class AppSetting(Base):
    """Values lmreview keeps for itself, e.g. the generated session secret."""

    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LoginFailure(Base):
    """A failed login, kept in the database so that the lock on a name holds across web processes
    (web/security.py). The name is stored as a hash: people type passwords into the name field too."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class ApiToken(Base):
    """A personal API token: only its SHA-256 is kept (the token is shown once), with a short prefix to recognise
    it by. ``scope`` is ``read`` (GET only) or ``write``; a revoked or expired token, or one of a switched-off
    account, opens nothing (store/tokens.py)."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint("scope in ('read', 'write')", name="scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


MEMBER_ROLES = ("manager", "reviewer", "reader")


class ReviewMember(Base):
    """A user's role in one review (see ``lmreview/access.py``): manager (everything in the review, its members
    too), reviewer (answers, codings, ratings, report drafts) or reader (reads only). Site admins need no row."""

    __tablename__ = "review_member"
    __table_args__ = (
        UniqueConstraint("review_id", "user_id"),
        CheckConstraint("role in ('manager', 'reviewer', 'reader')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, server_default=func.now())
    added_by: Mapped[str] = mapped_column(String(120), default="")
