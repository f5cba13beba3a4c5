"""The settings page: who may change members and roles, the last owner kept, invitation
links and API tokens shown once and stored hashed, other workspaces' ids "not found"."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_api_token, do_create_workspace
from dialoga.accounts.models import ApiToken, Invitation, Member, Workspace
from dialoga.accounts.queries import member_for_api_token
from dialoga.core.crypto import token_digest
from dialoga.core.db import transaction
from dialoga.inbox.sla_actions import policy_for
from dialoga.runtime import Runtime
from dialoga.web.app import create_app

from .conftest import csrf_of, make_user, sign_in

SETTINGS = "/w/acme/settings"
LINK = re.compile(r"http://testserver/invitations/(inv_[A-Za-z0-9_-]+)")
TOKEN = re.compile(r"dlg_[A-Za-z0-9_-]{43}")
SLA_FORM = {
    "first_response_minutes": "30",
    "next_response_minutes": "120",
    "business_hours": "lun-ven 08:30-17:30; sab 09:00-12:00",
    "timezone": "Europe/London",
}


def add_member(runtime: Runtime, workspace: Workspace, email: str, role: str) -> int:
    """A new user with ``role`` in ``workspace``: their member id."""
    user = make_user(runtime.sessions, email)
    with transaction(runtime.sessions) as session:
        return do_add_member(session, workspace.id, user.id, role, actor="test").id


def browser_of(runtime: Runtime, workspace: Workspace, role: str, email: str = "") -> TestClient:
    """A browser signed in as a new member with ``role``."""
    email = email or f"{role}@example.it"
    add_member(runtime, workspace, email, role)
    client = TestClient(create_app(runtime))
    sign_in(client, email)
    return client


def post(client: TestClient, path: str, data: dict[str, str] | None = None) -> Response:
    """A form posted with the page's CSRF token, not following redirects."""
    token = csrf_of(client.get("/signin").text)
    answer: Response = client.post(
        path, data={**(data or {}), "csrf_token": token}, follow_redirects=False
    )
    return answer


def role_of(sessions: sessionmaker[Session], member_id: int) -> str | None:
    with sessions() as session:
        member = session.get(Member, member_id)
        return None if member is None else member.role


@pytest.fixture
def other_workspace(sessions: sessionmaker[Session]) -> Workspace:
    with transaction(sessions) as session:
        return do_create_workspace(session, "beta", "Beta S.r.l.", actor="test")


def test_any_member_reads_the_page_but_only_managers_get_the_forms(
    runtime: Runtime, workspace: Workspace
) -> None:
    owner_id = add_member(runtime, workspace, "anna@example.it", "owner")
    analyst = browser_of(runtime, workspace, "analyst")
    admin = browser_of(runtime, workspace, "admin")

    seen = analyst.get(SETTINGS)
    managed = admin.get(SETTINGS)

    assert seen.status_code == managed.status_code == 200
    assert "anna@example.it" in seen.text and "Proprietario" in seen.text
    assert "/members/" not in seen.text and "/settings/invitations" not in seen.text
    assert f"/members/{owner_id}/role" not in managed.text  # an admin cannot touch an owner
    assert "/settings/invitations" in managed.text
    assert 'value="owner"' not in managed.text


def test_a_stranger_is_told_the_workspace_does_not_exist(
    runtime: Runtime, workspace: Workspace, other_workspace: Workspace
) -> None:
    stranger = browser_of(runtime, other_workspace, "owner")

    assert stranger.get(SETTINGS).status_code == 404


