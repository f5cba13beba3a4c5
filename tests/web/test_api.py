"""The JSON API: authentication, the queue, one conversation, and tenancy checked over
every API route the app has (a new route cannot skip it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_api_token, do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.audience.service import run_channel_audit
from dialoga.audience.verdicts import AuditSettings
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.queue import QueueFilter, queue_page
from dialoga.runtime import Runtime
from dialoga.web.app import create_app

from .conftest import make_user

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
BRAND = NormalizedAuthor("twitter", "acme", handle="acme", is_brand=True)


def _conversations(sessions: sessionmaker[Session], workspace: Workspace, count: int) -> None:
    """``count`` questions; the even ones answered; the others due an hour after they were
    asked, so older questions are more overdue."""
    messages = []
    for i in range(count):
        author = NormalizedAuthor("twitter", f"u{workspace.id}-{i}", handle=f"user{i}")
        asked = START + timedelta(minutes=i)
        messages.append(NormalizedMessage(f"{workspace.id}-q{i}", author, asked, f"domanda {i}"))
        if i % 2 == 0:
            messages.append(
                NormalizedMessage(
                    f"{workspace.id}-a{i}",
                    BRAND,
                    asked + timedelta(minutes=5),
                    "risposta",
                    in_reply_to=f"{workspace.id}-q{i}",
                )
            )
    with transaction(sessions, write_lock=True) as session:
        channel = do_get_or_create_channel(session, workspace.id, "X", "twitter", actor="test")
        ingest(session, channel, messages)
        session.execute(
            update(Conversation).where(Conversation.channel_id == channel.id).values(due_at=None)
        )
        for i in range(1, count, 2):
            waiting = select(Message.conversation_id).where(
                Message.external_id == f"{workspace.id}-q{i}"
            )
            session.execute(
                update(Conversation)
                .where(Conversation.id == waiting.scalar_subquery())
                .values(due_at=START + timedelta(minutes=i, hours=1))
            )


def _token(sessions: sessionmaker[Session], workspace: Workspace, email: str) -> str:
    user = make_user(sessions, email)
    with transaction(sessions) as session:
        member = do_add_member(session, workspace.id, user.id, "agent", actor="test")
        return do_create_api_token(session, member, "tests", actor="test")


@pytest.fixture
def two_tenants(runtime: Runtime, workspace: Workspace) -> tuple[Workspace, Workspace, str]:
    with transaction(runtime.sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="test")
    _conversations(runtime.sessions, workspace, 4)
    _conversations(runtime.sessions, rival, 3)
    return workspace, rival, _token(runtime.sessions, workspace, "giulia@example.it")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_api_wants_a_valid_token_or_a_session(client: TestClient) -> None:
    assert client.get("/api/v1/workspaces").status_code == 401
    assert client.get("/api/v1/workspaces", headers=_auth("dlg_nope")).status_code == 401


def test_the_queue_puts_the_longest_waiting_first(
    client: TestClient, two_tenants: tuple[Workspace, Workspace, str]
) -> None:
    workspace, _, token = two_tenants

    listed = client.get("/api/v1/workspaces", headers=_auth(token)).json()
    found = client.get(
        f"/api/v1/workspaces/{workspace.slug}/conversations", headers=_auth(token)
    ).json()
    items = found["items"]

    assert listed == [{"slug": "acme", "name": "ACME S.p.A.", "role": "agent"}]
    waiting = [item["last_inbound_text"] for item in items if item["awaiting_since"]]
    assert waiting == ["domanda 1", "domanda 3"]
    assert [item["awaiting_since"] is None for item in items] == [False, False, True, True]
    assert [item["breached"] for item in items] == [True, True, False, False]
    assert found["next_cursor"] is None


def test_one_conversation_with_its_messages(
    client: TestClient, two_tenants: tuple[Workspace, Workspace, str]
) -> None:
    workspace, _, token = two_tenants
    first = client.get(
        f"/api/v1/workspaces/{workspace.slug}/conversations",
        params={"limit": 10},
        headers=_auth(token),
    ).json()
    answered = next(item for item in first["items"] if item["awaiting_since"] is None)

    detail = client.get(
        f"/api/v1/workspaces/{workspace.slug}/conversations/{answered['id']}", headers=_auth(token)
    ).json()

    assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound"]
    assert detail["messages"][1]["author"] == "acme"
    assert detail["notes"] == []
    assert detail["contact_card"]["identities"][0]["network"] == "twitter"
    assert detail["contact_card"]["conversations"] == []


def _workspace_routes(runtime: Runtime) -> list[str]:
    """Every GET path of the API under a workspace, from the app's own OpenAPI description
    (the pages, reached with a session rather than a token, have tests of their own)."""
    paths = create_app(runtime).openapi()["paths"]
    return [
        path
        for path, methods in paths.items()
        if path.startswith("/api/") and "{slug}" in path and "get" in methods
    ]


def test_every_workspace_route_hides_other_tenants(
    runtime: Runtime, client: TestClient, two_tenants: tuple[Workspace, Workspace, str]
) -> None:
    workspace, rival, token = two_tenants
    own = client.get(
        f"/api/v1/workspaces/{workspace.slug}/conversations", headers=_auth(token)
    ).json()["items"][0]["id"]
    with runtime.sessions() as session:
        theirs = queue_page(session, rival.id, QueueFilter(), now=utcnow()).items[0].id
    own_run, their_run = (_audit(runtime, tenant) for tenant in (workspace, rival))
    routes = _workspace_routes(runtime)
    assert routes, "the API has workspace routes"

    for path in routes:
        params = {part.strip("{}") for part in path.split("/") if part.startswith("{")}
        assert params <= {"slug", "conversation_id", "run_id"}, f"{path}: teach this test"
        foreign = _filled(path, rival.slug, theirs, their_run)
        assert client.get(foreign, headers=_auth(token)).status_code == 404, foreign
        if params - {"slug"}:
            mixed = _filled(path, workspace.slug, theirs, their_run)
            assert client.get(mixed, headers=_auth(token)).status_code == 404, mixed
        mine = _filled(path, workspace.slug, own, own_run)
        assert client.get(mine, headers=_auth(token)).status_code == 200, mine


def _audit(runtime: Runtime, workspace: Workspace) -> int:
    """An audit of the workspace's X channel (no followers: an empty one will do)."""
    with runtime.sessions() as session:
        channel = session.scalars(select(Channel).where(Channel.workspace_id == workspace.id))
        channel_id = next(iter(channel)).id
    return run_channel_audit(runtime.sessions, workspace.id, channel_id, AuditSettings())


