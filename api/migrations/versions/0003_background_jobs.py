"""background jobs: webhooks, retention, post-call fields, email sync bookkeeping, attachments

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 22:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("business", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_url", sa.String(length=2000), server_default="", nullable=False))
        batch_op.add_column(sa.Column("webhook_secret_encrypted", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("recording_retention_days", sa.Integer(), server_default="90", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_business_retention_nonnegative"), "recording_retention_days >= 0"
        )

    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("intent", sa.String(length=64), server_default="", nullable=False))

    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary_source", sa.String(length=16), server_default="", nullable=False))
        batch_op.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("recording_deleted_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.Text(), server_default="", nullable=False))

    with op.batch_alter_table("email_account", schema=None) as batch_op:
        batch_op.drop_column("use_ssl")
        batch_op.add_column(sa.Column("tls_mode", sa.String(length=16), server_default="ssl", nullable=False))
        batch_op.alter_column("last_uid", type_=sa.BigInteger(), existing_type=sa.Integer())
        batch_op.alter_column("uid_validity", type_=sa.BigInteger(), existing_type=sa.Integer())
        batch_op.add_column(
            sa.Column("sync_interval_seconds", sa.Integer(), server_default="300", nullable=False)
        )
        batch_op.add_column(sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("last_error", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("is_active", sa.Boolean(), server_default="1", nullable=False))
        batch_op.create_check_constraint(
            batch_op.f("ck_email_account_tls_mode"), "tls_mode IN ('ssl', 'starttls')"
        )
        batch_op.create_index(batch_op.f("ix_email_account_next_sync_at"), ["next_sync_at"], unique=False)

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="pending", nullable=False))
        batch_op.add_column(sa.Column("error", sa.Text(), server_default="", nullable=False))
        batch_op.create_check_constraint(
            batch_op.f("ck_attachment_status"), "status IN ('pending', 'ready', 'failed')"
        )

    with op.batch_alter_table("broadcast_recipient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name=op.f("ck_webhook_delivery_status")
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_webhook_delivery_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint("event_id", name=op.f("uq_webhook_delivery_event_id")),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_business_created", ["business_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_business_created")
    op.drop_table("webhook_delivery")

    with op.batch_alter_table("broadcast_recipient", schema=None) as batch_op:
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_attachment_status"), type_="check")
        batch_op.drop_column("error")
        batch_op.drop_column("status")

    with op.batch_alter_table("email_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_account_next_sync_at"))
        batch_op.drop_constraint(batch_op.f("ck_email_account_tls_mode"), type_="check")
        for column in (
            "is_active", "last_error", "consecutive_failures", "last_synced_at", "next_sync_at",
            "sync_interval_seconds", "tls_mode",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("uid_validity", type_=sa.Integer(), existing_type=sa.BigInteger())
        batch_op.alter_column("last_uid", type_=sa.Integer(), existing_type=sa.BigInteger())
        batch_op.add_column(sa.Column("use_ssl", sa.Boolean(), server_default="1", nullable=False))

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("subject")

    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_column("recording_deleted_at")
        batch_op.drop_column("processed_at")
        batch_op.drop_column("summary_source")

    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("intent")
        batch_op.drop_column("summary")

    with op.batch_alter_table("business", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_business_retention_nonnegative"), type_="check")
        batch_op.drop_column("recording_retention_days")
        batch_op.drop_column("webhook_secret_encrypted")
        batch_op.drop_column("webhook_url")
