"""Tables of the follow-up: recommendations (with their management response), key actions, progress comments,
responsible units (with the address reminders go to) and the personal links through which a unit answers.

Overdue is never stored: it is computed from an action's due date and status (see :mod:`lmreview.tracking.status`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lmreview.store.base import Base, Timestamped, utcnow

STANCES = ("agrees", "partially_agrees", "disagrees", "no_response")
ACTION_STATUSES = ("not_initiated", "initiated", "completed", "no_longer_applicable")
PRIORITIES = ("high", "medium", "low")


class Unit(Base):
    """An organisation unit that recommendations are addressed to and that carries out key actions."""

    __tablename__ = "tracking_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    last_reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Recommendation(Timestamped, Base):
    """One recommendation with the management response to it: written by a review team for its review, or found on
    a page of an evidence document (``review_id`` or ``document_id`` is set, never both)."""

    __tablename__ = "tracking_recommendation"
    __table_args__ = (UniqueConstraint("review_id", "number"), UniqueConstraint("document_id", "number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_document.id", ondelete="CASCADE"), index=True)
    page: Mapped[int | None] = mapped_column(Integer)
    passage_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_passage.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str | None] = mapped_column(Text)
    units: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[str | None] = mapped_column(String(40))
    time_implication: Mapped[str | None] = mapped_column(String(200))
    resource_implication: Mapped[str | None] = mapped_column(String(200))
    projects: Mapped[list[str]] = mapped_column(JSON, default=list)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    year: Mapped[int | None] = mapped_column(Integer)
    stance: Mapped[str] = mapped_column(String(20), default="no_response")
    response_text: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[str | None] = mapped_column(String(200))
    responded_at: Mapped[dt.date | None] = mapped_column(Date)

    actions: Mapped[list[Action]] = relationship(
        back_populates="recommendation", cascade="all, delete-orphan", order_by="Action.id", lazy="selectin"
    )


class Action(Timestamped, Base):
    """A key action agreed in response to a recommendation."""

    __tablename__ = "tracking_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_recommendation.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(120))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(30), default="not_initiated")

    recommendation: Mapped[Recommendation] = relationship(back_populates="actions")
    comments: Mapped[list[Comment]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="Comment.id", lazy="selectin"
    )


class Comment(Base):
    """A dated progress comment on a key action, with an optional attached file."""

    __tablename__ = "tracking_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("tracking_action.id", ondelete="CASCADE"), index=True)
    written_on: Mapped[dt.date] = mapped_column(Date)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(300))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    action: Mapped[Action] = relationship(back_populates="comments")


class ResponseLink(Base):
    """A personal link through which a responsible unit answers a recommendation; only the token's hash is kept."""

    __tablename__ = "tracking_response_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_recommendation.id", ondelete="CASCADE"), index=True
    )
    unit: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


LESSON_KINDS = ("lesson", "good_practice")


class Lesson(Timestamped, Base):
    """A lesson learned or a good practice, in the fields of the ILO templates, linked to its source (a review, or a
    page of an evidence document) and to the projects and themes it concerns."""

    __tablename__ = "tracking_lesson"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # lesson | good_practice
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    # a lesson: the context, the challenge or causal factor, the users it is meant for, its relevance
    context: Mapped[str | None] = mapped_column(Text)
    challenge: Mapped[str | None] = mapped_column(Text)
    targeted_users: Mapped[str | None] = mapped_column(Text)
    relevance: Mapped[str | None] = mapped_column(Text)
    # a good practice: what made it work, whether it can be replicated, its link to objectives, measurable impact
    success_elements: Mapped[str | None] = mapped_column(Text)
    replicability: Mapped[str | None] = mapped_column(Text)
    objectives_link: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[str | None] = mapped_column(Text)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_document.id", ondelete="SET NULL"), index=True)
    page: Mapped[int | None] = mapped_column(Integer)
    projects: Mapped[list[str]] = mapped_column(JSON, default=list)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    year: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))
