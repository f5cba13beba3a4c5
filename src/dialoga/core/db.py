"""Database engine, session factory and the declarative base shared by every capability.

SQLite (WAL) is the embedded default; PostgreSQL is selected by the URL. Engines are
built by the entry points and passed in: nothing connects at import time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Result,
    String,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Select
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


_AFTER_COMMIT = "dialoga.after_commit"


@contextmanager
def transaction(factory: sessionmaker[Session], *, write_lock: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    ``write_lock`` (the default) takes SQLite's write lock at BEGIN: a unit that reads,
    then writes, would otherwise fail with "database is locked" when another writer got
    there in between (SQLite cannot wait to upgrade a read lock). Pass ``False`` only
    for a unit that never writes. PostgreSQL units lock rows with ``FOR UPDATE`` instead.
    """
    with factory() as session:
        session.connection(execution_options={"write_lock": write_lock})
        try:
            yield session
        except BaseException:
            session.rollback()
            session.info.pop(_AFTER_COMMIT, None)
            raise
        session.commit()
        for callback in session.info.pop(_AFTER_COMMIT, []):
            callback()


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` once the unit of work (``transaction``) that ``session`` belongs to
    has committed; dropped if it rolls back. Jobs are enqueued this way, so a worker never
    looks for rows that are not there yet, or that never will be."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def is_in(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` with the whole list as one parameter.

    PostgreSQL compares with ``= ANY(array)``; SQLite reads the list from a JSON array
    (``json_each``). Thousands of values then cost one bound parameter, not thousands.
    """
    if session.get_bind().dialect.name == "postgresql":
        listed = literal(list(values), ARRAY(column.type))
        return cast(ColumnElement[bool], column == any_(listed))
    members: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values)), type_=String))
    )
    return cast(ColumnElement[bool], column.in_(members))


def refresh_statistics(session: Session, tables: Sequence[Any]) -> None:
    """Let the planner see how big tables have grown (after bulk loads).

    Without statistics a table filled in one import looks empty to PostgreSQL's planner
    until autovacuum catches up, and SQLite's planner, which has none until ``ANALYZE``,
    guesses: both then scan tables instead of using their indexes (a contact's card
    took 0.5 s instead of 0.1 ms on a million messages). SQLite reads whole indexes
    (1.8 s at a million messages): sampled statistics misled its planner badly.
    """
    connection = session.connection()
    names = [_table_of(table).name for table in tables]
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {', '.join(names)}")
        return
    for name in names:
        connection.exec_driver_sql(f"ANALYZE {name}")


def chunked(items: list[Any], size: int = 2000) -> Iterator[list[Any]]:
    """Slices of at most ``size`` items, to keep ``IN (...)`` lists under driver limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignoring_conflicts(
    session: Session, table: Any, rows: list[dict[str, Any]], conflict_columns: list[str]
) -> int:
    """Insert rows, silently skipping those that collide on ``conflict_columns``.

    ``INSERT ... ON CONFLICT (...) DO NOTHING``, which SQLite and PostgreSQL spell alike.
    Returns how many rows were written.
    """
    if not rows:
        return 0
    columns = list(rows[0])
    return bulk_insert(
        session,
        _table_of(table),
        columns,
        [tuple(row[c] for c in columns) for row in rows],
        on_conflict_do_nothing=conflict_columns,
    )


def allocate_ids(session: Session, table: Any, count: int) -> list[int]:
    """Primary keys for ``count`` new rows, so bulk inserts need no ``RETURNING``.

    PostgreSQL draws them from the table's sequence. On SQLite they follow the largest
    id, which is safe because writers hold the database's write lock (``write_lock``).
    """
    if count == 0:
        return []
    name = _table_of(table).name
    connection = session.connection()
    # Table names come from our own metadata, never from input.
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            f"SELECT nextval('{name}_id_seq') FROM generate_series(1, %s)",  # noqa: S608
            (count,),
        )
        return [row[0] for row in rows]
    largest = connection.exec_driver_sql(
        f"SELECT COALESCE(MAX(id), 0) FROM {name}"  # noqa: S608
    ).scalar()
    start = int(largest or 0) + 1
    return list(range(start, start + count))


