"""ingest: idempotency, direction, threading across batches, summaries, facts, contacts.

Every test goes through ``ingest`` in a write transaction, as importers and connectors
do, and reads back what the database holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.contacts.actions import do_link_identity
from dialoga.contacts.models import Contact, Identity
from dialoga.core.db import transaction
from dialoga.inbox.actions import IngestResult, ingest
from dialoga.inbox.models import Conversation, Message
from dialoga.insights.models import ReportingEvent
from dialoga.runtime import Runtime

from .cast import BRAND, GIULIA, MARCO, at, make_channel, msg, statements


@pytest.fixture
def channel(sessions: sessionmaker[Session], workspace: Workspace) -> Channel:
    return make_channel(sessions, workspace, "support", "twitter")


def _ingest(
    sessions: sessionmaker[Session], channel: Channel, messages: Sequence[NormalizedMessage]
) -> IngestResult:
    with transaction(sessions, write_lock=True) as session:
        return ingest(session, channel, messages)


def _count(session: Session, entity: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(entity)) or 0


def _threads(sessions: sessionmaker[Session]) -> dict[str, list[str]]:
    """Each conversation's key and its messages in time order."""
    with sessions() as session:
        rows = session.execute(
            select(Conversation.thread_key, Message.external_id)
            .join(Message, Message.conversation_id == Conversation.id)
            .order_by(Message.created_at, Message.external_id)
        )
        threads: dict[str, list[str]] = {}
        for thread_key, external_id in rows:
            threads.setdefault(thread_key, []).append(external_id)
        return threads


def _conversation(sessions: sessionmaker[Session], thread_key: str) -> Conversation:
    with sessions() as session:
        return session.execute(
            select(Conversation).where(Conversation.thread_key == thread_key)
        ).scalar_one()


def _events(sessions: sessionmaker[Session]) -> list[tuple[str, str, str, int | None]]:
    """(kind, message external id, conversation key, delay) of every fact, in time order.

    Also checks that each fact belongs to the conversation its message is in.
    """
    with sessions() as session:
        rows = session.execute(
            select(
                ReportingEvent.kind,
                Message.external_id,
                Conversation.thread_key,
                ReportingEvent.delay_seconds,
                ReportingEvent.conversation_id,
                Message.conversation_id.label("message_conversation"),
                ReportingEvent.occurred_at,
                Message.created_at,
            )
            .join(Message, Message.id == ReportingEvent.message_id)
            .join(Conversation, Conversation.id == ReportingEvent.conversation_id)
            .order_by(Message.created_at, ReportingEvent.kind)
        ).all()
    for row in rows:
        assert row.conversation_id == row.message_conversation
        assert row.occurred_at == row.created_at
    return [(row.kind, row.external_id, row.thread_key, row.delay_seconds) for row in rows]


