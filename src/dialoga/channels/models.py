"""Tables of connected channels and of the file imports run into them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dialoga.core.clock import utcnow
from dialoga.core.db import Base, UTCDateTime


class Channel(Base):
    """One account of the brand on one network (or one mailbox, feed, import source)."""

    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str | None] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counts the writes to its conversations (an ingest batch, a reply, an assignment):
    # open pages poll the sum over a workspace's channels to know when to refresh.
    activity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ImportRun(Base):
    """One run of ``dialoga import``: what it read and what became of it."""

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="running")
    imported: Mapped[int] = mapped_column(Integer, default=0)
    already_present: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    profiles: Mapped[int] = mapped_column(Integer, default=0)
    rejects_path: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChannelCredential(Base):
    """A channel's credentials (tokens, app passwords), sealed by ``core.vault``: the
    database never holds them in clear."""

    __tablename__ = "channel_credential"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    sealed: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """A webhook delivery accepted for a channel: its id, kept so it is accepted once."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("channel_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelSync(Base):
    """A channel connected live: its poll schedule, cursor, lease and health.

    ``cursor`` is the connector's bookmark, stored with the messages it led to. A poll
    holds the lease (``lease_token`` until ``lease_until``) so one worker at a time polls
    a channel; a worker killed mid-poll loses its lease when it expires. ``health`` is
    ``ok``, ``degraded`` (the last poll failed; retried with backoff) or
    ``needs_reauth`` (credentials refused: nothing is polled until they are set again).
    """

    __tablename__ = "channel_sync"
    __table_args__ = (Index("ix_channel_sync_due", "next_poll_at"),)

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=60)
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    health: Mapped[str] = mapped_column(String(16), default="ok")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
