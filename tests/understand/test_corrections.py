"""Corrections and the workspace's understanding choices: a correction changes the message
(and its conversation when it is the latest inbound one, with the priority that follows),
is kept once per message and field, and is refused for bad input, outbound messages and
other workspaces; the tier and languages are validated and read back with defaults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.core.db import transaction
from dialoga.core.errors import NotFoundError, ValidationError
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.priority import HIGH, LOW, NORMAL, URGENT, rank_at
from dialoga.inbox.reading_work import do_correct_reading
from dialoga.understand import actions
from dialoga.understand.actions import check_understanding, do_set_understanding
from dialoga.understand.models import ReadingCorrection
from dialoga.understand.queries import DEFAULT_LANGUAGES, Understanding, understanding_setting
from dialoga.understand.reading import INTENTS, SENTIMENTS, Reading

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BRAND = NormalizedAuthor("twitter", "acme", handle="acme_it", is_brand=True)
GIULIA = NormalizedAuthor("twitter", "115712", handle="giulia_r", display_name="Giulia Rossi")
READ_AS = {"Grazie": ("positive", "praise")}  # anything else: a neutral question


class FixedReader:
    """Reads each text as ``READ_AS`` says, in Italian."""

    def read(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[Reading]:
        readings = []
        for text in texts:
            sentiment, intent = READ_AS.get(text, ("neutral", "question"))
            scores = {s: float(s == sentiment) for s in SENTIMENTS}
            intents = {i: float(i == intent) for i in INTENTS}
            readings.append(Reading("it", sentiment, scores, intent, intents, 0.01))
        return readings


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def msg(
    external_id: str,
    author: NormalizedAuthor,
    minutes: int,
    in_reply_to: str | None = None,
    *,
    text: str,
) -> NormalizedMessage:
    return NormalizedMessage(external_id, author, at(minutes), text, in_reply_to=in_reply_to)


@dataclass(frozen=True)
class Thread:
    conversation_id: int
    messages: dict[str, int]


@pytest.fixture
def thread(sessions: sessionmaker[Session], workspace: Workspace) -> Thread:
    with transaction(sessions, write_lock=True) as session:
        channel = do_get_or_create_channel(session, workspace.id, "X", "twitter", actor="t")
        ingest(
            session,
            channel,
            [
                msg("first", GIULIA, 0, text="Una domanda"),
                msg("answer", BRAND, 5, "first", text="Ecco"),
                msg("latest", GIULIA, 10, "answer", text="Grazie"),
            ],
            reader=FixedReader(),
        )
        rows = session.execute(select(Message.external_id, Message.id)).all()
        conversation_id = session.scalar(select(Conversation.id))
    assert conversation_id is not None
    return Thread(conversation_id, dict(rows))


def _correct(
    sessions: sessionmaker[Session], workspace: Workspace, message_id: int, field: str, value: str
) -> None:
    with transaction(sessions, write_lock=True) as session:
        do_correct_reading(
            session, workspace.id, message_id, field, value, user_id=None, now=at(20)
        )


def _state(sessions: sessionmaker[Session], thread: Thread) -> tuple[Conversation, list[Message]]:
    with sessions() as session:
        messages = list(session.scalars(select(Message).order_by(Message.created_at)))
        return session.get_one(Conversation, thread.conversation_id), messages


def test_correcting_the_latest_message_moves_the_conversation_and_its_priority(
    sessions: sessionmaker[Session], workspace: Workspace, thread: Thread
) -> None:
    conversation, _ = _state(sessions, thread)
    assert (conversation.intent, conversation.priority) == ("praise", LOW)

    _correct(sessions, workspace, thread.messages["latest"], "sentiment", "negative")
    _correct(sessions, workspace, thread.messages["latest"], "intent", "complaint")

    conversation, messages = _state(sessions, thread)
    latest = messages[-1]
    assert (latest.sentiment, latest.intent) == ("negative", "complaint")
    assert (conversation.sentiment, conversation.intent) == ("negative", "complaint")
    assert conversation.priority == URGENT
    assert conversation.rank_at == rank_at(conversation.due_at, URGENT)
    with sessions() as session:
        kept = {c.field: c for c in session.scalars(select(ReadingCorrection))}
    assert set(kept) == {"sentiment", "intent"}
    assert (kept["intent"].previous, kept["intent"].value) == ("praise", "complaint")
    assert kept["intent"].text == "Grazie" and kept["intent"].language == "it"
    assert kept["intent"].workspace_id == workspace.id


def test_correcting_an_earlier_message_leaves_the_conversation(
    sessions: sessionmaker[Session], workspace: Workspace, thread: Thread
) -> None:
    _correct(sessions, workspace, thread.messages["first"], "intent", "lead")

    conversation, messages = _state(sessions, thread)
    assert messages[0].intent == "lead"
    assert (conversation.intent, conversation.priority) == ("praise", LOW)


def test_correcting_again_replaces_the_correction_and_keeps_what_was_read(
    sessions: sessionmaker[Session], workspace: Workspace, thread: Thread
) -> None:
    latest = thread.messages["latest"]
    _correct(sessions, workspace, latest, "intent", "complaint")
    _correct(sessions, workspace, latest, "intent", "question")
    _correct(sessions, workspace, latest, "language", "en")

    with sessions() as session:
        kept = {c.field: c for c in session.scalars(select(ReadingCorrection))}
    assert (kept["intent"].previous, kept["intent"].value) == ("praise", "question")
    assert (kept["language"].previous, kept["language"].value) == ("it", "en")
    assert kept["language"].language == "en"
    conversation, _ = _state(sessions, thread)
    assert (conversation.intent, conversation.language, conversation.priority) == (
        "question",
        "en",
        NORMAL,
    )


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("spam", "0.1", "correction_field_unknown"),
        ("sentiment", "furious", "correction_value_unknown"),
        ("intent", "", "correction_value_unknown"),
        ("language", "xx", "correction_value_unknown"),
        ("language", "und", "correction_value_unknown"),
    ],
)
def test_bad_corrections_are_refused(
    sessions: sessionmaker[Session],
    workspace: Workspace,
    thread: Thread,
    field: str,
    value: str,
    code: str,
) -> None:
    with pytest.raises(ValidationError) as refused:
        _correct(sessions, workspace, thread.messages["latest"], field, value)
    assert refused.value.code == code


def test_the_brand_s_messages_and_other_workspaces_cannot_be_corrected(
    sessions: sessionmaker[Session], workspace: Workspace, thread: Thread
) -> None:
    with pytest.raises(ValidationError) as refused:
        _correct(sessions, workspace, thread.messages["answer"], "sentiment", "positive")
    assert refused.value.code == "correction_outbound"
    with transaction(sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="t")
    with pytest.raises(NotFoundError):
        _correct(sessions, rival, thread.messages["latest"], "sentiment", "negative")
    with pytest.raises(NotFoundError), transaction(sessions, write_lock=True) as session:
        do_correct_reading(
            session,
            workspace.id,
            thread.messages["latest"],
            "intent",
            "lead",
            user_id=None,
            now=at(20),
            conversation_id=thread.conversation_id + 1,
        )

    _, messages = _state(sessions, thread)
    assert [m.intent for m in messages] == ["question", None, "praise"]
    with sessions() as session:
        assert session.scalars(select(ReadingCorrection)).all() == []


def test_a_correction_weighs_the_person_s_other_conversations(
    sessions: sessionmaker[Session], workspace: Workspace, thread: Thread
) -> None:
    with transaction(sessions, write_lock=True) as session:
        channel = do_get_or_create_channel(session, workspace.id, "X", "twitter", actor="t")
        ingest(session, channel, [msg("again", GIULIA, 60, text="Ciao")], reader=FixedReader())
        again = session.scalar(select(Message.id).where(Message.external_id == "again"))
    assert again is not None
    _correct(sessions, workspace, thread.messages["latest"], "intent", "complaint")

    _correct(sessions, workspace, again, "sentiment", "positive")

    with sessions() as session:
        other = session.scalar(
            select(Conversation).where(Conversation.id != thread.conversation_id)
        )
    assert other is not None and other.priority == HIGH, "normal, raised: unhappy before"


def test_the_understanding_setting_defaults_and_changes(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with sessions() as session:
        assert understanding_setting(session, workspace.id) == Understanding(
            "fast", DEFAULT_LANGUAGES
        )

    with transaction(sessions) as session:
        do_set_understanding(session, workspace.id, "fast", ["EN", "it", "es", "en"])

    with sessions() as session:
        found = understanding_setting(session, workspace.id)
    assert (found.tier, found.languages) == ("fast", ("en", "it", "es"))


@pytest.mark.parametrize(
    ("tier", "languages", "code"),
    [
        ("turbo", ["it"], "tier_unknown"),
        ("fast", [], "languages_count"),
        ("fast", ["it", "en", "es", "fr", "de", "pt", "nl"], "languages_count"),
        ("fast", ["it", "klingon"], "languages_unknown"),
        ("fast", ["x" * 10_000], "languages_unknown"),
    ],
)
def test_bad_understanding_settings_are_refused(tier: str, languages: list[str], code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_understanding(tier, languages)
    assert refused.value.code == code
    assert len(str(refused.value)) < 300


def test_the_deep_tier_needs_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "deep_tier_available", lambda: False)
    with pytest.raises(ValidationError) as refused:
        check_understanding("deep", ["it"])
    assert refused.value.code == "tier_deep_missing"

    monkeypatch.setattr(actions, "deep_tier_available", lambda: True)
    assert check_understanding("deep", ["it"]) == ("it",)
