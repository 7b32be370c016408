"""Tables of criteria ratings: a scale, the sources of a review with their weights, and one row per score."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lmreview.store.base import Base, Scaled, utcnow

DAC_CRITERIA = ("relevance", "coherence", "effectiveness", "efficiency", "impact", "sustainability")


class RatingScale(Base):
    """A scale: its levels (score and label, lowest first) and whether "N/A" is a valid rating."""

    __tablename__ = "rating_scale"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"score": 1, "label": "highly unsatisfactory"}]
    allows_na: Mapped[bool] = mapped_column(default=True)


class RatingSource(Base):
    """Where a score comes from (a staff survey, a synthesis report, the evaluation team) and its weight."""

    __tablename__ = "rating_source"
    __table_args__ = (UniqueConstraint("review_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    weight: Mapped[Decimal] = mapped_column(Scaled(4), default=Decimal(1))


class Rating(Base):
    """One score: of a project (or of the review as a whole when ``project_id`` is empty), on a criterion, from
    a source, with its rationale. An empty score is "not applicable"."""

    __tablename__ = "rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    criterion: Mapped[str] = mapped_column(String(60))
    source_id: Mapped[int] = mapped_column(ForeignKey("rating_source.id", ondelete="CASCADE"))
    scale_id: Mapped[int] = mapped_column(ForeignKey("rating_scale.id", ondelete="RESTRICT"))
    score: Mapped[Decimal | None] = mapped_column(Scaled(2))
    rationale: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    source: Mapped[RatingSource] = relationship(lazy="joined")
    scale: Mapped[RatingScale] = relationship(lazy="joined")
