"""Where a reply written in Dialoga stands on its way to the network, and the moves
between those states.

``queued`` (waiting, maybe after a failed attempt: ``delivery_error`` says why and
``delivery_due_at`` when it is tried again) → ``sending`` (a worker holds it until
``delivery_lease_until``) → ``sent`` (the network's id replaces Dialoga's own) or
``failed`` (with the reason; a person may queue it again). The text is never touched.

Only one worker can move a reply from ``queued`` to ``sending``, so it is sent at most
once at a time. A worker that dies while sending leaves it ``sending``; when the lease
expires, ``do_expire_sends`` queues it again where the network cannot post it twice
(the same idempotency key), and otherwise fails it for a person to check, because it
may have been posted already.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dialoga.channels.base import NormalizedAuthor, OutgoingReply
from dialoga.channels.models import Channel
from dialoga.contacts.models import Identity
from dialoga.core.db import is_in, rows_changed
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.work import bump_channels

DELIVERY_STATES = ("queued", "sending", "sent", "failed")
MAX_ATTEMPTS = 6
INTERRUPTED = (
    "the worker stopped while sending, so it may have reached the network: "
    "check there before sending it again"
)


@dataclass(frozen=True)
class ClaimedReply:
    """A reply a worker now holds, with what its connector needs."""

    message_id: int
    channel_id: int
    attempt: int
    reply: OutgoingReply


def due_deliveries(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Queued replies whose (next) attempt is due."""
    return list(
        session.scalars(
            select(Message.id)
            .where(Message.delivery == "queued", Message.delivery_due_at <= now)
            .order_by(Message.delivery_due_at)
            .limit(limit)
        )
    )


def do_claim_delivery(
    session: Session, message_id: int, now: datetime, lease: timedelta
) -> ClaimedReply | None:
    """Take a due, queued reply for sending (None when it is not due, or taken)."""
    claimed = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.delivery == "queued",
            Message.delivery_due_at <= now,
        )
        .values(
            delivery="sending",
            delivery_lease_until=now + lease,
            delivery_attempts=Message.delivery_attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if rows_changed(claimed) != 1:
        return None
    message = session.get(Message, message_id)
    assert message is not None
    return ClaimedReply(
        message_id, message.channel_id, message.delivery_attempts, _outgoing(session, message)
    )


def _outgoing(session: Session, message: Message) -> OutgoingReply:
    conversation = session.get(Conversation, message.conversation_id)
    thread = session.scalars(
        select(Message.external_id)
        .where(
            Message.conversation_id == message.conversation_id,
            Message.id != message.id,
            ~Message.external_id.startswith("dialoga:"),
        )
        .order_by(Message.created_at, Message.id)
    ).all()
    return OutgoingReply(
        key=message.external_id,
        text=message.text,
        kind=message.kind,  # type: ignore[arg-type]
        in_reply_to=message.in_reply_to,
        references=tuple(thread),
        subject=conversation.subject if conversation else None,
        recipient=_recipient(session, message),
    )


def _recipient(session: Session, message: Message) -> NormalizedAuthor | None:
    """The author of the message this reply answers."""
    if message.in_reply_to is None:
        return None
    identity = session.execute(
        select(Identity)
        .join(Message, Message.author_identity_id == Identity.id)
        .where(Message.channel_id == message.channel_id, Message.external_id == message.in_reply_to)
    ).scalar_one_or_none()
    if identity is None:
        return None
    email = identity.external_id if identity.network == "email" else None
    return NormalizedAuthor(
        identity.network, identity.external_id, identity.handle, identity.display_name, email
    )


def do_mark_sent(
    session: Session, message_id: int, external_id: str, url: str | None, now: datetime
) -> None:
    """The network took the reply: keep its id there (unless a poll already stored the
    same item under it, in which case Dialoga's id stays), and its link."""
    message = session.get(Message, message_id)
    assert message is not None
    clash = session.scalar(
        select(Message.id).where(
            Message.channel_id == message.channel_id, Message.external_id == external_id
        )
    )
    message.delivery = "sent"
    message.sent_at = now
    message.delivery_error = None
    message.delivery_lease_until = message.delivery_due_at = None
    if clash is None:
        message.external_id = external_id
    message.url = url or message.url
    bump_channels(session, [message.channel_id])


def do_mark_failed(
    session: Session, message_id: int, reason: str, retry_at: datetime | None
) -> str:
    """An attempt failed: queue the reply for ``retry_at`` (until ``MAX_ATTEMPTS``), or
    fail it for good when there is no point trying again; returns the new state."""
    message = session.get(Message, message_id)
    assert message is not None
    retry = retry_at is not None and message.delivery_attempts < MAX_ATTEMPTS
    message.delivery = "queued" if retry else "failed"
    message.delivery_due_at = retry_at if retry else None
    message.delivery_error = reason[:1000]
    message.delivery_lease_until = None
    bump_channels(session, [message.channel_id])
    return message.delivery


def do_leave_queued(session: Session, message_id: int, reason: str) -> None:
    """No connection can send it (a file-only channel, a paused one): give the attempt
    back and keep it queued, with the reason, until a person sends it elsewhere."""
    session.execute(
        update(Message)
        .where(Message.id == message_id, Message.delivery == "sending")
        .values(
            delivery="queued",
            delivery_due_at=None,
            delivery_lease_until=None,
            delivery_error=reason[:1000],
            delivery_attempts=Message.delivery_attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )


def do_queue_again(session: Session, conversation_id: int, message_id: int, now: datetime) -> bool:
    """A person asks to send a failed (or parked) reply of the conversation again, now;
    False when there is no such reply waiting."""
    queued = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.conversation_id == conversation_id,
            Message.direction == "outbound",
            Message.delivery.in_(("failed", "queued")),
        )
        .values(delivery="queued", delivery_due_at=now, delivery_attempts=0)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(queued) == 1


def do_expire_sends(
    session: Session, now: datetime, repeatable: Callable[[str], bool]
) -> tuple[list[int], int]:
    """Replies left ``sending`` by a worker that died: queued again (returned) where the
    network ``repeatable(network)`` dedups a repeat, else failed; and how many failed."""
    stale = session.execute(
        select(Message.id, Channel.network)
        .join(Channel, Channel.id == Message.channel_id)
        .where(Message.delivery == "sending", Message.delivery_lease_until < now)
    ).all()
    again: list[int] = []
    failed: list[int] = []
    for row in stale:
        (again if repeatable(row.network) else failed).append(row.id)
    _settle_interrupted(session, again, delivery="queued", delivery_due_at=now)
    _settle_interrupted(session, failed, delivery="failed", delivery_error=INTERRUPTED)
    return again, len(failed)


def _settle_interrupted(session: Session, message_ids: list[int], **values: object) -> None:
    """Move replies still ``sending`` (no worker came back for them) to a new state."""
    if message_ids:
        session.execute(
            update(Message)
            .where(is_in(session, Message.id, message_ids), Message.delivery == "sending")
            .values(delivery_lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
