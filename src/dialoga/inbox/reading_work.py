"""An agent corrects what a message was read as: its sentiment, intent or language.

One click in the conversation view (or one API call) runs ``do_correct_reading``: the
message's column changes; when it is the conversation's latest inbound message, the
conversation's column too, with its priority and queue rank worked out again from the
corrected reading (``inbox.priority``; routing rules are not applied again); the
correction is kept for retraining (``understand.actions.do_record_correction``); open
pages refresh. Only inbound messages were read, so only they can be corrected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from dialoga.channels.models import Channel
from dialoga.contacts.models import Identity
from dialoga.core.db import lock_for_writing
from dialoga.core.errors import NotFoundError, ValidationError
from dialoga.inbox.actions import CHANNEL_LOCK
from dialoga.inbox.enrichment import contact_histories
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.priority import ContactHistory, priority_of, rank_at
from dialoga.understand.actions import check_correction, do_record_correction


def correctable_message(
    session: Session, workspace_id: int, message_id: int, conversation_id: int | None = None
) -> Any:
    """The workspace's inbound message (of ``conversation_id`` when given) with what
    correcting it needs; another workspace's, or another conversation's, is
    ``NotFoundError``; an outbound one a ``ValidationError``."""
    latest = aliased(Message)
    latest_inbound = (
        select(latest.id)
        .where(latest.conversation_id == Message.conversation_id, latest.direction == "inbound")
        .order_by(latest.created_at.desc(), latest.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = session.execute(
        select(
            Message.id,
            Message.conversation_id,
            Message.channel_id,
            Message.direction,
            Message.text,
            Message.language,
            Message.sentiment,
            Message.intent,
            Message.spam,
            (latest_inbound == Message.id).label("is_latest"),
        ).where(Message.id == message_id, Message.workspace_id == workspace_id)
    ).one_or_none()
    if row is None or conversation_id not in (None, row.conversation_id):
        raise NotFoundError(f"message {message_id} does not exist", code="message_not_found")
    if row.direction != "inbound":
        raise ValidationError(
            "only a message that arrived can be corrected", code="correction_outbound"
        )
    return row


def do_correct_reading(
    session: Session,
    workspace_id: int,
    message_id: int,
    field: str,
    value: str,
    *,
    user_id: int | None,
    now: datetime,
    conversation_id: int | None = None,
) -> None:
    """Correct ``field`` of a message to ``value`` (checked here: see the module); with
    ``conversation_id``, a message of another conversation is not found."""
    check_correction(field, value)
    message = correctable_message(session, workspace_id, message_id, conversation_id)
    lock_for_writing(session, CHANNEL_LOCK, message.channel_id)
    session.execute(update(Message).where(Message.id == message.id).values({field: value}))
    if message.is_latest:
        reading = {"sentiment": message.sentiment, "intent": message.intent, field: value}
        _describe_again(session, message.conversation_id, field, value, reading, message.spam)
    do_record_correction(
        session,
        workspace_id,
        message.id,
        field,
        value,
        previous=getattr(message, field),
        text=message.text,
        language=value if field == "language" else message.language,
        user_id=user_id,
        now=now,
    )
    session.execute(
        update(Channel)
        .where(Channel.id == message.channel_id)
        .values(activity=Channel.activity + 1)
        .execution_options(synchronize_session=False)
    )


def _describe_again(
    session: Session,
    conversation_id: int,
    field: str,
    value: str,
    reading: dict[str, Any],
    spam: float | None,
) -> None:
    """The conversation takes the corrected value, and the priority and rank that follow."""
    conversation = session.execute(
        select(Conversation.due_at, Identity.contact_id)
        .outerjoin(Identity, Identity.id == Conversation.identity_id)
        .where(Conversation.id == conversation_id)
    ).one()
    history = ContactHistory()
    if conversation.contact_id is not None:
        found = contact_histories(session, [conversation.contact_id])
        history = found.get(conversation.contact_id, history)
    priority = priority_of(
        reading["sentiment"],
        reading["intent"],
        spam,
        history=history,
        conversation_id=conversation_id,
    )
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(
            {field: value, "priority": priority, "rank_at": rank_at(conversation.due_at, priority)}
        )
    )
