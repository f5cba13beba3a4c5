"""Two writers ingesting overlapping batches at once: nothing duplicated, nothing lost.

Writers of one channel are serialised (SQLite's write lock, PostgreSQL's advisory lock);
identities are shared by the workspace's channels and created with ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact, Identity
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message
from dialoga.insights.models import ReportingEvent

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
BRAND = NormalizedAuthor("twitter", "acme", handle="acme", is_brand=True)


def _thread(number: int) -> list[NormalizedMessage]:
    """A customer question and the brand's answer; customers recur across threads."""
    customer = NormalizedAuthor("twitter", f"c{number % 7}", handle=f"c{number % 7}")
    asked = START + timedelta(minutes=number)
    return [
        NormalizedMessage(f"q{number}", customer, asked, f"domanda {number}"),
        NormalizedMessage(
            f"a{number}", BRAND, asked + timedelta(seconds=90), "risposta", in_reply_to=f"q{number}"
        ),
    ]


def _channels(sessions: sessionmaker[Session], workspace: Workspace) -> list[Channel]:
    with transaction(sessions) as session:
        return [
            do_get_or_create_channel(session, workspace.id, name, "twitter", actor="test")
            for name in ("one", "two")
        ]


def _ingest_in_batches(
    sessions: sessionmaker[Session],
    channel: Channel,
    messages: list[NormalizedMessage],
    errors: list[BaseException],
) -> None:
    try:
        for start in range(0, len(messages), 10):
            with transaction(sessions, write_lock=True) as session:
                ingest(session, channel, messages[start : start + 10])
    except BaseException as error:  # handed to the test thread
        errors.append(error)


def _count(session: Session, entity: object, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(entity).where(*where)) or 0


def test_overlapping_imports_at_once_store_everything_once(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    one, two = _channels(sessions, workspace)
    messages = [m for number in range(60) for m in _thread(number)]
    errors: list[BaseException] = []
    writers = [
        threading.Thread(target=_ingest_in_batches, args=(sessions, one, messages, errors)),
        threading.Thread(target=_ingest_in_batches, args=(sessions, one, messages[::-1], errors)),
        threading.Thread(target=_ingest_in_batches, args=(sessions, two, messages, errors)),
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)

    assert errors == []
    with sessions() as session:
        for channel in (one, two):
            assert _count(session, Message, Message.channel_id == channel.id) == 120
            assert _count(session, Conversation, Conversation.channel_id == channel.id) == 60
        assert _count(session, Identity) == 8  # seven customers and the brand, shared
        assert _count(session, Contact) == 7
        first_responses = session.execute(
            select(ReportingEvent.conversation_id, func.count())
            .where(ReportingEvent.kind == "first_response")
            .group_by(ReportingEvent.conversation_id)
        ).all()
        assert len(first_responses) == 120
        assert {count for _, count in first_responses} == {1}
