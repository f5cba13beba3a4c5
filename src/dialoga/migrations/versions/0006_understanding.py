"""understanding: message spam, conversation priority and queue rank, settings, corrections

The queue's order moves from ``due_at`` to ``rank_at`` (``due_at`` shifted by priority:
see ``inbox.priority``). Every conversation stored before is of normal priority, whose
rank is its due date.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dialoga.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "understanding_setting",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("languages", sa.String(length=64), nullable=False),
        sa.Column("updated_at", dialoga.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_understanding_setting_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_understanding_setting")),
    )
    op.create_table(
        "reading_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("previous", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", dialoga.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_reading_correction_message_id_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_reading_correction_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_reading_correction_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_correction")),
        sa.UniqueConstraint(
            "message_id", "field", name=op.f("uq_reading_correction_message_id_field")
        ),
    )
    with op.batch_alter_table("reading_correction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reading_correction_workspace_id"), ["workspace_id"], unique=False
        )

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spam", sa.Float(), nullable=True))

    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.SmallInteger(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("rank_at", dialoga.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_index("ix_conversation_queue")
    op.execute("UPDATE conversation SET rank_at = due_at")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_queue", ["workspace_id", "status", "rank_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_queue")
        batch_op.create_index(
            "ix_conversation_queue", ["workspace_id", "status", "due_at", "id"], unique=False
        )
        batch_op.drop_column("rank_at")
        batch_op.drop_column("priority")

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("spam")

    with op.batch_alter_table("reading_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reading_correction_workspace_id"))

    op.drop_table("reading_correction")
    op.drop_table("understanding_setting")
