"""submission: one index holding what counting and the review page read of a review's submissions (their state and
times), so that SQLite reads them without walking each row's answers

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 12:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
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
]


def upgrade() -> None:
    op.create_index("ix_submission_review_units", "submission", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_submission_review_units", table_name="submission")
