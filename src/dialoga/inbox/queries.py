"""Reads of conversations and messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dialoga.accounts.models import Workspace
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact
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
    session: Session, entity: Any, *where: ColumnElement[bool]
) -> dict[int, int]:
    statement = (
        select(entity.workspace_id, func.count()).where(*where).group_by(entity.workspace_id)
    )
    return {workspace_id: count for workspace_id, count in session.execute(statement)}


def workspace_overview(session: Session) -> list[WorkspaceOverview]:
    """Every workspace with a few counts, one grouped query per count."""
    channels = _count_by_workspace(session, Channel)
    contacts = _count_by_workspace(session, Contact)
    conversations = _count_by_workspace(session, Conversation)
    messages = _count_by_workspace(session, Message)
    awaiting = _count_by_workspace(
        session,
        Conversation,
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
        for w in session.scalars(select(Workspace).order_by(Workspace.name))
    ]
