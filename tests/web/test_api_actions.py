"""The JSON API's writes: the same actions as the inbox pages, with tokens or the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_api_token
from dialoga.accounts.models import Member, Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message, Note
from dialoga.insights.models import ReportingEvent
from dialoga.runtime import Runtime

from .conftest import csrf_of, make_user, sign_in

BEA = NormalizedAuthor("twitter", "bea", handle="bea_rossi", display_name="Beatrice Rossi")


@pytest.fixture
def conversation_id(sessions: sessionmaker[Session], workspace: Workspace) -> int:
    asked = utcnow() - timedelta(hours=2)
    with transaction(sessions, write_lock=True) as session:
        channel = do_get_or_create_channel(session, workspace.id, "X", "twitter", actor="t")
        ingest(session, channel, [NormalizedMessage("q1", BEA, asked, "Dov'è il mio ordine?")])
        found = session.scalar(select(Conversation.id))
        assert found is not None
        return found


def _token(
    sessions: sessionmaker[Session], workspace: Workspace, email: str, role: str
) -> dict[str, str]:
    user = make_user(sessions, email)
    with transaction(sessions) as session:
        member = do_add_member(session, workspace.id, user.id, role, actor="t")
        token = do_create_api_token(session, member, "script", actor="t")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def agent(sessions: sessionmaker[Session], workspace: Workspace) -> dict[str, str]:
    return _token(sessions, workspace, "giulia@example.it", "agent")


def _conversation(sessions: sessionmaker[Session], conversation_id: int) -> Conversation:
    with sessions() as session:
        return session.get_one(Conversation, conversation_id)


def test_a_reply_that_is_not_personal_is_held_back_until_sent_anyway(
    client: TestClient, sessions: sessionmaker[Session], conversation_id: int, agent: dict[str, str]
) -> None:
    url = f"/api/v1/workspaces/acme/conversations/{conversation_id}/replies"

    held = client.post(url, json={"text": "Grazie per averci scritto."}, headers=agent)
    sent = client.post(
        url, json={"text": "Grazie per averci scritto.", "send_anyway": True}, headers=agent
    )

    assert held.status_code == 409
    assert held.json()["warnings"] == ["not_addressed"]
    assert sent.status_code == 201
    with sessions() as session:
        reply = session.get_one(Message, sent.json()["id"])
        assert (reply.direction, reply.delivery) == ("outbound", "queued")
    assert _conversation(sessions, conversation_id).awaiting_since is None


def test_a_personal_reply_goes_out_and_counts_as_the_first_response(
    client: TestClient, sessions: sessionmaker[Session], conversation_id: int, agent: dict[str, str]
) -> None:
    url = f"/api/v1/workspaces/acme/conversations/{conversation_id}/replies"

    sent = client.post(url, json={"text": "Ciao Beatrice, è partito ieri!"}, headers=agent)

    assert sent.status_code == 201
    with sessions() as session:
        kinds = session.scalars(select(ReportingEvent.kind).order_by(ReportingEvent.id)).all()
    assert kinds == ["first_response", "reply"]


def test_notes_labels_assignment_snooze_resolve_and_reopen(
    client: TestClient,
    sessions: sessionmaker[Session],
    workspace: Workspace,
    conversation_id: int,
    agent: dict[str, str],
) -> None:
    base = f"/api/v1/workspaces/acme/conversations/{conversation_id}"
    with sessions() as session:
        me = session.scalars(
            select(Member.user_id).where(Member.workspace_id == workspace.id)
        ).one()
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    assert client.post(f"{base}/notes", json={"body": "VIP"}, headers=agent).status_code == 201
    label = client.post(f"{base}/labels", json={"name": "ordine"}, headers=agent)
    assert client.post(f"{base}/assign", json={"assignee_id": me}, headers=agent).status_code == 200
    assert client.post(f"{base}/snooze", json={"until": until}, headers=agent).status_code == 200
    snoozed = _conversation(sessions, conversation_id)
    no_reason = client.post(f"{base}/resolve", json={}, headers=agent)
    resolved = client.post(f"{base}/resolve", json={"reason": "handled_elsewhere"}, headers=agent)
    closed = _conversation(sessions, conversation_id)
    reopened = client.post(f"{base}/reopen", headers=agent)
    removed = client.delete(f"{base}/labels/{label.json()['id']}", headers=agent)

    assert (snoozed.status, snoozed.assignee_id) == ("snoozed", me)
    assert no_reason.status_code == 400
    assert no_reason.json()["detail"]["code"] == "resolution_reason_required"
    assert resolved.status_code == 200
    assert (closed.status, closed.resolution_reason) == ("resolved", "handled_elsewhere")
    assert reopened.status_code == 200 and removed.status_code == 200
    assert _conversation(sessions, conversation_id).status == "open"
    with sessions() as session:
        assert session.scalars(select(Note.body)).all() == ["VIP"]
    detail = client.get(base, headers=agent).json()
    assert detail["conversation"]["labels"] == [] and detail["notes"][0]["body"] == "VIP"


def test_saved_replies_are_kept_listed_and_deleted(
    client: TestClient, agent: dict[str, str]
) -> None:
    url = "/api/v1/workspaces/acme/saved-replies"

    made = client.post(url, json={"title": "Ciao", "body": "Ciao {first_name}!"}, headers=agent)
    unknown = client.post(url, json={"title": "X", "body": "Ciao {nome}!"}, headers=agent)
    listed = client.get(url, headers=agent).json()
    deleted = client.delete(f"{url}/{made.json()['id']}", headers=agent)
    again = client.delete(f"{url}/{made.json()['id']}", headers=agent)

    assert made.status_code == 201
    assert unknown.status_code == 400 and unknown.json()["detail"]["code"] == "unknown_placeholders"
    assert [reply["title"] for reply in listed] == ["Ciao"]
    assert (deleted.status_code, again.status_code) == (200, 404)


def test_analysts_read_but_do_not_act(
    client: TestClient,
    sessions: sessionmaker[Session],
    workspace: Workspace,
    conversation_id: int,
) -> None:
    analyst = _token(sessions, workspace, "ada@example.it", "analyst")
    base = f"/api/v1/workspaces/acme/conversations/{conversation_id}"

    assert client.get(base, headers=analyst).status_code == 200
    assert client.post(f"{base}/notes", json={"body": "x"}, headers=analyst).status_code == 403


def test_a_session_caller_needs_the_csrf_header(
    client: TestClient, runtime: Runtime, workspace: Workspace, conversation_id: int
) -> None:
    user = make_user(runtime.sessions, "marco@example.it")
    with transaction(runtime.sessions) as session:
        do_add_member(session, workspace.id, user.id, "agent", actor="t")
    sign_in(client, "marco@example.it")
    url = f"/api/v1/workspaces/acme/conversations/{conversation_id}/notes"
    token = csrf_of(client.get("/w/acme/inbox").text)

    refused = client.post(url, json={"body": "x"})
    accepted = client.post(url, json={"body": "x"}, headers={"X-CSRF-Token": token})

    assert (refused.status_code, accepted.status_code) == (403, 201)
