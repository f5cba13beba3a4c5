"""The conversation page's reads: the thread with its notes, and the contact's card
(identities, earlier conversations on every channel, notes, sentiment by month), each
in a fixed number of statements and never across workspaces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.contacts.actions import do_link_identity
from dialoga.contacts.models import Identity
from dialoga.core.db import transaction
from dialoga.core.errors import NotFoundError
from dialoga.inbox.actions import ingest
from dialoga.inbox.context import contact_card, conversation_detail
from dialoga.inbox.models import Message, Note
from dialoga.runtime import Runtime

from .queue_data import BRAND, label, recorded, user

NOW = datetime(2026, 4, 1, tzinfo=UTC)
GIULIA_X = NormalizedAuthor("twitter", "g1", "giulia_r", "Giulia Rossi")
GIULIA_MAIL = NormalizedAuthor("email", "giulia@example.it", "giulia@example.it", "G. Rossi")
MARCO = NormalizedAuthor("twitter", "m1", "marco_b", "Marco Bianchi")


def _at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class People:
    workspace: Workspace
    giulia: int
    marco: int
    conversations: dict[str, int]  # first message's external id -> conversation
    agent: int
    x: Channel


def _store(
    sessions: sessionmaker[Session], into: Channel, messages: list[NormalizedMessage]
) -> None:
    with transaction(sessions, write_lock=True) as session:
        ingest(session, into, messages)


def _conversations(session: Session, channel_ids: list[int]) -> dict[str, int]:
    rows = session.execute(
        select(Message.external_id, Message.conversation_id).where(
            Message.channel_id.in_(channel_ids)
        )
    )
    return dict(rows.all())


def _contact_of(session: Session, workspace_id: int, external_id: str) -> int:
    found = session.scalar(
        select(Identity.contact_id).where(
            Identity.workspace_id == workspace_id, Identity.external_id == external_id
        )
    )
    assert found is not None
    return found


@pytest.fixture
def people(runtime: Runtime, workspace: Workspace) -> People:
    sessions = runtime.sessions
    with transaction(sessions) as session:
        x = do_get_or_create_channel(session, workspace.id, "X", "twitter", actor="test")
        mail = do_get_or_create_channel(session, workspace.id, "Posta", "email", actor="test")
    _store(
        sessions,
        x,
        [
            NormalizedMessage("x1", GIULIA_X, _at(1, 10), "Prima domanda"),
            NormalizedMessage("x2", GIULIA_X, _at(1, 20), "Seconda domanda"),
            NormalizedMessage("x3", GIULIA_X, _at(2, 5), "Terza domanda"),
            NormalizedMessage("x3r", BRAND, _at(2, 5, 10), "Risposta", in_reply_to="x3"),
            NormalizedMessage("x3b", GIULIA_X, _at(3, 1), "Grazie", in_reply_to="x3r"),
            NormalizedMessage("m1", MARCO, _at(2, 1), "Sono Marco"),
        ],
    )
    _store(
        sessions,
        mail,
        [
            NormalizedMessage(
                "e1", GIULIA_MAIL, _at(3, 10), "Il mio ordine", kind="email", subject="Ordine 42"
            )
        ],
    )
    agent = user(sessions, "Luca Verdi")
    with transaction(sessions) as session:
        giulia = _contact_of(session, workspace.id, "g1")
        mail_identity = session.scalar(
            select(Identity.id).where(Identity.external_id == "giulia@example.it")
        )
        assert mail_identity is not None
        do_link_identity(session, mail_identity, giulia)
        marco = _contact_of(session, workspace.id, "m1")
        conversations = _conversations(session, [x.id, mail.id])
        # what ingest read aside: these messages are read as the test says
        session.execute(update(Message).values(sentiment=None))
        sentiments = {"x1": "negative", "x2": "positive", "x3": "negative", "e1": "neutral"}
        for external_id, sentiment in sentiments.items():
            session.execute(
                update(Message)
                .where(Message.external_id == external_id)
                .values(sentiment=sentiment)
            )
    return People(workspace, giulia, marco, conversations, agent, x)


def _note(
    sessions: sessionmaker[Session],
    workspace_id: int,
    body: str,
    at: datetime,
    *,
    conversation_id: int | None = None,
    contact_id: int | None = None,
    author_id: int | None = None,
) -> None:
    with transaction(sessions) as session:
        session.add(
            Note(
                workspace_id=workspace_id,
                conversation_id=conversation_id,
                contact_id=contact_id,
                author_id=author_id,
                body=body,
                created_at=at,
            )
        )


def _reply_from_dialoga(
    sessions: sessionmaker[Session], people: People, conversation_id: int, at: datetime
) -> None:
    with transaction(sessions) as session:
        session.add(
            Message(
                workspace_id=people.workspace.id,
                channel_id=people.x.id,
                conversation_id=conversation_id,
                external_id="dialoga-1",
                direction="outbound",
                kind="reply",
                created_at=at,
                text="Ciao Giulia, ci pensiamo noi",
                author_user_id=people.agent,
                delivery="queued",
            )
        )


def test_the_detail_holds_the_thread_its_notes_and_labels(runtime: Runtime, people: People) -> None:
    current = people.conversations["x3"]
    _reply_from_dialoga(runtime.sessions, people, current, _at(2, 6))
    _note(
        runtime.sessions,
        people.workspace.id,
        "Cliente storica",
        _at(2, 7),
        conversation_id=current,
        author_id=people.agent,
    )
    _note(
        runtime.sessions,
        people.workspace.id,
        "Altrove",
        _at(2, 7),
        conversation_id=people.conversations["x1"],
    )
    label(runtime.sessions, people.workspace, "spedizioni", [current])

    with runtime.sessions() as session:
        detail = conversation_detail(session, people.workspace.id, current, now=NOW)

    assert detail.item.id == current and detail.item.contact == "Giulia Rossi"
    assert detail.item.contact_id == people.giulia
    assert detail.item.labels == ["spedizioni"]
    assert [(m.external_id, m.direction, m.author, m.author_user) for m in detail.messages] == [
        ("x3", "inbound", "giulia_r", None),
        ("x3r", "outbound", "acme_it", None),
        ("dialoga-1", "outbound", None, "Luca Verdi"),
        ("x3b", "inbound", "giulia_r", None),
    ]
    assert detail.messages[2].delivery == "queued"
    assert detail.messages[0].sentiment == "negative"
    assert [(n.author, n.body) for n in detail.notes] == [("Luca Verdi", "Cliente storica")]


def test_the_card_gathers_the_person_across_networks(runtime: Runtime, people: People) -> None:
    workspace_id, current = people.workspace.id, people.conversations["x3"]
    sessions = runtime.sessions
    _note(
        sessions,
        workspace_id,
        "Preferisce la mail",
        _at(1, 2),
        contact_id=people.giulia,
        author_id=people.agent,
    )
    _note(
        sessions,
        workspace_id,
        "Chiesto rimborso",
        _at(1, 11),
        conversation_id=people.conversations["x1"],
    )
    _note(sessions, workspace_id, "Qui, non nel card", _at(2, 6), conversation_id=current)
    _note(sessions, workspace_id, "Di Marco", _at(2, 2), contact_id=people.marco)
    _note(sessions, workspace_id, "Su Marco", _at(2, 2), conversation_id=people.conversations["m1"])

    with runtime.sessions() as session:
        card = contact_card(session, workspace_id, people.giulia, exclude_conversation_id=current)

    assert (card.id, card.display_name, card.stage) == (people.giulia, "Giulia Rossi", "new")
    assert [(i.network, i.handle) for i in card.identities] == [
        ("email", "giulia@example.it"),
        ("twitter", "giulia_r"),
    ]
    assert [(c.id, c.channel) for c in card.conversations] == [
        (people.conversations["e1"], "Posta"),
        (people.conversations["x2"], "X"),
        (people.conversations["x1"], "X"),
    ]
    assert card.conversations[0].subject == "Ordine 42"
    assert [n.body for n in card.notes] == ["Chiesto rimborso", "Preferisce la mail"]
    assert card.notes[1].author == "Luca Verdi"
    assert [(m.month, m.negative, m.neutral, m.positive) for m in card.sentiment] == [
        ("2026-01", 1, 0, 1),
        ("2026-02", 1, 0, 0),
        ("2026-03", 0, 1, 0),
    ]
    assert (card.first_seen, card.last_seen, card.message_count) == (_at(1, 10), _at(3, 10), 5)


def test_the_card_without_exclusion_lists_every_conversation(
    runtime: Runtime, people: People
) -> None:
    with runtime.sessions() as session:
        card = contact_card(session, people.workspace.id, people.giulia)

    assert len(card.conversations) == 4


def test_without_analysed_messages_the_sentiment_is_empty(runtime: Runtime, people: People) -> None:
    with runtime.sessions() as session:
        card = contact_card(session, people.workspace.id, people.marco)

    assert card.sentiment == []
    assert card.message_count == 1 and card.conversations[0].id == people.conversations["m1"]


def test_another_workspace_reaches_neither_conversations_nor_contacts(
    runtime: Runtime, people: People
) -> None:
    with transaction(runtime.sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="test")

    with runtime.sessions() as session:
        with pytest.raises(NotFoundError):
            conversation_detail(session, rival.id, people.conversations["x3"], now=NOW)
        with pytest.raises(NotFoundError):
            contact_card(session, rival.id, people.giulia)
        with pytest.raises(NotFoundError):
            contact_card(session, people.workspace.id, people.giulia + people.marco + 100)


def _grow(runtime: Runtime, people: People, count: int) -> None:
    """``count`` more conversations with Giulia, each with a reply and a note."""
    messages = []
    for i in range(count):
        asked = _at(3, 15) + timedelta(hours=i)
        messages.append(NormalizedMessage(f"more{i}", GIULIA_X, asked, f"Ancora {i}"))
        messages.append(
            NormalizedMessage(
                f"more{i}r", BRAND, asked + timedelta(minutes=5), "Ok", in_reply_to=f"more{i}"
            )
        )
        messages.append(
            NormalizedMessage(f"x3-{i}", GIULIA_X, asked, f"E poi {i}", in_reply_to="x3r")
        )
    _store(runtime.sessions, people.x, messages)
    with transaction(runtime.sessions) as session:
        grown = _conversations(session, [people.x.id])
        for i in range(count):
            session.add(
                Note(
                    workspace_id=people.workspace.id,
                    conversation_id=grown[f"more{i}"],
                    body="n",
                    author_id=people.agent,
                )
            )
            session.add(
                Note(
                    workspace_id=people.workspace.id,
                    conversation_id=grown["x3"],
                    body="n",
                    author_id=people.agent,
                )
            )
            session.execute(
                update(Message)
                .where(Message.external_id == f"more{i}")
                .values(sentiment="positive")
            )


def _statements(runtime: Runtime, people: People) -> tuple[int, int, int]:
    """Statements (SQLite's ``BEGIN`` aside) of the detail, then of the card, and how many
    messages and conversations they showed."""
    current = people.conversations["x3"]
    with runtime.sessions() as session:
        session.connection()
        with recorded(runtime.engine) as seen:
            detail = conversation_detail(session, people.workspace.id, current, now=NOW)
        with recorded(runtime.engine) as seen_card:
            card = contact_card(
                session, people.workspace.id, people.giulia, exclude_conversation_id=current
            )
    return len(seen), len(seen_card), len(detail.messages) + len(card.conversations)


def test_statements_do_not_grow_with_the_history(runtime: Runtime, people: People) -> None:
    label(runtime.sessions, people.workspace, "vip", [people.conversations["x3"]])
    small = _statements(runtime, people)
    _grow(runtime, people, 30)
    large = _statements(runtime, people)

    assert large[2] > small[2] + 40, "the history grew"
    assert large[:2] == small[:2]
    assert small[:2] == (4, 5)
