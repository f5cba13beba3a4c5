"""Snapshots of follower (and following) profiles per channel, dated so growth is known."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dialoga.core.db import Base, UTCDateTime


class FollowerProfile(Base):
    """What a follower's profile looked like on the day it was seen.

    Counts are ``None`` when the source did not say (an X archive lists ids only).
    """

    __tablename__ = "follower_profile"
    __table_args__ = (UniqueConstraint("channel_id", "relation", "external_id", "seen_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(320))
    relation: Mapped[str] = mapped_column(String(16), default="follower")
    seen_on: Mapped[date] = mapped_column(Date)
    handle: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    bio: Mapped[str | None] = mapped_column(Text)
    followers_count: Mapped[int | None] = mapped_column(Integer)
    following_count: Mapped[int | None] = mapped_column(Integer)
    posts_count: Mapped[int | None] = mapped_column(Integer)
    account_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    default_avatar: Mapped[bool | None] = mapped_column(Boolean)
    default_banner: Mapped[bool | None] = mapped_column(Boolean)
    profile_url: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    verified: Mapped[bool | None] = mapped_column(Boolean)
    declared_bot: Mapped[bool | None] = mapped_column(Boolean)
