"""Export of conversations as JSON lines: one conversation per line with its messages.

Reads in pages of conversations and fetches each page's messages in one query, so
memory and the number of queries stay proportional to the page, not the workspace.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from dialoga.accounts.queries import workspace_by_slug
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact, Identity
from dialoga.inbox.models import Conversation, Message

PAGE_SIZE = 500


def write_conversations_jsonl(session: Session, workspace_slug: str, out: TextIO) -> int:
    """Write every conversation of the workspace to ``out``; returns how many."""
    workspace = workspace_by_slug(session, workspace_slug)
    count = 0
    for record in conversation_records(session, workspace.id):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def conversation_records(session: Session, workspace_id: int) -> Iterator[dict[str, Any]]:
    """Conversations in id order, as plain dictionaries ready for JSON."""
    after = 0
    while True:
        page = _conversation_page(session, workspace_id, after)
        if not page:
            return
        messages = _messages_of(session, [row.id for row in page])
        for row in page:
            yield {
                "id": row.id,
                "channel": row.channel,
                "network": row.network,
                "kind": row.kind,
                "status": row.status,
                "subject": row.subject,
                "contact": row.contact,
                "started_at": _iso(row.started_at),
                "first_response_seconds": row.first_response_seconds,
                "awaiting_reply_since": _iso(row.awaiting_since),
                "messages": messages.get(row.id, []),
            }
        after = page[-1].id


def _conversation_page(session: Session, workspace_id: int, after: int) -> list[Any]:
    person = aliased(Identity)
    statement = (
        select(
            Conversation.id,
            Conversation.kind,
            Conversation.status,
            Conversation.subject,
            Conversation.started_at,
            Conversation.first_response_seconds,
            Conversation.awaiting_since,
            Channel.name.label("channel"),
            Channel.network.label("network"),
            Contact.display_name.label("contact"),
        )
        .join(Channel, Channel.id == Conversation.channel_id)
        .outerjoin(person, person.id == Conversation.identity_id)
        .outerjoin(Contact, Contact.id == person.contact_id)
        .where(Conversation.workspace_id == workspace_id)
        .where(Conversation.id > after)
        .order_by(Conversation.id)
        .limit(PAGE_SIZE)
    )
    return list(session.execute(statement))


def _messages_of(session: Session, conversation_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    statement = (
        select(
            Message.conversation_id,
            Message.id,
            Message.external_id,
            Message.direction,
            Message.created_at,
            Message.text,
            Identity.handle,
            Identity.external_id.label("author_id"),
        )
        .outerjoin(Identity, Identity.id == Message.author_identity_id)
        .where(Message.conversation_id.in_(conversation_ids))
        .order_by(Message.conversation_id, Message.created_at, Message.id)
    )
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in session.execute(statement):
        grouped[row.conversation_id].append(
            {
                "id": row.id,
                "external_id": row.external_id,
                "direction": row.direction,
                "author": row.handle or row.author_id,
                "created_at": _iso(row.created_at),
                "text": row.text,
            }
        )
    return grouped


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
