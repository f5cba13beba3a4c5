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
    """Keep each profile's snapshot of the day it was seen; a second one that day is ignored.

    The day is the source's capture date when it gives one, else ``seen_on``.
    """
    rows = []
    for profile in profiles:
        row = asdict(profile)
        captured = row.pop("seen_at")
        row.update(
            workspace_id=workspace_id,
            channel_id=channel_id,
            seen_on=captured.date() if captured else seen_on,
        )
        rows.append(row)
    insert_ignoring_conflicts(
        session, FollowerProfile, rows, ["channel_id", "relation", "external_id", "seen_on"]
    )
