"""Ingest's reading step: every new inbound message read once, the batch in one call.

``read_arrivals`` hands the texts of a batch's inbound messages to the workspace's reader
(``understand.readers.workspace_reader``: its tier, its languages, its corrections) in
one call; outbound messages are the brand's own and are not read. Each conversation whose
latest inbound message arrived in the batch takes that message's language, sentiment and
intent, and a priority (``inbox.priority``) that also weighs the person's other
conversations, read in one grouped query per batch; then its queue rank. Once the
conversations are written, ``route_arrivals`` applies the workspace's routing rules
(``inbox.routing``) to the same messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from sqlalchemy import Table, case, func, or_, select
from sqlalchemy.orm import Session

from dialoga.channels.base import NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.contacts.actions import ResolvedIdentity
from dialoga.contacts.models import Identity
from dialoga.core.db import bulk_update, chunked, is_in
from dialoga.inbox.models import Conversation
from dialoga.inbox.priority import ContactHistory, priority_of, rank_at
from dialoga.inbox.routing import RoutedMessage, apply_routing
from dialoga.inbox.summary import ConversationSummary
from dialoga.understand.reading import UNDETERMINED, Reader, Reading

_conversations = cast(Table, Conversation.__table__)


class Arrival(Protocol):
    """A new message of an ingest batch, placed in its conversation; this step sets its
    ``reading`` (inbound only) and the ``language`` to store."""

    message: NormalizedMessage
    direction: str
    identity: ResolvedIdentity
    conversation_id: int
    reading: Reading | None
    language: str | None


def read_arrivals(
    session: Session,
    workspace_id: int,
    arrivals: Sequence[Arrival],
    summaries: Mapping[int, ConversationSummary],
    reader: Reader | None = None,
) -> None:
    """Read the new inbound messages in one call; describe and rank their conversations.

    ``arrivals`` are in time order, so a conversation's latest inbound message in the
    batch is its last; it describes the conversation only if no stored one is later.
    Every conversation of ``summaries`` gets its rank from its due date and priority.
    """
    inbound = [item for item in arrivals if item.direction == "inbound"]
    for item in arrivals:
        item.language = item.message.language
    texts = [item.message.text for item in inbound]
    hints = [item.message.language for item in inbound]
    latest: dict[int, LatestInbound] = {}
    readings = read_inbound(session, workspace_id, texts, hints, reader)
    for item, reading in zip(inbound, readings, strict=True):
        item.reading = reading
        item.language = stored_language(reading, item.message.language)
        if item.message.created_at == summaries[item.conversation_id].last_inbound_at:
            contact_id = item.identity.contact_id
            latest[item.conversation_id] = LatestInbound(reading, item.language, contact_id)
    describe(session, summaries, latest)
    for summary in summaries.values():
        summary.rank_at = rank_at(summary.due_at, summary.priority)


def read_columns(reading: Reading | None) -> tuple[str | None, str | None, float | None]:
    """A message's sentiment, intent and spam columns (none for an outbound message)."""
    if reading is None:
        return (None, None, None)
    return (reading.sentiment, reading.intent, reading.spam)


def route_arrivals(
    session: Session,
    channel: Channel,
    arrivals: Sequence[Arrival],
    summaries: Mapping[int, ConversationSummary],
) -> None:
    """Apply the workspace's routing rules to the new inbound messages, once their
    conversations are written; a rule's priority, when higher than the one read,
    replaces it (one more statement, only then)."""
    routed = [
        RoutedMessage(
            item.conversation_id,
            channel.id,
            item.message.text,
            item.language,
            item.reading.sentiment,
            item.reading.intent,
        )
        for item in arrivals
        if item.reading is not None
    ]
    raised = []
    for conversation_id, outcome in apply_routing(session, channel.workspace_id, routed).items():
        summary = summaries[conversation_id]
        if outcome.priority is not None and outcome.priority > summary.priority:
            summary.priority = outcome.priority
            summary.rank_at = rank_at(summary.due_at, summary.priority)
            raised.append((summary.priority, summary.rank_at, conversation_id))
    bulk_update(session, _conversations, ("priority", "rank_at"), raised)


def read_inbound(
    session: Session,
    workspace_id: int,
    texts: Sequence[str],
    hints: Sequence[str | None],
    reader: Reader | None = None,
) -> list[Reading]:
    """The readings of ``texts`` (``hints``: the languages their sources gave), in one
    call of ``reader``, by default the workspace's."""
    if not texts:
        return []
    chosen = reader if reader is not None else _workspace_reader(session, workspace_id)
    readings = chosen.read(texts, hints)
    if len(readings) != len(texts):
        raise RuntimeError(f"the reader read {len(readings)} of {len(texts)} messages")
    return readings


def _workspace_reader(session: Session, workspace_id: int) -> Reader:
    # Imported when first needed: the models load only in processes that read messages.
    from dialoga.understand.readers import workspace_reader

    return workspace_reader(session, workspace_id)


def stored_language(reading: Reading, hint: str | None) -> str | None:
    """The language to store: the reader's, unless it could not tell (then the source's)."""
    return hint if reading.language == UNDETERMINED else reading.language


@dataclass(frozen=True, slots=True)
class LatestInbound:
    """A conversation's latest inbound message, as read, and its author's contact."""

    reading: Reading
    language: str | None
    contact_id: int | None


def describe(
    session: Session,
    summaries: Mapping[int, ConversationSummary],
    latest: Mapping[int, LatestInbound],
) -> None:
    """Set the language, sentiment, intent and priority of each conversation in ``latest``
    from its latest inbound message and its contact's history (one query per 2,000
    contacts); the others keep theirs."""
    histories = contact_histories(
        session, sorted({i.contact_id for i in latest.values() if i.contact_id is not None})
    )
    for conversation_id, inbound in latest.items():
        summary = summaries[conversation_id]
        reading = inbound.reading
        summary.language = inbound.language
        summary.sentiment = reading.sentiment
        summary.intent = reading.intent
        summary.priority = priority_of(
            reading.sentiment,
            reading.intent,
            reading.spam,
            history=histories.get(inbound.contact_id or 0, ContactHistory()),
            conversation_id=conversation_id,
        )


def contact_histories(session: Session, contact_ids: list[int]) -> dict[int, ContactHistory]:
    """What ``inbox.priority`` needs of each contact's stored conversations: one grouped
    query per 2,000 contacts."""
    unhappy = or_(Conversation.sentiment == "negative", Conversation.intent == "complaint")
    unhappy_id = case((unhappy, Conversation.id))
    found: dict[int, ContactHistory] = {}
    for chunk in chunked(contact_ids):
        rows = session.execute(
            select(
                Identity.contact_id,
                func.min(Conversation.id),
                func.max(Conversation.id),
                func.min(unhappy_id),
                func.max(unhappy_id),
            )
            .join(Identity, Identity.id == Conversation.identity_id)
            .where(is_in(session, Identity.contact_id, chunk))
            .group_by(Identity.contact_id)
        )
        for contact_id, *ids in rows:
            found[contact_id] = ContactHistory(*ids)
    return found
