"""Reads of channels: a workspace's activity counter, for the pages that refresh live."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialoga.channels.models import Channel


def workspace_activity(session: Session, workspace_id: int) -> int:
    """A number that grows with every write to the workspace's conversations."""
    total = session.scalar(
        select(func.coalesce(func.sum(Channel.activity), 0)).where(
            Channel.workspace_id == workspace_id
        )
    )
    return int(total or 0)
