"""The migrations build exactly the schema the models describe, on either database
(but the search objects, which no model describes: see ``inbox.search``)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dialoga.inbox.search import is_search_object
from dialoga.runtime import Runtime
from dialoga.schema import metadata


def test_migrated_database_matches_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, *_: not is_search_object(name),
            },
        )
        differences = compare_metadata(context, metadata)

    assert differences == []
