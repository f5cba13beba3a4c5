"""Every write to conversations and messages; first of all ``ingest``.

``ingest`` takes a batch of normalized messages from one channel and, in the caller's
transaction: drops those already stored, resolves authors to identities and contacts,
threads each message into its conversation, stores the messages, keeps each
conversation's summary current and appends the reporting events the batch implies.
Every step works on the whole batch, so the number of queries does not grow with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from dialoga.channels.base import NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.contacts.actions import ResolvedIdentity, resolve_identities
from dialoga.core.db import chunked, insert_ignoring_conflicts
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.summary import ConversationSummary
from dialoga.inbox.threading import ThreadForest, referenced_ids
from dialoga.insights.actions import do_record_events
from dialoga.insights.models import ReportingEvent

SUMMARY_COLUMNS = (
    "started_at", "last_message_at", "first_inbound_at", "last_inbound_at", "last_outbound_at",
    "first_response_at", "first_response_seconds", "awaiting_since", "message_count",
    "inbound_count", "identity_id", "subject", "status",
)
CONVERSATION_KIND = {"dm": "dm", "email": "email"}

_conversations = Conversation.__table__
_messages = Message.__table__
_update_summary = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in SUMMARY_COLUMNS})
)


@dataclass(slots=True)
class IngestResult:
    """What one ``ingest`` call did."""

    imported: int = 0
    already_present: int = 0
    conversations_created: int = 0
    events: int = 0
    conversation_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Placed:
    """A new message with everything decided about it."""

    message: NormalizedMessage
    direction: str
    identity: ResolvedIdentity
    conversation_id: int = 0


def ingest(session: Session, channel: Channel, messages: Sequence[NormalizedMessage]) -> IngestResult:
    """Store a batch of messages from ``channel``; a message already stored is skipped."""
    result = IngestResult()
    fresh = _drop_known(session, channel.id, messages)
    result.already_present = len(messages) - len(fresh)
    if not fresh:
        return result
    fresh.sort(key=lambda m: m.created_at)
    identities = resolve_identities(session, channel.workspace_id, (m.author for m in fresh))
    placed = [_place(m, identities[(m.author.network, m.author.external_id)]) for m in fresh]
    forest = _thread_forest(session, channel.id, fresh)
    conversation_of_root, created, replay = _conversations_for(session, channel, forest, placed)
    for item in placed:
        item.conversation_id = conversation_of_root[forest.root(item.message.external_id)]
    _insert_messages(session, channel, placed)
    summaries = _advance_summaries(session, placed, replay)
    _write_summaries(session, summaries)
    result.events = _record_facts(session, channel, placed, summaries)
    result.imported = len(placed)
    result.conversations_created = created
    result.conversation_ids = sorted(summaries)
    return result


def _drop_known(
    session: Session, channel_id: int, messages: Sequence[NormalizedMessage]
) -> list[NormalizedMessage]:
    unique: dict[str, NormalizedMessage] = {}
    for message in messages:
        unique.setdefault(message.external_id, message)
    known: set[str] = set()
    for chunk in chunked(list(unique)):
        known.update(
            session.scalars(
                select(Message.external_id)
                .where(Message.channel_id == channel_id)
                .where(Message.external_id.in_(chunk))
            )
        )
    return [m for external_id, m in unique.items() if external_id not in known]


def _place(message: NormalizedMessage, identity: ResolvedIdentity) -> _Placed:
    direction = message.direction or ("outbound" if identity.is_brand else "inbound")
    return _Placed(message, direction, identity)


def _thread_forest(
    session: Session, channel_id: int, fresh: list[NormalizedMessage]
) -> ThreadForest:
    """The forest of this batch, grafted onto the conversations of parents already stored."""
    forest = ThreadForest()
    own_ids = {m.external_id for m in fresh}
    outside = sorted({ref for m in fresh for ref in referenced_ids(m)} - own_ids)
    for chunk in chunked(outside):
        rows = session.execute(
            select(Message.external_id, Conversation.thread_key)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.channel_id == channel_id)
            .where(Message.external_id.in_(chunk))
        )
        for external_id, thread_key in rows:
            forest.attach(external_id, thread_key)
    for message in fresh:
        forest.add_message(message)
    return forest


def _conversations_for(
    session: Session, channel: Channel, forest: ThreadForest, placed: list[_Placed]
) -> tuple[dict[str, int], int, set[int]]:
    """Map each tree root to a conversation id, creating or merging conversations.

    Returns the mapping, how many conversations were created, and the conversations
    whose summary must be replayed from all their messages (merged ones).
    """
    members: dict[str, set[str]] = defaultdict(set)
    for node in {*forest.nodes(), *(p.message.external_id for p in placed)}:
        members[forest.root(node)].add(node)
    stored = _stored_conversations(session, channel.id, [n for group in members.values() for n in group])
    first_message = {}
    for item in placed:
        first_message.setdefault(forest.root(item.message.external_id), item.message)
    missing = [root for root in first_message if not members[root] & stored.keys()]
    _create_conversations(session, channel, {root: first_message[root] for root in missing})
    stored.update(_stored_conversations(session, channel.id, missing))
    mapping: dict[str, int] = {}
    replay: set[int] = set()
    for root in first_message:
        found = sorted((stored[node] for node in members[root] if node in stored), key=lambda r: r.id)
        target = next((row for row in found if row.thread_key == root), found[0])
        others = [row.id for row in found if row.id != target.id]
        if others or target.thread_key != root:
            _merge_into(session, target.id, others, root)
            replay.add(target.id)
        mapping[root] = target.id
    return mapping, len(missing), replay


def _stored_conversations(session: Session, channel_id: int, keys: list[str]) -> dict[str, Row[Any]]:
    found: dict[str, Row[Any]] = {}
    statement = select(Conversation.id, Conversation.thread_key).where(
        Conversation.channel_id == channel_id
    )
    for chunk in chunked(sorted(set(keys))):
        for row in session.execute(statement.where(Conversation.thread_key.in_(chunk))):
            found[row.thread_key] = row
    return found


def _create_conversations(
    session: Session, channel: Channel, first_message: dict[str, NormalizedMessage]
) -> None:
    rows = [
        {
            "workspace_id": channel.workspace_id,
            "channel_id": channel.id,
            "thread_key": root,
            "kind": CONVERSATION_KIND.get(message.kind, "thread"),
            "status": "open",
            "started_at": message.created_at,
            "last_message_at": message.created_at,
            "message_count": 0,
            "inbound_count": 0,
        }
        for root, message in first_message.items()
    ]
    insert_ignoring_conflicts(session, Conversation, rows, ["channel_id", "thread_key"])


def _merge_into(session: Session, target_id: int, others: list[int], root: str) -> None:
    """Fold conversations that turned out to be one thread into ``target_id`` (rare)."""
    if others:
        session.execute(
            update(Message).where(Message.conversation_id.in_(others)).values(conversation_id=target_id)
        )
        session.execute(
            update(ReportingEvent)
            .where(ReportingEvent.conversation_id.in_(others))
            .values(conversation_id=target_id)
        )
        session.execute(delete(Conversation).where(Conversation.id.in_(others)))
    session.execute(update(Conversation).where(Conversation.id == target_id).values(thread_key=root))


def _insert_messages(session: Session, channel: Channel, placed: list[_Placed]) -> None:
    rows = [
        {
            "workspace_id": channel.workspace_id,
            "channel_id": channel.id,
            "conversation_id": item.conversation_id,
            "external_id": item.message.external_id,
            "direction": item.direction,
            "kind": item.message.kind,
            "author_identity_id": item.identity.identity_id,
            "in_reply_to": item.message.in_reply_to,
            "created_at": item.message.created_at,
            "subject": item.message.subject,
            "text": item.message.text,
            "language": item.message.language,
            "url": item.message.url,
        }
        for item in placed
    ]
    session.connection().execute(insert(_messages), rows)


def _advance_summaries(
    session: Session, placed: list[_Placed], replay: set[int]
) -> dict[int, ConversationSummary]:
    """Walk each touched conversation's new messages (all of them when out of order)."""
    batch: dict[int, list[int]] = defaultdict(list)
    for index, item in enumerate(placed):
        batch[item.conversation_id].append(index)
    summaries = _load_summaries(session, sorted(batch))
    for conversation_id, indexes in batch.items():
        summary = summaries[conversation_id]
        earliest_new = placed[indexes[0]].message.created_at
        stored_later = summary.last_message_at is not None and summary.message_count and (
            earliest_new < summary.last_message_at
        )
        if conversation_id in replay or stored_later:
            summaries[conversation_id] = _replay(session, conversation_id, summary, placed, indexes)
            continue
        for index in indexes:
            _advance(summary, placed[index], index)
    return summaries