@pytest.mark.parametrize("role", ["agent", "analyst"])
def test_lower_roles_cannot_invite_nor_change_members_nor_the_policy(
    runtime: Runtime, workspace: Workspace, role: str
) -> None:
    target = add_member(runtime, workspace, "marco@example.it", "agent")
    client = browser_of(runtime, workspace, role)

    answers = [
        post(client, f"{SETTINGS}/invitations", {"email": "x@example.it", "role": "agent"}),
        post(client, f"{SETTINGS}/members/{target}/role", {"role": "admin"}),
        post(client, f"{SETTINGS}/members/{target}/remove"),
        post(client, f"{SETTINGS}/sla", SLA_FORM),
    ]

    assert [answer.status_code for answer in answers] == [403] * 4
    assert role_of(runtime.sessions, target) == "agent"
    with runtime.sessions() as session:
        assert session.scalars(select(Invitation)).all() == []
        assert policy_for(session, workspace.id).is_default
    assert 'name="first_response_minutes"' not in client.get(SETTINGS).text


def test_an_owner_changes_a_role_and_removes_a_member_with_their_tokens(
    runtime: Runtime, workspace: Workspace
) -> None:
    owner = browser_of(runtime, workspace, "owner")
    target = add_member(runtime, workspace, "marco@example.it", "agent")
    with transaction(runtime.sessions) as session:
        token = do_create_api_token(session, session.get_one(Member, target), "x", actor="t")

    promoted = post(owner, f"{SETTINGS}/members/{target}/role", {"role": "admin"})
    assert promoted.status_code == 303
    assert promoted.headers["location"] == SETTINGS
    assert role_of(runtime.sessions, target) == "admin"

    removed = post(owner, f"{SETTINGS}/members/{target}/remove")
    assert removed.status_code == 303
    assert role_of(runtime.sessions, target) is None
    with runtime.sessions() as session:
        assert member_for_api_token(session, token) is None
    assert "marco@example.it" not in owner.get(SETTINGS).text


def test_only_an_owner_makes_or_unmakes_an_owner(runtime: Runtime, workspace: Workspace) -> None:
    owner_id = add_member(runtime, workspace, "anna@example.it", "owner")
    agent_id = add_member(runtime, workspace, "marco@example.it", "agent")
    admin = browser_of(runtime, workspace, "admin")

    answers = [
        post(admin, f"{SETTINGS}/members/{agent_id}/role", {"role": "owner"}),
        post(admin, f"{SETTINGS}/members/{owner_id}/role", {"role": "agent"}),
        post(admin, f"{SETTINGS}/members/{owner_id}/remove"),
        post(admin, f"{SETTINGS}/invitations", {"email": "x@example.it", "role": "owner"}),
    ]

    assert [answer.status_code for answer in answers] == [403] * 4
    assert "Solo un proprietario" in answers[0].text
    assert role_of(runtime.sessions, agent_id) == "agent"
    assert role_of(runtime.sessions, owner_id) == "owner"


def test_the_last_owner_can_be_neither_demoted_nor_removed(
    runtime: Runtime, workspace: Workspace
) -> None:
    owner = browser_of(runtime, workspace, "owner")
    with runtime.sessions() as session:
        me = session.scalars(select(Member.id).where(Member.role == "owner")).one()

    demoted = post(owner, f"{SETTINGS}/members/{me}/role", {"role": "admin"})
    removed = post(owner, f"{SETTINGS}/members/{me}/remove")

    assert demoted.status_code == removed.status_code == 400
    assert "almeno un proprietario" in demoted.text
    assert role_of(runtime.sessions, me) == "owner"

    second = add_member(runtime, workspace, "anna@example.it", "owner")
    assert post(owner, f"{SETTINGS}/members/{second}/role", {"role": "agent"}).status_code == 303
    left = post(owner, f"{SETTINGS}/members/{me}/remove")
    assert left.status_code == 400


def test_an_owner_who_leaves_goes_home(runtime: Runtime, workspace: Workspace) -> None:
    owner = browser_of(runtime, workspace, "owner")
    add_member(runtime, workspace, "anna@example.it", "owner")
    with runtime.sessions() as session:
        me = session.scalars(
            select(Member.id).where(Member.role == "owner").order_by(Member.id)
        ).first()

    left = post(owner, f"{SETTINGS}/members/{me}/remove")

    assert left.status_code == 303
    assert left.headers["location"] == "/"
    assert owner.get(SETTINGS).status_code == 404


