"""Jobs through Redis: how many polls ``dialoga worker`` processes get through per second,
and how long a message takes from appearing on a network to appearing in the inbox.

Everything is real but the network: PostgreSQL (a fresh ``dialoga_bench_jobs`` database),
Redis (database 8, emptied), ``dialoga worker`` processes, and a Mastodon instance on
loopback (``tests/fake_mastodon.py``, in this process) that answers in the documented
shapes.

1. Throughput: CHANNELS channels are due at once; every poll job claims its channel,
   reads a page of 20 new mentions, ingests them and releases the channel. Measured
   with one worker process and with two, in the same run (the ratio is the scaling),
   then again with nothing new to read (the steady state of a quiet account).
2. Delay: 20 channels polled every INTERVAL seconds by two workers while mentions appear
   at random for a minute; the delay of each (channel, mention) is the time from its
   appearing on the instance to its row being in the inbox, p50 and p95.

    python benchmarks/jobs.py                      # 200 channels, 5 s interval, 60 s
    python benchmarks/jobs.py --channels 500 --interval 10 --seconds 120
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import create_engine, func, select, text, update

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.models import ChannelSync
from dialoga.core.db import transaction
from dialoga.core.settings import Settings
from dialoga.inbox.models import Message
from dialoga.jobs.tasks import build_jobs
from dialoga.runtime import Runtime
from fake_mastodon import FakeMastodon, connect_channel, running_mastodon

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
DATABASE = "dialoga_bench_jobs"
REDIS_URL = "redis://127.0.0.1:6379/8"
DIALOGA = str(Path(sys.executable).parent / "dialoga")
FAR = timedelta(days=365)


def fresh_runtime(data_dir: Path) -> Runtime:
    admin = create_engine(SERVER + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()
    settings = Settings(database_url=SERVER + DATABASE, redis_url=REDIS_URL, data_dir=data_dir)
    runtime = Runtime.from_settings(settings)
    runtime.upgrade_database()
    return runtime


def start_workers(count: int, data_dir: Path) -> list[subprocess.Popen[bytes]]:
    env = dict(
        os.environ,
        DIALOGA_DATABASE_URL=SERVER + DATABASE,
        DIALOGA_REDIS_URL=REDIS_URL,
        DIALOGA_DATA_DIR=str(data_dir),
        DIALOGA_ALLOW_PRIVATE_FETCHES="true",
    )
    log = (data_dir / "workers.log").open("ab")
    workers = [
        subprocess.Popen([DIALOGA, "worker", "--workers", "1"], env=env, stdout=log, stderr=log)
        for _ in range(count)
    ]
    time.sleep(3)  # started and listening on the queue
    return workers


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=30)


def wait_for(condition: Callable[[], bool], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out: see workers.log in the data directory")
        time.sleep(0.02)


def make_channels(runtime: Runtime, network: FakeMastodon, prefix: str, count: int) -> list[int]:
    with transaction(runtime.sessions) as session:
        workspace = session.scalar(select(Workspace))
        if workspace is None:
            workspace = do_create_workspace(session, "bench", "Bench", actor="bench")
        workspace_id = workspace.id
    channels = [
        connect_channel(runtime, workspace_id, network, f"{prefix}-{n}") for n in range(count)
    ]
    _schedule(runtime, channels, datetime.now(UTC) + FAR)  # not yet
    return channels


def _schedule(runtime: Runtime, channels: list[int], at: datetime, interval: int = 3600) -> None:
    with transaction(runtime.sessions) as session:
        session.execute(
            update(ChannelSync)
            .where(ChannelSync.channel_id.in_(channels))
            .values(next_poll_at=at, interval_seconds=interval)
        )


def polls_per_second(runtime: Runtime, channels: list[int]) -> float:
    """Make every channel due, enqueue one poll each, and time until all have polled."""
    jobs = build_jobs(runtime)
    started_at = datetime.now(UTC)
    _schedule(runtime, channels, started_at)
    started = time.perf_counter()
    for channel_id in channels:
        jobs.enqueue_poll(channel_id)

    def all_polled() -> bool:
        with runtime.sessions() as session:
            done = session.scalar(
                select(func.count()).where(
                    ChannelSync.channel_id.in_(channels), ChannelSync.last_ok_at >= started_at
                )
            )
        return done == len(channels)

    wait_for(all_polled)
    return len(channels) / (time.perf_counter() - started)


def throughput(runtime: Runtime, network: FakeMastodon, args: argparse.Namespace) -> None:
    network.add_mentions(20)
    for workers in (1, 2):
        channels = make_channels(runtime, network, f"t{workers}", args.channels)
        running = start_workers(workers, args.data_dir)
        try:
            fresh = polls_per_second(runtime, channels)
            quiet = polls_per_second(runtime, channels)
        finally:
            stop(running)
        print(
            f"{workers} worker(s): {fresh:7.1f} polls/s with 20 new mentions each "
            f"({fresh * 20:,.0f} messages/s), {quiet:7.1f} polls/s with nothing new"
        )
        args.rates[workers] = (fresh, quiet)
    one, two = args.rates[1], args.rates[2]
    print(f"2 workers / 1 worker: {two[0] / one[0]:.2f}x (new), {two[1] / one[1]:.2f}x (quiet)")


def delay(runtime: Runtime, network: FakeMastodon, args: argparse.Namespace) -> None:
    channels = make_channels(runtime, network, "live", 20)
    _schedule(runtime, channels, datetime.now(UTC), interval=args.interval)
    with runtime.sessions() as session:
        last_id = session.scalar(select(func.max(Message.id))) or 0
    running = start_workers(2, args.data_dir)
    seen: dict[tuple[int, str], float] = {}
    done = threading.Event()

    def watch() -> None:
        nonlocal last_id
        while not done.is_set():
            with runtime.sessions() as session:
                rows = session.execute(
                    select(Message.id, Message.channel_id, Message.external_id).where(
                        Message.id > last_id, Message.channel_id.in_(channels)
                    )
                ).all()
            now = time.time()
            for row in rows:
                seen.setdefault((row.channel_id, row.external_id), now)
                last_id = max(last_id, row.id)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        time.sleep(args.interval + 2)  # every channel's first poll has run
        appeared: list[str] = []
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            appeared += network.add_mentions(1)
            time.sleep(random.uniform(0.1, 0.9))
        wanted = {(channel, status) for channel in channels for status in appeared}
        wait_for(lambda: wanted <= seen.keys(), args.interval * 6 + 60)
    finally:
        done.set()
        watcher.join()
        stop(running)
    delays = sorted(seen[key] - network.appeared_at[key[1]] for key in wanted)
    cuts = statistics.quantiles(delays, n=100)
    print(
        f"delay network -> inbox, {len(delays):,} (channel, mention) pairs, polled every "
        f"{args.interval} s: p50 {cuts[49]:.2f} s, p95 {cuts[94]:.2f} s, max {delays[-1]:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--interval", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    args.rates = {}
    with tempfile.TemporaryDirectory() as folder:
        args.data_dir = Path(folder)
        runtime = fresh_runtime(args.data_dir)
        with running_mastodon() as network:
            throughput(runtime, network, args)
            delay(runtime, network, args)
        print(f"(log: {args.data_dir / 'workers.log'}, kept only while running)")
        runtime.engine.dispose()


if __name__ == "__main__":
    main()
