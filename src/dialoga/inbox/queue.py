"""The queue: a workspace's conversations, filtered, most pressing first, page by page.

The order is ``rank_at``: the reply's due date shifted by the conversation's priority
(``inbox.priority``), so an urgent complaint comes before a thank-you due a little earlier.
Pages follow a keyset (rank, id) rather than an offset, so a far page costs what the
first does. The index ``ix_conversation_queue`` (workspace, status, rank_at, id) yields
the rows in order: the conversations with a rank (those awaiting a reply) as one range
scan, those without as another, by id, after all the others (SQLite sorts NULLs first in
indexes, so the queue never asks for ``NULLS LAST``). "All statuses" merges one scan per
status. A page is one or two statements, and one more for the labels of its rows. SLA
breaches are still read from ``due_at``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from dialoga.accounts.models import User
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact, Identity
from dialoga.core.clock import as_utc
from dialoga.core.errors import ValidationError
from dialoga.inbox.models import Conversation, ConversationLabel, Label, Message
from dialoga.inbox.priority import PRIORITIES
from dialoga.inbox.search import matching_conversation_ids

STATUSES = ("open", "snoozed", "resolved")
UNASSIGNED = "none"
PREVIEW_LENGTH = 280
MAX_PAGE = 500
MAX_CURSOR = 200  # the cursors made here are about 60 characters


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue shows; ``ValidationError`` for a status or assignee it does not know.

    ``status`` is one of ``STATUSES`` or ``"all"``. ``assignee``: ``None`` for anyone,
    ``"none"`` for nobody, or a user's id (the caller turns "me" into its own). ``text``
    searches the messages (``inbox.search``); ``breached_only`` keeps the conversations
    whose reply was due by now; ``priority`` is one of ``inbox.priority.PRIORITIES``.
    Empty values filter nothing.
    """

    status: str = "open"
    channel_id: int | None = None
    assignee: int | str | None = None
    language: str | None = None
    sentiment: str | None = None
    intent: str | None = None
    label_id: int | None = None
    text: str | None = None
    breached_only: bool = False
    priority: int | None = None

    def __post_init__(self) -> None:
        if self.status not in (*STATUSES, "all"):
            raise ValidationError(f"unknown status {self.status!r}")
        if self.priority is not None and self.priority not in PRIORITIES:
            raise ValidationError(f"unknown priority {self.priority!r}")
        if isinstance(self.assignee, str) and self.assignee != UNASSIGNED:
            raise ValidationError(f"unknown assignee {self.assignee!r}")


def assignee_filter(value: str | None, me: int) -> int | str | None:
    """The ``assignee`` of a ``QueueFilter`` from its written form: nothing (anyone),
    ``me``, ``none`` (nobody) or a user's id; anything else is a ``ValidationError``."""
    if not value:
        return None
    if value == "me":
        return me
    if value == UNASSIGNED:
        return UNASSIGNED
    if not value.isdigit() or len(value) > 15:
        raise ValidationError(f"unknown assignee {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One conversation as the queue lists it (``breached``: its reply was due by now;
    ``spam``: the spam probability of its latest inbound message)."""

    id: int
    channel: str
    network: str
    kind: str
    status: str
    subject: str | None
    contact: str | None
    contact_id: int | None
    awaiting_since: datetime | None
    due_at: datetime | None
    breached: bool
    last_message_at: datetime
    message_count: int
    last_inbound_text: str | None
    assignee: str | None
    assignee_id: int | None
    labels: list[str]
    language: str | None
    sentiment: str | None
    intent: str | None
    priority: int
    rank_at: datetime | None
    spam: float | None
    snoozed_until: datetime | None
    resolution_reason: str | None


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of the queue; ``next_cursor`` asks for the next one (``None``: the last)."""

    items: list[QueueItem]
    next_cursor: str | None


