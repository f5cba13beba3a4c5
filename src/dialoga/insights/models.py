"""The append-only ``reporting_event`` table: facts written when they happen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dialoga.core.clock import utcnow
from dialoga.core.db import Base, UTCDateTime


class ReportingEvent(Base):
    """A fact: a first response, a reply, a resolution. Never updated, never deleted.

    Facts about a message are written in the transaction that stores the message, and a
    message is stored once, so they are written once: no unique index is needed.
    """

    __tablename__ = "reporting_event"
    __table_args__ = (
        Index("ix_reporting_event_workspace_kind", "workspace_id", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    # Facts outlive what they describe: they keep the ids they were written with, and a
    # workspace's facts go with the workspace. No other keys to check on the hot path.
    channel_id: Mapped[int | None] = mapped_column()
    conversation_id: Mapped[int | None] = mapped_column()
    message_id: Mapped[int | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(32))  # first_response, reply, reopened, ...
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delay_seconds: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
