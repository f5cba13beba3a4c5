"""Reads of conversations and messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from dialoga.accounts.models import Workspace
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact, Identity
from dialoga.core.errors import NotFoundError
from dialoga.inbox.models import Conversation, Message


@dataclass(frozen=True, slots=True)
class WorkspaceOverview:
    """Counts shown on the home page for one workspace."""

    slug: str
    name: str
    channels: int
    contacts: int
    conversations: int
    messages: int
    awaiting: int


def _count_by_workspace(
    session: Session, entity: Any, workspace_ids: list[int], *where: ColumnElement[bool]
) -> dict[int, int]:
    statement = (
        select(entity.workspace_id, func.count())
        .where(entity.workspace_id.in_(workspace_ids), *where)
        .group_by(entity.workspace_id)
    )
    return {workspace_id: count for workspace_id, count in session.execute(statement)}


def workspace_overview(session: Session, workspace_ids: list[int]) -> list[WorkspaceOverview]:
    """The given workspaces with a few counts, one grouped query per count."""
    channels = _count_by_workspace(session, Channel, workspace_ids)
    contacts = _count_by_workspace(session, Contact, workspace_ids)
    conversations = _count_by_workspace(session, Conversation, workspace_ids)
    messages = _count_by_workspace(session, Message, workspace_ids)
    awaiting = _count_by_workspace(
        session,
        Conversation,
        workspace_ids,
        Conversation.awaiting_since.is_not(None),
        Conversation.status == "open",
    )
    return [
        WorkspaceOverview(
            w.slug,
            w.name,
            channels.get(w.id, 0),
            contacts.get(w.id, 0),
            conversations.get(w.id, 0),
            messages.get(w.id, 0),
            awaiting.get(w.id, 0),
        )
        for w in session.scalars(
            select(Workspace).where(Workspace.id.in_(workspace_ids)).order_by(Workspace.name)
        )
    ]


@dataclass(frozen=True, slots=True)
class Overdue:
    """A conversation waiting for the brand's reply, for the home page."""

    workspace: str
    channel: str
    network: str
    contact: str | None
    awaiting_since: datetime
    last_text: str | None


def overdue_conversations(
    session: Session, workspace_ids: list[int], limit: int = 10
) -> list[Overdue]:
    """The open conversations of these workspaces that have waited longest for a reply."""
    person = aliased(Identity)
    last_inbound = _last_inbound_text()
    rows = session.execute(
        select(
            Workspace.name,
            Channel.name,
            Channel.network,
            Contact.display_name,
            Conversation.awaiting_since,
            last_inbound,
        )
        .join(Workspace, Workspace.id == Conversation.workspace_id)
        .join(Channel, Channel.id == Conversation.channel_id)
        .outerjoin(person, person.id == Conversation.identity_id)
        .outerjoin(Contact, Contact.id == person.contact_id)
        .where(Conversation.workspace_id.in_(workspace_ids))
        .where(Conversation.status == "open")
        .where(Conversation.awaiting_since.is_not(None))
        .order_by(Conversation.awaiting_since)
        .limit(limit)
    )
    return [Overdue(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One conversation as the queue lists it."""

    id: int
    channel: str
    network: str
    kind: str
    status: str
    subject: str | None
    contact: str | None
    awaiting_since: datetime | None
    last_message_at: datetime
    message_count: int
    last_inbound_text: str | None


def queue(
    session: Session,
    workspace_id: int,
    *,
    status: str = "open",
    channel_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[QueueItem]:
    """Conversations of one workspace, most overdue first (those awaiting a reply before the
    others, oldest wait first), in one query whatever the page size."""
    overdue_first = (
        Conversation.awaiting_since.is_(None),
        Conversation.awaiting_since,
        Conversation.id,
    )
    statement = (
        _listed_conversations()
        .where(Conversation.workspace_id == workspace_id, Conversation.status == status)
        .order_by(*overdue_first)
        .offset(offset)
        .limit(limit)
    )
    if channel_id is not None:
        statement = statement.where(Conversation.channel_id == channel_id)
    return [QueueItem(*row) for row in session.execute(statement)]


def _listed_conversations(*extra: Any) -> Any:
    """The columns of a ``QueueItem`` (then ``extra``), with the channel and the contact."""
    person = aliased(Identity)
    return (
        select(
            Conversation.id,
            Channel.name,
            Channel.network,
            Conversation.kind,
            Conversation.status,
            Conversation.subject,
            Contact.display_name,
            Conversation.awaiting_since,
            Conversation.last_message_at,
            Conversation.message_count,
            _last_inbound_text(),
            *extra,
        )
        .join(Channel, Channel.id == Conversation.channel_id)
        .outerjoin(person, person.id == Conversation.identity_id)
        .outerjoin(Contact, Contact.id == person.contact_id)
    )


def _last_inbound_text() -> Any:
    return (
        select(Message.text)
        .where(Message.conversation_id == Conversation.id)
        .where(Message.direction == "inbound")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """A message as the conversation view shows it."""

    id: int
    external_id: str
    direction: str
    author: str | None
    created_at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class ConversationDetail:
    """A conversation, its messages in order, and who the person is across networks."""

    item: QueueItem
    messages: list[ThreadMessage]
    contact_identities: list[tuple[str, str | None]]


def conversation_detail(
    session: Session, workspace_id: int, conversation_id: int
) -> ConversationDetail:
    """One conversation of this workspace (another workspace's is ``NotFoundError``)."""
    found = session.execute(
        _listed_conversations(Contact.id).where(
            Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
        )
    ).first()
    if found is None:
        raise NotFoundError(f"conversation {conversation_id} does not exist")
    messages = [
        ThreadMessage(*row)
        for row in session.execute(
            select(
                Message.id,
                Message.external_id,
                Message.direction,
                func.coalesce(Identity.handle, Identity.external_id),
                Message.created_at,
                Message.text,
            )
            .outerjoin(Identity, Identity.id == Message.author_identity_id)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at, Message.id)
        )
    ]
    *columns, contact_id = found
    identities: list[tuple[str, str | None]] = (
        [
            (network, handle)
            for network, handle in session.execute(
                select(Identity.network, func.coalesce(Identity.handle, Identity.external_id))
                .where(Identity.contact_id == contact_id)
                .order_by(Identity.network)
            )
        ]
        if contact_id is not None
        else []
    )
    return ConversationDetail(QueueItem(*columns), messages, identities)