def queue_page(
    session: Session,
    workspace_id: int,
    filters: QueueFilter,
    *,
    now: datetime,
    cursor: str | None = None,
    limit: int = 50,
) -> QueuePage:
    """One page of a workspace's conversations, most pressing first: by rank (the due
    date shifted by priority), then those with none, by id. ``cursor`` is a page's
    ``next_cursor``; a malformed one is a ``ValidationError``."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"a page holds 1 to {MAX_PAGE} conversations")
    after = _decode_cursor(cursor) if cursor else None
    scan = _Scan(
        _conditions(session, workspace_id, filters),
        STATUSES if filters.status == "all" else (filters.status,),
        now if filters.breached_only else None,
    )
    rows: list[Row[Any]] = []
    if after is None or after.rank_at is not None:
        rows += session.execute(scan.ranked(after, limit + 1))
    if len(rows) <= limit and not filters.breached_only:
        since = after.id if after is not None and after.rank_at is None else None
        rows += session.execute(scan.unranked(since, limit + 1 - len(rows)))
    items = queue_items(session, rows[:limit], now)
    last = items[-1] if len(rows) > limit else None
    return QueuePage(items, None if last is None else _encode_cursor(last.rank_at, last.id))


@dataclass(frozen=True, slots=True)
class _Position:
    """Where a page ended: its last row's rank (``None`` past the ranked ones) and id."""

    rank_at: datetime | None
    id: int


