"""Conversations for the queue, search and context tests: stored through ingest, then
given the columns the inbox's own actions would set (due date, assignee, status...)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_user
from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, ConversationLabel, Label, Message

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = START + timedelta(days=1)
BRAND = NormalizedAuthor("twitter", "brand", handle="acme_it", is_brand=True)


def channel(sessions: sessionmaker[Session], workspace: Workspace, name: str) -> Channel:
    with transaction(sessions) as session:
        return do_get_or_create_channel(session, workspace.id, name, "twitter", actor="test")


def ask(
    sessions: sessionmaker[Session],
    into: Channel,
    texts: Sequence[str],
    *,
    prefix: str = "q",
    people: Sequence[NormalizedAuthor] | None = None,
) -> list[int]:
    """One question per text, each from its own person (or ``people[i]``): the ids of the
    conversations, in the order of ``texts``."""
    messages = [
        NormalizedMessage(
            f"{into.workspace_id}-{prefix}{i}",
            people[i] if people else NormalizedAuthor("twitter", f"{prefix}{i}", f"user_{i}"),
            START + timedelta(minutes=i),
            text,
        )
        for i, text in enumerate(texts)
    ]
    with transaction(sessions, write_lock=True) as session:
        ingest(session, into, messages)
        found = dict(
            session.execute(
                select(Message.external_id, Message.conversation_id).where(
                    Message.channel_id == into.id
                )
            ).all()
        )
    return [found[m.external_id] for m in messages]


def set_columns(sessions: sessionmaker[Session], ids: Sequence[int], **values: Any) -> None:
    with transaction(sessions) as session:
        session.execute(update(Conversation).where(Conversation.id.in_(ids)).values(**values))


def label(
    sessions: sessionmaker[Session], workspace: Workspace, name: str, ids: Sequence[int]
) -> int:
    with transaction(sessions) as session:
        label_id = session.execute(
            insert(Label).values(workspace_id=workspace.id, name=name).returning(Label.id)
        ).scalar_one()
        for conversation_id in ids:
            session.execute(
                insert(ConversationLabel).values(conversation_id=conversation_id, label_id=label_id)
            )
    return label_id


def user(sessions: sessionmaker[Session], name: str, domain: str = "example.it") -> int:
    with transaction(sessions) as session:
        email = f"{name.lower().replace(' ', '.')}@{domain}"
        return do_create_user(session, email, name, "una-password-lunga", actor="test").id


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements the engine runs inside the block, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
