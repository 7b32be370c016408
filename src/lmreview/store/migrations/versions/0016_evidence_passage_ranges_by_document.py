"""evidence: an index of the passages by document and id, for the id ranges a filtered search walks

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A search filtered by document (type, organisation, years, project) walks the full-text index over the id range of
# each kept document's passages; this index gives a document's first and last passage in two seeks
# (lmreview.evidence.search._document_ranges).


def upgrade() -> None:
    with op.batch_alter_table("evidence_passage", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_passage_document_id_id", ["document_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_passage", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_passage_document_id_id")
