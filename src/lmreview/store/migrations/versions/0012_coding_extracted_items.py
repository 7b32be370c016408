"""codings of extracted items (recommendations, lessons): coding_segment.item_id

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coding_segment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_coding_segment_item_id_evidence_item"),
            "evidence_item",
            ["item_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_coding_segment_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("coding_segment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coding_segment_item_id"))
        batch_op.drop_constraint(batch_op.f("fk_coding_segment_item_id_evidence_item"), type_="foreignkey")
        batch_op.drop_column("item_id")