def _first_responses_per_conversation(sessions: sessionmaker[Session]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind, _, thread_key, _ in _events(sessions):
        if kind == "first_response":
            counts[thread_key] = counts.get(thread_key, 0) + 1
    return counts


def _directions(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        rows = session.execute(select(Message.external_id, Message.direction))
        return {external_id: direction for external_id, direction in rows}


def _identity(sessions: sessionmaker[Session], network: str, external_id: str) -> Identity:
    with sessions() as session:
        return session.execute(
            select(Identity)
            .where(Identity.network == network)
            .where(Identity.external_id == external_id)
        ).scalar_one()


# --- idempotency ---------------------------------------------------------------------


def test_the_same_batch_twice_is_stored_once(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    batch = [msg("1", GIULIA, 0), msg("2", BRAND, 5, "1"), msg("3", MARCO, 6)]

    first = _ingest(sessions, channel, batch)
    before = _threads(sessions), _events(sessions), _conversation(sessions, "1")
    second = _ingest(sessions, channel, batch)

    assert (first.imported, first.already_present, first.conversations_created) == (3, 0, 2)
    assert first.events == 2  # first_response and reply for "2"
    assert len(first.conversation_ids) == 2
    assert (second.imported, second.already_present, second.conversations_created) == (0, 3, 0)
    assert (second.events, second.conversation_ids) == (0, [])
    after = _threads(sessions), _events(sessions), _conversation(sessions, "1")
    assert after[:2] == before[:2]
    assert after[2].message_count == before[2].message_count == 2
    with sessions() as session:
        assert _count(session, Message) == 3
        assert _count(session, Conversation) == 2
        assert _count(session, Identity) == 3
        assert _count(session, Contact) == 2
        assert _count(session, ReportingEvent) == 2


def test_duplicates_within_one_batch_are_stored_once_keeping_the_first(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    batch = [
        msg("1", GIULIA, 0, text="first copy"),
        msg("1", GIULIA, 0, text="second copy"),
        msg("2", BRAND, 1, "1"),
        msg("2", BRAND, 1, "1"),
    ]

    result = _ingest(sessions, channel, batch)

    assert (result.imported, result.already_present) == (2, 2)
    assert _threads(sessions) == {"1": ["1", "2"]}
    assert _conversation(sessions, "1").message_count == 2
    assert _first_responses_per_conversation(sessions) == {"1": 1}
    with sessions() as session:
        assert session.scalar(select(Message.text).where(Message.external_id == "1")) == (
            "first copy"
        )


def test_partly_known_batch_stores_only_the_new_messages(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])

    result = _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 2, "1")])

    assert (result.imported, result.already_present, result.conversations_created) == (1, 1, 0)
    assert _conversation(sessions, "1").message_count == 2


def test_the_same_external_id_on_two_channels_is_two_messages(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel
) -> None:
    other = make_channel(sessions, workspace, "support-bis", "twitter")

    _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    result = _ingest(sessions, other, [msg("1", GIULIA, 0)])

    assert result.imported == 1
    with sessions() as session:
        assert _count(session, Message) == 2
        assert _count(session, Identity) == 1  # one person, one identity per workspace


def test_empty_batch_does_nothing(sessions: sessionmaker[Session], channel: Channel) -> None:
    result = _ingest(sessions, channel, [])

    assert (result.imported, result.already_present, result.events) == (0, 0, 0)


# --- direction -----------------------------------------------------------------------


def test_direction_is_inferred_from_the_brand_identity(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 1, "1")])
    # a later source that does not know "acme" is the brand: the stored identity says so
    unaware = NormalizedAuthor("twitter", "acme", handle="acme_it")
    _ingest(sessions, channel, [msg("3", GIULIA, 2, "2"), msg("4", unaware, 3, "3")])

    assert _directions(sessions) == {
        "1": "inbound",
        "2": "outbound",
        "3": "inbound",
        "4": "outbound",
    }
    assert _identity(sessions, "twitter", "acme").is_brand
    conversation = _conversation(sessions, "1")
    assert (conversation.inbound_count, conversation.awaiting_since) == (2, None)


def test_an_explicit_direction_wins_over_the_author(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    # e.g. an agent's personal account answering for the brand
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", MARCO, 4, "1", direction="outbound")])

    assert _directions(sessions) == {"1": "inbound", "2": "outbound"}
    assert _conversation(sessions, "1").first_response_seconds == 240


# --- threading across batches ----------------------------------------------------------


def test_a_reply_in_a_later_batch_joins_its_parents_conversation(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    first = _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    second = _ingest(sessions, channel, [msg("2", BRAND, 3, "1"), msg("3", GIULIA, 9, "2")])

    assert second.conversations_created == 0
    assert second.conversation_ids == first.conversation_ids
    assert _threads(sessions) == {"1": ["1", "2", "3"]}
    conversation = _conversation(sessions, "1")
    assert (conversation.message_count, conversation.inbound_count) == (3, 2)
    assert conversation.first_response_seconds == 180
    assert conversation.awaiting_since == at(9)


def test_a_reply_stored_before_its_parent_ends_in_one_conversation(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("2", BRAND, 5, "1")])
    assert _threads(sessions) == {"1": ["2"]}  # waits under its parent's id

    result = _ingest(sessions, channel, [msg("1", GIULIA, 0)])

    assert result.conversations_created == 0
    assert _threads(sessions) == {"1": ["1", "2"]}
    conversation = _conversation(sessions, "1")
    assert conversation.started_at == at(0)
    assert (conversation.message_count, conversation.inbound_count) == (2, 1)
    assert conversation.identity_id == _identity(sessions, "twitter", "115712").id
    assert conversation.first_inbound_at == at(0)
    assert conversation.first_response_at == at(5)
    assert conversation.first_response_seconds == 300
    assert conversation.awaiting_since is None


def test_a_reply_stored_before_its_parent_still_records_its_first_response(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("2", BRAND, 5, "1")])
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])

    assert _events(sessions) == [("first_response", "2", "1", 300), ("reply", "2", "1", 300)]


