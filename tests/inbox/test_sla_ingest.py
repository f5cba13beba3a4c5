"""Ingest keeps each conversation's SLA deadline: set on a new wait, cleared by a reply,
restarted with the next-response target, and a breach flag kept only for its own wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation
from dialoga.inbox.sla import parse_business_hours
from dialoga.inbox.sla_actions import do_flag_breaches, do_set_sla_policy
from dialoga.insights.models import ReportingEvent
from dialoga.runtime import Runtime

from .cast import statements

ROME = ZoneInfo("Europe/Rome")
GIULIA = NormalizedAuthor("twitter", "1157", handle="giulia_r")
BRAND = NormalizedAuthor("twitter", "acme", handle="acme_it", is_brand=True)


def _rome(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


MONDAY_10 = _rome(4, 10)  # Monday 4 March 2024, 10:00 in Rome


def _msg(
    external_id: str,
    at: datetime,
    author: NormalizedAuthor = GIULIA,
    in_reply_to: str | None = None,
) -> NormalizedMessage:
    return NormalizedMessage(
        external_id=external_id, author=author, created_at=at, text="?", in_reply_to=in_reply_to
    )


@pytest.fixture
def channel(sessions: sessionmaker[Session], workspace: Workspace) -> Channel:
    with transaction(sessions) as session:
        return do_get_or_create_channel(session, workspace.id, "support", "twitter", actor="test")


def _ingest(
    sessions: sessionmaker[Session], channel: Channel, *messages: NormalizedMessage
) -> None:
    with transaction(sessions, write_lock=True) as session:
        ingest(session, channel, list(messages))


def _state(sessions: sessionmaker[Session], key: str = "q") -> tuple[Any, ...]:
    """(awaiting since, due at, breached at) of the conversation keyed ``key``."""
    with sessions() as session:
        row = session.execute(
            select(
                Conversation.awaiting_since, Conversation.due_at, Conversation.breached_at
            ).where(Conversation.thread_key == key)
        ).one()
        return tuple(row)


def _flag(sessions: sessionmaker[Session], now: datetime) -> int:
    with transaction(sessions, write_lock=True) as session:
        return do_flag_breaches(session, now)


def test_a_new_conversation_is_due_within_the_first_response_target_in_business_hours(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(
        sessions,
        channel,
        _msg("q", MONDAY_10),
        _msg("friday", _rome(8, 17, 30)),
        _msg("night", _rome(5, 23)),
    )

    assert _state(sessions) == (MONDAY_10, _rome(4, 11), None)
    assert _state(sessions, "friday")[1] == _rome(11, 9, 30)  # the next Monday
    assert _state(sessions, "night")[1] == _rome(6, 10)  # from 9:00 the next morning


def test_a_reply_clears_the_deadline_and_a_later_question_gets_the_next_response_target(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, _msg("q", MONDAY_10))
    _ingest(sessions, channel, _msg("a", MONDAY_10 + timedelta(minutes=30), BRAND, "q"))
    answered = _state(sessions)
    _ingest(sessions, channel, _msg("q2", _rome(4, 16), in_reply_to="a"))

    assert answered == (None, None, None)
    # 240 minutes of business time from Monday 16:00: 2 hours Monday, 2 hours Tuesday
    assert _state(sessions) == (_rome(4, 16), _rome(5, 11), None)


def test_several_messages_in_one_batch_leave_the_deadline_of_the_last_wait(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(
        sessions,
        channel,
        _msg("q", MONDAY_10),
        _msg("a", MONDAY_10 + timedelta(minutes=5), BRAND, "q"),
        _msg("q2", MONDAY_10 + timedelta(minutes=10), in_reply_to="a"),
        _msg("q3", MONDAY_10 + timedelta(minutes=20), in_reply_to="q2"),
    )

    wait = MONDAY_10 + timedelta(minutes=10)
    assert _state(sessions) == (wait, wait + timedelta(hours=4), None)


def test_ingest_follows_the_workspace_policy(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel
) -> None:
    with transaction(sessions, write_lock=True) as session:
        do_set_sla_policy(
            session,
            workspace.id,
            15,
            30,
            parse_business_hours("always"),
            "Europe/Rome",
            actor="test",
            now=MONDAY_10,
        )
    saturday_night = _rome(9, 23, 50)

    _ingest(sessions, channel, _msg("q", saturday_night))

    assert _state(sessions)[1] == saturday_night + timedelta(minutes=15)


def test_a_breach_flag_stays_while_the_wait_lasts_and_goes_with_a_new_wait(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, _msg("q", MONDAY_10))
    flagged = _flag(sessions, _rome(4, 12))
    # she writes again while waiting: the same wait, still late
    _ingest(sessions, channel, _msg("q-more", _rome(4, 11, 30), in_reply_to="q"))
    during = _state(sessions)
    flagged_again = _flag(sessions, _rome(4, 12))
    # a late message from before the breach replays the conversation: still the same wait
    _ingest(sessions, channel, _msg("q-early", MONDAY_10 + timedelta(minutes=1), in_reply_to="q"))
    replayed = _state(sessions)
    # the brand answers and she asks again, in one batch: a new wait, not flagged
    _ingest(
        sessions,
        channel,
        _msg("a", _rome(4, 12, 30), BRAND, "q-more"),
        _msg("q2", _rome(4, 13), in_reply_to="a"),
    )

    assert (flagged, flagged_again) == (1, 0)
    assert during == replayed == (MONDAY_10, _rome(4, 11), _rome(4, 11))
    assert _state(sessions) == (_rome(4, 13), _rome(4, 17), None)
    with sessions() as session:
        kinds = session.scalars(select(ReportingEvent.kind)).all()
    assert kinds.count("sla_breach") == 1


def test_imported_history_from_the_dst_weekend_is_due_on_monday(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(
        sessions,
        channel,
        _msg("q", _rome(29, 17, 30)),  # Friday before clocks go forward
        _msg("autumn", _rome(26, 11, 0, month=10)),  # Saturday before they go back
    )

    assert _state(sessions)[1] == datetime(2024, 4, 1, 7, 30, tzinfo=UTC)  # 09:30 CEST
    assert _state(sessions, "autumn")[1] == datetime(2024, 10, 28, 9, 0, tzinfo=UTC)  # 10:00 CET


# --- the hook costs one query per batch ------------------------------------------------


def test_the_policy_is_read_once_per_batch_whatever_its_size(
    runtime: Runtime, channel: Channel
) -> None:
    people = [NormalizedAuthor("twitter", f"p{i}") for i in range(400)]
    _ingest(runtime.sessions, channel, *[_msg(f"o{i}", MONDAY_10, people[i]) for i in range(400)])

    counts = []
    for size, tag, first in ((1, "w", 399), (20, "s", 0), (200, "l", 100)):
        batch = [_msg(f"{tag}{i}", MONDAY_10, BRAND, f"o{first + i}") for i in range(size)]
        batch += [_msg(f"{tag}n{i}", MONDAY_10 + timedelta(hours=1)) for i in range(size)]
        with (
            transaction(runtime.sessions, write_lock=True) as session,
            statements(runtime.engine) as seen,
        ):
            ingest(session, channel, batch)
        counts.append(len(seen))
        assert sum("sla_policy" in statement for statement in seen) == 1

    assert counts[1] == counts[2], counts  # after a batch that met the people
    with runtime.sessions() as session:
        due = session.execute(
            select(Conversation.thread_key, Conversation.due_at).where(
                Conversation.thread_key.in_(["o0", "o299", "o350", "o399", "sn0", "ln0"])
            )
        ).all()
    assert dict(due) == {
        "o0": None,  # answered by the small batch
        "o299": None,
        "o350": _rome(4, 11),
        "o399": None,  # answered by the first
        "sn0": _rome(4, 12),
        "ln0": _rome(4, 12),
    }
