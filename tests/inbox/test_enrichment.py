"""Ingest reads what arrives: every new inbound message once, the batch in one call; the
brand's messages are not read; conversations take their latest inbound message's
reading and a priority; routing rules may raise it; the queue ranks by it; every writer
of a due date keeps the rank in step; the statements stay as many whatever the batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.priority import HIGH, LOW, NORMAL, URGENT, rank_at
from dialoga.inbox.queue import QueueFilter, queue_page
from dialoga.inbox.routing_actions import RuleDraft, do_create_rule
from dialoga.inbox.sla import parse_business_hours
from dialoga.inbox.sla_actions import do_set_sla_policy
from dialoga.inbox.work import do_reply, do_resolve
from dialoga.runtime import Runtime
from dialoga.understand.reading import INTENTS, SENTIMENTS

from .cast import BRAND, GIULIA, MARCO, at, make_channel, msg, statements
from .queue_data import user
from .reading_data import KeywordReader


@pytest.fixture
def channel(sessions: sessionmaker[Session], workspace: Workspace) -> Channel:
    return make_channel(sessions, workspace, "X", "twitter")


def _ingest(
    sessions: sessionmaker[Session],
    channel: Channel,
    messages: Sequence[NormalizedMessage],
    reader: KeywordReader | None = None,
) -> KeywordReader:
    reader = reader or KeywordReader()
    with transaction(sessions, write_lock=True) as session:
        ingest(session, channel, messages, reader=reader)
    return reader


def _messages(sessions: sessionmaker[Session]) -> dict[str, Message]:
    with sessions() as session:
        return {m.external_id: m for m in session.scalars(select(Message))}


def _conversations(sessions: sessionmaker[Session]) -> dict[str, Conversation]:
    with sessions() as session:
        return {c.thread_key: c for c in session.scalars(select(Conversation))}


def test_inbound_messages_are_read_in_one_call_and_the_brand_s_are_not(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    reader = _ingest(
        sessions,
        channel,
        [
            msg("a", GIULIA, 0, text="Che vergogna, voglio un rimborso"),
            msg("b", BRAND, 5, "a", text="Ci scusi, rimborso in arrivo", language="it"),
            msg("c", MARCO, 10, text="Grazie of the help"),
            msg("d", GIULIA, 20, "b", text="Grazie!"),
        ],
    )

    assert reader.calls == [3]
    found = _messages(sessions)
    assert (found["a"].sentiment, found["a"].intent, found["a"].spam) == (
        "negative",
        "complaint",
        0.05,
    )
    assert (found["c"].language, found["c"].intent) == ("en", "praise")
    assert (found["d"].language, found["d"].sentiment) == ("it", "positive")
    brand = found["b"]
    assert (brand.sentiment, brand.intent, brand.spam, brand.language) == (None, None, None, "it")


def test_the_reader_s_language_wins_unless_it_cannot_tell(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(
        sessions,
        channel,
        [
            msg("hinted", GIULIA, 0, text="the order", language="it"),
            msg("emoji", MARCO, 1, text="👍👍", language="en"),
            msg("bare", NormalizedAuthor("twitter", "p3"), 2, text="🔥"),
        ],
    )

    found = _messages(sessions)
    assert found["hinted"].language == "en"
    assert found["emoji"].language == "en"
    assert found["bare"].language is None


def test_a_conversation_takes_its_latest_inbound_reading_and_a_priority(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(
        sessions,
        channel,
        [
            msg("x1", GIULIA, 0, text="Che vergogna"),
            msg("x2", BRAND, 5, "x1", text="Ci scusi"),
            msg("m1", MARCO, 1, text="Qual è il prezzo?"),
            msg("s1", NormalizedAuthor("twitter", "bot"), 2, text="Bitcoin free!!"),
        ],
    )
    assert _conversations(sessions)["x1"].priority == URGENT
    _ingest(sessions, channel, [msg("x3", GIULIA, 30, "x2", text="Ok, grazie")])
    _ingest(sessions, channel, [msg("late", GIULIA, 4, "x1", text="Vergogna davvero")])

    found = _conversations(sessions)
    giulia = found["x1"]
    assert (giulia.sentiment, giulia.intent, giulia.language) == ("positive", "praise", "it")
    assert giulia.priority == LOW, "a thank-you, and the late complaint is not the latest"
    assert giulia.due_at is not None and giulia.rank_at == rank_at(giulia.due_at, LOW)
    assert (found["m1"].intent, found["m1"].priority) == ("lead", HIGH)
    assert found["m1"].rank_at == found["m1"].due_at - timedelta(hours=1)  # type: ignore[operator]
    assert (found["s1"].intent, found["s1"].priority) == ("spam", LOW)
    assert found["s1"].rank_at == found["s1"].due_at + timedelta(hours=12)  # type: ignore[operator]


def test_a_person_unhappy_before_comes_first_next_time(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, [msg("old", GIULIA, 0, text="Voglio un rimborso")])
    _ingest(
        sessions,
        channel,
        [msg("new", GIULIA, 60, text="Una domanda"), msg("other", MARCO, 61, text="Una domanda")],
    )

    found = _conversations(sessions)
    assert found["old"].priority == HIGH
    assert found["new"].priority == HIGH, "Giulia complained in another conversation"
    assert found["other"].priority == NORMAL


def test_the_queue_puts_an_urgent_complaint_before_an_earlier_thank_you(
    sessions: sessionmaker[Session], channel: Channel, workspace: Workspace
) -> None:
    _ingest(
        sessions,
        channel,
        [
            msg("thanks", MARCO, 0, text="Grazie mille, tutto perfetto"),
            msg("question", NormalizedAuthor("twitter", "p3"), 30, text="A che ora aprite?"),
            msg("complaint", GIULIA, 90, text="Che vergogna, ordine mai arrivato"),
        ],
    )
    found = _conversations(sessions)
    thanks, complaint = found["thanks"], found["complaint"]
    assert thanks.due_at is not None and complaint.due_at is not None
    assert timedelta(0) < complaint.due_at - thanks.due_at < timedelta(hours=4)

    with sessions() as session:
        page = queue_page(session, workspace.id, QueueFilter(), now=at(120))

    by_id = {c.id: key for key, c in found.items()}
    assert [by_id[item.id] for item in page.items] == ["complaint", "question", "thanks"]
    assert [item.priority for item in page.items] == [URGENT, NORMAL, LOW]
    assert page.items[0].due_at == complaint.due_at, "the page still shows the SLA's due date"


def test_routing_rules_raise_the_priority_but_never_lower_it(
    sessions: sessionmaker[Session], channel: Channel, workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        rules = [
            RuleDraft("Fatture", keywords=("fattura",), priority=URGENT),
            RuleDraft("Reclami bassi", intents=("complaint",), priority=LOW),
        ]
        for rule in rules:
            do_create_rule(session, workspace.id, rule, actor="test")

    _ingest(
        sessions,
        channel,
        [
            msg("invoice", GIULIA, 0, text="Manca la fattura"),
            msg("refund", MARCO, 1, text="Rimborso, per favore"),
        ],
    )

    found = _conversations(sessions)
    assert found["invoice"].priority == URGENT
    assert found["invoice"].rank_at == rank_at(found["invoice"].due_at, URGENT)
    assert found["refund"].priority == HIGH


def test_every_writer_of_a_due_date_keeps_the_rank_in_step(
    sessions: sessionmaker[Session], channel: Channel, workspace: Workspace
) -> None:
    _ingest(
        sessions,
        channel,
        [
            msg("angry", GIULIA, 0, text="Vergogna"),
            msg("calm", MARCO, 1, text="Una domanda"),
            msg("done", NormalizedAuthor("twitter", "p3"), 2, text="Grazie"),
        ],
    )

    def ranks() -> dict[str, tuple[object, object]]:
        return {
            key: (c.rank_at, rank_at(c.due_at, c.priority))
            for key, c in _conversations(sessions).items()
        }

    with transaction(sessions, write_lock=True) as session:
        hours = parse_business_hours("")
        do_set_sla_policy(
            session, workspace.id, 600, 600, hours, "Europe/Rome", actor="t", now=at(3)
        )
    assert all(stored == expected and stored for stored, expected in ranks().values())

    conversations = _conversations(sessions)
    agent = user(sessions, "Luca")
    with transaction(sessions, write_lock=True) as session:
        do_reply(session, conversations["angry"].id, agent, "Ci scusi", at(5))
        do_resolve(session, conversations["done"].id, "no_reply_needed", agent, at(6))
    found = ranks()
    assert found["angry"] == (None, None) and found["done"] == (None, None)
    assert found["calm"][0] == found["calm"][1] == _conversations(sessions)["calm"].due_at


def _batch(tag: str, size: int) -> list[NormalizedMessage]:
    """New threads by new and known people, replies to stored ones, and brand answers."""
    batch = []
    for i in range(size):
        author = GIULIA if i % 3 == 0 else NormalizedAuthor("twitter", f"{tag}-p{i}")
        text = ("Vergogna", "Qual è il prezzo?", "Grazie")[i % 3]
        batch.append(msg(f"{tag}-{i}", author, 100 + i, text=text))
        if i % 4 == 0:
            batch.append(msg(f"{tag}-{i}-r", BRAND, 100.5 + i, f"{tag}-{i}", text="Ok"))
    return batch


def test_reading_adds_a_constant_number_of_statements(runtime: Runtime, channel: Channel) -> None:
    _ingest(runtime.sessions, channel, [msg("seed", GIULIA, 0, text="Vergogna")])
    counts = []
    for tag, size in (("s", 10), ("l", 200)):
        reader = KeywordReader()
        with (
            transaction(runtime.sessions, write_lock=True) as session,
            statements(runtime.engine) as seen,
        ):
            ingest(session, channel, _batch(tag, size), reader=reader)
        counts.append(len(seen))
        assert reader.calls == [size]

    assert counts[0] == counts[1], counts
    with runtime.sessions() as session:
        priorities = set(session.scalars(select(Conversation.priority)))
    assert priorities == {URGENT, HIGH, LOW}


def test_the_workspace_s_own_reader_reads_by_default(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    with transaction(sessions, write_lock=True) as session:
        ingest(
            session,
            channel,
            [
                msg("it", GIULIA, 0, text="Il mio ordine non è mai arrivato, è una vergogna!"),
                msg("empty", MARCO, 1, text=""),
            ],
        )

    for message in _messages(sessions).values():
        assert message.sentiment in SENTIMENTS and message.intent in INTENTS
        assert message.spam is not None and 0.0 <= message.spam <= 1.0
    assert _messages(sessions)["it"].language == "it"
