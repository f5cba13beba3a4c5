"""Reads of channels: a workspace's channels, one by id or name, and the activity counter."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialoga.channels.models import Channel
from dialoga.core.errors import NotFoundError


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
