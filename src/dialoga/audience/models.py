"""Follower profiles per channel, dated so growth is known, and the audits of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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


class AuditRun(Base):
    """One audit of a channel's followers: its aggregates, kept to compare audits over time.

    ``summary`` is ``AuditSummary.as_json()``; ``ambassadors`` the ranked real followers
    who interact most, each with their contact id when the inbox knows them.
    """

    __tablename__ = "audit_run"
    __table_args__ = (Index("ix_audit_run_channel_ran", "channel_id", "ran_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)
    inactive_days: Mapped[int] = mapped_column(Integer)
    profiles: Mapped[int] = mapped_column(Integer)
    fake: Mapped[int] = mapped_column(Integer)
    inactive: Mapped[int] = mapped_column(Integer)
    engaged: Mapped[int] = mapped_column(Integer)
    passive: Mapped[int] = mapped_column(Integer)
    unknown: Mapped[int] = mapped_column(Integer)
    quality_score: Mapped[float | None] = mapped_column(Float)
    real_reach: Mapped[int] = mapped_column(BigInteger)
    new_followers: Mapped[int | None] = mapped_column(Integer)
    lost_followers: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    ambassadors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    model_trained_at: Mapped[str] = mapped_column(String(40))


class AuditVerdict(Base):
    """One follower's verdict in one audit; reasons are catalog keys and their values."""

    __tablename__ = "audit_verdict"
    __table_args__ = (
        Index("ix_audit_verdict_run_verdict", "run_id", "verdict"),
        Index("ix_audit_verdict_run_external", "run_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_run.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(320))
    handle: Mapped[str | None] = mapped_column(String(320))
    verdict: Mapped[str] = mapped_column(String(16))
    fake_probability: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[list[list[Any]]] = mapped_column(JSON)
    contact_id: Mapped[int | None] = mapped_column()
    followers_count: Mapped[int | None] = mapped_column(Integer)
