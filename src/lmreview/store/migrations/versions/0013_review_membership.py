"""review membership: who may see and change each review (manager, reviewer, reader)

Every existing review gets every active user as a member, with the role matching the site role (admin → manager,
reviewer → reviewer, viewer → reader), so that nobody loses what they could see before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.CheckConstraint("role in ('manager', 'reviewer', 'reader')", name=op.f("ck_review_member_role")),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_review_member_review_id_review"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_review_member_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_member")),
        sa.UniqueConstraint("review_id", "user_id", name=op.f("uq_review_member_review_id")),
    )
    with op.batch_alter_table("review_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_member_review_id"), ["review_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_member_user_id"), ["user_id"], unique=False)
    op.execute(
        "INSERT INTO review_member (review_id, user_id, role, added_at, added_by) "
        "SELECT review.id, user_account.id, "
        "CASE user_account.role WHEN 'admin' THEN 'manager' WHEN 'reviewer' THEN 'reviewer' ELSE 'reader' END, "
        "CURRENT_TIMESTAMP, 'migration 0010' "
        "FROM review CROSS JOIN user_account WHERE user_account.active"
    )


def downgrade() -> None:
    with op.batch_alter_table("review_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_member_user_id"))
        batch_op.drop_index(batch_op.f("ix_review_member_review_id"))
    op.drop_table("review_member")
