"""The queue: every filter alone and combined against a Python oracle, keyset pages that
cover every row once in order, refused cursors, a constant statement count per page, the
queue index in the plans, and another workspace's rows never shown."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.core.db import transaction
from dialoga.core.errors import ValidationError
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.priority import PRIORITIES, URGENT, rank_at
from dialoga.inbox.queue import QueueFilter, QueuePage, queue_page
from dialoga.runtime import Runtime

from .queue_data import NOW, START, ask, channel, label, recorded, set_columns, user

STATUSES = ("open", "open", "snoozed", "resolved", "open")
SENTIMENTS = ("negative", "neutral", "positive", None)


@dataclass(frozen=True)
class Spec:
    """What one stored conversation is, to compute what the queue must return."""

    id: int
    channel: str
    status: str
    due_at: datetime | None
    priority: int
    assignee: str | None
    language: str
    sentiment: str | None
    intent: str
    labels: frozenset[str]
    text: str

    @property
    def rank_at(self) -> datetime | None:
        return rank_at(self.due_at, self.priority)


@dataclass(frozen=True)
class Inbox:
    workspace: Workspace
    specs: list[Spec]
    channels: dict[str, int]
    users: dict[str, int]
    labels: dict[str, int]


def _spec(i: int, conversation_id: int) -> Spec:
    labels = {"billing"} if i % 4 == 1 else set()
    if i % 5 == 0:
        labels.add("idea")
    return Spec(
        id=conversation_id,
        channel="sales" if i % 3 == 0 else "support",
        status=STATUSES[i % 5],
        due_at=None if i % 4 == 0 else START + timedelta(hours=(i * 7) % 11),
        priority=PRIORITIES[i % 3 if i % 2 else 3 - i % 4],
        assignee=(None, "Giulia", "Marco")[(i // 2) % 3],
        language="it" if i % 2 else "en",
        sentiment=SENTIMENTS[(i // 3) % 4],
        intent="complaint" if i % 7 == 0 else "question",
        labels=frozenset(labels),
        text=f"domanda numero {i}" + (" sulla fattura" if i % 6 == 0 else ""),
    )


def _build(sessions: sessionmaker[Session], workspace: Workspace, count: int) -> Inbox:
    channels = {name: channel(sessions, workspace, name) for name in ("support", "sales")}
    users = {
        name: user(sessions, name, f"{workspace.slug}.example") for name in ("Giulia", "Marco")
    }
    drafts = [_spec(i, 0) for i in range(count)]
    ids: dict[int, int] = {}
    for name, stored in channels.items():
        mine = [i for i, d in enumerate(drafts) if d.channel == name]
        texts = [drafts[i].text for i in mine]
        ids.update(zip(mine, ask(sessions, stored, texts, prefix=f"{name}-"), strict=True))
    specs = [_spec(i, ids[i]) for i in range(count)]
    with transaction(sessions) as session:
        for spec in specs:
            session.execute(
                update(Conversation)
                .where(Conversation.id == spec.id)
                .values(
                    status=spec.status,
                    due_at=spec.due_at,
                    priority=spec.priority,
                    rank_at=spec.rank_at,
                    assignee_id=users[spec.assignee] if spec.assignee else None,
                    language=spec.language,
                    sentiment=spec.sentiment,
                    intent=spec.intent,
                )
            )
    labels = {
        name: label(sessions, workspace, name, [s.id for s in specs if name in s.labels])
        for name in ("billing", "idea")
    }
    return Inbox(workspace, specs, {n: c.id for n, c in channels.items()}, users, labels)


@pytest.fixture
def inbox(runtime: Runtime, workspace: Workspace) -> Inbox:
    return _build(runtime.sessions, workspace, 30)


def _order(specs: list[Spec]) -> list[int]:
    """Most pressing first: by rank (due date shifted by priority), then those without
    one, by id."""
    return [
        s.id for s in sorted(specs, key=lambda s: (s.rank_at is None, s.rank_at or START, s.id))
    ]


def _read_all(
    session: Session, workspace_id: int, filters: QueueFilter, limit: int
) -> tuple[list[int], list[QueuePage]]:
    pages: list[QueuePage] = []
    cursor: str | None = None
    while True:
        found = queue_page(session, workspace_id, filters, now=NOW, cursor=cursor, limit=limit)
        pages.append(found)
        assert len(found.items) <= limit
        cursor = found.next_cursor
        if cursor is None:
            return [item.id for page in pages for item in page.items], pages
        assert len(found.items) == limit, "only the last page may be short"
        assert len(pages) < 100, "the pages never end"


Case = tuple[Callable[[Inbox], QueueFilter], Callable[[Spec], bool]]
CASES: dict[str, Case] = {
    "open by default": (lambda _: QueueFilter(), lambda s: s.status == "open"),
    "snoozed": (lambda _: QueueFilter(status="snoozed"), lambda s: s.status == "snoozed"),
    "resolved": (lambda _: QueueFilter(status="resolved"), lambda s: s.status == "resolved"),
    "all statuses": (lambda _: QueueFilter(status="all"), lambda s: True),
    "channel": (
        lambda x: QueueFilter(status="all", channel_id=x.channels["sales"]),
        lambda s: s.channel == "sales",
    ),
    "assignee": (
        lambda x: QueueFilter(assignee=x.users["Giulia"]),
        lambda s: s.status == "open" and s.assignee == "Giulia",
    ),
    "unassigned": (
        lambda _: QueueFilter(status="all", assignee="none"),
        lambda s: s.assignee is None,
    ),
    "language": (
        lambda _: QueueFilter(language="it"),
        lambda s: s.status == "open" and s.language == "it",
    ),
    "sentiment": (
        lambda _: QueueFilter(status="all", sentiment="negative"),
        lambda s: s.sentiment == "negative",
    ),
    "intent": (
        lambda _: QueueFilter(status="all", intent="complaint"),
        lambda s: s.intent == "complaint",
    ),
    "priority": (
        lambda _: QueueFilter(status="all", priority=URGENT),
        lambda s: s.priority == URGENT,
    ),
    "label": (
        lambda x: QueueFilter(status="all", label_id=x.labels["billing"]),
        lambda s: "billing" in s.labels,
    ),
    "breached": (
        lambda _: QueueFilter(status="all", breached_only=True),
        lambda s: s.due_at is not None and s.due_at <= NOW,
    ),
    "text": (
        lambda _: QueueFilter(status="all", text="fattura"),
        lambda s: "fattura" in s.text,
    ),
    "combined": (
        lambda x: QueueFilter(
            channel_id=x.channels["support"], language="it", assignee="none", text="domanda"
        ),
        lambda s: (
            s.status == "open"
            and s.channel == "support"
            and s.language == "it"
            and s.assignee is None
        ),
    ),
    "combined with labels and breaches": (
        lambda x: QueueFilter(
            status="all", label_id=x.labels["idea"], breached_only=True, sentiment="neutral"
        ),
        lambda s: (
            "idea" in s.labels
            and s.due_at is not None
            and s.due_at <= NOW
            and s.sentiment == "neutral"
        ),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_filter_narrows_the_queue_to_what_it_names(
    runtime: Runtime, inbox: Inbox, name: str
) -> None:
    make_filter, keep = CASES[name]
    expected = _order([s for s in inbox.specs if keep(s)])
    assert expected, "the case must find something"
    assert len(expected) < len(inbox.specs) or name == "all statuses", "and leave something out"

    with runtime.sessions() as session:
        listed, _ = _read_all(session, inbox.workspace.id, make_filter(inbox), limit=4)

    assert listed == expected


@pytest.mark.parametrize("limit", [1, 7, 29, 30, 50])
def test_pages_cover_every_row_once_in_order(runtime: Runtime, inbox: Inbox, limit: int) -> None:
    with runtime.sessions() as session:
        listed, pages = _read_all(session, inbox.workspace.id, QueueFilter(status="all"), limit)

    assert listed == _order(inbox.specs)
    assert len(pages) == -(-len(inbox.specs) // limit)


def test_items_carry_what_the_queue_shows(runtime: Runtime, inbox: Inbox) -> None:
    spec = next(s for s in inbox.specs if s.labels == {"billing", "idea"} or "billing" in s.labels)
    long_text = "é" * 300
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Message).where(Message.conversation_id == spec.id).values(text=long_text)
        )

    with runtime.sessions() as session:
        items = queue_page(session, inbox.workspace.id, QueueFilter(status="all"), now=NOW).items
    item = next(i for i in items if i.id == spec.id)

    assert item.channel == spec.channel and item.network == "twitter"
    assert item.status == spec.status and item.due_at == spec.due_at
    assert item.breached == (spec.due_at is not None and spec.due_at <= NOW)
    assert item.assignee == spec.assignee
    assert item.assignee_id == (inbox.users[spec.assignee] if spec.assignee else None)
    assert item.labels == sorted(spec.labels)
    assert (item.language, item.sentiment, item.intent) == (
        spec.language,
        spec.sentiment,
        spec.intent,
    )
    assert item.contact is not None and item.contact_id is not None
    assert item.message_count == 1
    assert item.last_inbound_text == "é" * 280
    assert {i.breached for i in items} == {True, False}


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "!!!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b"{}").decode(),
        base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
        base64.urlsafe_b64encode(b'["yesterday", 5]').decode(),
        base64.urlsafe_b64encode(b'[null, "5"]').decode(),
        base64.urlsafe_b64encode(b"[null, true]").decode(),
        base64.urlsafe_b64encode(b"[null, -1]").decode(),
        base64.urlsafe_b64encode(json.dumps([None, 2**70]).encode()).decode(),
        base64.urlsafe_b64encode(b'["0001-01-01T00:00:00+14:00", 1]').decode(),
        base64.urlsafe_b64encode(b"[42, 1]").decode(),
        "é",
        base64.urlsafe_b64encode(b"[" * 100 + b"]" * 100).decode(),
        "A" * 10_000,
    ],
)
def test_a_malformed_cursor_is_refused(runtime: Runtime, inbox: Inbox, cursor: str) -> None:
    with runtime.sessions() as session, pytest.raises(ValidationError):
        queue_page(session, inbox.workspace.id, QueueFilter(), now=NOW, cursor=cursor)


@pytest.mark.parametrize(
    "values",
    [{"status": "closed"}, {"status": ""}, {"assignee": "me"}, {"assignee": "x"}, {"priority": 4}],
)
def test_a_filter_it_does_not_know_is_refused(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        QueueFilter(**values)


def test_a_page_size_out_of_range_is_refused(runtime: Runtime, inbox: Inbox) -> None:
    with runtime.sessions() as session:
        for limit in (0, 501):
            with pytest.raises(ValidationError):
                queue_page(session, inbox.workspace.id, QueueFilter(), now=NOW, limit=limit)


def test_another_workspace_stays_invisible(runtime: Runtime, inbox: Inbox) -> None:
    with transaction(runtime.sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="test")
    theirs = _build(runtime.sessions, rival, 12)
    own = {s.id for s in inbox.specs}

    with runtime.sessions() as session:
        everything, _ = _read_all(session, inbox.workspace.id, QueueFilter(status="all"), 7)
        by_their_channel, _ = _read_all(
            session,
            inbox.workspace.id,
            QueueFilter(status="all", channel_id=theirs.channels["sales"]),
            7,
        )
        by_their_label, _ = _read_all(
            session,
            inbox.workspace.id,
            QueueFilter(status="all", label_id=theirs.labels["idea"]),
            7,
        )
        found, _ = _read_all(session, theirs.workspace.id, QueueFilter(status="all"), 7)

    assert set(everything) == own
    assert by_their_channel == [] and by_their_label == []
    assert set(found) == {s.id for s in theirs.specs}


def test_statements_per_page_do_not_grow_with_its_rows(
    runtime: Runtime, workspace: Workspace
) -> None:
    support = channel(runtime.sessions, workspace, "support")
    ids = ask(runtime.sessions, support, [f"domanda {i}" for i in range(120)])
    for i, conversation_id in enumerate(ids[:60]):
        due_at = START + timedelta(minutes=i)
        set_columns(runtime.sessions, [conversation_id], due_at=due_at, rank_at=due_at)
    label(runtime.sessions, workspace, "billing", ids[::2])
    filters = [QueueFilter(), QueueFilter(status="all", text="domanda", language=None)]

    counts: dict[int, list[int]] = {}
    with runtime.sessions() as session:
        for limit in (10, 50):
            for chosen in filters:
                crossing = queue_page(session, workspace.id, chosen, now=NOW, limit=55)
                past_due = queue_page(session, workspace.id, chosen, now=NOW, limit=65)
                for cursor in (None, crossing.next_cursor, past_due.next_cursor):
                    with recorded(runtime.engine) as seen:
                        found = queue_page(
                            session, workspace.id, chosen, now=NOW, cursor=cursor, limit=limit
                        )
                    assert len(found.items) == limit
                    counts.setdefault(limit, []).append(len(seen))

    assert counts[10] == counts[50]
    assert max(counts[10]) <= 3


def _explain(session: Session, statement: str, parameters: Any) -> str:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(row[0] for row in rows)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    return "\n".join(str(row[-1]) for row in rows)


def test_the_queue_reads_through_its_index(runtime: Runtime, inbox: Inbox) -> None:
    with runtime.sessions() as session:
        with recorded(runtime.engine) as seen:
            queue_page(session, inbox.workspace.id, QueueFilter(status="all"), now=NOW, limit=5)
            queue_page(session, inbox.workspace.id, QueueFilter(), now=NOW, limit=50)
        scans = [(sql, parameters) for sql, parameters in seen if "due_at" in sql]
        plans = [_explain(session, sql, parameters) for sql, parameters in scans]

    assert len(plans) == 3, "two statements for the whole queue, one for the first page"
    for plan in plans:
        assert "ix_conversation_queue" in plan, plan
