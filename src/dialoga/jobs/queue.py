"""The job queue Dialoga runs on: Huey over SQLite by default, over Redis in production.

On a laptop the queue is a SQLite file in the data directory and ``dialoga serve`` runs
the consumer in its own process (threads beside the web server). With
``DIALOGA_REDIS_URL`` set, the queue lives in Redis and ``dialoga worker`` processes, on
any number of machines, consume it; the web processes only enqueue.
"""

from __future__ import annotations

from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from dialoga.core.settings import Settings

QUEUE_NAME = "dialoga"


def make_huey(settings: Settings) -> Huey:
    """The queue the settings name: Redis when ``redis_url`` is set, else SQLite."""
    if settings.redis_url:
        return RedisHuey(QUEUE_NAME, url=settings.redis_url, results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "jobs.db"), results=False)


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A consumer that runs inside another program (the web server): it leaves that
    program's signal handlers alone; the program stops it with ``stop``."""

    def _set_signal_handlers(self) -> None:
        pass


def consumer_options(workers: int, *, processes: bool = False) -> dict[str, Any]:
    """Options for a consumer: ``workers`` threads (or processes), periodic tasks on."""
    return {
        "workers": workers,
        "worker_type": "process" if processes else "thread",
        "periodic": True,
        "initial_delay": 0.05,
        "max_delay": 1.0,
        "check_worker_health": True,
    }
