"""Every write to follower profiles."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from sqlalchemy.orm import Session

from dialoga.audience.models import FollowerProfile
from dialoga.channels.base import NormalizedProfile
from dialoga.core.db import insert_ignoring_conflicts


def do_store_profiles(
    session: Session,
    workspace_id: int,
    channel_id: int,
    profiles: list[NormalizedProfile],
    seen_on: date,
) -> None:
    """Keep today's snapshot of each profile; a second snapshot the same day is ignored."""
    rows = [
        {
            **asdict(profile),
            "workspace_id": workspace_id,
            "channel_id": channel_id,
            "seen_on": seen_on,
        }
        for profile in profiles
    ]
    insert_ignoring_conflicts(
        session, FollowerProfile, rows, ["channel_id", "relation", "external_id", "seen_on"]
    )
