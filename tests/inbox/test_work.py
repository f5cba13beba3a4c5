"""What an agent does to a conversation: reply, note, assign, label, snooze, resolve.

Conversations come from ``ingest``, as in production; each action runs in a write
transaction, as the web layer runs it, and the tests read back what the database holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Member, User, Workspace
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.contacts.models import Identity
from dialoga.core.db import transaction
from dialoga.core.errors import NotFoundError, ValidationError
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import (
    Conversation,
    ConversationLabel,
    Label,
    Message,
    Note,
    SavedReply,
)
from dialoga.inbox.work import (
    RESOLUTION_REASONS,
    check_assignee,
    check_label_name,
    check_note,
    check_reopen,
    check_reply,
    check_resolve,
    check_saved_reply,
    check_snooze,
    do_add_label,
    do_add_note,
    do_assign,
    do_delete_saved_reply,
    do_remove_label,
    do_reopen,
    do_reply,
    do_resolve,
    do_save_reply,
    do_snooze,
    do_unassign_member,
    do_wake_snoozed,
)
from dialoga.insights.models import ReportingEvent
from dialoga.runtime import Runtime

from .cast import BRAND, GIULIA, MARCO, at, make_channel, msg, statements


@pytest.fixture
def channel(sessions: sessionmaker[Session], workspace: Workspace) -> Channel:
    return make_channel(sessions, workspace, "support", "twitter")


@pytest.fixture
def agent(sessions: sessionmaker[Session], workspace: Workspace) -> int:
    return _user(sessions, "marta@acme.it", workspace, "agent")


def _user(
    sessions: sessionmaker[Session], email: str, workspace: Workspace | None, role: str
) -> int:
    with transaction(sessions) as session:
        user = User(email=email, display_name=email.split("@", maxsplit=1)[0].title())
        session.add(user)
        session.flush()
        if workspace is not None:
            session.add(Member(workspace_id=workspace.id, user_id=user.id, role=role))
        return user.id


def _ingest(
    sessions: sessionmaker[Session], channel: Channel, messages: Sequence[NormalizedMessage]
) -> None:
    with transaction(sessions, write_lock=True) as session:
        ingest(session, channel, messages)


def _conversation(sessions: sessionmaker[Session], thread_key: str) -> Conversation:
    with sessions() as session:
        return session.execute(
            select(Conversation).where(Conversation.thread_key == thread_key)
        ).scalar_one()


def _message(sessions: sessionmaker[Session], message_id: int) -> Message:
    with sessions() as session:
        return session.execute(select(Message).where(Message.id == message_id)).scalar_one()


def _activity(sessions: sessionmaker[Session], channel: Channel) -> int:
    with sessions() as session:
        return session.scalar(select(Channel.activity).where(Channel.id == channel.id)) or 0


def _events(sessions: sessionmaker[Session], kind: str | None = None) -> list[ReportingEvent]:
    with sessions() as session:
        query = select(ReportingEvent).order_by(ReportingEvent.id)
        if kind is not None:
            query = query.where(ReportingEvent.kind == kind)
        return list(session.scalars(query))


def _count(session: Session, entity: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(entity)) or 0


def _reply(
    sessions: sessionmaker[Session], conversation_id: int, user_id: int, minutes: float
) -> int:
    with transaction(sessions, write_lock=True) as session:
        return do_reply(session, conversation_id, user_id, f"  reply at {minutes}  ", at(minutes))


def _code(error: pytest.ExceptionInfo[Exception]) -> str | None:
    return getattr(error.value, "code", None)


# --- reply -------------------------------------------------------------------------------


def test_a_reply_answers_the_latest_inbound_message_as_the_brand(
    sessions: sessionmaker[Session], channel: Channel, agent: int
) -> None:
    _ingest(sessions, channel, [msg("0", BRAND, -60), msg("1", GIULIA, 0, "0")])
    _ingest(sessions, channel, [msg("2", GIULIA, 5, "1", kind="reply")])
    conversation = _conversation(sessions, "0")
    with transaction(sessions) as session:  # as if the SLA had flagged it
        session.execute(update(Conversation).values(due_at=at(10), breached_at=at(10)))

    message_id = _reply(sessions, conversation.id, agent, 30)

    message = _message(sessions, message_id)
    with sessions() as session:
        brand = session.scalar(select(Identity.id).where(Identity.is_brand.is_(True)))
    assert message.external_id.startswith("dialoga:")
    assert len(message.external_id) == len("dialoga:") + 32
    assert (message.direction, message.kind, message.delivery) == ("outbound", "reply", "queued")
    assert (message.in_reply_to, message.text, message.language) == ("2", "reply at 30", None)
    assert (message.author_user_id, message.author_identity_id) == (agent, brand)
    assert (message.conversation_id, message.channel_id) == (conversation.id, channel.id)
    assert message.workspace_id == channel.workspace_id
    assert message.created_at == at(30)
    after = _conversation(sessions, "0")
    assert (after.message_count, after.inbound_count) == (4, 2)
    assert (after.last_message_at, after.last_outbound_at) == (at(30), at(30))
    assert (after.first_response_at, after.first_response_seconds) == (at(30), 1800)
    assert (after.awaiting_since, after.due_at, after.breached_at) == (None, None, None)
    assert after.status == "open"
    facts = [(e.kind, e.message_id, e.delay_seconds, e.conversation_id) for e in _events(sessions)]
    assert facts == [
        ("first_response", message_id, 1800, conversation.id),
        ("reply", message_id, 1800, conversation.id),
    ]
    assert _activity(sessions, channel) == 2 + 1  # a bump per ingest, and the reply's


def test_only_replies_that_answer_something_are_facts(
    sessions: sessionmaker[Session], channel: Channel, agent: int
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    conversation_id = _conversation(sessions, "1").id
    first = _reply(sessions, conversation_id, agent, 10)
    second = _reply(sessions, conversation_id, agent, 11)  # nothing awaited it
    _ingest(sessions, channel, [msg("3", GIULIA, 20, "1")])
    third = _reply(sessions, conversation_id, agent, 50)

    facts = [(e.kind, e.message_id, e.delay_seconds) for e in _events(sessions)]
    assert facts == [
        ("first_response", first, 600),
        ("reply", first, 600),
        ("reply", third, 1800),
    ]
    conversation = _conversation(sessions, "1")
    assert (conversation.message_count, conversation.first_response_seconds) == (5, 600)
    assert conversation.awaiting_since is None
    assert _message(sessions, second).in_reply_to == "1"
    assert _message(sessions, third).in_reply_to == "3"
    assert _activity(sessions, channel) == 2 + 3  # a bump per ingest and per reply


def test_a_reply_without_a_brand_identity_or_inbound_message_names_neither(
    sessions: sessionmaker[Session], channel: Channel, agent: int
) -> None:
    _ingest(
        sessions, channel, [msg("post", NormalizedAuthor("twitter", "x"), 0, direction="outbound")]
    )
    conversation_id = _conversation(sessions, "post").id

    message = _message(sessions, _reply(sessions, conversation_id, agent, 5))

    assert (message.author_identity_id, message.in_reply_to) == (None, None)
    assert not _events(sessions)


@pytest.mark.parametrize(
    ("network", "opener", "kind"),
    [
        ("twitter", {"kind": "dm", "thread_key": "giulia-acme"}, "dm"),
        ("email", {"kind": "email", "subject": "Ordine"}, "email"),
        ("wordpress", {"kind": "comment"}, "comment"),
        ("twitter", {"kind": "mention"}, "reply"),
    ],
)
def test_a_reply_has_the_kind_of_what_it_answers(
    sessions: sessionmaker[Session],
    workspace: Workspace,
    agent: int,
    network: str,
    opener: dict[str, Any],
    kind: str,
) -> None:
    channel = make_channel(sessions, workspace, network, network)
    _ingest(sessions, channel, [msg("1", NormalizedAuthor(network, "p1"), 0, **opener)])
    with sessions() as session:
        conversation_id = session.scalar(select(Conversation.id))
    assert conversation_id is not None

    assert _message(sessions, _reply(sessions, conversation_id, agent, 5)).kind == kind


@pytest.mark.parametrize("status", ["resolved", "snoozed"])
def test_a_reply_changes_nothing_about_the_status(
    sessions: sessionmaker[Session], channel: Channel, agent: int, status: str
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    with transaction(sessions) as session:
        session.execute(update(Conversation).values(status=status))

    _reply(sessions, _conversation(sessions, "1").id, agent, 5)

    conversation = _conversation(sessions, "1")
    assert (conversation.status, conversation.awaiting_since) == (status, None)
    assert not _events(sessions, "reopened")


def test_a_reply_to_a_missing_conversation_is_not_found(
    sessions: sessionmaker[Session], agent: int
) -> None:
    with pytest.raises(NotFoundError), transaction(sessions, write_lock=True) as session:
        do_reply(session, 999, agent, "ciao", at(0))


def test_a_reply_costs_the_same_statements_however_long_the_conversation(
    runtime: Runtime, channel: Channel, agent: int
) -> None:
    short = [msg("s1", GIULIA, 0)]
    long = [msg("l0", MARCO, 0)] + [msg(f"l{i}", MARCO, i, f"l{i - 1}") for i in range(1, 300)]
    _ingest(runtime.sessions, channel, [*short, *long])
    counts = []
    for key in ("s1", "l0"):
        conversation_id = _conversation(runtime.sessions, key).id
        with (
            transaction(runtime.sessions, write_lock=True) as session,
            statements(runtime.engine) as seen,
        ):
            do_reply(session, conversation_id, agent, "grazie", at(400))
        counts.append(len(seen))

    assert counts[0] == counts[1] <= 10, counts
    assert [e.kind for e in _events(runtime.sessions)] == ["first_response", "reply"] * 2


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_an_empty_reply_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as error:
        check_reply(text)
    assert _code(error) == "reply_empty"


def test_a_reply_may_have_ten_thousand_characters_not_more() -> None:
    check_reply("a" * 10_000)
    check_reply(" " + "a" * 10_000 + "\n")
    with pytest.raises(ValidationError, match="10,001") as error:
        check_reply("a" * 10_001)
    assert _code(error) == "reply_too_long"


# --- notes -------------------------------------------------------------------------------


def test_notes_on_a_conversation_and_on_a_contact(
    sessions: sessionmaker[Session], channel: Channel, workspace: Workspace, agent: int
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    conversation = _conversation(sessions, "1")
    with sessions() as session:
        contact_id = session.scalar(
            select(Identity.contact_id).where(Identity.id == conversation.identity_id)
        )

    with transaction(sessions) as session:
        on_conversation = do_add_note(
            session,
            workspace.id,
            agent,
            " Cliente storico \n",
            conversation_id=conversation.id,
            now=at(1),
        )
    assert _activity(sessions, channel) == 1 + 1  # the ingest's bump, and the note's
    with transaction(sessions) as session:
        on_contact = do_add_note(
            session, workspace.id, agent, "Preferisce l'e-mail", contact_id=contact_id, now=at(2)
        )
    assert _activity(sessions, channel) == 2  # a contact's note changes no conversation

    with sessions() as session:
        notes = {
            n.id: (n.conversation_id, n.contact_id, n.author_id, n.body, n.created_at)
            for n in session.scalars(select(Note))
        }
    assert notes == {
        on_conversation: (conversation.id, None, agent, "Cliente storico", at(1)),
        on_contact: (None, contact_id, agent, "Preferisce l'e-mail", at(2)),
    }


def test_a_note_must_say_something_in_at_most_ten_thousand_characters() -> None:
    check_note("ok")
    for body, code in (("  ", "note_empty"), ("x" * 10_001, "note_too_long")):
        with pytest.raises(ValidationError) as error:
            check_note(body)
        assert _code(error) == code


# --- assignment --------------------------------------------------------------------------


def test_only_members_who_answer_can_be_assigned(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        other = do_create_workspace(session, "other", "Other", actor="test")
    users = {
        role: _user(sessions, f"{role}@acme.it", workspace, role)
        for role in ("owner", "admin", "agent", "analyst")
    }
    outsider = _user(sessions, "outsider@else.it", other, "agent")
    nobody = _user(sessions, "nobody@else.it", None, "agent")

    with sessions() as session:
        for role in ("owner", "admin", "agent"):
            check_assignee(session, workspace.id, users[role])
        with pytest.raises(ValidationError, match="analyst") as error:
            check_assignee(session, workspace.id, users["analyst"])
        assert _code(error) == "assignee_cannot_answer"
        for user_id in (outsider, nobody):
            with pytest.raises(ValidationError) as error:
                check_assignee(session, workspace.id, user_id)
            assert _code(error) == "assignee_not_member"
        check_assignee(session, other.id, outsider)


def test_assign_and_unassign(sessions: sessionmaker[Session], channel: Channel, agent: int) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", MARCO, 1)])
    conversation_id = _conversation(sessions, "1").id

    with transaction(sessions) as session:
        do_assign(session, conversation_id, agent)
    assert (_conversation(sessions, "1").assignee_id, _conversation(sessions, "2").assignee_id) == (
        agent,
        None,
    )
    with transaction(sessions) as session:
        do_assign(session, conversation_id, None)
    assert _conversation(sessions, "1").assignee_id is None
    assert _activity(sessions, channel) == 1 + 2  # the ingest's bump, and one per change


def test_a_member_who_leaves_hands_back_their_conversations(
    sessions: sessionmaker[Session], channel: Channel, agent: int
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", MARCO, 1)])
    with transaction(sessions) as session:
        for external_id in ("1", "2"):
            do_assign(session, _conversation(sessions, external_id).id, agent)
        do_unassign_member(session, channel.workspace_id + 1, agent)  # another workspace
    assert _conversation(sessions, "1").assignee_id == agent

    with transaction(sessions) as session:
        do_unassign_member(session, channel.workspace_id, agent)

    assert {_conversation(sessions, e).assignee_id for e in ("1", "2")} == {None}


# --- labels ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["billing", "  Idea  ", "Città", "x" * 64, "🐛 bug"])
def test_label_names_that_are_fine(name: str) -> None:
    check_label_name(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "label_length"),
        ("   ", "label_length"),
        ("x" * 65, "label_length"),
        ("bell\x07", "label_control_characters"),
        ("new\nline", "label_control_characters"),
        ("evil\u202eoverride", "label_control_characters"),
    ],
)
def test_label_names_that_are_refused(name: str, code: str) -> None:
    with pytest.raises(ValidationError) as error:
        check_label_name(name)
    assert _code(error) == code


def _labels_of(sessions: sessionmaker[Session], conversation_id: int) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Label.name)
                .join(ConversationLabel, ConversationLabel.label_id == Label.id)
                .where(ConversationLabel.conversation_id == conversation_id)
                .order_by(Label.name)
            )
        )


def test_labels_are_created_once_reused_whatever_the_case_and_idempotent(
    sessions: sessionmaker[Session], channel: Channel, workspace: Workspace
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", MARCO, 1)])
    first, second = _conversation(sessions, "1").id, _conversation(sessions, "2").id

    with transaction(sessions) as session:
        billing = do_add_label(session, workspace.id, first, " Billing ")
        again = do_add_label(session, workspace.id, first, "billing")
        city = do_add_label(session, workspace.id, first, "Città")
        city_upper = do_add_label(session, workspace.id, second, "CITTÀ")
        billing_second = do_add_label(session, workspace.id, second, "BILLING")

    assert billing == again == billing_second
    assert city == city_upper != billing
    assert _labels_of(sessions, first) == _labels_of(sessions, second) == ["Billing", "Città"]
    with sessions() as session:
        assert _count(session, Label) == 2
        assert _count(session, ConversationLabel) == 4
    assert _activity(sessions, channel) == 1 + 5  # the ingest's bump, and one per change


def test_each_workspace_has_its_own_labels(
    sessions: sessionmaker[Session], channel: Channel, workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        other = do_create_workspace(session, "other", "Other", actor="test")
    other_channel = make_channel(sessions, other, "support", "twitter")
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    _ingest(sessions, other_channel, [msg("1", GIULIA, 0)])
    with sessions() as session:
        ours, theirs = session.scalars(select(Conversation.id).order_by(Conversation.id)).all()

    with transaction(sessions) as session:
        mine = do_add_label(session, workspace.id, ours, "idea")
        its = do_add_label(session, other.id, theirs, "idea")

    assert mine != its
    with sessions() as session:
        owners = {row[0]: row[1] for row in session.execute(select(Label.id, Label.workspace_id))}
    assert owners == {mine: workspace.id, its: other.id}


def test_removing_a_label_keeps_it_in_the_workspace(
    sessions: sessionmaker[Session], channel: Channel, workspace: Workspace
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", MARCO, 1)])
    first, second = _conversation(sessions, "1").id, _conversation(sessions, "2").id
    with transaction(sessions) as session:
        idea = do_add_label(session, workspace.id, first, "idea")
        do_add_label(session, workspace.id, second, "idea")

    with transaction(sessions) as session:
        do_remove_label(session, first, idea)
        do_remove_label(session, first, idea)

    assert _labels_of(sessions, first) == []
    assert _labels_of(sessions, second) == ["idea"]
    with sessions() as session:
        assert _count(session, Label) == 1


# --- snooze ------------------------------------------------------------------------------


def test_snooze_times_must_be_ahead_and_within_ninety_days() -> None:
    now = at(0)
    check_snooze(now + timedelta(seconds=1), now)
    check_snooze(now + timedelta(days=90), now)
    for until, code in (
        (now, "snooze_not_future"),
        (now - timedelta(hours=1), "snooze_not_future"),
        (now + timedelta(days=90, seconds=1), "snooze_too_long"),
    ):
        with pytest.raises(ValidationError) as error:
            check_snooze(until, now)
        assert _code(error) == code


def test_snoozed_conversations_wake_when_their_time_comes_in_every_workspace(
    runtime: Runtime, channel: Channel
) -> None:
    sessions = runtime.sessions
    with transaction(sessions) as session:
        other = do_create_workspace(session, "other", "Other", actor="test")
    other_channel = make_channel(sessions, other, "mail", "email")
    _ingest(sessions, channel, [msg(str(i), GIULIA, i) for i in range(4)])
    _ingest(sessions, other_channel, [msg("m", NormalizedAuthor("email", "a@b.it"), 0)])
    with sessions() as session:
        ids = session.scalars(select(Conversation.id).order_by(Conversation.id)).all()
    wakes = [at(60), at(120), at(180), None, at(90)]  # the fourth stays open
    for conversation_id, until in zip(ids, wakes, strict=True):
        if until is not None:
            with transaction(sessions, write_lock=True) as session:
                do_snooze(session, conversation_id, until)
    assert _conversation(sessions, "0").status == "snoozed"
    assert _conversation(sessions, "0").snoozed_until == at(60)
    before = _activity(sessions, channel), _activity(sessions, other_channel)

    with transaction(sessions, write_lock=True) as session, statements(runtime.engine) as seen:
        woken = do_wake_snoozed(session, at(120))

    assert woken == 3
    assert len(seen) <= 3  # BEGIN, the update, one bump of every channel concerned
    with sessions() as session:
        rows = session.execute(
            select(Conversation.status, Conversation.snoozed_until).order_by(Conversation.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("open", None),
        ("open", None),
        ("snoozed", at(180)),
        ("open", None),
        ("open", None),
    ]
    assert (_activity(sessions, channel), _activity(sessions, other_channel)) == (
        before[0] + 1,
        before[1] + 1,
    )
    with transaction(sessions, write_lock=True) as session:
        assert do_wake_snoozed(session, at(120)) == 0
    assert not _events(sessions, "reopened")


def test_a_new_inbound_message_wakes_a_snoozed_conversation_without_reopening_it(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 5, "1")])
    conversation_id = _conversation(sessions, "1").id
    with transaction(sessions, write_lock=True) as session:
        do_snooze(session, conversation_id, at(10_000))

    _ingest(sessions, channel, [msg("3", BRAND, 6, "2")])
    assert _conversation(sessions, "1").status == "snoozed"  # the brand's own message
    _ingest(sessions, channel, [msg("4", GIULIA, 8, "3")])

    conversation = _conversation(sessions, "1")
    assert (conversation.status, conversation.snoozed_until) == ("open", None)
    assert conversation.awaiting_since == at(8)
    assert not _events(sessions, "reopened")


def test_a_new_inbound_message_reopens_a_resolved_conversation_and_clears_its_resolution(
    sessions: sessionmaker[Session], channel: Channel, agent: int
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    conversation_id = _conversation(sessions, "1").id
    with transaction(sessions, write_lock=True) as session:
        do_resolve(session, conversation_id, "no_reply_needed", agent, at(5))

    _ingest(sessions, channel, [msg("2", GIULIA, 8, "1")])

    conversation = _conversation(sessions, "1")
    assert (conversation.status, conversation.resolved_at, conversation.resolution_reason) == (
        "open",
        None,
        None,
    )
    assert [e.kind for e in _events(sessions)] == ["resolved", "reopened"]


# --- resolve and reopen ------------------------------------------------------------------


def test_resolving_an_unanswered_conversation_needs_a_reason_other_than_answered(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    conversation = _conversation(sessions, "1")
    assert conversation.awaiting_since is not None

    for reason, code in (
        (None, "resolution_reason_required"),
        ("", "resolution_reason_required"),
        ("answered", "resolution_not_answered"),
        ("bored", "resolution_reason_unknown"),
    ):
        with pytest.raises(ValidationError) as error:
            check_resolve(conversation, reason)
        assert _code(error) == code
    for reason in RESOLUTION_REASONS[1:]:
        assert check_resolve(conversation, reason) == reason


def test_an_answered_conversation_resolves_as_answered_by_default(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 5, "1")])
    conversation = _conversation(sessions, "1")

    assert check_resolve(conversation, None) == "answered"
    assert check_resolve(conversation, "duplicate") == "duplicate"
    with pytest.raises(ValidationError) as error:
        check_resolve(conversation, "bored")
    assert _code(error) == "resolution_reason_unknown"


def test_resolving_an_unanswered_conversation_ends_the_wait_and_records_why(
    sessions: sessionmaker[Session], channel: Channel, agent: int
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0)])
    conversation_id = _conversation(sessions, "1").id
    with transaction(sessions, write_lock=True) as session:
        do_snooze(session, conversation_id, at(600))
        session.execute(update(Conversation).values(due_at=at(60), breached_at=at(61)))

    with transaction(sessions, write_lock=True) as session:
        do_resolve(session, conversation_id, "spam", agent, at(90))

    conversation = _conversation(sessions, "1")
    assert (conversation.status, conversation.resolved_at, conversation.resolution_reason) == (
        "resolved",
        at(90),
        "spam",
    )
    assert (conversation.awaiting_since, conversation.snoozed_until) == (None, None)
    assert (conversation.due_at, conversation.breached_at) == (None, None)
    assert conversation.first_response_at is None  # resolved is not answered
    (event,) = _events(sessions)
    assert (event.kind, event.occurred_at, event.conversation_id) == (
        "resolved",
        at(90),
        conversation_id,
    )
    assert (event.channel_id, event.workspace_id, event.message_id) == (
        channel.id,
        channel.workspace_id,
        None,
    )
    assert event.detail == {"reason": "spam", "unanswered_since": at(0).isoformat(), "by": agent}
    assert _activity(sessions, channel) == 1 + 2  # the ingest's bump, and one per change


def test_resolving_and_reopening_an_answered_conversation(
    sessions: sessionmaker[Session], channel: Channel, agent: int
) -> None:
    _ingest(sessions, channel, [msg("1", GIULIA, 0), msg("2", BRAND, 5, "1")])
    conversation_id = _conversation(sessions, "1").id
    with transaction(sessions, write_lock=True) as session:
        do_resolve(session, conversation_id, "answered", agent, at(10))
    check_reopen(_conversation(sessions, "1"))

    with transaction(sessions, write_lock=True) as session:
        do_reopen(session, conversation_id, agent, at(20))

    conversation = _conversation(sessions, "1")
    assert (conversation.status, conversation.resolved_at, conversation.resolution_reason) == (
        "open",
        None,
        None,
    )
    resolved, reopened = _events(sessions, "resolved"), _events(sessions, "reopened")
    assert [e.detail for e in resolved] == [
        {"reason": "answered", "unanswered_since": None, "by": agent}
    ]
    assert [(e.occurred_at, e.detail, e.conversation_id) for e in reopened] == [
        (at(20), {"by": agent}, conversation_id)
    ]
    with pytest.raises(ValidationError) as error:
        check_reopen(conversation)
    assert _code(error) == "not_resolved"
    assert _activity(sessions, channel) == 1 + 2  # the ingest's bump, and one per change


# --- saved replies -----------------------------------------------------------------------


def test_saved_replies_that_are_fine() -> None:
    check_saved_reply("Benvenuto", "Ciao {first_name}, sono {agent}. {name} {handle}")
    check_saved_reply("x" * 120, "y" * 10_000)


@pytest.mark.parametrize(
    ("title", "body", "code"),
    [
        ("", "ciao", "saved_reply_title_length"),
        ("  ", "ciao", "saved_reply_title_length"),
        ("x" * 121, "ciao", "saved_reply_title_length"),
        ("Vuota", " \n", "saved_reply_empty"),
        ("Lunga", "y" * 10_001, "saved_reply_too_long"),
    ],
)
def test_saved_replies_that_are_refused(title: str, body: str, code: str) -> None:
    with pytest.raises(ValidationError) as error:
        check_saved_reply(title, body)
    assert _code(error) == code


def test_unknown_placeholders_are_named() -> None:
    with pytest.raises(ValidationError, match=r"\{cognome\}, \{nome\}") as error:
        check_saved_reply("Ciao", "Ciao {nome} {cognome}, sono {agent}")
    assert _code(error) == "unknown_placeholders"
    assert getattr(error.value, "values", {}).get("names") == "{cognome}, {nome}"


def test_saved_reply_titles_are_unique_in_a_workspace(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        other = do_create_workspace(session, "other", "Other", actor="test")
    with transaction(sessions) as session:
        first = do_save_reply(session, workspace.id, " Benvenuto ", " Ciao {first_name}! ", "it")
        theirs = do_save_reply(session, other.id, "Benvenuto", "Hi!", "en")

    with pytest.raises(ValidationError) as error, transaction(sessions) as session:
        do_save_reply(session, workspace.id, "Benvenuto", "Ancora", None)
    assert _code(error) == "saved_reply_title_taken"

    with sessions() as session:
        saved = {
            s.id: (s.workspace_id, s.title, s.body, s.language)
            for s in session.scalars(select(SavedReply))
        }
    assert saved == {
        first: (workspace.id, "Benvenuto", "Ciao {first_name}!", "it"),
        theirs: (other.id, "Benvenuto", "Hi!", "en"),
    }


def test_a_saved_reply_is_deleted_only_from_its_own_workspace(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        other = do_create_workspace(session, "other", "Other", actor="test")
        saved = do_save_reply(session, workspace.id, "Benvenuto", "Ciao!", None)

    with pytest.raises(NotFoundError), transaction(sessions) as session:
        do_delete_saved_reply(session, other.id, saved)
    with sessions() as session:
        assert _count(session, SavedReply) == 1
    with transaction(sessions) as session:
        do_delete_saved_reply(session, workspace.id, saved)
    with sessions() as session:
        assert _count(session, SavedReply) == 0


# --- merged conversations keep their notes and labels ------------------------------------


def test_merged_conversations_keep_every_note_and_label(
    sessions: sessionmaker[Session], channel: Channel, workspace: Workspace, agent: int
) -> None:
    # "3" answers "2" and "4" answers "1" before "2" (an answer to "1") is known
    _ingest(sessions, channel, [msg("3", GIULIA, 20, "2")])
    _ingest(sessions, channel, [msg("4", MARCO, 10, "1")])
    waiting_under_2, waiting_under_1 = (_conversation(sessions, k).id for k in ("2", "1"))
    with transaction(sessions) as session:
        for conversation_id, labels in (
            (waiting_under_2, ("billing", "urgent")),
            (waiting_under_1, ("billing", "idea")),
        ):
            for name in labels:
                do_add_label(session, workspace.id, conversation_id, name)
            do_add_note(
                session,
                workspace.id,
                agent,
                f"note on {conversation_id}",
                conversation_id=conversation_id,
                now=at(30),
            )

    _ingest(sessions, channel, [msg("2", GIULIA, 15, "1")])

    merged = _conversation(sessions, "1")
    with sessions() as session:
        assert _count(session, Conversation) == 1
        notes = session.scalars(select(Note.conversation_id)).all()
    assert notes == [merged.id, merged.id]
    assert _labels_of(sessions, merged.id) == ["billing", "idea", "urgent"]
