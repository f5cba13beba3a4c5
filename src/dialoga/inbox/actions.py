"""Every write to conversations and messages; first of all ``ingest``.

``ingest`` takes a batch of normalized messages from one channel and, in the caller's
transaction: drops those already stored, resolves authors to identities and contacts,
threads each message into its conversation, stores the messages, keeps each
conversation's summary current and appends the reporting events the batch implies.
Every step works on the whole batch, so the number of queries does not grow with it.
Writers of one channel are serialised (``lock_for_writing``), so what ingest reads
stays true until it commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from dialoga.channels.base import NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.contacts.actions import IdentityKey, ResolvedIdentity, resolve_identities
from dialoga.core.db import (
    allocate_ids,
    bulk_insert,
    bulk_update,
    chunked,
    insert_ignoring_conflicts,
    is_in,
    lock_for_writing,
)
from dialoga.inbox.enrichment import read_arrivals, read_columns, route_arrivals
from dialoga.inbox.models import Conversation, ConversationLabel, Message, Note, ThreadAlias
from dialoga.inbox.sla import SlaPolicyView
from dialoga.inbox.sla_actions import policy_for
from dialoga.inbox.summary import READ_FIELDS, ConversationSummary
from dialoga.inbox.threading import ThreadForest, referenced_ids
from dialoga.insights.actions import do_record_events
from dialoga.insights.models import ReportingEvent
from dialoga.understand.reading import Reader, Reading

CHANNEL_LOCK = 1
SUMMARY_COLUMNS = (
    "started_at",
    "last_message_at",
    "first_inbound_at",
    "last_inbound_at",
    "last_outbound_at",
    "first_response_at",
    "first_response_seconds",
    "awaiting_since",
    "message_count",
    "inbound_count",
    "identity_id",
    "subject",
    "status",
    "due_at",
    "breached_at",
    "language",
    "sentiment",
    "intent",
    "priority",
    "rank_at",
)
NEW_CONVERSATION_COLUMNS = (
    "id",
    "workspace_id",
    "channel_id",
    "thread_key",
    "kind",
    *SUMMARY_COLUMNS,
)
MESSAGE_COLUMNS = (
    "id",
    "workspace_id",
    "channel_id",
    "conversation_id",
    "external_id",
    "direction",
    "kind",
    "author_identity_id",
    "in_reply_to",
    "created_at",
    "subject",
    "text",
    "language",
    "url",
    "sentiment",
    "intent",
    "spam",
)
CONVERSATION_KIND = {"dm": "dm", "email": "email"}

_summary_values = attrgetter(*SUMMARY_COLUMNS)
_created_at = attrgetter("created_at")
_conversations = cast(Table, Conversation.__table__)
_messages = cast(Table, Message.__table__)
_aliases = cast(Table, ThreadAlias.__table__)


@dataclass(slots=True)
class IngestResult:
    """What one ``ingest`` call did."""

    imported: int = 0
    already_present: int = 0
    conversations_created: int = 0
    events: int = 0
    conversation_ids: list[int] = field(default_factory=list)
    identities: dict[IdentityKey, ResolvedIdentity] = field(default_factory=dict)


@dataclass(slots=True)
class _Placed:
    """A new message with everything decided about it."""

    message: NormalizedMessage
    direction: str
    identity: ResolvedIdentity
    conversation_id: int = 0
    message_id: int = 0
    reading: Reading | None = None  # inbound messages only
    language: str | None = None


@dataclass(slots=True)
class _Plan:
    """Where each thread root goes: an existing conversation or a new one."""

    conversation_of_root: dict[str, int] = field(default_factory=dict)
    new: dict[int, tuple[str, NormalizedMessage]] = field(default_factory=dict)
    replay: set[int] = field(default_factory=set)
    placeholders: list[tuple[int, str, int]] = field(default_factory=list)


def ingest(
    session: Session,
    channel: Channel,
    messages: Sequence[NormalizedMessage],
    known_identities: Mapping[IdentityKey, ResolvedIdentity] | None = None,
    reader: Reader | None = None,
) -> IngestResult:
    """Store a batch of messages from ``channel``; a message already stored is skipped.

    ``known_identities`` (from earlier, committed batches) spares looking authors up again;
    the result's ``identities`` can feed the next call once this one has committed.
    The new inbound messages are read (``inbox.enrichment``) by ``reader``, by default the
    workspace's, and the workspace's routing rules applied to them.
    """
    result = IngestResult()
    lock_for_writing(session, CHANNEL_LOCK, channel.id)
    fresh = _drop_known(session, channel.id, messages)
    result.already_present = len(messages) - len(fresh)
    if not fresh:
        return result
    fresh.sort(key=_created_at)
    identities = resolve_identities(
        session, channel.workspace_id, (m.author for m in fresh), known_identities
    )
    placed = [_place(m, identities[(m.author.network, m.author.external_id)]) for m in fresh]
    forest, stored_messages = _thread_forest(session, channel.id, fresh)
    plan = _plan_conversations(session, channel, forest, placed, stored_messages)
    for item, message_id in zip(placed, allocate_ids(session, Message, len(placed)), strict=True):
        item.conversation_id = plan.conversation_of_root[forest.root(item.message.external_id)]
        item.message_id = message_id
    summaries, waits = _advance_summaries(session, placed, plan)
    _schedule_replies(summaries, waits, policy_for(session, channel.workspace_id))
    read_arrivals(session, channel.workspace_id, placed, summaries, reader)
    _write_conversations(session, channel, plan, summaries)
    _clear_closures(session, summaries)
    _insert_messages(session, channel, placed)
    bulk_insert(
        session,
        _aliases,
        ("channel_id", "external_id", "conversation_id"),
        plan.placeholders,
        on_conflict_do_nothing=("channel_id", "external_id"),
    )
    route_arrivals(session, channel, placed, summaries)
    result.events = _record_facts(session, channel, summaries)
    _tell_open_pages(session, channel.id)
    result.imported = len(placed)
    result.conversations_created = len(plan.new)
    result.conversation_ids = sorted(summaries)
    result.identities = identities
    return result


def _tell_open_pages(session: Session, channel_id: int) -> None:
    """Bump the channel's activity counter: pages open on its workspace refresh live."""
    session.execute(
        update(Channel)
        .where(Channel.id == channel_id)
        .values(activity=Channel.activity + 1)
        .execution_options(synchronize_session=False)
    )


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
                .where(is_in(session, Message.external_id, chunk))
            )
        )
    return [m for external_id, m in unique.items() if external_id not in known]


