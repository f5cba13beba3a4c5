"""The production shape on loopback: PostgreSQL, Redis, two ``dialoga serve`` processes
taking webhook deliveries and two ``dialoga worker`` processes polling the same Mastodon
channels and sending replies, all at once. Every message arrives once, in one
conversation, and every reply is posted once.

Runs in the PostgreSQL pass of the suite (``DIALOGA_TEST_DATABASE_URL``), where the
database is a server several processes can share."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select

from conftest import POSTGRES_URL
from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.webhooks import do_enable_webhook, signature
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.settings import Settings
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.work import do_reply
from dialoga.jobs.tasks import Jobs, build_jobs
from dialoga.runtime import Runtime
from fake_mastodon import FakeMastodon, connect_channel, running_mastodon
from live_double import agent

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="the deployment test runs in the PostgreSQL pass"
)
DIALOGA = str(Path(sys.executable).parent / "dialoga")
REDIS_URL = "redis://127.0.0.1:6379/7"
CHANNELS = 3
WEBHOOK_RECORDS = 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(condition: Callable[[], bool], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def deployment_env(cli_env: dict[str, str]) -> dict[str, str]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    return dict(
        cli_env,
        DIALOGA_REDIS_URL=REDIS_URL,
        DIALOGA_ALLOW_PRIVATE_FETCHES="true",
        DIALOGA_HOUSEKEEPING_SECONDS="0",
    )


@pytest.fixture
def processes(deployment_env: dict[str, str], tmp_path: Path) -> Iterator[list[int]]:
    """Two web processes (their ports) and two workers, started on the shared database."""
    ports = [_free_port(), _free_port()]
    commands = [[DIALOGA, "serve", "--port", str(port)] for port in ports]
    commands += [[DIALOGA, "worker", "--workers", "2"]] * 2
    started = []
    for number, command in enumerate(commands):
        log = (tmp_path / f"process-{number}.log").open("wb")
        started.append(subprocess.Popen(command, env=deployment_env, stdout=log, stderr=log))
    try:
        for port in ports:
            _wait(lambda port=port: _healthy(port), f"the web process on {port}", 60)
        yield ports
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)
    logs = "".join(path.read_text() for path in sorted(tmp_path.glob("process-*.log")))
    assert "Traceback" not in logs, logs[-4000:]


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _deliver(port: int, channel_id: int, secret: str, batch: int) -> int:
    """One signed delivery of records that overlap the next batch's (by half)."""
    start = batch * 25
    records = [
        {"external_id": f"wh-{n}", "created_at": "2026-12-01T10:00:00Z",
         "text": f"Richiesta {n}", "author_id": f"u-{n % 13}"}
        for n in range(start, min(start + 50, WEBHOOK_RECORDS))
    ]  # fmt: skip
    body = json.dumps({"records": records}).encode()
    stamp = str(int(time.time()))
    delivery = f"d-{batch}"
    headers = {
        "X-Dialoga-Delivery": delivery,
        "X-Dialoga-Timestamp": stamp,
        "X-Dialoga-Signature": signature(secret, stamp, delivery, body),
        "Content-Type": "application/json",
    }
    url = f"http://127.0.0.1:{port}/hooks/{channel_id}"
    return httpx.post(url, content=body, headers=headers, timeout=30).status_code


def test_two_web_processes_and_two_workers_store_everything_once(
    database_url: str,
    workspace: Workspace,
    deployment_env: dict[str, str],
    processes: list[int],
) -> None:
    runtime = Runtime.from_settings(
        Settings(
            database_url=database_url,
            redis_url=REDIS_URL,
            data_dir=Path(deployment_env["DIALOGA_DATA_DIR"]),
        )
    )
    with running_mastodon() as network:
        _run_the_day(runtime, workspace, network, processes)
    runtime.engine.dispose()


def _run_the_day(
    runtime: Runtime, workspace: Workspace, network: FakeMastodon, ports: list[int]
) -> None:
    channels = [connect_channel(runtime, workspace.id, network, f"social-{n}") for n in range(3)]
    jobs = build_jobs(runtime)
    for channel_id in channels:
        jobs.enqueue_poll(channel_id)
    with transaction(runtime.sessions) as session:
        hooked = do_get_or_create_channel(session, workspace.id, "forum", "generic", actor="t")
        secret = do_enable_webhook(session, hooked, runtime.vault, actor="test")
    mentions: list[str] = []
    statuses: list[int] = []

    def webhooks() -> None:  # each delivery goes to both web processes
        for batch in range(WEBHOOK_RECORDS // 25):
            for port in ports:
                statuses.append(_deliver(port, hooked.id, secret, batch))

    sender = threading.Thread(target=webhooks)
    sender.start()
    for _ in range(8):
        mentions += network.add_mentions(20)
        time.sleep(0.5)
    sender.join()
    assert sorted(set(statuses)) == [202, 409] and statuses.count(202) == WEBHOOK_RECORDS // 25

    def all_in() -> bool:
        with runtime.sessions() as session:
            return (session.scalar(select(func.count()).select_from(Message)) or 0) >= (
                CHANNELS * len(mentions) + WEBHOOK_RECORDS
            )

    _wait(all_in, "every mention in every channel")
    _reply_to_some(runtime, workspace, jobs, channels[0])
    _wait(lambda: len(network.posted) >= 10, "the replies to be posted")
    time.sleep(2)  # a duplicate would show up now
    _check_once_each(runtime, channels, hooked.id, mentions)
    assert len(network.posted) == 10


def _reply_to_some(runtime: Runtime, workspace: Workspace, jobs: Jobs, channel_id: int) -> None:
    user = agent(runtime.sessions, workspace)
    with transaction(runtime.sessions) as session:
        conversations = session.scalars(
            select(Conversation.id).where(Conversation.channel_id == channel_id).limit(10)
        ).all()
        for conversation in conversations:
            message_id = do_reply(session, conversation, user, "Ci pensiamo noi!", utcnow())
            jobs.send_after_commit(session, message_id)


def _check_once_each(
    runtime: Runtime, channels: list[int], hooked: int, mentions: list[str]
) -> None:
    with runtime.sessions() as session:
        for channel_id in channels:
            stored = session.scalars(
                select(Message.external_id).where(
                    Message.channel_id == channel_id, Message.direction == "inbound"
                )
            ).all()
            assert sorted(stored) == sorted(mentions)
            conversations = session.scalar(
                select(func.count()).where(Conversation.channel_id == channel_id)
            )
            assert conversations == len(mentions)
        webhook_ids = session.scalars(
            select(Message.external_id).where(Message.channel_id == hooked)
        ).all()
        assert sorted(webhook_ids) == sorted(f"wh-{n}" for n in range(WEBHOOK_RECORDS))
        sent = session.scalars(select(Message.delivery).where(Message.direction == "outbound"))
        assert sorted(sent) == ["sent"] * 10
