"""portfolio: the hash of the file row that last set a project (an unchanged re-import compares hashes only)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty for every stored project: the first re-import after the upgrade compares field by field, as before,
    # and keeps the hash of each row it finds unchanged.
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("import_hash", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.drop_column("import_hash")