def _place(message: NormalizedMessage, identity: ResolvedIdentity) -> _Placed:
    direction = message.direction or ("outbound" if identity.is_brand else "inbound")
    return _Placed(message, direction, identity)


def _thread_forest(
    session: Session, channel_id: int, fresh: list[NormalizedMessage]
) -> tuple[ThreadForest, set[str]]:
    """The forest of this batch, grafted onto the conversations of parents already stored.

    Also returns the referenced ids that are stored messages.
    """
    forest = ThreadForest()
    own_ids = {m.external_id for m in fresh}
    outside = sorted({ref for m in fresh for ref in referenced_ids(m)} - own_ids)
    stored: set[str] = set()
    for chunk in chunked(outside):
        rows = session.execute(
            select(Message.external_id, Conversation.thread_key)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.channel_id == channel_id)
            .where(is_in(session, Message.external_id, chunk))
        )
        for external_id, thread_key in rows:
            forest.attach(external_id, thread_key)
            stored.add(external_id)
    for message in fresh:
        forest.add_message(message)
    return forest, stored


def _plan_conversations(
    session: Session,
    channel: Channel,
    forest: ThreadForest,
    placed: list[_Placed],
    stored_messages: set[str],
) -> _Plan:
    """Map each tree root to a conversation: stored, merged from several, or new.

    A stored conversation keyed by any node of the tree, or holding it as a placeholder,
    belongs to it (a reply that came before its parent waits under the parent's id);
    several such are merged (rare). Ids the tree names that are not stored become
    placeholders of its conversation.
    """
    first_message: dict[str, NormalizedMessage] = {}
    for item in placed:
        first_message.setdefault(forest.root(item.message.external_id), item.message)
    members: dict[str, list[str]] = defaultdict(list)
    for node in {*forest.nodes(), *first_message}:
        root = forest.root(node)
        if root in first_message:
            members[root].append(node)
    keys, aliases = _stored_keys(session, channel.id, [n for g in members.values() for n in g])
    plan = _Plan()
    missing = []
    for root in first_message:
        found = sorted(
            {
                keys.get(node) or aliases[node]
                for node in members[root]
                if node in keys or node in aliases
            }
        )
        if not found:
            missing.append(root)
            continue
        target = next((cid for cid in found if keys.get(root) == cid), found[0])
        others = [cid for cid in found if cid != target]
        if others or keys.get(root) != target:
            _merge_into(session, target, others, root)
            plan.replay.add(target)
        plan.conversation_of_root[root] = target
    for root, conversation_id in zip(
        missing, allocate_ids(session, Conversation, len(missing)), strict=True
    ):
        plan.conversation_of_root[root] = conversation_id
        plan.new[conversation_id] = (root, first_message[root])
    own = {item.message.external_id for item in placed}
    channel_id = channel.id
    plan.placeholders = [
        (channel_id, node, plan.conversation_of_root[root])
        for root, nodes in members.items()
        for node in nodes
        if node != root
        and node not in own
        and node not in stored_messages
        and node not in keys
        and node not in aliases
    ]
    return plan


