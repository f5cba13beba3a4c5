"""Crash safety: a ``dialoga worker`` killed with SIGKILL in the middle of a poll, and
again in the middle of a send, then started again, leaves every message stored once and
the reply posted once (Mastodon on loopback, the default SQLite job queue)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dialoga.accounts.models import Workspace
from dialoga.channels.models import ChannelSync
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.work import do_reply
from dialoga.jobs.tasks import build_jobs
from dialoga.runtime import Runtime
from fake_mastodon import FakeMastodon, connect_channel, running_mastodon
from live_double import agent

DIALOGA = str(Path(sys.executable).parent / "dialoga")
LEASE_SECONDS = 3


@pytest.fixture
def network() -> Iterator[FakeMastodon]:
    with running_mastodon() as running:
        yield running


@pytest.fixture
def worker_env(cli_env: dict[str, str]) -> dict[str, str]:
    return dict(
        cli_env,
        DIALOGA_ALLOW_PRIVATE_FETCHES="true",
        DIALOGA_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
    )


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [DIALOGA, "worker", "--workers", "2"], env=env, stdout=output, stderr=output
        )


def _wait(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _kill(worker: subprocess.Popen[bytes]) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def test_a_worker_killed_mid_poll_and_mid_send_loses_and_repeats_nothing(
    runtime: Runtime,
    workspace: Workspace,
    network: FakeMastodon,
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    def stored() -> int:
        with runtime.sessions() as session:
            return session.scalar(select(func.count()).select_from(Message)) or 0

    def polled_once() -> bool:
        with runtime.sessions() as session:
            return session.scalar(select(ChannelSync.last_ok_at)) is not None

    connect_channel(runtime, workspace.id, network, "social")
    log = tmp_path / "worker.log"
    worker = _start_worker(worker_env, log)
    try:
        _wait(polled_once, "the first poll")
        expected = network.add_mentions(70)  # three pages of 30, 30 and 10
        network.stall("GET", "/api/v1/notifications", after=1)
        _wait(network.stalled.is_set, "the poll to reach its second page")
        _kill(worker)
        assert stored() == 30  # the first page, with its cursor; the second was in flight

        time.sleep(LEASE_SECONDS + 0.5)
        worker = _start_worker(worker_env, log)
        _wait(lambda: stored() == 70, "the rest of the mentions")

        user = agent(runtime.sessions, workspace)
        with transaction(runtime.sessions) as session:
            conversation = session.scalars(select(Conversation.id).limit(1)).one()
            reply_id = do_reply(session, conversation, user, "Ci pensiamo noi!", utcnow())
        network.stall("POST", "/api/v1/statuses")
        build_jobs(runtime).enqueue_send(reply_id)
        _wait(network.stalled.is_set, "the reply to reach the network")
        _kill(worker)  # posted there, but the worker never heard back

        time.sleep(LEASE_SECONDS + 0.5)
        worker = _start_worker(worker_env, log)

        def sent() -> bool:
            with runtime.sessions() as session:
                return (
                    session.scalar(select(Message.delivery).where(Message.id == reply_id)) == "sent"
                )

        _wait(sent, "the interrupted send to be settled")
    finally:
        network.release.set()
        _kill(worker)

    assert len(network.posted) == 1  # the repeat carried the same Idempotency-Key
    with runtime.sessions() as session:
        inbound = session.scalars(
            select(Message.external_id).where(Message.direction == "inbound")
        ).all()
        reply = session.get(Message, reply_id)
    assert sorted(inbound) == sorted(expected)  # every mention, each once
    assert reply is not None and reply.external_id == network.posted[0]["id"]
