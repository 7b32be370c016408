"""The tables of background jobs: ``job`` (one piece of long work, its progress and outcome) and ``job_file`` (a
file given to a job, kept until the job ends so that a job interrupted by a restart can resume, or a file a job
made, kept so that it can be downloaded)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lmreview.store.base import Base, utcnow

KINDS = ("ingest", "import", "responses", "report", "remind")
STATUSES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")
FILE_ROLES = ("input", "output")
FILE_STATUSES = ("pending", "done", "duplicate", "refused")


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("kind in ('ingest', 'import', 'responses', 'report', 'remind')", name="kind"),
        CheckConstraint("status in ('queued', 'running', 'done', 'failed', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    # The review the job works on; None for a site job (evidence ingest, portfolio import): admins and the starter.
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    link: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    runner: Mapped[str | None] = mapped_column(String(200))  # host:pid of the process running it, or "thread host:pid"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    files: Mapped[list[JobFile]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="JobFile.id", lazy="raise_on_sql"
    )


class JobFile(Base):
    __tablename__ = "job_file"
    __table_args__ = (
        CheckConstraint("role in ('input', 'output')", name="role"),
        CheckConstraint("status in ('pending', 'done', 'duplicate', 'refused')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(500))
    # An input is either a path on the worker's machine (given to the CLI) or its bytes (uploaded through the web);
    # the bytes of inputs are dropped when the job ends. An output always holds its bytes.
    path: Mapped[str | None] = mapped_column(Text)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer, default=0)
    media_type: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    detail: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(Integer)  # the evidence document an ingested file became

    job: Mapped[Job] = relationship(back_populates="files")