def test_conversations_found_to_be_one_thread_are_merged_keeping_every_message(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    # "3" answers "2" and "4" answers "1" before "2" (an answer to "1") is known
    _ingest(sessions, channel, [msg("3", GIULIA, 20, "2"), msg("5", BRAND, 21, "3")])
    _ingest(sessions, channel, [msg("4", MARCO, 10, "1")])
    assert _threads(sessions) == {"2": ["3", "5"], "1": ["4"]}
    before = _events(sessions)

    result = _ingest(sessions, channel, [msg("2", GIULIA, 15, "1")])

    assert result.conversations_created == 0
    assert _threads(sessions) == {"1": ["4", "2", "3", "5"]}
    with sessions() as session:
        assert _count(session, Conversation) == 1
        assert _count(session, Message) == 4
    after = _events(sessions)
    assert [(kind, ext, delay) for kind, ext, _, delay in after] == [
        (kind, ext, delay) for kind, ext, _, delay in before
    ]
    assert {key for _, _, key, _ in after} == {"1"}
    conversation = _conversation(sessions, "1")
    assert (conversation.message_count, conversation.inbound_count) == (4, 3)
    assert conversation.started_at == at(10)
    assert conversation.last_message_at == at(21)
    # "5" answered "3" when the threads were still apart: that recorded first response
    # stands (summary and facts agree), though "4" had asked earlier
    assert conversation.first_response_seconds == 60
    assert conversation.awaiting_since is None
    assert conversation.identity_id == _identity(sessions, "twitter", "823869").id


def test_grandchild_then_child_then_parent_in_three_batches(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("3", GIULIA, 30, "2")])
    assert _threads(sessions) == {"2": ["3"]}
    _ingest(sessions, channel, [msg("2", BRAND, 10, "1")])
    assert _threads(sessions) == {"1": ["2", "3"]}
    result = _ingest(sessions, channel, [msg("1", GIULIA, 0)])

    assert result.conversations_created == 0
    assert _threads(sessions) == {"1": ["1", "2", "3"]}
    conversation = _conversation(sessions, "1")
    assert conversation.started_at == at(0)
    assert conversation.last_message_at == at(30)
    assert (conversation.message_count, conversation.inbound_count) == (3, 2)
    assert conversation.first_inbound_at == at(0)
    assert conversation.last_inbound_at == at(30)
    assert conversation.last_outbound_at == at(10)
    assert conversation.first_response_seconds == 600
    assert conversation.awaiting_since == at(30)
    assert _events(sessions) == [("first_response", "2", "1", 600), ("reply", "2", "1", 600)]


