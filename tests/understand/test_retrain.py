"""Retraining from a workspace's corrections: the corrected messages and their like are
read the new way in that workspace only, the shipped model is untouched, and retraining
again replaces the adjustment."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Message
from dialoga.understand.actions import do_record_correction
from dialoga.understand.models import WorkspaceHead
from dialoga.understand.readers import shipped_fast_model, shipped_reader, workspace_reader
from dialoga.understand.retrain import retrain_workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
CORRECTED = {
    "La moka elettrica torna disponibile a dicembre?": "lead",
    "Vorrei due chili di miscela Aurora per il bar": "lead",
    "Quando ricevo la mia macinatura su misura?": "lead",
}
UNRELATED = "Grazie mille, siete stati gentilissimi!"


def _store_corrections(sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Corrections as the inbox records them, on messages stored for the purpose."""
    author = NormalizedAuthor("twitter", "9", handle="cliente")
    with transaction(sessions) as session:
        channel = do_get_or_create_channel(session, workspace_id, "X", "twitter", actor="t")
        ingest(
            session,
            channel,
            [NormalizedMessage(f"m{i}", author, NOW, text) for i, text in enumerate(CORRECTED)],
        )
        messages = session.execute(
            select(Message.id, Message.text, Message.intent).where(
                Message.workspace_id == workspace_id
            )
        ).all()
        for message_id, text, intent in messages:
            do_record_correction(
                session,
                workspace_id,
                message_id,
                "intent",
                CORRECTED[text],
                previous=intent,
                text=text,
                language="it",
                user_id=None,
                now=NOW,
            )


def _intents(reader: object, texts: list[str]) -> list[str]:
    return [reading.intent for reading in reader.read(texts)]  # type: ignore[attr-defined]


def test_corrections_teach_the_workspace_and_no_other(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        other = do_create_workspace(session, "rivale", "Rivale", actor="t")
    texts = list(CORRECTED)
    shipped = _intents(shipped_reader(), texts)
    assert shipped != ["lead"] * 3, "the shipped model already knows: pick other texts"
    _store_corrections(sessions, workspace.id)

    with transaction(sessions) as session:
        summary = retrain_workspace(session, workspace.id, shipped_fast_model(), NOW)
    assert summary.examples == {"intent": 3}

    with sessions() as session:
        mine = workspace_reader(session, workspace.id)
        theirs = workspace_reader(session, other.id)
        assert _intents(mine, texts) == ["lead"] * 3
        assert _intents(mine, ["Vorrei la moka elettrica per il mio bar"]) == ["lead"]
        assert _intents(mine, [UNRELATED]) == _intents(shipped_reader(), [UNRELATED])
        assert _intents(theirs, texts) == shipped
    assert _intents(shipped_reader(), texts) == shipped


def test_retraining_again_replaces_the_adjustment(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    _store_corrections(sessions, workspace.id)
    for _ in range(2):
        with transaction(sessions) as session:
            retrain_workspace(session, workspace.id, shipped_fast_model(), NOW)
    with sessions() as session:
        heads = session.scalars(
            select(WorkspaceHead.head).where(WorkspaceHead.workspace_id == workspace.id)
        ).all()
    assert heads == ["intent"]


def test_a_workspace_without_corrections_reads_with_the_shipped_models(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        assert retrain_workspace(session, workspace.id, shipped_fast_model(), NOW).examples == {}
    with sessions() as session:
        assert workspace_reader(session, workspace.id) is shipped_reader("fast", ("it", "en"))
