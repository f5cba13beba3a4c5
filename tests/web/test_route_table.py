"""Walks the app's whole route table (its OpenAPI description, pages included), so a new
route cannot skip these checks:

- tenancy: a member of workspace A gets 403/404 for workspace B and for B's objects,
  on every method, and B's data is left as it was;
- CSRF: every state-changing page route refuses a missing or wrong token, and the API
  refuses a session caller without the token header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import (
    do_add_member,
    do_create_api_token,
    do_create_workspace,
    do_invite,
)
from dialoga.accounts.models import ApiToken, Member, Workspace
from dialoga.audience.actions import do_run_audit, do_store_profiles
from dialoga.audience.models import AuditRun
from dialoga.audience.verdicts import AuditSettings
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage, NormalizedProfile
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import (
    Conversation,
    ConversationLabel,
    Label,
    Message,
    Note,
    RoutingRule,
    SavedReply,
)
from dialoga.inbox.routing_actions import RuleDraft, do_create_rule
from dialoga.inbox.work import do_add_label, do_add_note, do_save_reply
from dialoga.runtime import Runtime
from dialoga.understand.models import ReadingCorrection, UnderstandingSetting
from dialoga.web.app import create_app

from .conftest import csrf_of, make_user, sign_in

ASKED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# Routes that belong to no workspace: each is checked by its own tests.
GLOBAL_ROUTES = {
    "/",
    "/healthz",
    "/signin",
    "/signout",
    "/language",
    "/api/v1/workspaces",
    "/invitations/{token}",
    "/invitations/{token}/accept",
    "/invitations/{token}/register",
    "/hooks/{channel_id}",
}
# Authenticated by an HMAC signature, not by a session: tests/channels/test_webhooks.py.
SIGNED_ROUTES = {"/hooks/{channel_id}"}
# Plausible values for any form field, so a refusal is about tenancy, not a missing field.
FORM = {
    "text": "Ciao Bea, ti rispondo subito",
    "body": "Una nota",
    "name": "urgente",
    "reason": "spam",
    "hours": "4",
    "assignee": "",
    "title": "Saluto",
    "email": "nuovo@example.it",
    "role": "agent",
    "locale": "en",
    "language": "it",
    "send_anyway": "1",
    "first_response_minutes": "30",
    "next_response_minutes": "120",
    "business_hours": "mon-fri 09:00-18:00",
    "timezone": "Europe/Rome",
    "password": "una-password-lunga",
    "field": "sentiment",
    "value": "negative",
    "tier": "fast",
}
JSON_BODY = {**FORM, "until": "2099-01-01T09:00:00+00:00", "assignee_id": None}


@dataclass(frozen=True)
class Tenant:
    workspace: Workspace
    ids: dict[str, int]


def _tenant(sessions: sessionmaker[Session], slug: str, owner_id: int | None) -> Tenant:
    """A workspace with one of everything a route can name."""
    with transaction(sessions, write_lock=True) as session:
        workspace = do_create_workspace(session, slug, slug.title(), actor="test")
        channel = do_get_or_create_channel(session, workspace.id, "X", "twitter", actor="test")
        author = NormalizedAuthor("twitter", f"bea-{slug}", handle="bea", display_name="Bea")
        ingest(session, channel, [NormalizedMessage(f"{slug}-1", author, ASKED, "Aiuto!")])
        conversation_id = session.scalar(
            select(Conversation.id).where(Conversation.workspace_id == workspace.id)
        )
        assert conversation_id is not None
        label_id = do_add_label(session, workspace.id, conversation_id, "vip")
        do_add_note(session, workspace.id, None, "nota", conversation_id=conversation_id, now=ASKED)
        saved_id = do_save_reply(session, workspace.id, "Grazie", "Grazie {first_name}!", "it")
        rule = RuleDraft("Reclami", intents=("complaint",), label_id=label_id)
        rule_id = do_create_rule(session, workspace.id, rule, actor="t")
        member_ids = []
        if owner_id is not None:
            member_ids.append(do_add_member(session, workspace.id, owner_id, "owner", actor="t").id)
        do_invite(session, workspace.id, "x@example.it", "agent", invited_by=None, actor="t")
        session.flush()
        member_id = member_ids[0] if member_ids else 0
        token_id = 0
        if member_ids:
            member = session.get_one(Member, member_id)
            do_create_api_token(session, member, "ci", actor="t")
            token_id = (
                session.scalar(select(ApiToken.id).where(ApiToken.member_id == member_id)) or 0
            )
        message_id = session.scalar(
            select(Message.id).where(Message.conversation_id == conversation_id)
        )
        follower = NormalizedProfile("twitter", f"bea-{slug}", followers_count=10)
        do_store_profiles(session, workspace.id, channel.id, [follower], ASKED.date())
        run_id = do_run_audit(session, channel, ASKED, AuditSettings()).id
        ids = {
            "conversation_id": conversation_id,
            "message_id": message_id or 0,
            "label_id": label_id,
            "saved_reply_id": saved_id,
            "rule_id": rule_id,
            "member_id": member_id,
            "token_id": token_id,
            "channel_id": channel.id,
            "run_id": run_id,
        }
        session.expunge(workspace)
        return Tenant(workspace, ids)


@pytest.fixture
def tenants(runtime: Runtime, client: TestClient) -> tuple[Tenant, Tenant]:
    alice = make_user(runtime.sessions, "alice@example.it")
    rival_owner = make_user(runtime.sessions, "rita@example.it")
    mine = _tenant(runtime.sessions, "acme", alice.id)
    theirs = _tenant(runtime.sessions, "rival", rival_owner.id)
    sign_in(client, "alice@example.it")
    return mine, theirs


def _routes(runtime: Runtime) -> list[tuple[str, str]]:
    paths = create_app(runtime).openapi()["paths"]
    return [(path, method) for path, methods in paths.items() for method in methods]


def _fill(path: str, slug: str, ids: dict[str, int]) -> str:
    filled = path.replace("{slug}", slug).replace("{network}", "rss")  # not an object
    for name, value in ids.items():
        filled = filled.replace("{" + name + "}", str(value))
    assert "{" not in filled, f"{path}: teach this test the parameters of this route"
    return filled


def _call(client: TestClient, method: str, url: str, token: str) -> int:
    if method == "get":
        response = client.get(url, params={"fragment": ""} if "/events" not in url else None)
        return response.status_code
    if url.startswith("/api/"):
        response = client.request(
            method.upper(), url, json=JSON_BODY, headers={"X-CSRF-Token": token}
        )
    else:
        response = client.request(
            method.upper(), url, data={**FORM, "csrf_token": token}, follow_redirects=False
        )
    return response.status_code


def _counts(sessions: sessionmaker[Session], workspace_id: int) -> dict[str, object]:
    """A fingerprint of a workspace's inbox: what any write would change."""
    with sessions() as session:
        conversation = session.scalar(
            select(Conversation).where(Conversation.workspace_id == workspace_id)
        )
        assert conversation is not None
        return {
            "state": (
                conversation.status,
                conversation.assignee_id,
                conversation.snoozed_until,
                conversation.resolution_reason,
            ),
            "messages": session.scalar(
                select(func.count()).where(Message.workspace_id == workspace_id)
            ),
            "readings": session.execute(
                select(Message.language, Message.sentiment, Message.intent)
                .where(Message.workspace_id == workspace_id)
                .order_by(Message.id)
            ).all(),
            "corrections": session.scalar(
                select(func.count()).where(ReadingCorrection.workspace_id == workspace_id)
            ),
            "understanding": session.execute(
                select(UnderstandingSetting.tier, UnderstandingSetting.languages).where(
                    UnderstandingSetting.workspace_id == workspace_id
                )
            ).all(),
            "notes": session.scalar(select(func.count()).where(Note.workspace_id == workspace_id)),
            "labels": session.scalar(
                select(func.count())
                .select_from(ConversationLabel)
                .join(Label, Label.id == ConversationLabel.label_id)
                .where(Label.workspace_id == workspace_id)
            ),
            "saved": session.scalar(
                select(func.count()).where(SavedReply.workspace_id == workspace_id)
            ),
            "members": session.scalar(
                select(func.count()).where(Member.workspace_id == workspace_id)
            ),
            "audits": session.scalar(
                select(func.count()).where(AuditRun.workspace_id == workspace_id)
            ),
            "rules": session.execute(
                select(RoutingRule.name, RoutingRule.position, RoutingRule.enabled)
                .where(RoutingRule.workspace_id == workspace_id)
                .order_by(RoutingRule.id)
            ).all(),
        }