def _filled(path: str, slug: str, conversation_id: int, run_id: int) -> str:
    return (
        path.replace("{slug}", slug)
        .replace("{conversation_id}", str(conversation_id))
        .replace("{run_id}", str(run_id))
    )


def test_the_queue_costs_the_same_queries_for_any_page_size(
    runtime: Runtime, client: TestClient, two_tenants: tuple[Workspace, Workspace, str]
) -> None:
    workspace, _, token = two_tenants
    statements: list[str] = []
    event.listen(runtime.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    url = f"/api/v1/workspaces/{workspace.slug}/conversations"

    client.get(url, params={"limit": 3}, headers=_auth(token))
    three = len(statements)
    statements.clear()
    client.get(url, params={"limit": 200}, headers=_auth(token))

    assert len(statements) == three


def test_the_queue_pages_and_filters(
    client: TestClient, two_tenants: tuple[Workspace, Workspace, str]
) -> None:
    workspace, _, token = two_tenants
    url = f"/api/v1/workspaces/{workspace.slug}/conversations"
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 1, "status": "all"} | ({"cursor": cursor} if cursor else {})
        page = client.get(url, params=params, headers=_auth(token)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    searched = client.get(url, params={"q": "domanda 3"}, headers=_auth(token)).json()
    breached = client.get(url, params={"breached": "true"}, headers=_auth(token)).json()
    mine = client.get(url, params={"assignee": "me"}, headers=_auth(token)).json()
    nobody = client.get(url, params={"assignee": "none"}, headers=_auth(token)).json()

    assert len(seen) == len(set(seen)) == 4
    assert [item["last_inbound_text"] for item in searched["items"]] == ["domanda 3"]
    assert len(breached["items"]) == 2
    assert mine["items"] == [] and len(nobody["items"]) == 4


@pytest.mark.parametrize(
    "params",
    [{"cursor": "garbage"}, {"assignee": "someone"}, {"status": "closed"}, {"label_id": 0}],
)
def test_the_queue_refuses_bad_parameters(
    client: TestClient, two_tenants: tuple[Workspace, Workspace, str], params: dict[str, Any]
) -> None:
    workspace, _, token = two_tenants
    url = f"/api/v1/workspaces/{workspace.slug}/conversations"

    assert client.get(url, params=params, headers=_auth(token)).status_code in (400, 422)