def _advance(summary: ConversationSummary, item: _Placed, index: int | None) -> None:
    summary.advance(
        inbound=item.direction == "inbound",
        created_at=item.message.created_at,
        author_identity_id=None if item.identity.is_brand else item.identity.identity_id,
        subject=item.message.subject,
        message_index=index,
    )


def _load_summaries(session: Session, conversation_ids: list[int]) -> dict[int, ConversationSummary]:
    columns = [getattr(Conversation, name) for name in SUMMARY_COLUMNS]
    found: dict[int, ConversationSummary] = {}
    for chunk in chunked(conversation_ids):
        rows = session.execute(
            select(Conversation.id, *columns).where(Conversation.id.in_(chunk)).with_for_update()
        )
        for row in rows:
            values = dict(zip(SUMMARY_COLUMNS, row[1:], strict=True))
            found[row.id] = ConversationSummary(**values)
    return found


def _replay(
    session: Session,
    conversation_id: int,
    stored: ConversationSummary,
    placed: list[_Placed],
    indexes: list[int],
) -> ConversationSummary:
    """Rebuild a summary from every message, stored and new, in time order."""
    old = session.execute(
        select(Message.direction, Message.created_at, Message.author_identity_id, Message.subject)
        .where(Message.conversation_id == conversation_id)
        .where(Message.external_id.not_in([placed[i].message.external_id for i in indexes]))
    ).all()
    timeline: list[tuple[Any, ...]] = [(row.created_at, 0, row, None) for row in old]
    timeline += [(placed[i].message.created_at, 1, None, i) for i in indexes]
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    summary = ConversationSummary(status=stored.status)
    for _, _, row, index in timeline:
        if index is not None:
            _advance(summary, placed[index], index)
        else:
            summary.advance(
                inbound=row.direction == "inbound",
                created_at=row.created_at,
                author_identity_id=row.author_identity_id if row.direction == "inbound" else None,
                subject=row.subject,
                message_index=None,
            )
    if stored.first_response_at is not None:
        summary.facts = [f for f in summary.facts if f.kind != "first_response"]
    return summary


