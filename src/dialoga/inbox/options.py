"""What the inbox's forms offer to choose from: channels, assignable members, labels,
saved replies. One small query each, whatever the size of the inbox."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialoga.accounts.access import WRITERS
from dialoga.accounts.models import Member, User
from dialoga.channels.models import Channel
from dialoga.inbox.models import Label, SavedReply


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a select: its value and what it shows."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class SavedReplyView:
    """A saved reply as the reply form offers it."""

    id: int
    title: str
    body: str
    language: str | None


@dataclass(frozen=True, slots=True)
class InboxOptions:
    """Everything the queue's filters and the conversation's forms list."""

    channels: list[Choice]
    assignees: list[Choice]
    labels: list[Choice]


def inbox_options(session: Session, workspace_id: int) -> InboxOptions:
    """The workspace's channels, the members who can be assigned, and its labels."""
    channels = session.execute(
        select(Channel.id, Channel.name)
        .where(Channel.workspace_id == workspace_id)
        .order_by(Channel.name)
    )
    assignees = session.execute(
        select(User.id, User.display_name)
        .join(Member, Member.user_id == User.id)
        .where(Member.workspace_id == workspace_id, Member.role.in_(WRITERS))
        .order_by(User.display_name)
    )
    labels = session.execute(
        select(Label.id, Label.name).where(Label.workspace_id == workspace_id).order_by(Label.name)
    )
    return InboxOptions(
        [Choice(*row) for row in channels],
        [Choice(*row) for row in assignees],
        [Choice(*row) for row in labels],
    )


def saved_replies(session: Session, workspace_id: int) -> list[SavedReplyView]:
    """The workspace's saved replies, by title."""
    rows = session.execute(
        select(SavedReply.id, SavedReply.title, SavedReply.body, SavedReply.language)
        .where(SavedReply.workspace_id == workspace_id)
        .order_by(SavedReply.title)
    )
    return [SavedReplyView(*row) for row in rows]
