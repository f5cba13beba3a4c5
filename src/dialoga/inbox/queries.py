"""Reads of conversations and messages for the home page: counts, what waits longest.

The inbox pages read through ``inbox.queue`` (the queue), ``inbox.context`` (one
conversation and the contact's card) and ``inbox.search`` (the search box).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from dialoga.accounts.models import Workspace
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact, Identity
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.queue import last_inbound_text


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
    last_inbound = last_inbound_text()
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
