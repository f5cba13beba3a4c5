"""The running summary of a conversation, advanced one message at a time.

It decides what ingest records: when the first response happened and how long it took,
which outbound messages answered an inbound one, and what is still awaiting a reply.
Pure logic, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dialoga.inbox.priority import NORMAL

# The fields a summary rebuilt from the messages keeps from the stored one: they come
# from reading the messages, not from walking them.
READ_FIELDS = ("language", "sentiment", "intent", "priority")


@dataclass(slots=True)
class Fact:
    """A reporting event the conversation implies: its kind, message, time and delay."""

    kind: str
    message_id: int
    occurred_at: datetime
    delay_seconds: int | None = None


@dataclass(slots=True)
class ConversationSummary:
    """The columns of ``conversation`` that ingest maintains."""

    started_at: datetime | None = None
    last_message_at: datetime | None = None
    first_inbound_at: datetime | None = None
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    first_response_at: datetime | None = None
    first_response_seconds: int | None = None
    awaiting_since: datetime | None = None
    message_count: int = 0
    inbound_count: int = 0
    identity_id: int | None = None
    subject: str | None = None
    status: str = "open"
    # When the awaited reply is due (SLA) and whether this wait was flagged as breached:
    # set by ingest from the workspace's policy once the messages have been walked.
    due_at: datetime | None = None
    breached_at: datetime | None = None
    # What the latest inbound message was read as, the priority that follows, and the
    # queue's order key (``inbox.priority.rank_at``): set by ingest after the reading.
    language: str | None = None
    sentiment: str | None = None
    intent: str | None = None
    priority: int = NORMAL
    rank_at: datetime | None = None
    facts: list[Fact] = field(default_factory=list)
    # Set when an arriving message brought the conversation back from resolved or
    # snoozed: its resolution and snooze time no longer hold.
    woken: bool = False

    def advance(
        self,
        *,
        inbound: bool,
        created_at: datetime,
        author_identity_id: int | None,
        subject: str | None,
        message_id: int,
        arriving: bool = True,
    ) -> None:
        """Add one message, in time order, noting the facts it implies.

        ``arriving`` is false for a message already stored, walked again to rebuild the
        summary: it cannot reopen the conversation. An arriving inbound message reopens a
        resolved conversation (a ``reopened`` fact) and wakes a snoozed one.
        """
        self.message_count += 1
        if self.started_at is None or created_at < self.started_at:
            self.started_at = created_at
        if self.last_message_at is None or created_at > self.last_message_at:
            self.last_message_at = created_at
        if self.subject is None and subject:
            self.subject = subject[:400]
        if inbound:
            self._advance_inbound(created_at, author_identity_id, message_id, arriving)
        else:
            self._advance_outbound(created_at, message_id)

    def _advance_inbound(
        self, created_at: datetime, author_identity_id: int | None, message_id: int, arriving: bool
    ) -> None:
        self.inbound_count += 1
        if self.first_inbound_at is None:
            self.first_inbound_at = created_at
        if self.identity_id is None:
            self.identity_id = author_identity_id
        self.last_inbound_at = created_at
        if self.awaiting_since is None:
            self.awaiting_since = created_at
        if not arriving or self.status == "open":
            return
        if self.status == "resolved":
            self.facts.append(Fact("reopened", message_id, created_at))
        # a snoozed conversation is woken early by the person: not a reopening
        self.status = "open"
        self.woken = True

    def _advance_outbound(self, created_at: datetime, message_id: int) -> None:
        self.last_outbound_at = created_at
        if self.awaiting_since is None:
            return
        delay = max(0, int((created_at - self.awaiting_since).total_seconds()))
        if self.first_response_at is None:
            self.first_response_at = created_at
            self.first_response_seconds = delay
            self.facts.append(Fact("first_response", message_id, created_at, delay))
        self.facts.append(Fact("reply", message_id, created_at, delay))
        self.awaiting_since = None
