"""Sending replies: each reply goes out once, its state says where it stands, a failure
never loses its text, and a worker that dies mid-send never makes it post twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dialoga.accounts.models import Workspace
from dialoga.channels.base import (
    AuthExpiredError,
    NetworkUnavailableError,
    OutgoingReply,
    Poll,
    SendRefusedError,
)
from dialoga.channels.models import Channel, ChannelSync
from dialoga.channels.sending import send_reply
from dialoga.channels.sync import do_pause_live, poll_channel
from dialoga.core.db import transaction
from dialoga.inbox.delivery import (
    INTERRUPTED,
    MAX_ATTEMPTS,
    do_expire_sends,
    do_queue_again,
    due_deliveries,
)
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.work import do_reply
from dialoga.runtime import Runtime
from live_double import Clock, ScriptedConnector, agent, make_live, mention


def _reply(runtime: Runtime, workspace: Workspace, channel: Channel, clock: Clock) -> int:
    """Laura writes twice in one thread; an agent answers in Dialoga."""
    first, second = mention(1), mention(2, reply_to="s-1")
    network = ScriptedConnector([Poll([first, second], [], {"since": 2})])
    poll_channel(make_live(runtime.sessions, runtime.vault, network, clock), channel.id)
    user = agent(runtime.sessions, workspace)
    with transaction(runtime.sessions) as session:
        conversation = session.scalars(select(Conversation.id)).one()
        return do_reply(session, conversation, user, "Grazie Laura, ci pensiamo noi.", clock())


def _message(runtime: Runtime, message_id: int) -> Message:
    with runtime.sessions() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


def test_a_reply_is_sent_once_with_its_thread_and_takes_the_networks_id(
    runtime: Runtime, workspace: Workspace, channel: Channel, clock: Clock
) -> None:
    message_id = _reply(runtime, workspace, channel, clock)
    key = _message(runtime, message_id).external_id
    network = ScriptedConnector()
    live = make_live(runtime.sessions, runtime.vault, network, clock)

    assert send_reply(live, message_id).state == "sent"
    assert send_reply(live, message_id).state == "not_claimed"
    [sent] = network.sent
    assert sent == OutgoingReply(
        key=key,
        text="Grazie Laura, ci pensiamo noi.",
        kind="reply",
        in_reply_to="s-2",
        references=("s-1", "s-2"),
        subject=None,
        recipient=sent.recipient,
    )
    assert sent.recipient is not None and sent.recipient.handle == "laura@social.example"
    stored = _message(runtime, message_id)
    assert (stored.delivery, stored.external_id, stored.delivery_attempts) == ("sent", "net-1", 1)
    assert stored.url == "https://social.example/@brand/1" and stored.sent_at == clock()


def test_a_refused_reply_fails_with_its_reason_and_keeps_its_text(
    runtime: Runtime, workspace: Workspace, channel: Channel, clock: Clock
) -> None:
    message_id = _reply(runtime, workspace, channel, clock)
    network = ScriptedConnector(send_error=SendRefusedError("Validation failed: Text too long"))
    outcome = send_reply(make_live(runtime.sessions, runtime.vault, network, clock), message_id)
    assert outcome.state == "failed" and outcome.retry_at is None
    stored = _message(runtime, message_id)
    assert stored.delivery == "failed" and "Text too long" in (stored.delivery_error or "")
    assert stored.text == "Grazie Laura, ci pensiamo noi."

    with transaction(runtime.sessions) as session:
        conversation = _message(runtime, message_id).conversation_id
        assert not do_queue_again(session, conversation + 1, message_id, clock())
        assert do_queue_again(session, conversation, message_id, clock())
    network.send_error = None
    assert (
        send_reply(make_live(runtime.sessions, runtime.vault, network, clock), message_id).state
        == "sent"
    )


def test_a_network_failure_is_retried_with_backoff_then_fails(
    runtime: Runtime, workspace: Workspace, channel: Channel, clock: Clock
) -> None:
    message_id = _reply(runtime, workspace, channel, clock)
    network = ScriptedConnector(send_error=NetworkUnavailableError("social.example answered 502"))
    live = make_live(runtime.sessions, runtime.vault, network, clock)
    retries = []
    for _ in range(MAX_ATTEMPTS - 1):
        outcome = send_reply(live, message_id)
        assert outcome.state == "queued" and outcome.retry_at is not None
        assert send_reply(live, message_id).state == "not_claimed"  # not due yet
        retries.append(outcome.retry_at - clock())
        clock.now = outcome.retry_at
    assert retries == [timedelta(seconds=30 * 2**n) for n in range(MAX_ATTEMPTS - 1)]
    assert send_reply(live, message_id).state == "failed"
    stored = _message(runtime, message_id)
    assert stored.delivery_attempts == MAX_ATTEMPTS and "502" in (stored.delivery_error or "")


def test_refused_credentials_fail_the_reply_and_flag_the_channel(
    runtime: Runtime, workspace: Workspace, channel: Channel, clock: Clock
) -> None:
    message_id = _reply(runtime, workspace, channel, clock)
    network = ScriptedConnector(send_error=AuthExpiredError("the access token is invalid"))
    assert (
        send_reply(make_live(runtime.sessions, runtime.vault, network, clock), message_id).state
        == "failed"
    )
    with runtime.sessions() as session:
        sync = session.get(ChannelSync, channel.id)
        assert sync is not None and sync.health == "needs_reauth"


def test_a_channel_without_a_live_connection_keeps_the_reply_queued(
    runtime: Runtime, workspace: Workspace, channel: Channel, clock: Clock
) -> None:
    message_id = _reply(runtime, workspace, channel, clock)
    with transaction(runtime.sessions) as session:
        do_pause_live(session, channel.id)
    network = ScriptedConnector()
    outcome = send_reply(make_live(runtime.sessions, runtime.vault, network, clock), message_id)
    assert outcome.state == "queued" and network.sent == []
    stored = _message(runtime, message_id)
    assert stored.delivery == "queued" and stored.delivery_attempts == 0
    with runtime.sessions() as session:
        assert due_deliveries(session, clock() + timedelta(days=1)) == []


@pytest.mark.parametrize(("repeatable", "state"), [(True, "queued"), (False, "failed")])
def test_a_send_interrupted_by_a_dead_worker_is_repeated_only_where_it_cannot_post_twice(
    runtime: Runtime,
    workspace: Workspace,
    channel: Channel,
    clock: Clock,
    repeatable: bool,
    state: str,
) -> None:
    message_id = _reply(runtime, workspace, channel, clock)
    with transaction(runtime.sessions) as session:  # a worker claimed it, then was killed
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(delivery="sending", delivery_lease_until=clock() + timedelta(minutes=5))
        )
    with transaction(runtime.sessions) as session:
        assert do_expire_sends(session, clock(), lambda _network: repeatable) == ([], 0)
    clock.advance(minutes=6)
    with transaction(runtime.sessions) as session:
        again, failed = do_expire_sends(session, clock(), lambda _network: repeatable)
    assert (again, failed) == (([message_id], 0) if repeatable else ([], 1))
    stored = _message(runtime, message_id)
    assert stored.delivery == state
    assert (stored.delivery_error == INTERRUPTED) is not repeatable
