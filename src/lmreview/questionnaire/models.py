"""Tables of data collection: reviews, questionnaires (forms and their versions), respondents, invitations,
submissions and every change made to a submission.

Answers are kept as one JSON document per submission, shaped like the XForm instance: groups are objects, repeats
are lists of objects, values are the strings an XForm holds ("3", "2024-05-01", "covid19 funding"). That keeps
repeats and groups exact, makes Kobo/ODK import and export a mapping of paths, and lets ``analysis/`` read values by
path. Each change to a submitted document is a :class:`SubmissionChange` row (path, old, new, who, when, why).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lmreview.store.base import Base, Timestamped, utcnow

SUBMISSION_STATUSES = ("draft", "submitted")
REVIEW_STATES = ("received", "has_issues", "approved", "rejected")


class Review(Timestamped, Base):
    """A portfolio review: which projects are asked (a portfolio) and with which questionnaire (a form)."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    portfolio_id: Mapped[int | None] = mapped_column(ForeignKey("portfolio.id", ondelete="SET NULL"))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("form.id", ondelete="SET NULL"))
    period: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    mail_subject: Mapped[str | None] = mapped_column(Text)
    mail_body: Mapped[str | None] = mapped_column(Text)
    reminder_subject: Mapped[str | None] = mapped_column(Text)
    reminder_body: Mapped[str | None] = mapped_column(Text)

    form: Mapped[Form | None] = relationship(lazy="joined")


class Form(Timestamped, Base):
    """A questionnaire, named by its XLSForm ``form_id``; each upload is a :class:`FormVersion`."""

    __tablename__ = "form"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))

    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", cascade="all, delete-orphan", order_by="FormVersion.id"
    )


class FormVersion(Base):
    """One upload of a form: its source file, the definition lmreview renders, and pyxform's XForm."""

    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(80))
    filename: Mapped[str] = mapped_column(String(300))
    file_format: Mapped[str] = mapped_column(String(10))  # xlsx | md
    source: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    xform: Mapped[str] = mapped_column(Text)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    form: Mapped[Form] = relationship(back_populates="versions")
    files: Mapped[list[FormVersionFile]] = relationship(
        cascade="all, delete-orphan", order_by="FormVersionFile.filename", lazy="select"
    )


class FormVersionFile(Base):
    """A file attached to a form version (a CSV, XML or GeoJSON table it reads), kept as it was uploaded, so that the
    version can be downloaded whole and added again; its rows are read into the definition when it is added."""

    __tablename__ = "form_version_file"
    __table_args__ = (UniqueConstraint("form_version_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_version.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read only for a download


class Respondent(Timestamped, Base):
    """A person asked to answer for a project of the review."""

    __tablename__ = "respondent"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"))
    project_code: Mapped[str | None] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str | None] = mapped_column(String(120))
    office: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(80))
    declined_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    bounced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="respondent", cascade="all, delete-orphan", order_by="Invitation.id"
    )


class Invitation(Base):
    """A personal link: only the SHA-256 of its token is stored, so a stolen database gives no working link."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondent.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    respondent: Mapped[Respondent] = relationship(back_populates="invitations")


class Submission(Timestamped, Base):
    """One filled questionnaire: a draft until the respondent submits it, then reviewed like in ODK Central."""

    __tablename__ = "submission"
    # What counting and the review page read of every submission of a review, in one index: SQLite keeps a row's
    # columns in order, and the times come after the answers (JSON, kilobytes): reading them from the table walks
    # the answers' overflow pages (2,000 submissions: 9.7 ms from the table, 2.3 ms from this index).
    __table_args__ = (
        Index(
            "ix_submission_review_units",
            "review_id",
            "id",
            "status",
            "review_state",
            "source",
            "form_version_id",
            "respondent_id",
            "project_id",
            "instance_id",
            "submitted_at",
            "created_at",
            "updated_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(200), unique=True)  # uuid:… (Kobo _uuid, ODK KEY)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_version.id", ondelete="RESTRICT"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"), index=True)
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("respondent.id", ondelete="SET NULL"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | submitted
    review_state: Mapped[str] = mapped_column(String(12), default="received")
    source: Mapped[str] = mapped_column(String(20), default="web")  # web | kobo | odk | xlsx
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    original: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # as submitted or imported, before any edit
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the source's own columns (_id, SubmitterID…)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    # selectin: a version (its whole form definition, JSON) is loaded once per query, not decoded again for each
    # submission row as a joined load did (2,000 submissions: 4 s of JSON decoding on the review page)
    form_version: Mapped[FormVersion] = relationship(lazy="selectin")
    changes: Mapped[list[SubmissionChange]] = relationship(cascade="all, delete-orphan", order_by="SubmissionChange.id")
    comments: Mapped[list[SubmissionComment]] = relationship(
        cascade="all, delete-orphan", order_by="SubmissionComment.id"
    )


class SubmissionChange(Base):
    """One reviewer edit of one answer of a submitted questionnaire."""

    __tablename__ = "submission_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(400))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(Text)


class SubmissionComment(Base):
    """A reviewer's comment, with the review state it set (if any)."""

    __tablename__ = "submission_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    review_state: Mapped[str | None] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)


class MediaBlob(Base):
    """The bytes of a file sent with answers, stored once by their SHA-256 however many submissions name it."""

    __tablename__ = "media_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))  # sniffed from the content, never taken from the sender
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SubmissionFile(Base):
    """A file a submission's answers name (``photo.jpg``): the answer holds the name, this row the file."""

    __tablename__ = "submission_file"
    __table_args__ = (UniqueConstraint("submission_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(400))  # the question (instance path) it was first given for
    sha256: Mapped[str] = mapped_column(ForeignKey("media_blob.sha256", ondelete="RESTRICT"), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
