"""Runtime settings, read from ``DIALOGA_*`` environment variables or a ``.env`` file.

Settings are built by the entry points (``create_app()``, the CLI) and passed down;
nothing reads them at import time.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Where the embedded database and generated files live by default."""
    return Path(user_data_dir("dialoga", appauthor=False))


class Settings(BaseSettings):
    """Everything an operator can configure."""

    model_config = SettingsConfigDict(env_prefix="DIALOGA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None  # the job queue; without it, SQLite in the data directory
    embedded_worker: bool = True  # without Redis, ``dialoga serve`` consumes jobs itself
    worker_threads: int = 2
    job_lease_seconds: int = 300  # a worker killed mid-poll or mid-send holds it this long
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None  # how browsers reach Dialoga (OAuth callbacks behind a proxy)
    ingest_batch_size: int = 5000
    secret_key: str | None = None
    secure_cookies: bool = False
    housekeeping_seconds: float = 60.0
    credentials_keys: str | None = None  # Fernet keys, comma separated, newest first
    allow_private_fetches: bool = False
    trusted_fetch_hosts: str = ""  # comma-separated host names fetched even when private

    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'dialoga.db'}"
