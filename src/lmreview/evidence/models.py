"""Tables of the evidence library: a document, its pages (the text as read), its passages (headings,
paragraphs, list items and table cells, located by page and character offsets) and its project codes.

The full-text index is not a table of the models: on SQLite it is an FTS5 table over ``evidence_passage``
kept in step by triggers, on PostgreSQL a GIN index on ``to_tsvector('english', text)``; migration 0006
creates both (see :mod:`lmreview.evidence.index`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lmreview.store.base import Base, utcnow

DOCUMENT_TYPES = ("evaluation_report", "final_report", "evaluation_brief", "review", "other")
PASSAGE_KINDS = ("heading", "paragraph", "list_item", "table_cell")


class Document(Base):
    """One file added to the library, identified by the SHA-256 of its bytes (the same file is added once)."""

    __tablename__ = "evidence_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(10))  # pdf, docx, txt, md, html
    size_bytes: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    doc_type: Mapped[str] = mapped_column(String(40), default="other")
    evaluation_type: Mapped[str | None] = mapped_column(String(80))
    organisation: Mapped[str | None] = mapped_column(String(200))
    evaluators: Mapped[str | None] = mapped_column(String(500))
    period: Mapped[str | None] = mapped_column(String(80))
    year: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(10))
    page_count: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    pages: Mapped[list[Page]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="Page.number"
    )
    projects: Mapped[list[DocumentProject]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentProject.code", lazy="selectin"
    )

    @property
    def project_codes(self) -> list[str]:
        return [p.code for p in self.projects]


class DocumentProject(Base):
    """A project code a document concerns: given with ``--project`` or found in its text."""

    __tablename__ = "evidence_document_project"
    __table_args__ = (UniqueConstraint("document_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("evidence_document.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80), index=True)

    document: Mapped[Document] = relationship(back_populates="projects")


class Page(Base):
    """The text of one page as read (a DOCX, text or HTML file is one page unless it has page breaks)."""

    __tablename__ = "evidence_page"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("evidence_document.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    document: Mapped[Document] = relationship(back_populates="pages")


class Passage(Base):
    """A unit of text that search finds and items point to: ``text`` is ``page.text[char_start:char_end]`` with
    the line breaks of a wrapped paragraph joined; ``section`` is the heading it stands under."""

    __tablename__ = "evidence_passage"
    __table_args__ = (
        Index("ix_evidence_passage_document_id_page", "document_id", "page"),
        # a document's first and last passage, for the id ranges a filtered search walks (migration 0016)
        Index("ix_evidence_passage_document_id_id", "document_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("evidence_document.id", ondelete="CASCADE"))
    page: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)  # order in the document
    kind: Mapped[str] = mapped_column(String(20))
    section: Mapped[str | None] = mapped_column(String(300))
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class Item(Base):
    """A recommendation, lesson, good practice, key finding or conclusion found in a document (see
    :mod:`lmreview.evidence.extract`), with the response to it when the document has one."""

    __tablename__ = "evidence_item"
    __table_args__ = (Index("ix_evidence_item_document_id_kind", "document_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("evidence_document.id", ondelete="CASCADE"))
    passage_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_passage.id", ondelete="SET NULL"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    pages: Mapped[list[int]] = mapped_column(JSON)
    locations: Mapped[int] = mapped_column(Integer, default=1)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    rule: Mapped[str] = mapped_column(String(40))
    response_stance: Mapped[str | None] = mapped_column(String(20))
    response_text: Mapped[str | None] = mapped_column(Text)
    response_pages: Mapped[list[int] | None] = mapped_column(JSON)


LINK_STATUSES = ("suggested", "confirmed", "rejected")


class ProjectLink(Base):
    """A portfolio project a document may concern, suggested by the likeness of their titles (rapidfuzz) and
    confirmed or rejected by a reviewer. A rejected link stays, so that the same suggestion is not made again; a
    confirmed one adds the project's code to the document's codes (:class:`DocumentProject`)."""

    __tablename__ = "evidence_project_link"
    __table_args__ = (UniqueConstraint("document_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("evidence_document.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(80), index=True)
    project_title: Mapped[str] = mapped_column(Text)  # the title compared, as it was then
    score: Mapped[float | None] = mapped_column(Float)  # 0-100; None for a link a reviewer made by hand
    status: Mapped[str] = mapped_column(String(20), default="suggested")
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
