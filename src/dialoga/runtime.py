"""The objects an entry point builds once: settings, engine, sessions; and schema upgrades."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from dialoga.core.db import make_engine, make_session_factory
from dialoga.core.settings import Settings
from dialoga.core.vault import Vault

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Runtime:
    """Settings with the engine and session factory built from them."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.resolved_database_url())
        return cls(settings, engine, make_session_factory(engine))

    @classmethod
    def from_env(cls) -> Runtime:
        return cls.from_settings(Settings())

    @property
    def safe_database_url(self) -> str:
        """The database URL without its password, fit for printing."""
        return make_url(self.settings.resolved_database_url()).render_as_string(hide_password=True)

    @cached_property
    def vault(self) -> Vault:
        """The credentials vault, its keys read once per process."""
        return Vault.from_settings(self.settings)

    def session_secret(self) -> str:
        """The key that signs session cookies: configured, or made once and kept on disk."""
        if self.settings.secret_key:
            return self.settings.secret_key
        path = self.settings.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def upgrade_database(self) -> None:
        """Bring the schema to the latest migration (creating it on an empty database)."""
        upgrade_schema(self.engine)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to ``engine``, with the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: Engine) -> None:
    """Run every pending migration against ``engine``."""
    command.upgrade(alembic_config(engine), "head")
