"""Full-text search behind the queue: hostile text never raises, accents never matter,
every word must match, the index follows edits, and it stays in its workspace."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.core.db import transaction
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.queue import QueueFilter, queue_page
from dialoga.inbox.search import fts5_expression, matching_conversation_ids, search_terms
from dialoga.runtime import Runtime

from .queue_data import NOW, ask, channel, recorded

TEXTS = (
    "Perché la consegna è in ritardo? Sono già passati tre giorni",
    "La fattura di ottobre è sbagliata, potete correggerla?",
    "Grazie mille, il caffè è arrivato perfetto!",
    "Where is my order? The delivery is late",
    "Vorrei sapere se spedite in Svizzera, a Zürich",
    "perche nessuno risponde alle email?",
    "Città di Torino: quando aprite il negozio?",
)

HOSTILE = (
    '"',
    '""',
    '"unterminated phrase',
    "NEAR(consegna ritardo)",
    "NEAR(consegna ritardo, 2)",
    "consegna NEAR ritardo",
    "*",
    "***",
    "consegna*",
    "(",
    ")",
    "((consegna)",
    "consegna AND OR NOT",
    "NOT consegna",
    "- consegna",
    "text:consegna",
    "subject:fattura",
    "{text subject}: fattura",
    "^consegna",
    "consegna + ritardo",
    "a & b | !c <-> d",
    "'; DROP TABLE message; --",
    "fattura\x00ottobre",
    "\x00",
    "\u202egnp.exe",
    "🙂 consegna 🙂",
    "_",
    "   \t\n ",
    "x" * 5000,
    " ".join(["consegna"] * 500),
    "ä" * 300,
)


@pytest.fixture
def searchable(runtime: Runtime, workspace: Workspace) -> dict[str, int]:
    """The text of each question, to the id of its conversation."""
    support = channel(runtime.sessions, workspace, "support")
    return dict(zip(TEXTS, ask(runtime.sessions, support, TEXTS), strict=True))


def _search(session: Session, workspace_id: int, text: str | None) -> set[int]:
    filters = QueueFilter(status="all", text=text)
    return {item.id for item in queue_page(session, workspace_id, filters, now=NOW).items}


def test_terms_keep_letters_and_digits_only() -> None:
    assert search_terms('  "NEAR(a* b)" OR c:d -e ^f ') == [
        "NEAR",
        "a",
        "b",
        "OR",
        "c",
        "d",
        "e",
        "f",
    ]
    assert search_terms("perché l'acqua\x00è_fredda") == ["perché", "l", "acqua", "è", "fredda"]
    assert search_terms("   ") == search_terms(None) == search_terms("()*\"'") == []
    assert len(search_terms("a " * 100)) == 16
    assert search_terms("x" * 100) == ["x" * 64]
    assert fts5_expression(["NEAR", "ciao"]) == '"NEAR"* "ciao"*'


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_search_text_never_raises(
    runtime: Runtime, workspace: Workspace, searchable: dict[str, int], text: str
) -> None:
    with runtime.sessions() as session:
        found = _search(session, workspace.id, text)

    assert found <= set(searchable.values())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("perché", {TEXTS[0], TEXTS[5]}),
        ("perche", {TEXTS[0], TEXTS[5]}),
        ("PERCHÉ", {TEXTS[0], TEXTS[5]}),
        ("città", {TEXTS[6]}),
        ("citta", {TEXTS[6]}),
        ("caffe", {TEXTS[2]}),
        ("caffè arrivato", {TEXTS[2]}),
        ("zurich", {TEXTS[4]}),
        ("già", {TEXTS[0]}),
        ("gia passati", {TEXTS[0]}),
    ],
)
def test_accents_never_matter(
    runtime: Runtime,
    workspace: Workspace,
    searchable: dict[str, int],
    query: str,
    expected: set[str],
) -> None:
    with runtime.sessions() as session:
        found = _search(session, workspace.id, query)

    assert found == {searchable[text] for text in expected}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("fattura", {TEXTS[1]}),
        ("fattura ottobre", {TEXTS[1]}),
        ("fattura consegna", set()),
        ("delivery", {TEXTS[3]}),
        ("order late", {TEXTS[3]}),
        ("consegna", {TEXTS[0]}),
    ],
)
def test_every_word_must_match(
    runtime: Runtime,
    workspace: Workspace,
    searchable: dict[str, int],
    query: str,
    expected: set[str],
) -> None:
    with runtime.sessions() as session:
        found = _search(session, workspace.id, query)

    assert found == {searchable[text] for text in expected}


@pytest.mark.parametrize("query", [None, "", "   ", "\t\n", "()"])
def test_a_query_without_words_filters_nothing(
    runtime: Runtime, workspace: Workspace, searchable: dict[str, int], query: str | None
) -> None:
    with runtime.sessions() as session:
        found = _search(session, workspace.id, query)

    assert found == set(searchable.values())


def test_the_subject_is_searched_too(
    runtime: Runtime, workspace: Workspace, searchable: dict[str, int]
) -> None:
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Message)
            .where(Message.conversation_id == searchable[TEXTS[2]])
            .values(subject="Reclamo imballaggio")
        )

    with runtime.sessions() as session:
        found = _search(session, workspace.id, "imballaggio")

    assert found == {searchable[TEXTS[2]]}


def test_the_index_follows_edits_and_deletions(
    runtime: Runtime, workspace: Workspace, searchable: dict[str, int]
) -> None:
    edited, removed = searchable[TEXTS[1]], searchable[TEXTS[3]]
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Message)
            .where(Message.conversation_id == edited)
            .values(text="Il rimborso non è mai arrivato")
        )
        session.execute(delete(Conversation).where(Conversation.id == removed))

    with runtime.sessions() as session:
        assert _search(session, workspace.id, "fattura") == set()
        assert _search(session, workspace.id, "rimborso") == {edited}
        assert _search(session, workspace.id, "delivery") == set()
        support = channel(runtime.sessions, workspace, "support")
    added = ask(runtime.sessions, support, ["Un altro rimborso, per favore"], prefix="new")

    with runtime.sessions() as session:
        assert _search(session, workspace.id, "rimborso") == {edited, *added}


def test_search_stays_in_its_workspace(
    runtime: Runtime, workspace: Workspace, searchable: dict[str, int]
) -> None:
    with transaction(runtime.sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="test")
    theirs = ask(runtime.sessions, channel(runtime.sessions, rival, "x"), ["La fattura, grazie"])

    with runtime.sessions() as session:
        ours = _search(session, workspace.id, "fattura")
        found = _search(session, rival.id, "fattura")

    assert ours == {searchable[TEXTS[1]]}
    assert found == set(theirs)


def test_search_reads_through_its_index(
    runtime: Runtime, workspace: Workspace, searchable: dict[str, int]
) -> None:
    with runtime.sessions() as session:
        matching = matching_conversation_ids(session, workspace.id, "consegna")
        assert matching is not None
        with recorded(runtime.engine) as seen:
            assert set(session.scalars(matching)) == {searchable[TEXTS[0]]}
        sql, parameters = seen[-1]
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {sql}", parameters)
            plan = "\n".join(row[0] for row in rows)
            assert "ix_message_search_italian" in plan, plan
            assert "ix_message_search_english" in plan, plan
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
            plan = "\n".join(str(row[-1]) for row in rows)
            assert "message_fts VIRTUAL TABLE INDEX" in plan, plan
