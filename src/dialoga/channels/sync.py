"""Polling a live channel: one worker at a time, every page stored with its cursor, and a
health state that says when the network or the credentials need a person.

A poll claims the channel's lease in a short transaction, asks the connector for pages
(no transaction is open while the network is called), and stores each page's messages,
profiles and new cursor in one transaction that first checks the lease is still held.
A worker killed at any point leaves either the previous cursor or the new one with its
messages: the next poll (after the lease expires) reads again from there, and ingest
skips what is already stored. Failures back off exponentially (or as long as the network
asked); refused credentials stop polling until they are set again.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.audience.actions import do_store_profiles
from dialoga.channels.base import AuthExpiredError, Connector, Poll
from dialoga.channels.connectors import connector_for
from dialoga.channels.context import ConnectorContext
from dialoga.channels.credentials import credentials_of, do_store_renewed_credentials
from dialoga.channels.models import Channel, ChannelSync
from dialoga.core.clock import utcnow
from dialoga.core.db import chunked, rows_changed, transaction
from dialoga.core.errors import DialogaError, NotFoundError
from dialoga.core.fetch import FetchPolicy
from dialoga.core.vault import Vault
from dialoga.inbox.actions import ingest

logger = logging.getLogger(__name__)

HEALTH_STATES = ("ok", "degraded", "needs_reauth")
MIN_INTERVAL_SECONDS = 5
MAX_BACKOFF = timedelta(hours=1)
PAGES_PER_RUN = 20


class ConfigurationError(DialogaError):
    """The channel cannot be polled as configured (no connector for its network)."""


class LeaseLostError(DialogaError):
    """The poll's lease expired and another worker took the channel over."""


@dataclass
class Live:
    """What polling and sending need from the process: sessions, the vault, the fetch
    policy, a clock, how to build a connector, and how long a lease lasts."""

    sessions: sessionmaker[Session]
    vault: Vault
    fetch_policy: FetchPolicy = field(default_factory=FetchPolicy)
    clock: Callable[[], datetime] = utcnow
    build: Callable[[str, ConnectorContext], Connector | None] = connector_for
    lease: timedelta = timedelta(minutes=5)

    def connector(self, session: Session, channel: Channel) -> Connector | None:
        """The channel's connector with its credentials, or None for a network without one."""
        return self.build(channel.network, self.context(session, channel))

    def context(self, session: Session, channel: Channel) -> ConnectorContext:
        """What the channel's connector is built from, its credentials opened."""
        secret = credentials_of(session, channel, self.vault)
        return ConnectorContext(
            config=channel.config or {},
            credentials=dict(secret.fields) if secret else {},
            fetch_policy=self.fetch_policy,
            handle=channel.handle,
            clock=self.clock,
        )


@dataclass
class PollOutcome:
    """What one run of ``poll_channel`` did."""

    claimed: bool
    pages: int = 0
    messages: int = 0
    profiles: int = 0
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    next_poll_at: datetime | None = None


# --- schedule --------------------------------------------------------------------------


def check_interval(seconds: int) -> None:
    """Refuse a poll interval shorter than five seconds."""
    if seconds < MIN_INTERVAL_SECONDS:
        raise DialogaError(f"poll at most every {MIN_INTERVAL_SECONDS} seconds, not {seconds}")


def do_connect_live(
    session: Session,
    channel: Channel,
    interval_seconds: int,
    now: datetime,
    config: dict[str, Any] | None = None,
) -> ChannelSync:
    """Start (or restart) polling ``channel`` every ``interval_seconds``, from now, with
    ``config`` (instance URL, feeds, mailbox) when given."""
    if config is not None:
        channel.config = dict(config)
    sync = session.get(ChannelSync, channel.id)
    if sync is None:
        sync = ChannelSync(channel_id=channel.id, workspace_id=channel.workspace_id, cursor={})
        session.add(sync)
    sync.enabled = True
    sync.interval_seconds = interval_seconds
    sync.health, sync.failures, sync.last_error = "ok", 0, None
    sync.next_poll_at = now
    session.flush()
    return sync