def test_email_reply_arriving_after_its_own_answer_joins_that_thread(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    mailbox = make_channel(sessions, workspace, "assistenza", "email")
    anna = NormalizedAuthor("email", "anna@example.it", email="anna@example.it")
    desk = NormalizedAuthor("email", "assistenza@acme.it", is_brand=True)
    # <d> answers <c>; its References keep the first id and the parent (RFC 5322 trimming)
    _ingest(sessions, mailbox, [msg("<d>", desk, 30, "<c>", references=("<a>", "<c>"))])
    _ingest(sessions, mailbox, [msg("<c>", anna, 20, "<b>")])  # <b>, <a> never arrive

    assert list(_threads(sessions).values()) == [["<c>", "<d>"]]


# --- e-mail and DM threads ---------------------------------------------------------------


def test_email_thread_follows_references_across_missing_messages(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    mailbox = make_channel(sessions, workspace, "assistenza", "email")
    anna = NormalizedAuthor("email", "anna@example.it", email="anna@example.it")
    desk = NormalizedAuthor("email", "assistenza@acme.it", is_brand=True)
    subject = "Ordine 4521"
    _ingest(sessions, mailbox, [msg("<a>", anna, 0, kind="email", subject=subject)])
    # <b> and <c> never arrive (another mailbox); <d> names them in References
    _ingest(
        sessions,
        mailbox,
        [
            msg("<d>", desk, 50, "<c>", references=("<a>", "<b>", "<c>"), kind="email"),
            msg("<e>", anna, 70, "<d>", references=("<a>", "<d>"), kind="email"),
            msg("<x>", anna, 71, kind="email", subject="Altro"),
        ],
    )

    assert _threads(sessions) == {"<a>": ["<a>", "<d>", "<e>"], "<x>": ["<x>"]}
    conversation = _conversation(sessions, "<a>")
    assert (conversation.kind, conversation.subject) == ("email", subject)
    assert conversation.first_response_seconds == 3000
    assert conversation.awaiting_since == at(70)
    assert _directions(sessions)["<d>"] == "outbound"


def test_dm_threads_follow_their_explicit_key(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(
        sessions,
        channel,
        [
            msg("dm-1", GIULIA, 0, kind="dm", thread_key="giulia-acme"),
            msg("dm-2", MARCO, 1, kind="dm", thread_key="marco-acme"),
        ],
    )
    _ingest(
        sessions,
        channel,
        [
            msg("dm-3", BRAND, 4, kind="dm", thread_key="giulia-acme"),
            # a DM that quotes a public tweet stays in its DM thread
            msg("dm-4", GIULIA, 6, "tweet-9", kind="dm", thread_key="giulia-acme"),
        ],
    )

    assert _threads(sessions) == {
        "thread:giulia-acme": ["dm-1", "dm-3", "dm-4"],
        "thread:marco-acme": ["dm-2"],
    }
    giulia = _conversation(sessions, "thread:giulia-acme")
    assert giulia.kind == "dm"
    assert (giulia.message_count, giulia.first_response_seconds) == (3, 240)
    assert giulia.awaiting_since == at(6)


# --- summaries and facts -----------------------------------------------------------------


def test_first_response_and_reply_events_exactly_one_first_response_per_conversation(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(
        sessions,
        channel,
        [
            msg("1", GIULIA, 0),
            msg("2", BRAND, 2.5, "1"),
            msg("3", GIULIA, 10, "2"),
            msg("4", MARCO, 0.5),
        ],
    )
    result = _ingest(
        sessions,
        channel,
        [
            msg("5", BRAND, 40, "3"),
            msg("6", BRAND, 41, "5"),  # nothing awaits a reply: no fact
            msg("7", BRAND, 60.25, "4"),
        ],
    )

    assert result.events == 3
    assert _events(sessions) == [
        ("first_response", "2", "1", 150),
        ("reply", "2", "1", 150),
        ("reply", "5", "1", 1800),
        ("first_response", "7", "4", 3585),
        ("reply", "7", "4", 3585),
    ]
    assert _first_responses_per_conversation(sessions) == {"1": 1, "4": 1}
    giulia = _conversation(sessions, "1")
    assert (giulia.first_response_at, giulia.first_response_seconds) == (at(2.5), 150)


def test_awaiting_and_counts_follow_each_batch(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    def state() -> tuple[Any, ...]:
        c = _conversation(sessions, "1")
        return c.message_count, c.inbound_count, c.awaiting_since, c.last_message_at

    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", GIULIA, 1, "1")])
    assert state() == (2, 2, at(0), at(1))
    _ingest(sessions, channel, [msg("3", BRAND, 5, "2")])
    assert state() == (3, 2, None, at(5))
    _ingest(sessions, channel, [msg("4", GIULIA, 7, "3")])
    assert state() == (4, 3, at(7), at(7))
    conversation = _conversation(sessions, "1")
    assert (conversation.first_inbound_at, conversation.last_inbound_at) == (at(0), at(7))
    assert conversation.last_outbound_at == at(5)
    assert conversation.status == "open"


def test_a_brand_post_without_inbound_has_no_first_response(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("p", BRAND, 0, kind="post")])

    conversation = _conversation(sessions, "p")
    assert (conversation.message_count, conversation.inbound_count) == (1, 0)
    assert conversation.first_response_seconds is None
    assert conversation.awaiting_since is None
    assert conversation.identity_id is None
    assert _events(sessions) == []


def test_a_late_message_replays_the_conversation_summary(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 10, "1")])
    # "3" was written at minute 5 but reaches Dialoga after the brand's answer
    result = _ingest(sessions, channel, [msg("3", GIULIA, 5, "1")])

    assert result.events == 0
    conversation = _conversation(sessions, "1")
    assert (conversation.message_count, conversation.inbound_count) == (3, 2)
    assert conversation.started_at == at(0)
    assert conversation.last_message_at == at(10)
    assert conversation.last_inbound_at == at(5)
    assert conversation.awaiting_since is None  # the answer at minute 10 came after it
    assert conversation.first_response_seconds == 600
    assert _first_responses_per_conversation(sessions) == {"1": 1}

    _ingest(sessions, channel, [msg("4", GIULIA, 8, "3"), msg("5", GIULIA, 12, "2")])
    conversation = _conversation(sessions, "1")
    assert (conversation.message_count, conversation.inbound_count) == (5, 4)
    assert conversation.awaiting_since == at(12)
    assert conversation.last_inbound_at == at(12)


def test_a_late_answer_keeps_summary_and_first_response_event_in_agreement(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 10, "1")])
    _ingest(sessions, channel, [msg("3", BRAND, 7, "1")])  # an earlier answer, found late

    conversation = _conversation(sessions, "1")
    first = [e for e in _events(sessions) if e[0] == "first_response"]
    assert len(first) == 1
    assert first[0][3] == conversation.first_response_seconds


