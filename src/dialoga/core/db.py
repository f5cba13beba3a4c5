"""Database engine, session factory and the declarative base shared by every capability.

SQLite (WAL) is the embedded default; PostgreSQL is selected by the URL. Engines are
built by the entry points and passed in: nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned aware.

    PostgreSQL keeps it as ``timestamptz``; SQLite keeps the naive UTC value.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Dialoga stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when a transaction begins (see _begin_sqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    # Writers that read first (ingest) ask for IMMEDIATE so a concurrent writer cannot
    # invalidate what they read; plain readers keep the cheaper deferred BEGIN.
    mode = "IMMEDIATE" if connection.get_execution_options().get("write_lock") else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, write_lock: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    ``write_lock`` takes SQLite's write lock at BEGIN, for units that read, then write
    what they read (PostgreSQL units lock rows with ``FOR UPDATE`` instead).
    """
    with factory() as session:
        session.connection(execution_options={"write_lock": write_lock})
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


def chunked(items: list[Any], size: int = 2000) -> Iterator[list[Any]]:
    """Slices of at most ``size`` items, to keep ``IN (...)`` lists under driver limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignoring_conflicts(
    session: Session, table: Any, rows: list[dict[str, Any]], conflict_columns: list[str]
) -> None:
    """Insert rows, silently skipping those that collide on ``conflict_columns``.

    The portable form of ``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = dialect_insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
    session.connection().execute(statement, rows)