def _write_summaries(session: Session, summaries: dict[int, ConversationSummary]) -> None:
    rows = [
        {"b_id": conversation_id, **{f"b_{name}": getattr(s, name) for name in SUMMARY_COLUMNS}}
        for conversation_id, s in summaries.items()
    ]
    session.connection().execute(_update_summary, rows)


def _record_facts(
    session: Session,
    channel: Channel,
    placed: list[_Placed],
    summaries: dict[int, ConversationSummary],
) -> int:
    facts = [(conversation_id, f) for conversation_id, s in summaries.items() for f in s.facts]
    if not facts:
        return 0
    message_ids = _message_ids(session, channel.id, [placed[f.message_index] for _, f in facts])
    events = [
        {
            "workspace_id": channel.workspace_id,
            "channel_id": channel.id,
            "conversation_id": conversation_id,
            "message_id": message_ids[placed[fact.message_index].message.external_id],
            "kind": fact.kind,
            "occurred_at": fact.occurred_at,
            "delay_seconds": fact.delay_seconds,
            "detail": {},
        }
        for conversation_id, fact in facts
    ]
    do_record_events(session, events)
    return len(events)


def _message_ids(session: Session, channel_id: int, items: list[_Placed]) -> dict[str, int]:
    external_ids = sorted({item.message.external_id for item in items})
    found: dict[str, int] = {}
    for chunk in chunked(external_ids):
        rows = session.execute(
            select(Message.external_id, Message.id)
            .where(Message.channel_id == channel_id)
            .where(Message.external_id.in_(chunk))
        )
        found.update({external_id: message_id for external_id, message_id in rows})
    return found