def test_a_new_message_reopens_a_resolved_conversation(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 3, "1")])
    with transaction(sessions) as session:
        session.execute(update(Conversation).values(status="resolved"))

    _ingest(sessions, channel, [msg("3", BRAND, 5, "2")])
    assert _conversation(sessions, "1").status == "resolved"
    result = _ingest(sessions, channel, [msg("4", GIULIA, 8, "3")])

    assert result.events == 1
    conversation = _conversation(sessions, "1")
    assert (conversation.status, conversation.awaiting_since) == ("open", at(8))
    assert [e for e in _events(sessions) if e[0] == "reopened"] == [("reopened", "4", "1", None)]


def test_a_late_brand_message_does_not_reopen_a_resolved_conversation(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 10, "1")])
    with transaction(sessions) as session:
        session.execute(update(Conversation).values(status="resolved"))

    _ingest(sessions, channel, [msg("3", BRAND, 5, "1")])  # older than the last message

    assert _conversation(sessions, "1").status == "resolved"


def test_merged_conversations_keep_one_first_response(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("3", GIULIA, 100, "2"), msg("4", BRAND, 110, "3")])
    _ingest(sessions, channel, [msg("5", MARCO, 50, "1")])
    _ingest(sessions, channel, [msg("2", GIULIA, 60, "1"), msg("6", BRAND, 70, "5")])

    assert list(_threads(sessions)) == ["1"]
    assert _first_responses_per_conversation(sessions) == {"1": 1}


# --- contacts ------------------------------------------------------------------------


def test_one_contact_per_person_across_messages_and_batches(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", GIULIA, 1), msg("3", MARCO, 2)])
    _ingest(sessions, channel, [msg("4", GIULIA, 3), msg("5", BRAND, 4, "4")])

    with sessions() as session:
        people = session.execute(
            select(Identity.external_id, Contact.display_name)
            .join(Contact, Contact.id == Identity.contact_id)
            .order_by(Identity.external_id)
        ).all()
        assert [tuple(p) for p in people] == [("115712", "Giulia Rossi"), ("823869", "marco_b")]
        assert _count(session, Contact) == 2
        assert _count(session, Identity) == 3
        authors = session.execute(
            select(Message.external_id, Identity.external_id).join(
                Identity, Identity.id == Message.author_identity_id
            )
        ).all()
        assert {message: author for message, author in authors} == {
            "1": "115712",
            "2": "115712",
            "3": "823869",
            "4": "115712",
            "5": "acme",
        }


def test_brand_identities_have_no_contact(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 1, "1")])

    brand = _identity(sessions, "twitter", "acme")
    assert brand.is_brand
    assert brand.contact_id is None
    assert brand.handle == "acme_it"


