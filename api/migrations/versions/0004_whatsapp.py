"""whatsapp: processed gateway events, opt-outs, LID contacts, last session state

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _business_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["business_id"], ["business.id"], name=op.f(f"fk_{table}_business_id_business"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "whatsapp_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("shard_id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        _business_fk("whatsapp_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_whatsapp_event_event_id")),
    )
    op.create_index(op.f("ix_whatsapp_event_business_id"), "whatsapp_event", ["business_id"], unique=False)
    op.create_index(op.f("ix_whatsapp_event_received_at"), "whatsapp_event", ["received_at"], unique=False)

    op.create_table(
        "whatsapp_opt_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=16), server_default="keyword", nullable=False),
        sa.Column("keyword", sa.String(length=32), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _business_fk("whatsapp_opt_out"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_opt_out")),
        sa.UniqueConstraint("business_id", "phone_e164", name=op.f("uq_whatsapp_opt_out_business_id_phone_e164")),
    )

    op.create_table(
        "whatsapp_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("lid", sa.String(length=128), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _business_fk("whatsapp_contact"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_contact")),
        sa.UniqueConstraint("business_id", "lid", name=op.f("uq_whatsapp_contact_business_id_lid")),
    )

    op.create_table(
        "whatsapp_session",
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("shard_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="stopped", nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("me_phone", sa.String(length=20), nullable=True),
        sa.Column("me_lid", sa.String(length=128), nullable=True),
        sa.Column("limited_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("epoch", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reported_at", sa.String(length=40), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('stopped', 'starting', 'qr', 'connected', 'logged_out', 'failed')",
            name=op.f("ck_whatsapp_session_state"),
        ),
        _business_fk("whatsapp_session"),
        sa.PrimaryKeyConstraint("business_id", name=op.f("pk_whatsapp_session")),
    )


def downgrade() -> None:
    op.drop_table("whatsapp_session")
    op.drop_table("whatsapp_contact")
    op.drop_table("whatsapp_opt_out")
    op.drop_index(op.f("ix_whatsapp_event_received_at"), table_name="whatsapp_event")
    op.drop_index(op.f("ix_whatsapp_event_business_id"), table_name="whatsapp_event")
    op.drop_table("whatsapp_event")
