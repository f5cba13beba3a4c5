"""Alembic environment: runs migrations on the engine the caller hands over."""

from __future__ import annotations

from alembic import context

from dialoga.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    context.run_migrations()