def test_an_identity_recognised_as_the_brand_loses_its_contact(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    unaware = NormalizedAuthor("twitter", "acme", handle="acme_it")
    _ingest(sessions, channel, [msg("1", unaware, 0)])
    _ingest(sessions, channel, [msg("2", GIULIA, 1, "1"), msg("3", BRAND, 2, "2")])

    brand = _identity(sessions, "twitter", "acme")
    assert brand.is_brand
    assert brand.contact_id is None
    with sessions() as session:
        assert _count(session, Contact) == 1


def test_an_author_the_batch_calls_the_brand_is_the_brand_whatever_its_order(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    unaware = NormalizedAuthor("twitter", "acme", handle="acme_it")
    _ingest(
        sessions,
        channel,
        [msg("1", unaware, 0), msg("2", GIULIA, 1, "1"), msg("3", BRAND, 2, "2")],
    )

    brand = _identity(sessions, "twitter", "acme")
    assert (brand.is_brand, brand.contact_id) == (True, None)
    with sessions() as session:
        assert _count(session, Contact) == 1


def test_the_same_email_on_two_networks_joins_one_contact(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    mailbox = make_channel(sessions, workspace, "assistenza", "email")
    forum = make_channel(sessions, workspace, "forum", "generic")
    by_mail = NormalizedAuthor(
        "email", "anna.verdi@example.it", display_name="Anna Verdi", email="anna.verdi@example.it"
    )
    on_forum = NormalizedAuthor("generic", "u-anna", handle="annav", email="Anna.Verdi@Example.IT")

    _ingest(sessions, mailbox, [msg("<a>", by_mail, 0, kind="email")])
    _ingest(sessions, forum, [msg("c-1", on_forum, 5, kind="comment")])

    with sessions() as session:
        contacts = session.execute(select(Contact.display_name, Contact.email)).all()
        assert [tuple(c) for c in contacts] == [("Anna Verdi", "anna.verdi@example.it")]
        owners = set(session.scalars(select(Identity.contact_id)))
        assert len(owners) == 1
        assert None not in owners


def test_the_same_email_on_two_networks_in_one_batch_joins_one_contact(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    forum = make_channel(sessions, workspace, "forum", "generic")
    on_forum = NormalizedAuthor("generic", "u-anna", email="anna.verdi@example.it")
    on_mastodon = NormalizedAuthor("mastodon", "@anna@mastodon.uno", email="anna.verdi@example.it")

    _ingest(sessions, forum, [msg("c-1", on_forum, 0), msg("t-1", on_mastodon, 1)])

    with sessions() as session:
        assert _count(session, Contact) == 1
        assert len(set(session.scalars(select(Identity.contact_id)))) == 1


def test_a_linked_identity_keeps_its_contact_on_later_ingests(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel
) -> None:
    forum = make_channel(sessions, workspace, "forum", "generic")
    giulia_forum = NormalizedAuthor("generic", "u-giulia", handle="giulia")
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    _ingest(sessions, forum, [msg("c-1", giulia_forum, 1)])
    twitter = _identity(sessions, "twitter", "115712")
    forum_identity = _identity(sessions, "generic", "u-giulia")
    with transaction(sessions) as session:
        do_link_identity(session, forum_identity.id, twitter.contact_id or 0)

    _ingest(sessions, forum, [msg("c-2", giulia_forum, 2)])

    with sessions() as session:
        assert _count(session, Contact) == 1  # the forum-only contact was dropped
    assert _identity(sessions, "generic", "u-giulia").contact_id == twitter.contact_id


# --- untrusted text ------------------------------------------------------------------


HOSTILE = [
    '<script>alert("x")</script><img src=x onerror=alert(1)> & &amp; "\' --',
    "\u202egnp.exe \u2066isolated\u2069 \u200b\u200d zero widths",
    "'; DROP TABLE message; -- ?%s {0} $1 \\x00 \\",
    "emoji 👩‍👩‍👧 𝕏 e combining é, CJK 你好, Arabic مرحبا, CR\rLF\r\nTAB\t",
    "x" * 99_995 + "END🙂🙂",
]


def test_hostile_text_is_stored_verbatim(sessions: sessionmaker[Session], channel: Channel) -> None:
    evil = NormalizedAuthor(
        "twitter", "<b>666</b>", handle="\u202eadmin", display_name="<script>x</script>"
    )
    batch = [
        msg(f"h{i}", evil, i, text=text, subject=text[:400], url="https://example.com/?a=<b>")
        for i, text in enumerate(HOSTILE)
    ]

    assert _ingest(sessions, channel, batch).imported == len(HOSTILE)

    with sessions() as session:
        stored = {e: t for e, t in session.execute(select(Message.external_id, Message.text))}
        subjects = set(session.scalars(select(Message.subject)))
        identity = session.execute(select(Identity)).scalar_one()
        contact = session.execute(select(Contact)).scalar_one()
    assert stored == {f"h{i}": text for i, text in enumerate(HOSTILE)}
    assert len(stored["h4"]) == 100_000
    assert subjects == {text[:400] for text in HOSTILE}
    assert (identity.external_id, identity.handle) == ("<b>666</b>", "\u202eadmin")
    assert contact.display_name == "<script>x</script>"
    assert _conversation(sessions, "h0").subject == HOSTILE[0][:400]


# --- the number of statements does not grow with the batch --------------------------------


def _count_statements(
    runtime: Runtime, channel: Channel, messages: Sequence[NormalizedMessage]
) -> tuple[int, IngestResult]:
    with (
        transaction(runtime.sessions, write_lock=True) as session,
        statements(runtime.engine) as seen,
    ):
        result = ingest(session, channel, messages)
    return len(seen), result


def _mixed_batch(tag: str, size: int, stored_openers: list[str]) -> list[NormalizedMessage]:
    """Half answers into stored conversations, half new threads by new and known people."""
    batch = []
    for i in range(size // 2):
        batch.append(msg(f"{tag}-answer-{i}", BRAND, 600 + i, stored_openers.pop()))
        author = NormalizedAuthor("twitter", f"{tag}-person-{i}") if i % 2 else GIULIA
        batch.append(msg(f"{tag}-new-{i}", author, 600 + i))
    return batch


@pytest.mark.parametrize("sizes", [(50, 500)])
def test_statements_per_ingest_do_not_grow_with_the_batch(
    runtime: Runtime, channel: Channel, sizes: tuple[int, int]
) -> None:
    openers = [
        msg(f"open-{i}", NormalizedAuthor("twitter", f"person-{i}"), i / 10) for i in range(600)
    ]
    _ingest(runtime.sessions, channel, openers)
    stored = [m.external_id for m in openers]

    counts = {}
    for size in sizes:
        counts[size], result = _count_statements(
            runtime, channel, _mixed_batch(f"b{size}", size, stored)
        )
        assert result.imported == size
        assert result.conversations_created == size // 2
        assert result.events == size  # first_response and reply per answer

    small, large = counts.values()
    assert small <= 25
    assert large <= small + 2, counts


def test_statements_do_not_grow_with_late_messages_in_many_conversations(
    runtime: Runtime, channel: Channel
) -> None:
    stored = [msg(f"open-{i}", NormalizedAuthor("twitter", f"p{i}"), i) for i in range(600)]
    answers = [msg(f"ans-{i}", BRAND, 1000 + i, f"open-{i}") for i in range(600)]
    _ingest(runtime.sessions, channel, stored + answers)

    def late(tag: str, first: int, size: int) -> list[NormalizedMessage]:
        return [
            msg(f"{tag}-{i}", NormalizedAuthor("twitter", f"p{i}"), i + 0.5, f"open-{i}")
            for i in range(first, first + size)
        ]

    small, _ = _count_statements(runtime, channel, late("a", 0, 50))
    large, _ = _count_statements(runtime, channel, late("b", 50, 500))

    assert large <= small + 2
