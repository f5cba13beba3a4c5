"""ConversationSummary: first response, replies, what awaits a reply, reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialoga.inbox.summary import ConversationSummary, Fact

START = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
CUSTOMER = 7


def _at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def _inbound(
    summary: ConversationSummary,
    minutes: float,
    index: int | None = None,
    author: int = CUSTOMER,
    subject: str | None = None,
) -> None:
    summary.advance(
        inbound=True,
        created_at=_at(minutes),
        author_identity_id=author,
        subject=subject,
        message_id=-1 if index is None else index,
        arriving=index is not None,
    )


def _outbound(summary: ConversationSummary, minutes: float, index: int | None = None) -> None:
    summary.advance(
        inbound=False,
        created_at=_at(minutes),
        author_identity_id=None,
        subject=None,
        message_id=-1 if index is None else index,
        arriving=index is not None,
    )


def test_first_message_starts_the_conversation_and_awaits_a_reply() -> None:
    summary = ConversationSummary()
    _inbound(summary, 0, index=0, subject="Ordine 4521")

    assert summary.started_at == summary.last_message_at == _at(0)
    assert summary.first_inbound_at == summary.last_inbound_at == _at(0)
    assert summary.awaiting_since == _at(0)
    assert (summary.message_count, summary.inbound_count) == (1, 1)
    assert summary.identity_id == CUSTOMER
    assert summary.subject == "Ordine 4521"
    assert summary.first_response_at is None
    assert summary.facts == []


def test_first_response_delay_is_measured_from_the_first_unanswered_inbound() -> None:
    summary = ConversationSummary()
    _inbound(summary, 0, index=0)
    _inbound(summary, 3, index=1)  # a second message while waiting keeps the clock
    _outbound(summary, 12.5, index=2)

    assert summary.first_response_at == _at(12.5)
    assert summary.first_response_seconds == 750
    assert summary.awaiting_since is None
    assert summary.last_outbound_at == _at(12.5)
    assert summary.facts == [
        Fact("first_response", 2, _at(12.5), 750),
        Fact("reply", 2, _at(12.5), 750),
    ]


def test_later_replies_are_reply_facts_measured_from_their_own_question() -> None:
    summary = ConversationSummary()
    _inbound(summary, 0, index=0)
    _outbound(summary, 1, index=1)
    _outbound(summary, 2, index=2)  # nothing awaited: no fact
    _inbound(summary, 10, index=3)
    _outbound(summary, 40, index=4)

    assert summary.first_response_seconds == 60
    assert summary.first_response_at == _at(1)
    assert [(f.kind, f.message_id, f.delay_seconds) for f in summary.facts] == [
        ("first_response", 1, 60),
        ("reply", 1, 60),
        ("reply", 4, 1800),
    ]
    assert (summary.message_count, summary.inbound_count) == (5, 2)
    assert summary.last_inbound_at == _at(10)
    assert summary.last_outbound_at == _at(40)


def test_outbound_clears_awaiting_and_inbound_sets_it_again() -> None:
    summary = ConversationSummary()
    _inbound(summary, 0)
    assert summary.awaiting_since == _at(0)
    _outbound(summary, 5)
    assert summary.awaiting_since is None
    _inbound(summary, 20)
    _inbound(summary, 25)
    assert summary.awaiting_since == _at(20)
    assert summary.last_inbound_at == _at(25)


def test_outbound_before_any_inbound_is_not_a_first_response() -> None:
    summary = ConversationSummary()
    _outbound(summary, 0, index=0)  # the brand posts first

    assert summary.first_response_at is None
    assert summary.first_response_seconds is None
    assert summary.awaiting_since is None
    assert summary.inbound_count == 0
    assert summary.identity_id is None
    assert summary.facts == []

    _inbound(summary, 30, index=1)
    _outbound(summary, 31, index=2)
    assert summary.first_response_seconds == 60
    assert [f.kind for f in summary.facts] == ["first_response", "reply"]


def test_reopening_a_resolved_conversation() -> None:
    summary = ConversationSummary(status="resolved", message_count=2, inbound_count=1)
    _outbound(summary, 0, index=0)
    assert summary.status == "resolved"  # the brand writing again does not reopen it
    assert summary.facts == []

    _inbound(summary, 5, index=1)
    assert summary.status == "open"
    assert summary.awaiting_since == _at(5)
    assert summary.facts == [Fact("reopened", 1, _at(5))]

    _inbound(summary, 6, index=2)  # already open: reopened once
    assert [f.kind for f in summary.facts] == ["reopened"]


def test_stored_messages_walked_again_do_not_reopen() -> None:
    summary = ConversationSummary(status="resolved")
    _inbound(summary, 0)
    _outbound(summary, 2)

    assert summary.status == "resolved"
    assert summary.first_response_seconds == 120
    assert [f.kind for f in summary.facts] == ["first_response", "reply"]


def test_the_first_inbound_author_is_the_person_talked_to() -> None:
    summary = ConversationSummary()
    _inbound(summary, 0, author=11)
    _inbound(summary, 1, author=12)

    assert summary.identity_id == 11


def test_subject_is_the_first_non_empty_one_cut_to_the_column() -> None:
    summary = ConversationSummary()
    _inbound(summary, 0, subject="")
    _inbound(summary, 1, subject="x" * 1000)
    _inbound(summary, 2, subject="later")

    assert summary.subject == "x" * 400


def test_earlier_message_moves_the_start_and_a_later_one_the_end() -> None:
    summary = ConversationSummary()
    _inbound(summary, 10)
    _inbound(summary, 5)
    _inbound(summary, 20)

    assert summary.started_at == _at(5)
    assert summary.last_message_at == _at(20)


def test_a_reply_sent_at_the_same_second_has_zero_delay() -> None:
    summary = ConversationSummary()
    _inbound(summary, 0, index=0)
    _outbound(summary, 0, index=1)

    assert summary.first_response_seconds == 0
    assert summary.facts[0].delay_seconds == 0
