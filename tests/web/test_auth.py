"""Signing in and out: CSRF on every form, no session without the right password,
cookie flags, and a home page that shows a member their own workspaces only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.core.db import transaction
from dialoga.core.settings import Settings
from dialoga.runtime import Runtime
from dialoga.web.app import create_app

from .conftest import PASSWORD, csrf_of, make_user, sign_in


def test_home_sends_strangers_to_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/signin"


def test_sign_in_without_or_with_a_wrong_csrf_token_is_refused(
    client: TestClient, runtime: Runtime
) -> None:
    make_user(runtime.sessions, "giulia@example.it")
    client.get("/signin")
    form = {"email": "giulia@example.it", "password": PASSWORD}

    missing = client.post("/signin", data=form, follow_redirects=False)
    wrong = client.post("/signin", data={**form, "csrf_token": "x" * 43}, follow_redirects=False)

    assert missing.status_code == wrong.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_wrong_password_is_refused_without_saying_whether_the_user_exists(
    client: TestClient, runtime: Runtime
) -> None:
    make_user(runtime.sessions, "giulia@example.it")

    pages = []
    for email in ("giulia@example.it", "nobody@example.it"):
        token = csrf_of(client.get("/signin").text)
        pages.append(
            client.post(
                "/signin", data={"email": email, "password": "not-it-at-all", "csrf_token": token}
            )
        )

    assert [page.status_code for page in pages] == [400, 400]
    assert all("E-mail o password errate." in page.text for page in pages)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_httponly_and_samesite(runtime: Runtime) -> None:
    make_user(runtime.sessions, "giulia@example.it")
    client = TestClient(create_app(runtime))
    token = csrf_of(client.get("/signin").text)

    response = client.post(
        "/signin",
        data={"email": "giulia@example.it", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )

    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_secure_cookies_when_configured(database_url: str) -> None:
    settings = Settings(database_url=database_url, secure_cookies=True, secret_key="k" * 40)
    client = TestClient(create_app(Runtime.from_settings(settings)), base_url="https://testserver")

    response = client.get("/signin")

    assert "secure" in response.headers["set-cookie"].lower()


def test_a_member_sees_their_workspaces_and_not_the_others(
    runtime: Runtime, workspace: Workspace, client: TestClient
) -> None:
    sessions: sessionmaker[Session] = runtime.sessions
    user = make_user(sessions, "giulia@example.it")
    with transaction(sessions) as session:
        do_add_member(session, workspace.id, user.id, "agent", actor="test")
        do_create_workspace(session, "rival", "Rival Segreta S.r.l.", actor="test")
    sign_in(client, "giulia@example.it")

    page = client.get("/").text

    assert "ACME S.p.A." in page
    assert "Rival Segreta" not in page


def test_sign_out_needs_the_csrf_token_and_ends_the_session(
    member_client: TestClient,
) -> None:
    token = csrf_of(member_client.get("/").text)

    refused = member_client.post("/signout", data={}, follow_redirects=False)
    still_in = member_client.get("/", follow_redirects=False)
    done = member_client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
    after = member_client.get("/", follow_redirects=False)

    assert refused.status_code == 403
    assert still_in.status_code == 200
    assert done.status_code == 303
    assert after.status_code == 303
