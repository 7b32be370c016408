"""questionnaires: the files attached to a form version, kept as uploaded

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_version_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_version.id"],
            name=op.f("fk_form_version_file_form_version_id_form_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_version_file")),
        sa.UniqueConstraint("form_version_id", "filename", name=op.f("uq_form_version_file_form_version_id")),
    )
    with op.batch_alter_table("form_version_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_version_file_form_version_id"), ["form_version_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("form_version_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_version_file_form_version_id"))
    op.drop_table("form_version_file")