def test_an_invitation_link_is_shown_once_and_stored_as_a_digest(
    runtime: Runtime, workspace: Workspace
) -> None:
    admin = browser_of(runtime, workspace, "admin")

    created = post(
        admin, f"{SETTINGS}/invitations", {"email": " Marco@Example.it ", "role": "analyst"}
    )

    assert created.status_code == 200
    found = LINK.search(created.text)
    assert found is not None
    token = found.group(1)
    with runtime.sessions() as session:
        invitation = session.scalars(select(Invitation)).one()
    assert invitation.digest == token_digest(token)
    assert (invitation.email, invitation.role) == ("marco@example.it", "analyst")
    again = admin.get(SETTINGS).text
    assert token not in again
    assert "marco@example.it" in again


def test_a_bad_invitation_is_refused_with_the_reason(
    runtime: Runtime, workspace: Workspace
) -> None:
    admin = browser_of(runtime, workspace, "admin")
    add_member(runtime, workspace, "marco@example.it", "agent")

    malformed = post(admin, f"{SETTINGS}/invitations", {"email": "nope", "role": "agent"})
    member = post(admin, f"{SETTINGS}/invitations", {"email": "marco@example.it", "role": "agent"})
    unknown = post(admin, f"{SETTINGS}/invitations", {"email": "x@example.it", "role": "boss"})

    assert malformed.status_code == member.status_code == unknown.status_code == 400
    assert "non è un indirizzo e-mail valido" in malformed.text
    assert 'value="nope"' in malformed.text
    assert "fa già parte del workspace" in member.text
    assert "Ruolo sconosciuto" in unknown.text
    with runtime.sessions() as session:
        assert session.scalars(select(Invitation)).all() == []


def test_an_api_token_is_shown_once_stored_hashed_and_revoked(
    runtime: Runtime, workspace: Workspace
) -> None:
    analyst = browser_of(runtime, workspace, "analyst")

    created = post(analyst, f"{SETTINGS}/tokens", {"name": "cruscotto-notte"})

    assert created.status_code == 200
    found = TOKEN.search(created.text)
    assert found is not None
    token = found.group(0)
    with runtime.sessions() as session:
        stored = session.scalars(select(ApiToken)).one()
    assert stored.digest == token_digest(token) and token not in (stored.name, stored.digest)
    listed = analyst.get(SETTINGS).text
    assert "cruscotto-notte" in listed and token not in listed
    api = TestClient(create_app(runtime))
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/workspaces", headers=bearer).status_code == 200

    revoked = post(analyst, f"{SETTINGS}/tokens/{stored.id}/revoke")

    assert revoked.status_code == 303
    assert api.get("/api/v1/workspaces", headers=bearer).status_code == 401
    assert "cruscotto-notte" not in analyst.get(SETTINGS).text


