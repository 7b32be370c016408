"""Tables of qualitative coding: codebooks, their codes and code groups, codings (a code applied by a coder to a
character span of a document, of a free-text answer or of an item extracted from a document: a recommendation, a
lesson), and the comparisons a review manager opens.

A coding keeps its span as character offsets (0-based, end exclusive) into the stored text of its source: a
document's text is its pages joined by a form feed (see :func:`lmreview.coding.sources.document_text`), an answer's
text is the value the submission holds at ``path``, an item's text is the item's text as extracted. ``unit`` names
the unit agreement is computed on: the passage the span starts in (``passage:ID``), the answer
(``answer:SUBMISSION:PATH``), or the item (``item:ID``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lmreview.store.base import Base, utcnow

SOURCE_KINDS = ("document", "answer", "item")


class Codebook(Base):
    """A named set of codes; any review may use it (the matrix and agreement name it)."""

    __tablename__ = "coding_codebook"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(String(200))  # the tool that wrote an imported codebook
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    codes: Mapped[list[Code]] = relationship(
        back_populates="codebook", cascade="all, delete-orphan", order_by="Code.position", passive_deletes=True
    )
    groups: Mapped[list[CodeGroup]] = relationship(
        back_populates="codebook", cascade="all, delete-orphan", order_by="CodeGroup.id", passive_deletes=True
    )


class Code(Base):
    """A code: a name, an inclusion rule, a colour, and a parent for a hierarchy."""

    __tablename__ = "coding_code"
    __table_args__ = (UniqueConstraint("codebook_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_id: Mapped[int] = mapped_column(ForeignKey("coding_codebook.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("coding_code.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    colour: Mapped[str | None] = mapped_column(String(7))  # #RRGGBB
    codable: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    codebook: Mapped[Codebook] = relationship(back_populates="codes")


class CodeGroup(Base):
    """A set of codes (REFI-QDA's Set); when ``exclusive``, a coder gives a unit at most one of its codes."""

    __tablename__ = "coding_code_group"
    __table_args__ = (UniqueConstraint("codebook_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_id: Mapped[int] = mapped_column(ForeignKey("coding_codebook.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)

    codebook: Mapped[Codebook] = relationship(back_populates="groups")
    members: Mapped[list[CodeGroupMember]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class CodeGroupMember(Base):
    __tablename__ = "coding_code_group_member"
    __table_args__ = (UniqueConstraint("group_id", "code_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("coding_code_group.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("coding_code.id", ondelete="CASCADE"), index=True)


class Coding(Base):
    """A code applied by a coder to ``text[start:end]`` of a document or an answer, with an optional memo."""

    __tablename__ = "coding_segment"
    __table_args__ = (
        Index("ix_coding_segment_unit", "unit"),
        Index("ix_coding_segment_code_id_coder", "code_id", "coder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guid: Mapped[str] = mapped_column(String(40), unique=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("coding_code.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))  # document | answer | item
    document_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_document.id", ondelete="CASCADE"), index=True)
    passage_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_passage.id", ondelete="SET NULL"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    path: Mapped[str | None] = mapped_column(String(400))  # the answer's path, repeats as name[n] (1-based)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_item.id", ondelete="CASCADE"), index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)  # the coded segment as it was coded
    unit: Mapped[str] = mapped_column(String(500))
    memo: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    code: Mapped[Code] = relationship(lazy="joined")


class Comparison(Base):
    """A review manager opened the coders' codings of a codebook to one another (agreement, disagreements)."""

    __tablename__ = "coding_comparison"
    __table_args__ = (UniqueConstraint("codebook_id", "review_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_id: Mapped[int] = mapped_column(ForeignKey("coding_codebook.id", ondelete="CASCADE"))
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    opened_by: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rejection(Base):
    """A coder rejected a suggestion: the same span of the same source is not proposed to them for that code again,
    as long as the source still holds the same text there (``text``)."""

    __tablename__ = "coding_rejection"
    __table_args__ = (UniqueConstraint("code_id", "coder", "source", "start", "end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("coding_code.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(500))  # a suggestion's source: answer:…, item:ID or a document id
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
