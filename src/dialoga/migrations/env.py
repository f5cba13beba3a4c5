"""Alembic environment: runs migrations on the engine the caller hands over."""

from __future__ import annotations

from alembic import context

from dialoga.inbox.search import is_search_object
from dialoga.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        # The search objects (migration 0004) are outside the models: autogenerate leaves them.
        include_name=lambda name, *_: not is_search_object(name),
    )
    context.run_migrations()