def test_ids_of_another_workspace_or_member_are_not_found(
    runtime: Runtime, workspace: Workspace, other_workspace: Workspace
) -> None:
    owner = browser_of(runtime, workspace, "owner")
    colleague = add_member(runtime, workspace, "marco@example.it", "agent")
    foreign = add_member(runtime, other_workspace, "zoe@example.it", "agent")
    with transaction(runtime.sessions) as session:
        do_create_api_token(session, session.get_one(Member, foreign), "z", actor="t")
        do_create_api_token(session, session.get_one(Member, colleague), "m", actor="t")
    with runtime.sessions() as session:
        foreign_token, colleague_token = session.scalars(
            select(ApiToken.id).order_by(ApiToken.id)
        ).all()

    answers = [
        post(owner, f"{SETTINGS}/members/{foreign}/role", {"role": "admin"}),
        post(owner, f"{SETTINGS}/members/{foreign}/remove"),
        post(owner, f"{SETTINGS}/tokens/{foreign_token}/revoke"),
        post(owner, f"{SETTINGS}/tokens/{colleague_token}/revoke"),
        post(owner, f"/w/beta/settings/members/{foreign}/remove"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    assert role_of(runtime.sessions, foreign) == "agent"
    with runtime.sessions() as session:
        assert session.scalars(select(ApiToken.revoked_at)).all() == [None, None]


@pytest.mark.parametrize(
    "path",
    [
        f"{SETTINGS}/invitations",
        f"{SETTINGS}/members/1/role",
        f"{SETTINGS}/members/1/remove",
        f"{SETTINGS}/tokens",
        f"{SETTINGS}/tokens/1/revoke",
        f"{SETTINGS}/sla",
    ],
)
def test_every_form_needs_the_csrf_token(runtime: Runtime, workspace: Workspace, path: str) -> None:
    owner = browser_of(runtime, workspace, "owner")
    with transaction(runtime.sessions) as session:
        do_create_api_token(session, session.get_one(Member, 1), "mine", actor="t")
    form = {"email": "x@example.it", "role": "agent", "name": "n", **SLA_FORM}

    missing = owner.post(path, data=form, follow_redirects=False)
    wrong = owner.post(path, data={**form, "csrf_token": "x" * 43}, follow_redirects=False)

    assert missing.status_code == wrong.status_code == 403
    with runtime.sessions() as session:
        assert session.scalars(select(Invitation)).all() == []
        assert session.scalars(select(ApiToken.revoked_at)).all() == [None]
        assert session.scalars(select(Member.role)).all() == ["owner"]
        assert policy_for(session, 1).is_default


def test_the_page_costs_the_same_queries_for_many_members(
    runtime: Runtime, workspace: Workspace
) -> None:
    owner = browser_of(runtime, workspace, "owner")
    statements: list[str] = []
    event.listen(runtime.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    owner.get(SETTINGS)
    few = len(statements)
    for i in range(15):
        add_member(runtime, workspace, f"m{i}@example.it", "agent")
    statements.clear()
    page = owner.get(SETTINGS)

    assert "m14@example.it" in page.text
    assert len(statements) == few


def test_a_manager_sets_the_sla_policy(runtime: Runtime, workspace: Workspace) -> None:
    admin = browser_of(runtime, workspace, "admin")

    saved = post(admin, f"{SETTINGS}/sla", SLA_FORM)

    assert saved.status_code == 303
    assert saved.headers["location"] == SETTINGS
    with runtime.sessions() as session:
        policy = policy_for(session, workspace.id)
    assert (policy.first_response_minutes, policy.next_response_minutes) == (30, 120)
    assert policy.timezone == "Europe/London"
    assert policy.hours_text == "mon-fri 08:30-17:30; sat 09:00-12:00"
    assert 'value="mon-fri 08:30-17:30; sat 09:00-12:00"' in admin.get(SETTINGS).text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("business_hours", "mon-fri 18:00-09:00", "finisce prima di iniziare"),
        ("business_hours", "someday 09:00-18:00", "Giorno sconosciuto"),
        ("timezone", "Mars/Olympus", "Fuso orario sconosciuto"),
        ("first_response_minutes", "0", "tra 1 e 43.200 minuti"),
    ],
)
def test_a_bad_sla_policy_is_refused_and_what_was_typed_kept(
    runtime: Runtime, workspace: Workspace, field: str, value: str, message: str
) -> None:
    owner = browser_of(runtime, workspace, "owner")

    refused = post(owner, f"{SETTINGS}/sla", {**SLA_FORM, field: value})

    assert refused.status_code == 400
    assert 'class="error"' in refused.text and message in refused.text
    assert f'value="{value}"' in refused.text
    with runtime.sessions() as session:
        assert policy_for(session, workspace.id).is_default