def lock_for_writing(session: Session, namespace: int, key: int) -> None:
    """Serialise writers of one object (a channel) until the transaction ends.

    PostgreSQL takes a transaction-level advisory lock; SQLite writers already hold the
    database's write lock.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s, %s)", (namespace, key))


def _table_of(entity: Any) -> Table:
    return cast(Table, getattr(entity, "__table__", entity))


@lru_cache(maxsize=1 << 16)
def _sqlite_timestamp(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite ``DateTime`` stores, from an aware time (naive UTC)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Dialoga stores aware UTC times only")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _converters(table: Table, columns: Sequence[str], dialect: str) -> list[Any]:
    converters: list[Any] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            converters.append(_json_text)
        elif isinstance(column_type, UTCDateTime) and dialect == "sqlite":
            converters.append(_sqlite_timestamp)
        else:
            converters.append(None)
    return converters


def _python_defaults(table: Table, given: Sequence[str]) -> dict[str, Any]:
    """Values of the Python-side column defaults the caller did not give (once per call)."""
    values: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.name in given or column.primary_key or default is None:
            continue
        arg = getattr(default, "arg", None)
        values[column.name] = arg(None) if callable(arg) else arg
    return values


def bulk_insert(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    on_conflict_do_nothing: Sequence[str] = (),
) -> int:
    """``executemany`` straight on the driver: the hot path of ingest. Returns rows written.

    Rows are tuples in ``columns`` order, holding plain values (aware datetimes, dicts
    for JSON columns). Column defaults the caller left out are filled in, and values are
    converted the way the SQLAlchemy types would, so the rows read back like any other.
    """
    if not rows:
        return 0
    connection = session.connection()
    dialect = connection.dialect.name
    defaults = _python_defaults(table, columns)
    names = [*columns, *defaults]
    converters = _converters(table, columns, dialect)
    extra = tuple(
        convert(value) if convert else value
        for convert, value in zip(
            _converters(table, list(defaults), dialect), defaults.values(), strict=True
        )
    )
    prepared = _prepared(rows, extra, converters)
    if dialect == "postgresql" and not on_conflict_do_nothing:
        return _copy_rows(connection, table.name, names, prepared)
    marker = "?" if dialect == "sqlite" else "%s"
    # Table and column names come from the table's metadata (checked by _converters).
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
        f"VALUES ({', '.join([marker] * len(names))})"
    )
    if on_conflict_do_nothing:
        sql += f" ON CONFLICT ({', '.join(on_conflict_do_nothing)}) DO NOTHING"
    return connection.exec_driver_sql(sql, prepared).rowcount


def _copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> int:
    """PostgreSQL's ``COPY ... FROM STDIN``: several times faster than row-wise inserts."""
    driver: Any = connection.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


def bulk_update(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """``UPDATE table SET columns... WHERE id = ?`` for many rows; each row ends with the id."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    marker = "?" if dialect == "sqlite" else "%s"
    converters = [*_converters(table, columns, dialect), None]
    assignments = ", ".join(f"{name} = {marker}" for name in columns)
    sql = f"UPDATE {table.name} SET {assignments} WHERE id = {marker}"  # noqa: S608
    connection.exec_driver_sql(sql, _prepared(rows, (), converters))


def _prepared(
    rows: Sequence[Sequence[Any]], extra: tuple[Any, ...], converters: list[Any]
) -> list[tuple[Any, ...]]:
    """Rows with converted values and the defaults appended, converting column-wise."""
    if not any(converters) and not extra:
        return [tuple(row) for row in rows]
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else []
    for index, convert in enumerate(converters):
        if convert is not None:
            columns[index] = map(convert, columns[index])
    columns.extend(repeat(value, len(rows)) for value in extra)
    return list(zip(*columns, strict=True))


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (the claim of a lease, say)."""
    return int(getattr(result, "rowcount", 0))
