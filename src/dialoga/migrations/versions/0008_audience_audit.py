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


def downgrade() -> None:
    with op.batch_alter_table("follower_profile") as batch:
        batch.drop_column("website")
        batch.drop_column("default_banner")
