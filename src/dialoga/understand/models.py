"""Tables of what a workspace chose for reading its messages, and the corrections its
agents made to what was read (the data ``dialoga models retrain`` learns from)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dialoga.core.clock import utcnow
from dialoga.core.db import Base, UTCDateTime


class UnderstandingSetting(Base):
    """A workspace's reading tier (``fast`` or ``deep``) and its languages (``"it,en"``).

    A workspace without a row reads with the defaults (``understand.queries``).
    """

    __tablename__ = "understanding_setting"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    tier: Mapped[str] = mapped_column(String(8), default="fast")
    languages: Mapped[str] = mapped_column(String(64), default="it,en")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReadingCorrection(Base):
    """An agent's correction of one field (sentiment, intent or language) of a message.

    ``value`` is what the agent chose, ``previous`` what was read before; ``text`` and
    ``language`` are copies of the message's, so retraining needs no other table.
    Correcting the same field of the same message again replaces the row.
    """

    __tablename__ = "reading_correction"
    __table_args__ = (UniqueConstraint("message_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(32))
    previous: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkspaceHead(Base):
    """A workspace's adjustment of one shipped head, learned from its agents' corrections.

    ``weights`` holds the adjustment as arrays (``retrain.pack``): only the features the
    corrected messages contain, added to the shipped weights when the workspace reads.
    """

    __tablename__ = "workspace_head"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    head: Mapped[str] = mapped_column(String(32), primary_key=True)
    tier: Mapped[str] = mapped_column(String(8))
    examples: Mapped[int] = mapped_column(Integer)
    weights: Mapped[bytes] = mapped_column(LargeBinary)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
