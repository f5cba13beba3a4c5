"""Tables of conversations and the messages in them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dialoga.core.clock import utcnow
from dialoga.core.db import Base, UTCDateTime


class Conversation(Base):
    """A thread on one channel: a reply tree, a DM thread or an e-mail thread.

    ``identity_id`` is the person the brand talks with; their contact is found through
    it, so linking identities of one person never rewrites conversations. The summary
    columns (counts, first response, what is awaiting a reply) are kept up to date by
    ingest so the queue never re-reads every message. ``due_at`` is when the reply it
    awaits is due under the workspace's SLA policy (none when nothing awaits a reply);
    ``breached_at`` is when that deadline was seen passed and the breach recorded.
    ``language``, ``sentiment`` and ``intent`` describe its latest inbound message;
    ``priority`` (``inbox.priority``: 0 low, 1 normal, 2 high, 3 urgent) comes from them,
    and ``rank_at``, the queue's order, is ``due_at`` moved earlier or later by it.
    """

    __tablename__ = "conversation"
    __table_args__ = (
        UniqueConstraint("channel_id", "thread_key"),
        Index("ix_conversation_queue", "workspace_id", "status", "rank_at", "id"),
        Index("ix_conversation_assignee", "assignee_id"),
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
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_reason: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    sentiment: Mapped[str | None] = mapped_column(String(16))  # understand.reading.SENTIMENTS
    intent: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    rank_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    """One message as it arrived or was sent. Unique per (channel, external id).

    Deleting a conversation (or its channel, or workspace) deletes its messages.
    """

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_message_conversation", "conversation_id", "created_at"),
        Index("ix_message_delivery", "delivery", "delivery_due_at"),
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
    sentiment: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(32))
    spam: Mapped[float | None] = mapped_column(Float)  # probability; outbound: none
    # A reply written in Dialoga: who wrote it, and where its delivery stands
    # (inbox.delivery: queued, sending, sent, failed); imported messages have neither.
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    delivery: Mapped[str | None] = mapped_column(String(16))
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivery_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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


class Note(Base):
    """An internal note by a member, about a conversation or about a contact; never sent."""

    __tablename__ = "note"
    __table_args__ = (
        Index("ix_note_conversation", "conversation_id"),
        Index("ix_note_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE")
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedReply(Base):
    """A reply text kept for reuse, with placeholders such as ``{first_name}``."""

    __tablename__ = "saved_reply"
    __table_args__ = (UniqueConstraint("workspace_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Label(Base):
    """A workspace's tag for conversations (``billing``, ``idea``...)."""

    __tablename__ = "label"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))


class ConversationLabel(Base):
    """A label put on a conversation."""

    __tablename__ = "conversation_label"
    __table_args__ = (Index("ix_conversation_label_label", "label_id", "conversation_id"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), primary_key=True
    )
    label_id: Mapped[int] = mapped_column(
        ForeignKey("label.id", ondelete="CASCADE"), primary_key=True
    )


class SlaPolicy(Base):
    """A workspace's response targets, counted in business hours of its time zone.

    ``business_hours`` maps a weekday (``"0"`` = Monday) to ``[start, end]`` pairs of
    ``"HH:MM"``; an empty mapping means the clock always runs.
    """

    __tablename__ = "sla_policy"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    next_response_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    business_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoutingRule(Base):
    """A workspace's rule: when a message meets its conditions, label, prioritise, assign.

    ``conditions`` maps any of ``intents``, ``sentiments``, ``languages``,
    ``channel_ids`` and ``keywords`` to a list; each list means "any of", and every
    condition given must hold. Rules are evaluated in ``position`` order; ``stop`` ends
    the evaluation when this rule matches. ``set_priority``: 0 low, 1 normal, 2 high,
    3 urgent. Deleting the label or the member clears that action, not the rule.
    """

    __tablename__ = "routing_rule"
    __table_args__ = (Index("ix_routing_rule_workspace", "workspace_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[dict[str, list[Any]]] = mapped_column(JSON, default=dict)
    set_label_id: Mapped[int | None] = mapped_column(ForeignKey("label.id", ondelete="SET NULL"))
    set_priority: Mapped[int | None] = mapped_column(SmallInteger)
    set_assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    stop: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
