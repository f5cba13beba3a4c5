"""Test fixtures: isolated databases (SQLite by default, PostgreSQL when asked) and runtimes.

Set ``DIALOGA_TEST_DATABASE_URL`` to a PostgreSQL URL (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) to run the suite there: each
pytest worker gets a database of its own, migrated once and emptied before every test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.core.db import transaction
from dialoga.core.settings import Settings
from dialoga.runtime import Runtime, upgrade_schema
from dialoga.schema import metadata

POSTGRES_URL = os.environ.get("DIALOGA_TEST_DATABASE_URL", "")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this pytest worker."""
    base = make_url(POSTGRES_URL)
    name = f"dialoga_test_{_worker()}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    runtime = Runtime.from_settings(Settings(database_url=url))
    runtime.upgrade_database()
    runtime.engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    runtime = Runtime.from_settings(Settings(database_url=f"sqlite:///{path}"))
    upgrade_schema(runtime.engine)
    runtime.engine.dispose()
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database for one test."""
    if POSTGRES_URL:
        url: str = request.getfixturevalue("postgres_url")
        engine = create_engine(url)
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return url
    path = tmp_path / "dialoga.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        ingest_batch_size=50,
        embedded_worker=False,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    built = Runtime.from_settings(settings)
    yield built
    built.engine.dispose()


@pytest.fixture
def sessions(runtime: Runtime) -> sessionmaker[Session]:
    return runtime.sessions


@pytest.fixture
def workspace(sessions: sessionmaker[Session]) -> Workspace:
    with transaction(sessions) as session:
        return do_create_workspace(session, "acme", "ACME S.p.A.", actor="test")


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for running the ``dialoga`` command against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALOGA_")}
    env["DIALOGA_DATABASE_URL"] = database_url
    env["DIALOGA_DATA_DIR"] = str(tmp_path / "data")
    return env
