"""Sending one reply through its channel's connector, with its delivery state kept true.

The reply is claimed (``queued`` → ``sending``) in one transaction, sent with no
transaction open, and its outcome recorded in another. What can go wrong, and what
becomes of the reply:

- the network refuses it for good (``SendRefusedError``): ``failed``, with its reason;
- the credentials are refused: ``failed``, and the channel needs re-authorisation;
- the network is down, slow or rate-limited: ``queued`` again, with backoff;
- the channel has no live connection: left ``queued`` for a person;
- the worker dies: ``inbox.delivery.do_expire_sends`` decides once the lease expires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from dialoga.channels.base import AuthExpiredError, ConnectorError, SendRefusedError, Sent
from dialoga.channels.credentials import do_store_renewed_credentials
from dialoga.channels.models import Channel, ChannelSync
from dialoga.channels.sync import Live, backoff
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError
from dialoga.inbox.delivery import (
    ClaimedReply,
    do_claim_delivery,
    do_leave_queued,
    do_mark_failed,
    do_mark_sent,
)

logger = logging.getLogger(__name__)
RETRY_BASE_SECONDS = 30
NOT_LIVE = "this channel has no live connection: send it on the network yourself"


@dataclass
class SendOutcome:
    """Where the reply stands after one ``send_reply``: sent, queued, failed, or not
    claimed at all (not due, or another worker has it)."""

    state: str
    error: str | None = None
    retry_at: datetime | None = None


def send_reply(live: Live, message_id: int) -> SendOutcome:
    """Send one queued reply if it is due and no one else holds it."""
    with transaction(live.sessions) as session:
        claimed = do_claim_delivery(session, message_id, live.clock(), live.lease)
        if claimed is None:
            return SendOutcome("not_claimed")
        if not _live(session, claimed.channel_id):
            do_leave_queued(session, message_id, NOT_LIVE)
            return SendOutcome("queued", NOT_LIVE)
    try:
        with transaction(live.sessions, write_lock=False) as session:
            channel = session.get(Channel, claimed.channel_id)
            assert channel is not None
            connector = live.connector(session, channel)
        if connector is None:
            raise SendRefusedError(f"no live connector for the network {channel.network!r}")
        sent = connector.send(claimed.reply)
    except DialogaError as error:
        return _record_failure(live, claimed, error)
    return _record_sent(live, claimed, sent, connector.renewed_credentials)


def _live(session: Session, channel_id: int) -> bool:
    sync = session.get(ChannelSync, channel_id)
    return sync is not None and sync.enabled


def _record_sent(
    live: Live, claimed: ClaimedReply, sent: Sent, renewed: dict[str, object] | None
) -> SendOutcome:
    with transaction(live.sessions) as session:
        do_mark_sent(session, claimed.message_id, sent.external_id, sent.url, live.clock())
        if renewed is not None:
            channel = session.get(Channel, claimed.channel_id)
            assert channel is not None
            do_store_renewed_credentials(session, channel, dict(renewed), live.vault)
    return SendOutcome("sent")


def _record_failure(live: Live, claimed: ClaimedReply, error: DialogaError) -> SendOutcome:
    now = live.clock()
    retry_at = _retry_at(claimed.attempt, error, now)
    with transaction(live.sessions) as session:
        state = do_mark_failed(session, claimed.message_id, str(error), retry_at)
        if isinstance(error, AuthExpiredError):
            session.execute(
                update(ChannelSync)
                .where(ChannelSync.channel_id == claimed.channel_id)
                .values(health="needs_reauth", last_error=str(error)[:1000])
            )
    logger.warning("sending message %s failed (%s): %s", claimed.message_id, state, error)
    return SendOutcome(state, str(error), retry_at if state == "queued" else None)


def _retry_at(attempt: int, error: DialogaError, now: datetime) -> datetime | None:
    """When to try again, or None when trying again cannot help."""
    if isinstance(error, SendRefusedError | AuthExpiredError):
        return None
    retry_after = error.retry_after if isinstance(error, ConnectorError) else None
    wait: timedelta = backoff(RETRY_BASE_SECONDS, attempt - 1, retry_after)
    return now + wait
