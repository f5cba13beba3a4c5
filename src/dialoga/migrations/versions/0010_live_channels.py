"""live channels: poll schedule, cursor, lease and health; reply delivery state

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dialoga.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = dialoga.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "channel_sync",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=False),
        sa.Column("health", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_polled_at", moment, nullable=True),
        sa.Column("last_ok_at", moment, nullable=True),
        sa.Column("next_poll_at", moment, nullable=False),
        sa.Column("lease_until", moment, nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel.id"],
            name=op.f("fk_channel_sync_channel_id_channel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_channel_sync_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_sync")),
    )
    op.create_index("ix_channel_sync_due", "channel_sync", ["next_poll_at"])
    with op.batch_alter_table("message") as batch:
        batch.add_column(
            sa.Column("delivery_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("delivery_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("delivery_due_at", moment, nullable=True))
        batch.add_column(sa.Column("delivery_lease_until", moment, nullable=True))
        batch.add_column(sa.Column("sent_at", moment, nullable=True))
    op.create_index("ix_message_delivery", "message", ["delivery", "delivery_due_at"])


def downgrade() -> None:
    op.drop_index("ix_message_delivery", table_name="message")
    with op.batch_alter_table("message") as batch:
        for column in (
            "sent_at",
            "delivery_lease_until",
            "delivery_due_at",
            "delivery_error",
            "delivery_attempts",
        ):
            batch.drop_column(column)
    op.drop_index("ix_channel_sync_due", table_name="channel_sync")
    op.drop_table("channel_sync")