def _encode_cursor(rank_at: datetime | None, last_id: int) -> str:
    """Opaque to callers; tampering only moves the position: filters and the workspace
    are applied afresh on every page."""
    raw = json.dumps([None if rank_at is None else rank_at.isoformat(), last_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> _Position:
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError(cursor)
        due, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (due is None or isinstance(due, str)) or type(last_id) is not int:
            raise TypeError(cursor)
        if not 0 <= last_id < 2**63:
            raise ValueError(cursor)
        return _Position(None if due is None else as_utc(datetime.fromisoformat(due)), last_id)
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise ValidationError("the page cursor is not valid: start from the first page") from None


def _conditions(
    session: Session, workspace_id: int, filters: QueueFilter
) -> list[ColumnElement[bool]]:
    """The filters as conditions on ``conversation`` (the status and keyset aside)."""
    found = [Conversation.workspace_id == workspace_id]
    if filters.channel_id is not None:
        found.append(Conversation.channel_id == filters.channel_id)
    if filters.assignee == UNASSIGNED:
        found.append(Conversation.assignee_id.is_(None))
    elif filters.assignee is not None:
        found.append(Conversation.assignee_id == filters.assignee)
    described = (
        (Conversation.language, filters.language),
        (Conversation.sentiment, filters.sentiment),
        (Conversation.intent, filters.intent),
    )
    found += [column == value for column, value in described if value]
    if filters.priority is not None:
        found.append(Conversation.priority == filters.priority)
    if filters.label_id is not None:
        labelled = select(ConversationLabel.conversation_id).where(
            ConversationLabel.label_id == filters.label_id
        )
        found.append(Conversation.id.in_(labelled))
    matching = matching_conversation_ids(session, workspace_id, filters.text)
    if matching is not None:
        found.append(Conversation.id.in_(matching))
    return found


@dataclass(frozen=True, slots=True)
class _Scan:
    """Statements reading the queue in index order, one range scan per status."""

    conditions: list[ColumnElement[bool]]
    statuses: tuple[str, ...]
    due_by: datetime | None  # only the conversations due by then (breached)

    def ranked(self, after: _Position | None, limit: int) -> Select[*tuple[Any, ...]]:
        """The conversations with a rank (a reply is due), after ``after``."""
        bounds: list[ColumnElement[bool]] = [Conversation.rank_at.is_not(None)]
        if after is not None:
            bounds.append(
                tuple_(Conversation.rank_at, Conversation.id) > tuple_(after.rank_at, after.id)
            )
        if self.due_by is not None:
            bounds.append(Conversation.due_at <= self.due_by)
        return self._page(bounds, limit)

    def unranked(self, after_id: int | None, limit: int) -> Select[*tuple[Any, ...]]:
        """The conversations without a rank (nothing due), by id after ``after_id``."""
        bounds: list[ColumnElement[bool]] = [Conversation.rank_at.is_(None)]
        if after_id is not None:
            bounds.append(Conversation.id > after_id)
        return self._page(bounds, limit)

    def _page(self, bounds: list[ColumnElement[bool]], limit: int) -> Select[*tuple[Any, ...]]:
        # Both parts follow the index's order, (rank_at, id): without a rank that is the
        # order of ids, which PostgreSQL (for which "IS NULL" is no equality) takes from
        # the index only when asked for the rank first.
        scans = [
            select(Conversation.id, Conversation.rank_at)
            .where(Conversation.status == status, *self.conditions, *bounds)
            .order_by(Conversation.rank_at, Conversation.id)
            .limit(limit)
            .subquery()
            for status in self.statuses
        ]
        page = (
            scans[0]
            if len(scans) == 1
            else union_all(*(select(scan.c.id, scan.c.rank_at) for scan in scans)).subquery()
        )
        return listed_conversations(page).order_by(page.c.rank_at, page.c.id).limit(limit)


def listed_conversations(page: Any = None) -> Select[*tuple[Any, ...]]:
    """The columns of a ``QueueItem`` but its labels, for the conversations in ``page``
    (a subquery of ids) or for all (``None``)."""
    person = aliased(Identity)
    statement: Select[*tuple[Any, ...]] = select(
        Conversation.id,
        Channel.name.label("channel"),
        Channel.network,
        Conversation.kind,
        Conversation.status,
        Conversation.subject,
        Contact.display_name.label("contact"),
        Contact.id.label("contact_id"),
        Conversation.awaiting_since,
        Conversation.due_at,
        Conversation.last_message_at,
        Conversation.message_count,
        last_inbound_text().label("last_inbound_text"),
        User.display_name.label("assignee"),
        Conversation.assignee_id,
        Conversation.language,
        Conversation.sentiment,
        Conversation.intent,
        Conversation.priority,
        Conversation.rank_at,
        last_inbound(Message.spam).label("spam"),
        Conversation.snoozed_until,
        Conversation.resolution_reason,
    )
    statement = (
        statement.select_from(Conversation)
        if page is None
        else statement.select_from(page).join(Conversation, Conversation.id == page.c.id)
    )
    return (
        statement.join(Channel, Channel.id == Conversation.channel_id)
        .outerjoin(person, person.id == Conversation.identity_id)
        .outerjoin(Contact, Contact.id == person.contact_id)
        .outerjoin(User, User.id == Conversation.assignee_id)
    )


def queue_items(session: Session, rows: Sequence[Row[Any]], now: datetime) -> list[QueueItem]:
    """Rows of ``listed_conversations`` as queue items, with their labels (one statement)."""
    labels: dict[int, list[str]] = {row.id: [] for row in rows}
    if labels:
        for conversation_id, name in session.execute(
            select(ConversationLabel.conversation_id, Label.name)
            .join(Label, Label.id == ConversationLabel.label_id)
            .where(ConversationLabel.conversation_id.in_(list(labels)))
            .order_by(Label.name)
        ):
            labels[conversation_id].append(name)
    return [
        QueueItem(
            **row._mapping,
            breached=row.due_at is not None and row.due_at <= now,
            labels=labels[row.id],
        )
        for row in rows
    ]


def last_inbound_text() -> Any:
    """The start of the latest inbound message of the conversation in the outer query."""
    return last_inbound(func.substr(Message.text, 1, PREVIEW_LENGTH))


def last_inbound(column: Any) -> Any:
    """``column`` of the latest inbound message of the conversation in the outer query."""
    return (
        select(column)
        .where(Message.conversation_id == Conversation.id)
        .where(Message.direction == "inbound")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
