"""What the conversation page reads: the thread with its notes, and beside it the
contact's context card (who the person is on every network, earlier conversations,
notes, sentiment over time). Each is a fixed number of statements, however long the
history: nothing is read per message or per conversation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, func, or_, select
from sqlalchemy.orm import Session

from dialoga.accounts.models import User
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact, Identity
from dialoga.core.errors import NotFoundError
from dialoga.inbox.models import Conversation, Message, Note, SavedReply
from dialoga.inbox.personal import personalisation_warnings
from dialoga.inbox.queue import QueueItem, listed_conversations, queue_items

EARLIER_CONVERSATIONS = 20
CARD_NOTES = 50
SENTIMENTS = ("negative", "neutral", "positive")


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """A message as the conversation view shows it: ``author`` is the network handle,
    ``author_user`` the member who wrote it in Dialoga (with its ``delivery``)."""

    id: int
    external_id: str
    direction: str
    author: str | None
    author_user: str | None
    created_at: datetime
    text: str
    language: str | None
    sentiment: str | None
    intent: str | None
    spam: float | None
    delivery: str | None
    delivery_error: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class NoteView:
    """An internal note, with the name of the member who wrote it."""

    id: int
    conversation_id: int | None
    author: str | None
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationDetail:
    """A conversation with its messages and its notes, both oldest first."""

    item: QueueItem
    messages: list[ThreadMessage]
    notes: list[NoteView]


def conversation_detail(
    session: Session, workspace_id: int, conversation_id: int, *, now: datetime
) -> ConversationDetail:
    """One conversation of this workspace (another workspace's is ``NotFoundError``), in
    four statements however long it is."""
    found = session.execute(
        listed_conversations().where(
            Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
        )
    ).first()
    if found is None:
        raise NotFoundError(f"conversation {conversation_id} does not exist")
    messages = session.execute(
        select(
            Message.id,
            Message.external_id,
            Message.direction,
            func.coalesce(Identity.handle, Identity.external_id).label("author"),
            User.display_name.label("author_user"),
            Message.created_at,
            Message.text,
            Message.language,
            Message.sentiment,
            Message.intent,
            Message.spam,
            Message.delivery,
            Message.delivery_error,
            Message.url,
        )
        .outerjoin(Identity, Identity.id == Message.author_identity_id)
        .outerjoin(User, User.id == Message.author_user_id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at, Message.id)
    )
    return ConversationDetail(
        queue_items(session, [found], now)[0],
        [ThreadMessage(**row._mapping) for row in messages],
        _notes(session, workspace_id, Note.conversation_id == conversation_id),
    )


def _notes(
    session: Session,
    workspace_id: int,
    which: ColumnElement[bool],
    *,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[NoteView]:
    """The workspace's notes that satisfy ``which``, in one statement."""
    order = (Note.created_at.desc(), Note.id.desc()) if newest_first else (Note.created_at, Note.id)
    rows = session.execute(
        select(
            Note.id,
            Note.conversation_id,
            User.display_name.label("author"),
            Note.body,
            Note.created_at,
        )
        .outerjoin(User, User.id == Note.author_id)
        .where(Note.workspace_id == workspace_id, which)
        .order_by(*order)
        .limit(limit)
    )
    return [NoteView(**row._mapping) for row in rows]


# --- the contact's card --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactIdentity:
    """The person's handle on one network."""

    network: str
    handle: str | None
    display_name: str | None


@dataclass(frozen=True, slots=True)
class EarlierConversation:
    """Another conversation with the same person, on any channel."""

    id: int
    channel: str
    subject: str | None
    status: str
    last_message_at: datetime
    message_count: int
    resolution_reason: str | None


@dataclass(frozen=True, slots=True)
class SentimentMonth:
    """How the person's messages of one calendar month (UTC, ``YYYY-MM``) felt."""

    month: str
    negative: int
    neutral: int
    positive: int


@dataclass(frozen=True, slots=True)
class ContactCard:
    """Who the person is, beside the conversation with them.

    ``notes`` are about the person or on their other conversations, newest first;
    ``sentiment`` is empty until messages have one; ``first_seen``, ``last_seen`` and
    ``message_count`` count the messages they wrote in their conversations.
    """

    id: int
    display_name: str
    email: str | None
    stage: str
    identities: list[ContactIdentity]
    conversations: list[EarlierConversation]
    notes: list[NoteView]
    sentiment: list[SentimentMonth]
    first_seen: datetime | None
    last_seen: datetime | None
    message_count: int


def contact_card(
    session: Session,
    workspace_id: int,
    contact_id: int,
    *,
    exclude_conversation_id: int | None = None,
) -> ContactCard:
    """The card of a contact of this workspace (another's is ``NotFoundError``), leaving
    out the conversation it is shown beside; five statements."""
    found = session.execute(
        select(Contact.display_name, Contact.email, Contact.stage).where(
            Contact.id == contact_id, Contact.workspace_id == workspace_id
        )
    ).first()
    if found is None:
        raise NotFoundError(f"contact {contact_id} does not exist")
    identities = select(Identity.id).where(
        Identity.contact_id == contact_id, Identity.workspace_id == workspace_id
    )
    others = select(Conversation.id).where(
        Conversation.workspace_id == workspace_id, Conversation.identity_id.in_(identities)
    )
    if exclude_conversation_id is not None:
        others = others.where(Conversation.id != exclude_conversation_id)
    about = or_(Note.contact_id == contact_id, Note.conversation_id.in_(others))
    activity = _Activity.of(session, workspace_id, identities)
    return ContactCard(
        contact_id,
        *found,
        identities=_identities(session, workspace_id, contact_id),
        conversations=_earlier_conversations(session, others),
        notes=_notes(session, workspace_id, about, newest_first=True, limit=CARD_NOTES),
        sentiment=activity.months,
        first_seen=activity.first_seen,
        last_seen=activity.last_seen,
        message_count=activity.count,
    )


def _identities(session: Session, workspace_id: int, contact_id: int) -> list[ContactIdentity]:
    rows = session.execute(
        select(Identity.network, Identity.handle, Identity.display_name)
        .where(Identity.contact_id == contact_id, Identity.workspace_id == workspace_id)
        .order_by(Identity.network, Identity.handle, Identity.id)
    )
    return [ContactIdentity(*row) for row in rows]


def _earlier_conversations(session: Session, others: Any) -> list[EarlierConversation]:
    rows = session.execute(
        select(
            Conversation.id,
            Channel.name,
            Conversation.subject,
            Conversation.status,
            Conversation.last_message_at,
            Conversation.message_count,
            Conversation.resolution_reason,
        )
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(Conversation.id.in_(others))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(EARLIER_CONVERSATIONS)
    )
    return [EarlierConversation(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class _Activity:
    """The messages a person wrote in their conversations, counted by month and feeling."""

    months: list[SentimentMonth]
    first_seen: datetime | None
    last_seen: datetime | None
    count: int

    @classmethod
    def of(cls, session: Session, workspace_id: int, identities: Any) -> _Activity:
        """One grouped statement; it reaches the messages through the conversations of
        the person's identities (``ix_message_conversation``)."""
        month = _month(session)
        theirs = select(Conversation.id).where(
            Conversation.workspace_id == workspace_id, Conversation.identity_id.in_(identities)
        )
        rows = session.execute(
            select(
                month,
                Message.sentiment,
                func.count(),
                func.min(Message.created_at),
                func.max(Message.created_at),
            )
            .where(Message.conversation_id.in_(theirs))
            .where(Message.author_identity_id.in_(identities))
            .group_by(month, Message.sentiment)
        ).all()
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        for name, sentiment, count, _, _ in rows:
            if sentiment in SENTIMENTS:
                counts[name][sentiment] = count
        months = [
            SentimentMonth(name, *(counts[name].get(s, 0) for s in SENTIMENTS))
            for name in sorted(counts)
        ]
        return cls(
            months,
            min((row[3] for row in rows), default=None),
            max((row[4] for row in rows), default=None),
            sum(row[2] for row in rows),
        )


def _month(session: Session) -> ColumnElement[str]:
    """``YYYY-MM`` of a message's UTC time (SQLite keeps UTC times as ISO text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Message.created_at), "YYYY-MM")
    return func.substr(Message.created_at, 1, 7, type_=String)


# --- is a reply personal? --------------------------------------------------------------


def reply_warnings(
    session: Session, workspace_id: int, conversation_id: int, text: str
) -> list[str]:
    """Why ``text`` would not be a personal reply in this conversation (``inbox.personal``):
    compared with the workspace's saved replies and the person's names on every network.
    Three statements; another workspace's conversation is ``NotFoundError``."""
    found = session.execute(
        select(Conversation.identity_id, Identity.contact_id)
        .outerjoin(Identity, Identity.id == Conversation.identity_id)
        .where(Conversation.id == conversation_id, Conversation.workspace_id == workspace_id)
    ).first()
    if found is None:
        raise NotFoundError(f"conversation {conversation_id} does not exist")
    identity_id, contact_id = found
    same_person = (
        Identity.contact_id == contact_id if contact_id is not None else Identity.id == identity_id
    )
    names: list[str | None] = []
    for row in session.execute(
        select(Identity.handle, Identity.display_name, Contact.display_name)
        .outerjoin(Contact, Contact.id == Identity.contact_id)
        .where(Identity.workspace_id == workspace_id, same_person)
    ):
        names += row
    bodies = session.scalars(select(SavedReply.body).where(SavedReply.workspace_id == workspace_id))
    return personalisation_warnings(text, saved_bodies=list(bodies), person_names=names)