def _stored_keys(
    session: Session, channel_id: int, nodes: list[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Conversations keyed by any of ``nodes``, and those holding one as a placeholder."""
    keys: dict[str, int] = {}
    aliases: dict[str, int] = {}
    for chunk in chunked(sorted(set(nodes))):
        rows = session.execute(
            select(Conversation.thread_key, Conversation.id)
            .where(Conversation.channel_id == channel_id)
            .where(is_in(session, Conversation.thread_key, chunk))
        )
        keys.update({thread_key: conversation_id for thread_key, conversation_id in rows})
        rows = session.execute(
            select(ThreadAlias.external_id, ThreadAlias.conversation_id)
            .where(ThreadAlias.channel_id == channel_id)
            .where(is_in(session, ThreadAlias.external_id, chunk))
        )
        aliases.update({external_id: conversation_id for external_id, conversation_id in rows})
    return keys, aliases


def _merge_into(session: Session, target_id: int, others: list[int], root: str) -> None:
    """Fold conversations that turned out to be one thread into ``target_id`` (rare)."""
    if others:
        session.execute(
            update(Message)
            .where(Message.conversation_id.in_(others))
            .values(conversation_id=target_id)
        )
        session.execute(
            update(ReportingEvent)
            .where(ReportingEvent.conversation_id.in_(others))
            .values(conversation_id=target_id)
        )
        session.execute(
            update(ThreadAlias)
            .where(ThreadAlias.conversation_id.in_(others))
            .values(conversation_id=target_id)
        )
        session.execute(
            update(Note).where(Note.conversation_id.in_(others)).values(conversation_id=target_id)
        )
        _move_labels(session, target_id, others)
        session.execute(delete(Conversation).where(Conversation.id.in_(others)))
        _keep_earliest_first_response(session, target_id)
    session.execute(
        update(Conversation).where(Conversation.id == target_id).values(thread_key=root)
    )


def _move_labels(session: Session, target_id: int, others: list[int]) -> None:
    """Put the labels of merged conversations on ``target_id`` (once each).

    Their own rows go with them when they are deleted (``ON DELETE CASCADE``).
    """
    label_ids = session.scalars(
        select(ConversationLabel.label_id).where(ConversationLabel.conversation_id.in_(others))
    ).all()
    insert_ignoring_conflicts(
        session,
        ConversationLabel,
        [{"conversation_id": target_id, "label_id": label_id} for label_id in set(label_ids)],
        ["conversation_id", "label_id"],
    )


def _keep_earliest_first_response(session: Session, conversation_id: int) -> None:
    """Merged conversations brought their own first responses; only the earliest stands."""
    facts = (
        session.execute(
            select(ReportingEvent.id)
            .where(ReportingEvent.conversation_id == conversation_id)
            .where(ReportingEvent.kind == "first_response")
            .order_by(ReportingEvent.occurred_at, ReportingEvent.id)
        )
        .scalars()
        .all()
    )
    if len(facts) > 1:
        session.execute(delete(ReportingEvent).where(ReportingEvent.id.in_(facts[1:])))


def _advance_summaries(
    session: Session, placed: list[_Placed], plan: _Plan
) -> tuple[dict[int, ConversationSummary], dict[int, _Wait]]:
    """Walk each touched conversation's new messages (all of them when out of order).

    Also returns the wait each stored conversation was in before (see ``_Wait``).
    """
    batch: dict[int, list[_Placed]] = defaultdict(list)
    for item in placed:
        batch[item.conversation_id].append(item)
    summaries = _load_summaries(session, [cid for cid in batch if cid not in plan.new])
    waits = {cid: (s.awaiting_since, s.breached_at) for cid, s in summaries.items()}
    late = sorted(
        cid
        for cid, items in batch.items()
        if cid in plan.replay or _arrives_late(summaries.get(cid), items[0])
    )
    history = _stored_history(session, late)
    recorded = _recorded_facts(session, late)
    for conversation_id, items in batch.items():
        summary = summaries.setdefault(conversation_id, ConversationSummary())
        if conversation_id in history:
            summary = _replay(summary, history[conversation_id], items)
            _keep_recorded(summary, recorded.get(conversation_id, _Recorded()))
            summaries[conversation_id] = summary
            continue
        for item in items:
            _advance(summary, item)
    return summaries, waits


_Wait = tuple[datetime | None, datetime | None]
"""A stored conversation's ``awaiting_since`` and ``breached_at`` before the batch."""


def _schedule_replies(
    summaries: dict[int, ConversationSummary], waits: dict[int, _Wait], policy: SlaPolicyView
) -> None:
    """Set when each conversation's awaited reply is due; a breach flag stays only while
    the same wait goes on (``inbox.sla_actions``)."""
    due_at = policy.due_at
    no_wait: _Wait = (None, None)
    for conversation_id, summary in summaries.items():
        awaiting_since = summary.awaiting_since
        summary.due_at = due_at(awaiting_since, summary.first_response_at)
        waited, breached_at = waits.get(conversation_id, no_wait)
        same_wait = awaiting_since is not None and awaiting_since == waited
        summary.breached_at = breached_at if same_wait else None


def _arrives_late(summary: ConversationSummary | None, first_new: _Placed) -> bool:
    """True when a new message is older than one already stored in its conversation."""
    return (
        summary is not None
        and summary.message_count > 0
        and summary.last_message_at is not None
        and first_new.message.created_at < summary.last_message_at
    )


def _advance(summary: ConversationSummary, item: _Placed) -> None:
    summary.advance(
        inbound=item.direction == "inbound",
        created_at=item.message.created_at,
        author_identity_id=None if item.identity.is_brand else item.identity.identity_id,
        subject=item.message.subject,
        message_id=item.message_id,
    )


def _load_summaries(
    session: Session, conversation_ids: list[int]
) -> dict[int, ConversationSummary]:
    columns = [getattr(Conversation, name) for name in SUMMARY_COLUMNS]
    found: dict[int, ConversationSummary] = {}
    for chunk in chunked(sorted(conversation_ids)):
        for row in session.execute(
            select(Conversation.id, *columns).where(is_in(session, Conversation.id, chunk))
        ):
            found[row.id] = ConversationSummary(**dict(zip(SUMMARY_COLUMNS, row[1:], strict=True)))
    return found


def _stored_history(session: Session, conversation_ids: list[int]) -> dict[int, list[Any]]:
    """The stored messages of conversations to replay, in one query a chunk."""
    history: dict[int, list[Any]] = {cid: [] for cid in conversation_ids}
    for chunk in chunked(conversation_ids):
        rows = session.execute(
            select(
                Message.conversation_id,
                Message.id,
                Message.direction,
                Message.created_at,
                Message.author_identity_id,
                Message.subject,
            ).where(is_in(session, Message.conversation_id, chunk))
        )
        for row in rows:
            history[row.conversation_id].append(row)
    return history


@dataclass(slots=True)
class _Recorded:
    """The facts a conversation already has: (kind, message id) pairs, first response."""

    facts: set[tuple[str, int | None]] = field(default_factory=set)
    first_response: tuple[datetime, int | None] | None = None


def _recorded_facts(session: Session, conversation_ids: list[int]) -> dict[int, _Recorded]:
    found: dict[int, _Recorded] = defaultdict(_Recorded)
    for chunk in chunked(conversation_ids):
        rows = session.execute(
            select(
                ReportingEvent.conversation_id,
                ReportingEvent.kind,
                ReportingEvent.message_id,
                ReportingEvent.occurred_at,
                ReportingEvent.delay_seconds,
            )
            .where(is_in(session, ReportingEvent.conversation_id, chunk))
            .order_by(ReportingEvent.occurred_at.desc(), ReportingEvent.id.desc())
        )
        for conversation_id, kind, message_id, occurred_at, delay in rows:
            if conversation_id is None:  # excluded by the query; narrows the type
                continue
            recorded = found[conversation_id]
            recorded.facts.add((kind, message_id))
            if kind == "first_response":
                recorded.first_response = (occurred_at, delay)
    return found


def _replay(
    stored: ConversationSummary, history: list[Any], items: list[_Placed]
) -> ConversationSummary:
    """Rebuild a summary from every message of a conversation, stored and new, in time order
    (its status and what its messages were read as stay)."""
    timeline: list[tuple[Any, ...]] = [(row.created_at, row.id, row) for row in history]
    timeline += [(item.message.created_at, item.message_id, item) for item in items]
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    summary = ConversationSummary(
        status=stored.status, **{name: getattr(stored, name) for name in READ_FIELDS}
    )
    for _, _, entry in timeline:
        if isinstance(entry, _Placed):
            _advance(summary, entry)
            continue
        inbound = entry.direction == "inbound"
        summary.advance(
            inbound=inbound,
            created_at=entry.created_at,
            author_identity_id=entry.author_identity_id if inbound else None,
            subject=entry.subject,
            message_id=entry.id,
            arriving=False,
        )
    return summary


def _keep_recorded(summary: ConversationSummary, recorded: _Recorded) -> None:
    """Keep only facts not recorded yet; a recorded first response stays the first one."""
    if recorded.first_response is not None:
        summary.first_response_at, summary.first_response_seconds = recorded.first_response
    summary.facts = [
        fact
        for fact in summary.facts
        if (fact.kind, fact.message_id) not in recorded.facts
        and not (fact.kind == "first_response" and recorded.first_response is not None)
    ]


def _write_conversations(
    session: Session, channel: Channel, plan: _Plan, summaries: dict[int, ConversationSummary]
) -> None:
    """Insert the new conversations and update the others, each with its summary."""
    new_rows = []
    updates = []
    workspace_id, channel_id = channel.workspace_id, channel.id
    for conversation_id, summary in summaries.items():
        values = _summary_values(summary)
        if conversation_id in plan.new:
            root, first = plan.new[conversation_id]
            kind = CONVERSATION_KIND.get(first.kind, "thread")
            new_rows.append((conversation_id, workspace_id, channel_id, root, kind, *values))
        else:
            updates.append((*values, conversation_id))
    bulk_insert(session, _conversations, NEW_CONVERSATION_COLUMNS, new_rows)
    bulk_update(session, _conversations, SUMMARY_COLUMNS, updates)


def _clear_closures(session: Session, summaries: dict[int, ConversationSummary]) -> None:
    """A conversation an arriving message woke keeps no resolution nor snooze time (rare)."""
    woken = sorted(cid for cid, summary in summaries.items() if summary.woken)
    if woken:
        session.execute(
            update(Conversation)
            .where(is_in(session, Conversation.id, woken))
            .values(resolved_at=None, resolution_reason=None, snoozed_until=None)
            .execution_options(synchronize_session=False)
        )


def _insert_messages(session: Session, channel: Channel, placed: list[_Placed]) -> None:
    workspace_id, channel_id = channel.workspace_id, channel.id
    rows = [
        (
            item.message_id,
            workspace_id,
            channel_id,
            item.conversation_id,
            m.external_id,
            item.direction,
            m.kind,
            item.identity.identity_id,
            m.in_reply_to,
            m.created_at,
            m.subject,
            m.text,
            item.language,
            m.url,
            *read_columns(item.reading),
        )
        for item in placed
        for m in (item.message,)
    ]
    bulk_insert(session, _messages, MESSAGE_COLUMNS, rows)


def _record_facts(
    session: Session, channel: Channel, summaries: dict[int, ConversationSummary]
) -> int:
    workspace_id, channel_id = channel.workspace_id, channel.id
    events = [
        (
            workspace_id,
            channel_id,
            conversation_id,
            fact.message_id,
            fact.kind,
            fact.occurred_at,
            fact.delay_seconds,
        )
        for conversation_id, summary in summaries.items()
        for fact in summary.facts
    ]
    do_record_events(session, events)
    return len(events)