def check_live(session: Session, channel: Channel) -> ChannelSync:
    """The channel's live state; ``NotFoundError`` for a channel that is not connected."""
    sync = session.get(ChannelSync, channel.id)
    if sync is None:
        raise NotFoundError(f"channel {channel.name!r} is not connected live")
    return sync


def do_poll_soon(session: Session, channel_id: int, now: datetime) -> None:
    """Make the channel's next poll due now (a person asked for it)."""
    session.execute(
        update(ChannelSync).where(ChannelSync.channel_id == channel_id).values(next_poll_at=now)
    )


def do_pause_live(session: Session, channel_id: int) -> None:
    """Stop polling the channel (its cursor is kept for when it starts again)."""
    session.execute(
        update(ChannelSync).where(ChannelSync.channel_id == channel_id).values(enabled=False)
    )


def do_resume_live(session: Session, channel_id: int, now: datetime) -> None:
    """Poll a paused channel again, from its kept cursor, starting now."""
    session.execute(
        update(ChannelSync)
        .where(ChannelSync.channel_id == channel_id)
        .values(enabled=True, next_poll_at=now)
    )


def due_channels(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Channels whose poll is due and that no live worker holds."""
    return list(
        session.scalars(
            select(ChannelSync.channel_id)
            .where(*_pollable(now))
            .order_by(ChannelSync.next_poll_at)
            .limit(limit)
        )
    )


def _pollable(now: datetime) -> tuple[Any, ...]:
    return (
        ChannelSync.enabled.is_(True),
        ChannelSync.health != "needs_reauth",
        ChannelSync.next_poll_at <= now,
        or_(ChannelSync.lease_until.is_(None), ChannelSync.lease_until < now),
    )


# --- one poll --------------------------------------------------------------------------


def poll_channel(live: Live, channel_id: int) -> PollOutcome:
    """Poll one channel if it is due and free: up to ``PAGES_PER_RUN`` pages, then record
    its health and when to poll next. Never raises for a network's failure."""
    token = secrets.token_hex(16)
    claimed = _claim(live, channel_id, token)
    if claimed is None:
        return PollOutcome(claimed=False)
    outcome = PollOutcome(claimed=True)
    try:
        connector = live.build(claimed.network, claimed.context)
        if connector is None:
            raise ConfigurationError(f"no live connector for the network {claimed.network!r}")
        more = _pull_pages(live, channel_id, token, connector, claimed.cursor, outcome)
    except LeaseLostError:
        outcome.error = "the lease expired; another worker polls the channel now"
        return outcome
    except DialogaError as error:  # every connector, configuration and fetch error is one
        outcome.error = str(error)
        outcome.next_poll_at = _record_failure(live, channel_id, token, error)
        return outcome
    outcome.next_poll_at = _record_success(live, channel_id, token, more, outcome.problems)
    return outcome


@dataclass(frozen=True)
class _Claimed:
    network: str
    context: ConnectorContext
    cursor: dict[str, Any]


def _claim(live: Live, channel_id: int, token: str) -> _Claimed | None:
    """Take the channel's lease if it is due and free: its network, and its connector's
    context with the cursor; None when it is not due or taken."""
    now = live.clock()
    with transaction(live.sessions) as session:
        taken = session.execute(
            update(ChannelSync)
            .where(ChannelSync.channel_id == channel_id, *_pollable(now))
            .values(lease_until=now + live.lease, lease_token=token, last_polled_at=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(taken) != 1:
            return None
        sync = session.get(ChannelSync, channel_id)
        channel = session.get(Channel, channel_id)
        assert sync is not None and channel is not None
        return _Claimed(channel.network, live.context(session, channel), dict(sync.cursor or {}))


def _pull_pages(
    live: Live,
    channel_id: int,
    token: str,
    connector: Connector,
    cursor: dict[str, Any],
    outcome: PollOutcome,
) -> bool:
    """Poll and store pages until none is waiting; True when pages remain after the run."""
    for _ in range(PAGES_PER_RUN):
        page = connector.poll(cursor)
        if page.messages or page.profiles or page.cursor != cursor or connector.renewed_credentials:
            _store_page(live, channel_id, token, page, connector.renewed_credentials)
        connector.renewed_credentials = None
        outcome.pages += 1
        outcome.messages += len(page.messages)
        outcome.profiles += len(page.profiles)
        outcome.problems += page.problems
        cursor = page.cursor
        if not page.more:
            return False
    return True


def _store_page(
    live: Live, channel_id: int, token: str, page: Poll, renewed: dict[str, Any] | None
) -> None:
    with transaction(live.sessions) as session:
        held = session.execute(
            update(ChannelSync)
            .where(ChannelSync.channel_id == channel_id, ChannelSync.lease_token == token)
            .values(cursor=page.cursor)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(held) != 1:
            raise LeaseLostError("lease lost")
        channel = session.get(Channel, channel_id)
        assert channel is not None
        known: dict[Any, Any] = {}
        for batch in chunked(page.messages, 1000):
            known.update(ingest(session, channel, batch, known).identities)
        if page.profiles:
            now = live.clock()
            do_store_profiles(session, channel.workspace_id, channel_id, page.profiles, now.date())
        if renewed is not None:
            do_store_renewed_credentials(session, channel, renewed, live.vault)


def _record_success(
    live: Live, channel_id: int, token: str, more: bool, problems: list[str]
) -> datetime:
    """The poll ran: the channel is ok, or degraded by the problems it reported (part of
    its source failed), and is polled again after its interval."""
    now = live.clock()
    with transaction(live.sessions) as session:
        sync = session.get(ChannelSync, channel_id)
        assert sync is not None
        upcoming = now if more else now + timedelta(seconds=sync.interval_seconds)
        _release(
            session,
            channel_id,
            token,
            health="degraded" if problems else "ok",
            failures=0,
            last_error="; ".join(problems)[:1000] or None,
            last_ok_at=now,
            next_poll_at=upcoming,
        )
        return upcoming


def _record_failure(live: Live, channel_id: int, token: str, error: DialogaError) -> datetime:
    now = live.clock()
    with transaction(live.sessions) as session:
        sync = session.get(ChannelSync, channel_id)
        assert sync is not None
        failures = sync.failures + 1
        wait = backoff(sync.interval_seconds, failures, getattr(error, "retry_after", None))
        upcoming = now + spread(wait, channel_id, failures)
        _release(
            session,
            channel_id,
            token,
            health="needs_reauth" if isinstance(error, AuthExpiredError) else "degraded",
            failures=failures,
            last_error=str(error)[:1000],
            next_poll_at=upcoming,
        )
    logger.warning("poll of channel %s failed (%s): %s", channel_id, failures, error)
    return upcoming


def _release(session: Session, channel_id: int, token: str, **values: Any) -> None:
    session.execute(
        update(ChannelSync)
        .where(ChannelSync.channel_id == channel_id, ChannelSync.lease_token == token)
        .values(lease_until=None, lease_token=None, **values)
        .execution_options(synchronize_session=False)
    )


def spread(wait: timedelta, channel_id: int, failures: int) -> timedelta:
    """``wait`` lengthened by 0 to 20 %, differently for each channel and failure, so
    channels that failed together (an instance down) do not all retry at the same
    second; never shorter than the wait itself, which may be what the network asked."""
    share = ((channel_id * 2_654_435_761 + failures * 40_503) % 1000) / 1000
    return wait * (1 + 0.2 * share)


def backoff(interval_seconds: int, failures: int, retry_after: float | None) -> timedelta:
    """How long to wait after ``failures`` failures in a row: the interval doubled each
    time, at most an hour, and never less than the network asked for."""
    doubled = timedelta(seconds=interval_seconds * 2 ** min(failures, 20))
    wait = min(doubled, MAX_BACKOFF)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait
