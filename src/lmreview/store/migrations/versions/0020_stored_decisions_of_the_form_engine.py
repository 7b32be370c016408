"""analysis: the form engine's decisions per submission (answer_state, submission_decision), filled for the
submissions already stored

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_state",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("volatile", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_answer_state_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_answer_state")),
    )
    op.create_table(
        "submission_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("question_path", sa.Text(), nullable=False),
        sa.Column("instance_path", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_submission_decision_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_decision")),
    )
    with op.batch_alter_table("submission_decision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submission_decision_question", ["question_path", "submission_id", "position"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_submission_decision_submission_id"), ["submission_id"], unique=False)
    # The submissions stored before: decided now, as a save would have.
    from lmreview.questionnaire import decisions
    from lmreview.questionnaire.xlsform import FormDefinition

    connection = op.get_bind()
    submission = sa.table(
        "submission",
        sa.column("id", sa.Integer()),
        sa.column("form_version_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("data", sa.JSON()),
    )
    version = sa.table("form_version", sa.column("id", sa.Integer()), sa.column("definition", sa.JSON()))
    ids = list(connection.scalars(sa.select(submission.c.id).where(submission.c.status == "submitted")))
    for start in range(0, len(ids), 1000):
        part = ids[start : start + 1000]
        rows = connection.execute(
            sa.select(submission.c.id, submission.c.form_version_id, submission.c.updated_at, submission.c.data).where(
                submission.c.id.in_(part)
            )
        ).all()
        wanted = sorted({r[1] for r in rows})
        found = connection.execute(sa.select(version.c.id, version.c.definition).where(version.c.id.in_(wanted)))
        definitions = {id_: FormDefinition.from_json(d) for id_, d in found}
        decisions.store(connection, [(r[0], r[1], r[2], r[3]) for r in rows], definitions)


def downgrade() -> None:
    with op.batch_alter_table("submission_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_decision_submission_id"))
        batch_op.drop_index("ix_submission_decision_question")
    op.drop_table("submission_decision")
    op.drop_table("answer_state")
