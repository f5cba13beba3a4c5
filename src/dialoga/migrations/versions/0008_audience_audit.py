"""audience audit: profile website and header image, audit runs and their verdicts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dialoga.core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("follower_profile") as batch:
        batch.add_column(sa.Column("default_banner", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("website", sa.Text(), nullable=True))
    counts = ("profiles", "fake", "inactive", "engaged", "passive", "unknown")
    op.create_table(
        "audit_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("ran_at", dialoga.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("inactive_days", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counts),
        sa.Column("quality_score", sa.Float(), nullable=True),
        sa.Column("real_reach", sa.BigInteger(), nullable=False),
        sa.Column("new_followers", sa.Integer(), nullable=True),
        sa.Column("lost_followers", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("ambassadors", sa.JSON(), nullable=False),
        sa.Column("model_trained_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel.id"],
            name=op.f("fk_audit_run_channel_id_channel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_audit_run_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_run")),
    )
    op.create_index("ix_audit_run_channel_ran", "audit_run", ["channel_id", "ran_at"])
    op.create_index(op.f("ix_audit_run_workspace_id"), "audit_run", ["workspace_id"])
    op.create_table(
        "audit_verdict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=320), nullable=False),
        sa.Column("handle", sa.String(length=320), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("fake_probability", sa.Float(), nullable=True),
        sa.Column("confidence", sa.String(length=8), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("followers_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["audit_run.id"],
            name=op.f("fk_audit_verdict_run_id_audit_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verdict")),
    )
    op.create_index("ix_audit_verdict_run_verdict", "audit_verdict", ["run_id", "verdict"])
    op.create_index("ix_audit_verdict_run_external", "audit_verdict", ["run_id", "external_id"])


def downgrade() -> None:
    op.drop_table("audit_verdict")
    op.drop_table("audit_run")
    with op.batch_alter_table("follower_profile") as batch:
        batch.drop_column("website")
        batch.drop_column("default_banner")
