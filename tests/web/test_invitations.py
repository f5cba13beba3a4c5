"""Invitation links end to end: invite, open the link, create the account or sign in, join
with the invited role; a link for someone else, a used or expired one, refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from dialoga.accounts.actions import check_accept_invitation, do_accept_invitation, do_invite
from dialoga.accounts.models import Member, User, Workspace
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.runtime import Runtime
from dialoga.web.app import create_app

from .conftest import PASSWORD, csrf_of, make_user, sign_in
from .test_settings import LINK, SETTINGS, browser_of

NEW_PASSWORD = "una-password-nuova"


def invite(runtime: Runtime, workspace: Workspace, email: str, role: str = "agent") -> str:
    with transaction(runtime.sessions) as session:
        return do_invite(session, workspace.id, email, role, invited_by=None, actor="test")


def submit(client: TestClient, path: str, data: dict[str, str] | None = None) -> Response:
    """Post a form of the page at ``path``'s invitation, with its CSRF token."""
    token = csrf_of(client.get("/signin").text)
    answer: Response = client.post(
        path, data={**(data or {}), "csrf_token": token}, follow_redirects=False
    )
    return answer


def role_of(runtime: Runtime, email: str) -> str | None:
    with runtime.sessions() as session:
        return session.scalar(
            select(Member.role).join(User, User.id == Member.user_id).where(User.email == email)
        )


def test_invite_open_the_link_register_and_land_in_the_inbox(
    runtime: Runtime, workspace: Workspace
) -> None:
    owner = browser_of(runtime, workspace, "owner")
    answer = submit(
        owner, f"{SETTINGS}/invitations", {"email": "marco@example.it", "role": "admin"}
    )
    found = LINK.search(answer.text)
    assert found is not None
    path = f"/invitations/{found.group(1)}"
    newcomer = TestClient(create_app(runtime))

    shown = newcomer.get(path)
    assert shown.status_code == 200
    assert "ACME S.p.A." in shown.text and "Amministratore" in shown.text
    assert f'action="{path}/register"' in shown.text
    registered = submit(
        newcomer,
        f"{path}/register",
        {"name": "Marco Rossi", "password": NEW_PASSWORD, "locale": "en"},
    )

    assert registered.status_code == 303
    assert registered.headers["location"] == "/w/acme/inbox"
    assert role_of(runtime, "marco@example.it") == "admin"
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.email == "marco@example.it")).one()
    assert (user.display_name, user.locale) == ("Marco Rossi", "en")
    assert user.password_hash and NEW_PASSWORD not in user.password_hash
    settings = newcomer.get(SETTINGS)  # signed in as the new member
    assert settings.status_code == 200 and "Members" in settings.text
    assert newcomer.get(path).status_code == 410  # used once


def test_an_existing_account_signs_in_first_then_accepts(
    runtime: Runtime, workspace: Workspace
) -> None:
    make_user(runtime.sessions, "marco@example.it")
    path = f"/invitations/{invite(runtime, workspace, 'marco@example.it', 'analyst')}"
    client = TestClient(create_app(runtime))

    shown = client.get(path)
    assert "/signin?next=/invitations/" in shown.text
    assert "/register" not in shown.text
    token = csrf_of(client.get(f"/signin?next={path}").text)
    signed = client.post(
        "/signin",
        data={"email": "marco@example.it", "password": PASSWORD, "csrf_token": token, "next": path},
        follow_redirects=False,
    )
    assert signed.headers["location"] == path
    assert f'action="{path}/accept"' in client.get(path).text

    accepted = submit(client, f"{path}/accept")

    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/w/acme/inbox"
    assert role_of(runtime, "marco@example.it") == "analyst"


def test_an_invitation_for_another_address_is_refused(
    runtime: Runtime, workspace: Workspace
) -> None:
    path = f"/invitations/{invite(runtime, workspace, 'marco@example.it')}"
    make_user(runtime.sessions, "zoe@example.it")
    client = TestClient(create_app(runtime))
    sign_in(client, "zoe@example.it")

    shown = client.get(path)
    accepted = submit(client, f"{path}/accept")

    assert "/accept" not in shown.text and "marco@example.it" in shown.text
    assert accepted.status_code == 400
    assert "altro indirizzo e-mail" in accepted.text
    assert role_of(runtime, "zoe@example.it") is None


def test_accepting_without_signing_in_goes_to_sign_in(
    runtime: Runtime, workspace: Workspace, client: TestClient
) -> None:
    path = f"/invitations/{invite(runtime, workspace, 'marco@example.it')}"

    answer = submit(client, f"{path}/accept")

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/signin?next={path}"


def test_a_bad_account_form_creates_nothing(
    runtime: Runtime, workspace: Workspace, client: TestClient
) -> None:
    path = f"/invitations/{invite(runtime, workspace, 'marco@example.it')}"

    short = submit(client, f"{path}/register", {"name": "Marco", "password": "corta"})
    nameless = submit(client, f"{path}/register", {"name": "  ", "password": NEW_PASSWORD})

    assert short.status_code == nameless.status_code == 400
    assert "almeno 10 caratteri" in short.text and 'value="Marco"' in short.text
    assert "Serve un nome" in nameless.text
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_registering_an_address_that_has_an_account_is_refused(
    runtime: Runtime, workspace: Workspace, client: TestClient
) -> None:
    path = f"/invitations/{invite(runtime, workspace, 'marco@example.it')}"
    make_user(runtime.sessions, "marco@example.it")

    answer = submit(client, f"{path}/register", {"name": "Marco", "password": NEW_PASSWORD})

    assert answer.status_code == 400
    assert role_of(runtime, "marco@example.it") is None


def test_unknown_used_and_expired_links_say_so(
    runtime: Runtime, workspace: Workspace, client: TestClient
) -> None:
    used = invite(runtime, workspace, "marco@example.it")
    expired = invite(runtime, workspace, "zoe@example.it")
    marco = make_user(runtime.sessions, "marco@example.it")
    with transaction(runtime.sessions) as session:
        do_accept_invitation(session, check_accept_invitation(session, used, marco), marco)

    gone = client.get(f"/invitations/{used}")
    with time_machine.travel(utcnow() + timedelta(days=8)):
        late = client.get(f"/invitations/{expired}")
        refused = submit(
            client, f"/invitations/{expired}/register", {"name": "Zoe", "password": NEW_PASSWORD}
        )

    assert client.get("/invitations/inv_nothing-here").status_code == 404
    assert gone.status_code == 410 and "già stato usato" in gone.text
    assert "/register" not in gone.text
    assert late.status_code == 410 and "scaduto" in late.text
    assert refused.status_code == 400
    assert role_of(runtime, "zoe@example.it") is None


@pytest.mark.parametrize("action", ["accept", "register"])
def test_the_invitation_forms_need_the_csrf_token(
    runtime: Runtime, workspace: Workspace, client: TestClient, action: str
) -> None:
    path = f"/invitations/{invite(runtime, workspace, 'marco@example.it')}/{action}"
    client.get("/signin")
    form = {"name": "Marco", "password": NEW_PASSWORD}

    missing = client.post(path, data=form, follow_redirects=False)
    wrong = client.post(path, data={**form, "csrf_token": "x" * 43}, follow_redirects=False)

    assert missing.status_code == wrong.status_code == 403
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
