"""evidence: links between documents and portfolio projects; the PostgreSQL search index on accent-folded text

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lmreview.evidence.index import PG_INDEX, POSTGRES_CREATE

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0006 indexed to_tsvector('english', text), but search matches the text with its accents folded: the index served
# no query. It is rebuilt on the expression search uses (lmreview.evidence.index.PG_EXPRESSION).
OLD_POSTGRES_CREATE = f"CREATE INDEX {PG_INDEX} ON evidence_passage USING gin (to_tsvector('english', text))"


def upgrade() -> None:
    op.create_table(
        "evidence_project_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("project_title", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["evidence_document.id"],
            name=op.f("fk_evidence_project_link_document_id_evidence_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_project_link")),
        sa.UniqueConstraint("document_id", "code", name=op.f("uq_evidence_project_link_document_id")),
    )
    with op.batch_alter_table("evidence_project_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_project_link_code"), ["code"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        for statement in POSTGRES_CREATE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        op.execute(OLD_POSTGRES_CREATE)
    with op.batch_alter_table("evidence_project_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_project_link_code"))
    op.drop_table("evidence_project_link")
