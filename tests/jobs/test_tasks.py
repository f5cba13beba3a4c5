"""The job layer: tasks enqueued only after their transaction commits, polls that
schedule their successor, a dispatcher that finds what is due, and a real consumer
(SQLite queue, threads) that polls and sends."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from huey import MemoryHuey
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.base import Poll
from dialoga.channels.models import Channel
from dialoga.core.clock import utcnow
from dialoga.core.db import after_commit, transaction
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.work import do_reply
from dialoga.jobs.queue import EmbeddedConsumer, consumer_options, make_huey
from dialoga.jobs.tasks import OVERDUE, build_jobs, dispatch_due
from dialoga.runtime import Runtime
from live_double import (
    Clock,
    ScriptedConnector,
    agent,
    live_channel,
    make_live,
    mention,
    page,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def channel(sessions: sessionmaker[Session], workspace: Workspace, clock: Clock) -> Channel:
    return live_channel(sessions, workspace, clock, interval=30)


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_work_queued_in_a_transaction_runs_only_once_it_commits(
    sessions: sessionmaker[Session],
) -> None:
    ran: list[str] = []
    with transaction(sessions) as session:
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        after_commit(session, lambda: ran.append("rolled back"))
        raise RuntimeError("the action failed")
    assert ran == ["committed"]


def test_a_poll_task_schedules_the_channels_next_poll_itself(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    clock.now = utcnow()  # the queue schedules in real time
    network = ScriptedConnector([page(range(1, 3))])
    huey = MemoryHuey(immediate=True)
    jobs = build_jobs(runtime, huey, make_live(runtime.sessions, runtime.vault, network, clock))
    jobs.enqueue_poll(channel.id)
    assert _count(runtime.sessions, Message) == 2
    [upcoming] = huey.scheduled()
    assert upcoming.name == "dialoga.poll_channel" and upcoming.args == (channel.id,)
    assert upcoming.eta == (clock() + timedelta(seconds=30)).replace(tzinfo=None)

    jobs.enqueue_poll(channel.id)  # a duplicate finds the channel not due: no successor
    assert len(huey.scheduled()) == 1


def test_the_dispatcher_enqueues_overdue_polls_and_due_sends(
    runtime: Runtime, workspace: Workspace, channel: Channel, clock: Clock
) -> None:
    network = ScriptedConnector([Poll([mention(1)], [], {"since": 1})])
    live = make_live(runtime.sessions, runtime.vault, network, clock)
    polls: list[int] = []
    sends: list[int] = []
    assert dispatch_due(live, polls.append, sends.append).polls == 0  # due, not overdue
    clock.advance(seconds=OVERDUE.total_seconds() + 1)
    dispatch_due(live, polls.append, sends.append)
    assert polls == [channel.id]

    jobs = build_jobs(runtime, MemoryHuey(immediate=True), live)
    jobs.enqueue_poll(channel.id)
    user = agent(runtime.sessions, workspace)
    with transaction(runtime.sessions) as session:
        conversation = session.scalars(select(Conversation.id)).one()
        message_id = do_reply(session, conversation, user, "Grazie!", clock())
    dispatch_due(live, polls.append, sends.append)
    assert sends == [message_id]


def test_a_reply_stored_with_its_send_enqueued_after_commit_is_sent(
    runtime: Runtime, workspace: Workspace, channel: Channel, clock: Clock
) -> None:
    network = ScriptedConnector([Poll([mention(1)], [], {"since": 1})])
    live = make_live(runtime.sessions, runtime.vault, network, clock)
    jobs = build_jobs(runtime, MemoryHuey(immediate=True), live)
    jobs.enqueue_poll(channel.id)
    user = agent(runtime.sessions, workspace)
    with transaction(runtime.sessions) as session:
        conversation = session.scalars(select(Conversation.id)).one()
        message_id = do_reply(session, conversation, user, "Grazie Laura!", clock())
        jobs.send_after_commit(session, message_id)
        assert network.sent == []  # not while the reply is uncommitted
    assert [reply.text for reply in network.sent] == ["Grazie Laura!"]
    with runtime.sessions() as session:
        assert session.get(Message, message_id).delivery == "sent"  # type: ignore[union-attr]


def test_a_real_consumer_on_the_sqlite_queue_polls_a_channel(
    runtime: Runtime, channel: Channel
) -> None:
    network = ScriptedConnector([page(range(1, 4), more=True), page(range(4, 6))])
    live = make_live(runtime.sessions, runtime.vault, network, Clock())
    live.clock = utcnow
    huey = make_huey(runtime.settings)
    jobs = build_jobs(runtime, huey, live)
    consumer = EmbeddedConsumer(huey, **consumer_options(2))
    consumer.start()
    try:
        jobs.enqueue_poll(channel.id)
        deadline = time.monotonic() + 20
        while _count(runtime.sessions, Message) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        consumer.stop(graceful=True)
    assert _count(runtime.sessions, Message) == 5
    assert (runtime.settings.data_dir / "jobs.db").exists()
