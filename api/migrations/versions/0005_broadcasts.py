"""broadcasts: media, progress bookkeeping, recipient backoff (the opt-out list is 0004's)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("skipped", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("job_id", sa.String(length=96), server_default="", nullable=False))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_broadcast_attachment_id_attachment"), "attachment", ["attachment_id"], ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_broadcast_business_created", ["business_id", "created_at"], unique=False)

    with op.batch_alter_table("broadcast_recipient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=128), nullable=True))
        batch_op.create_index("ix_broadcast_recipient_broadcast_status", ["broadcast_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("broadcast_recipient", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcast_recipient_broadcast_status")
        batch_op.drop_column("message_id")
        batch_op.drop_column("next_attempt_at")

    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcast_business_created")
        batch_op.drop_constraint(batch_op.f("fk_broadcast_attachment_id_attachment"), type_="foreignkey")
        for column in ("finished_at", "started_at", "job_id", "skipped", "attachment_id"):
            batch_op.drop_column(column)
