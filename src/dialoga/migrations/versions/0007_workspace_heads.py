"""workspace heads: what retraining learned from a workspace's corrections

Also drops ``workspace.languages``, never read: a workspace's languages are its
``understanding_setting``'s.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 09:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dialoga.core.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_head",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("weights", sa.LargeBinary(), nullable=False),
        sa.Column("trained_at", dialoga.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_workspace_head_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "head", name=op.f("pk_workspace_head")),
    )
    with op.batch_alter_table("workspace") as batch:
        batch.drop_column("languages")


def downgrade() -> None:
    with op.batch_alter_table("workspace") as batch:
        batch.add_column(
            sa.Column("languages", sa.String(length=64), nullable=False, server_default="it,en")
        )
    op.drop_table("workspace_head")
