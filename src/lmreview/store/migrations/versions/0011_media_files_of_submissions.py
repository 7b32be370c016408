"""files sent with answers: content-addressed blobs and the files each submission names

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_blob",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_media_blob")),
    )
    op.create_table(
        "submission_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"], ["media_blob.sha256"], name=op.f("fk_submission_file_sha256_media_blob"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_submission_file_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_file")),
        sa.UniqueConstraint("submission_id", "filename", name=op.f("uq_submission_file_submission_id")),
    )
    with op.batch_alter_table("submission_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_file_submission_id"), ["submission_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_submission_file_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("submission_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_file_sha256"))
        batch_op.drop_index(batch_op.f("ix_submission_file_submission_id"))
    op.drop_table("submission_file")
    op.drop_table("media_blob")
