"""The minimal home page and the health endpoint of step 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.runtime import Runtime

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> \u202egnp.exe'


def _store_waiting(sessions: sessionmaker[Session], workspace: Workspace, count: int) -> None:
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with transaction(sessions, write_lock=True) as session:
        channel = do_get_or_create_channel(session, workspace.id, "tw", "twitter", actor="test")
        messages = [
            NormalizedMessage(
                external_id=str(i),
                author=NormalizedAuthor("twitter", f"user{i}", handle=f"user{i}"),
                created_at=start + timedelta(minutes=i),
                text=HOSTILE if i == 0 else f"ciao {i}",
            )
            for i in range(count)
        ]
        ingest(session, channel, messages)


def test_health_endpoint_reaches_the_database(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_home_lists_the_longest_waiting_conversations_with_hostile_text_inert(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    _store_waiting(runtime.sessions, workspace, 3)

    page = member_client.get("/").text

    assert "ACME S.p.A." in page
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page
    assert page.index("user0") < page.index("user1") < page.index("user2")


def test_home_runs_the_same_number_of_queries_whatever_the_data(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    client = member_client
    statements: list[str] = []
    event.listen(runtime.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    client.get("/")
    empty = len(statements)
    _store_waiting(runtime.sessions, workspace, 40)
    statements.clear()
    client.get("/")

    assert len(statements) == empty
