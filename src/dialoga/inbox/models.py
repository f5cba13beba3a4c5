"""Tables of conversations and the messages in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dialoga.core.db import Base, UTCDateTime


class Conversation(Base):
    """A thread on one channel: a reply tree, a DM thread or an e-mail thread.

    ``identity_id`` is the person the brand talks with; their contact is found through
    it, so linking identities of one person never rewrites conversations. The summary
    columns (counts, first response, what is awaiting a reply) are kept up to date by
    ingest so the queue never re-reads every message.
    """

    __tablename__ = "conversation"
    __table_args__ = (
        UniqueConstraint("channel_id", "thread_key"),
        Index("ix_conversation_queue", "workspace_id", "status", "awaiting_since"),
        Index("ix_conversation_identity", "identity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column()  # the channel's: no key of its own to check
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    thread_key: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(16), default="thread")  # thread, dm, email
    subject: Mapped[str | None] = mapped_column(String(400))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identity.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    awaiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    inbound_count: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    """One message as it arrived or was sent. Unique per (channel, external id).

    Deleting a conversation (or its channel, or workspace) deletes its messages.
    """

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_message_conversation", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Copies of the conversation's workspace and channel, for filtering without a join;
    # ingest writes them with the conversation, so they carry no foreign keys of their own
    # (on PostgreSQL each key costs a lookup per inserted row).
    workspace_id: Mapped[int] = mapped_column()
    channel_id: Mapped[int] = mapped_column()
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(400))
    direction: Mapped[str] = mapped_column(String(8))  # inbound, outbound
    kind: Mapped[str] = mapped_column(String(16))  # channels.base.MessageKind
    author_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity.id", ondelete="SET NULL")
    )
    in_reply_to: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    subject: Mapped[str | None] = mapped_column(String(400))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    url: Mapped[str | None] = mapped_column(Text)


class ThreadAlias(Base):
    """An id a conversation's messages name but that is not stored (yet): a placeholder.

    E-mail ``References`` may name messages the mailbox never had. When one of them
    arrives later, naming only its own parent, its placeholder tells which conversation it
    belongs to.
    """

    __tablename__ = "thread_alias"
    __table_args__ = (UniqueConstraint("channel_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(400))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), index=True
    )
