"""A signed-in browser for the web tests: a member of the ``workspace`` fixture."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_user
from dialoga.accounts.models import User, Workspace
from dialoga.core.db import transaction
from dialoga.runtime import Runtime
from dialoga.web.app import create_app

PASSWORD = "una-password-lunga"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(sessions: sessionmaker[Session], email: str) -> User:
    with transaction(sessions) as session:
        return do_create_user(
            session, email, email.split("@", maxsplit=1)[0].title(), PASSWORD, actor="test"
        )


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_of(client.get("/signin").text)
    response = client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime))


@pytest.fixture
def member_client(runtime: Runtime, workspace: Workspace, client: TestClient) -> TestClient:
    user = make_user(runtime.sessions, "giulia@example.it")
    with transaction(runtime.sessions) as session:
        do_add_member(session, workspace.id, user.id, "agent", actor="test")
    sign_in(client, "giulia@example.it")
    return client
