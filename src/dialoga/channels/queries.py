"""Reads of channels: a workspace's channels, one by id or name, the activity counter,
and the live channels' health."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialoga.channels.models import Channel, ChannelSync
from dialoga.core.errors import NotFoundError
from dialoga.inbox.models import Message


def workspace_activity(session: Session, workspace_id: int) -> int:
    """A number that grows with every write to the workspace's conversations."""
    total = session.scalar(
        select(func.coalesce(func.sum(Channel.activity), 0)).where(
            Channel.workspace_id == workspace_id
        )
    )
    return int(total or 0)


def workspace_channels(session: Session, workspace_id: int) -> list[Channel]:
    """The workspace's channels, by name."""
    return list(
        session.scalars(
            select(Channel).where(Channel.workspace_id == workspace_id).order_by(Channel.name)
        )
    )


def channel_of_workspace(session: Session, workspace_id: int, channel_id: int) -> Channel:
    """One of the workspace's channels; another workspace's channel does not exist for it."""
    channel = session.scalar(
        select(Channel).where(Channel.id == channel_id, Channel.workspace_id == workspace_id)
    )
    if channel is None:
        raise NotFoundError("no such channel")
    return channel


def channel_by_name(session: Session, workspace_id: int, name: str) -> Channel:
    channel = session.scalar(
        select(Channel).where(Channel.name == name, Channel.workspace_id == workspace_id)
    )
    if channel is None:
        raise NotFoundError(f"no channel named {name!r} in this workspace")
    return channel


@dataclass(frozen=True, slots=True)
class LiveChannel:
    """A channel connected live, as its page shows it: health, schedule, the last error,
    and how many of its replies wait (queued) or failed."""

    channel: Channel
    sync: ChannelSync
    replies_waiting: int
    replies_failed: int

    @property
    def state(self) -> str:
        """``paused``, or the health: ``ok``, ``degraded``, ``needs_reauth``."""
        return self.sync.health if self.sync.enabled else "paused"


def live_channels(session: Session, workspace_id: int) -> list[LiveChannel]:
    """The workspace's live channels by name, with their reply counts (one grouped query)."""
    rows = session.execute(
        select(Channel, ChannelSync)
        .join(ChannelSync, ChannelSync.channel_id == Channel.id)
        .where(Channel.workspace_id == workspace_id)
        .order_by(Channel.name)
    ).all()
    counts = session.execute(
        select(Message.channel_id, Message.delivery, func.count())
        .where(Message.workspace_id == workspace_id, Message.delivery.in_(("queued", "failed")))
        .group_by(Message.channel_id, Message.delivery)
    ).all()
    waiting = {(channel, state): count for channel, state, count in counts}
    return [
        LiveChannel(
            channel,
            sync,
            waiting.get((channel.id, "queued"), 0),
            waiting.get((channel.id, "failed"), 0),
        )
        for channel, sync in rows
    ]