def test_every_route_hides_other_tenants(
    runtime: Runtime, client: TestClient, tenants: tuple[Tenant, Tenant]
) -> None:
    mine, theirs = tenants
    token = csrf_of(client.get("/w/acme/inbox").text)
    before = _counts(runtime.sessions, theirs.workspace.id)
    checked = 0
    for path, method in _routes(runtime):
        if path in GLOBAL_ROUTES:
            continue
        assert "{slug}" in path, f"{path}: a workspace route, or add it to GLOBAL_ROUTES"
        their_url = _fill(path, theirs.workspace.slug, theirs.ids)
        assert _call(client, method, their_url, token) == 404, f"{method} {their_url}"
        if set(theirs.ids) & {p.strip("{}") for p in path.split("/")}:
            mixed = _fill(path, mine.workspace.slug, theirs.ids)
            assert _call(client, method, mixed, token) in (403, 404), f"{method} {mixed}"
        checked += 1
    assert checked >= 15, "the route table has the inbox, settings and API routes"
    assert _counts(runtime.sessions, theirs.workspace.id) == before


def test_every_state_changing_page_wants_the_csrf_token(
    runtime: Runtime, client: TestClient, tenants: tuple[Tenant, Tenant]
) -> None:
    mine, _ = tenants
    before = _counts(runtime.sessions, mine.workspace.id)
    checked = 0
    for path, method in _routes(runtime):
        if method == "get" or "{token}" in path or path in SIGNED_ROUTES:
            continue
        url = _fill(path, mine.workspace.slug, mine.ids)
        if url.startswith("/api/"):
            refused = client.request(method.upper(), url, json=JSON_BODY)
            assert refused.status_code == 403, f"{method} {url} without the CSRF header"
            continue
        for token in (None, "not-the-token"):
            data = dict(FORM) if token is None else {**FORM, "csrf_token": token}
            response = client.request(method.upper(), url, data=data, follow_redirects=False)
            assert response.status_code == 403, f"{method} {url} with token {token!r}"
        checked += 1
    assert checked >= 10
    assert _counts(runtime.sessions, mine.workspace.id) == before


def test_the_csrf_token_lets_the_same_forms_through(
    runtime: Runtime, client: TestClient, tenants: tuple[Tenant, Tenant]
) -> None:
    mine, _ = tenants
    token = csrf_of(client.get("/w/acme/inbox").text)
    url = f"/w/acme/inbox/{mine.ids['conversation_id']}/notes"

    response = client.post(url, data={"body": "ok", "csrf_token": token}, follow_redirects=False)

    assert response.status_code == 303
    assert _counts(runtime.sessions, mine.workspace.id)["notes"] == 2


def test_invitation_tokens_of_another_workspace_do_not_make_members(
    runtime: Runtime, client: TestClient, tenants: tuple[Tenant, Tenant]
) -> None:
    _, theirs = tenants
    with transaction(runtime.sessions) as session:
        invitation = do_invite(
            session, theirs.workspace.id, "someone@else.it", "agent", invited_by=None, actor="t"
        )
    token = csrf_of(client.get("/w/acme/inbox").text)

    client.post(f"/invitations/{invitation}/accept", data={"csrf_token": token})

    assert _counts(runtime.sessions, theirs.workspace.id)["members"] == 1
    assert client.get("/w/rival/inbox").status_code == 404
