"""Accounts: users with argon2 passwords, roles, API tokens, invitations, sign-in limits,
and the one function that hands workspaces to request code."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.access import MANAGERS, access_workspace
from dialoga.accounts.actions import (
    MAX_FAILURES_PER_EMAIL,
    check_accept_invitation,
    check_add_member,
    check_create_user,
    do_accept_invitation,
    do_add_member,
    do_create_api_token,
    do_create_user,
    do_create_workspace,
    do_invite,
    do_revoke_api_token,
    do_sign_in,
)
from dialoga.accounts.models import ApiToken, Invitation, LoginAttempt, Member, User, Workspace
from dialoga.accounts.queries import member_for_api_token, memberships
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.errors import NotFoundError, PermissionDeniedError, ValidationError

PASSWORD = "caffè-aurora-2026"


def _user(sessions: sessionmaker[Session], email: str = "giulia@example.it") -> User:
    with transaction(sessions) as session:
        return do_create_user(session, email, "Giulia Rossi", PASSWORD, actor="test")


def _member_of(
    sessions: sessionmaker[Session], workspace: Workspace, user: User, role: str
) -> Member:
    with transaction(sessions) as session:
        return do_add_member(session, workspace.id, user.id, role, actor="test")


def test_passwords_are_stored_as_argon2_hashes_only(sessions: sessionmaker[Session]) -> None:
    user = _user(sessions)

    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("email", "name", "password", "locale", "message"),
    [
        ("not-an-address", "Giulia", PASSWORD, "it", "not an e-mail address"),
        ("g@example.it", " ", PASSWORD, "it", "needs a name"),
        ("g@example.it", "Giulia", "short", "it", "at least 10 characters"),
        ("g@example.it", "Giulia", PASSWORD, "fr", "not available"),
    ],
)
def test_bad_users_are_refused_with_the_reason(
    sessions: sessionmaker[Session],
    email: str,
    name: str,
    password: str,
    locale: str,
    message: str,
) -> None:
    with sessions() as session, pytest.raises(ValidationError, match=message):
        check_create_user(session, email, name, password, locale)


def test_an_email_is_one_user_whatever_its_case(sessions: sessionmaker[Session]) -> None:
    _user(sessions, "Giulia@Example.it")

    with sessions() as session, pytest.raises(ValidationError, match="already exists"):
        check_create_user(session, "GIULIA@example.IT", "Other", PASSWORD, "it")


def test_sign_in_accepts_the_right_password_only(sessions: sessionmaker[Session]) -> None:
    user = _user(sessions)

    with transaction(sessions) as session:
        good = do_sign_in(session, " GIULIA@example.it ", PASSWORD, "127.0.0.1")
        bad = do_sign_in(session, "giulia@example.it", PASSWORD + "x", "127.0.0.1")
        nobody = do_sign_in(session, "nobody@example.it", PASSWORD, "127.0.0.1")

    assert good.user is not None and good.user.id == user.id
    assert bad.user is None and nobody.user is None
    assert bad.refusal == nobody.refusal == "wrong_credentials"


def test_sign_in_is_refused_after_repeated_failures_then_allowed_again(
    sessions: sessionmaker[Session],
) -> None:
    _user(sessions)
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(MAX_FAILURES_PER_EMAIL):
            with transaction(sessions) as session:
                do_sign_in(session, "giulia@example.it", "wrong-password", "10.0.0.7")
        with transaction(sessions) as session:
            blocked = do_sign_in(session, "giulia@example.it", PASSWORD, "10.0.0.8")

        clock.shift(timedelta(minutes=16))
        with transaction(sessions) as session:
            later = do_sign_in(session, "giulia@example.it", PASSWORD, "10.0.0.8")

    assert blocked.user is None
    assert blocked.refusal == "too_many_attempts"
    assert later.user is not None
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    member = _member_of(sessions, workspace, _user(sessions), "agent")
    with transaction(sessions) as session:
        token = do_create_api_token(session, member, "zapier", actor="test")

    with sessions() as session:
        stored = session.scalars(select(ApiToken)).one()
        assert token not in stored.digest and len(stored.digest) == 64
        found = member_for_api_token(session, token)
        assert found is not None and found.id == member.id
        assert member_for_api_token(session, token + "x") is None
    with transaction(sessions) as session:
        do_revoke_api_token(session, session.get_one(ApiToken, stored.id), actor="test")
    with sessions() as session:
        assert member_for_api_token(session, token) is None


def test_an_invitation_is_redeemed_once_by_its_addressee(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        token = do_invite(
            session, workspace.id, "marco@example.it", "analyst", invited_by=None, actor="test"
        )
    marco = _user(sessions, "marco@example.it")
    other = _user(sessions, "other@example.it")

    with sessions() as session, pytest.raises(ValidationError, match="another e-mail"):
        check_accept_invitation(session, token, other)
    with transaction(sessions) as session:
        invitation = check_accept_invitation(session, token, marco)
        member = do_accept_invitation(session, invitation, marco)
    with sessions() as session, pytest.raises(ValidationError, match="already been used"):
        check_accept_invitation(session, token, marco)

    assert member.role == "analyst"


def test_an_expired_invitation_is_refused(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        token = do_invite(
            session, workspace.id, "marco@example.it", "agent", invited_by=None, actor="test"
        )
    marco = _user(sessions, "marco@example.it")

    with (
        time_machine.travel(utcnow() + timedelta(days=8)),
        sessions() as session,
        pytest.raises(ValidationError, match="expired"),
    ):
        check_accept_invitation(session, token, marco)
    with sessions() as session:
        assert session.scalars(select(Invitation)).one().accepted_at is None


def test_roles_and_membership_are_checked(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    user = _user(sessions)
    _member_of(sessions, workspace, user, "agent")

    with sessions() as session:
        with pytest.raises(ValidationError, match="unknown role"):
            check_add_member(session, workspace.id, user.id, "boss")
        with pytest.raises(ValidationError, match="already a member"):
            check_add_member(session, workspace.id, user.id, "admin")


def test_a_member_reaches_their_workspace_and_no_other(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    user = _user(sessions)
    _member_of(sessions, workspace, user, "agent")
    with transaction(sessions) as session:
        do_create_workspace(session, "rival", "Rival S.r.l.", actor="test")

    with sessions() as session:
        found, member = access_workspace(session, user.id, workspace.slug)
        assert (found.id, member.role) == (workspace.id, "agent")
        with pytest.raises(NotFoundError, match="does not exist"):
            access_workspace(session, user.id, "rival")  # exists, but not for this user
        with pytest.raises(PermissionDeniedError, match="agent"):
            access_workspace(session, user.id, workspace.slug, MANAGERS)
        assert [w.slug for w, _ in memberships(session, user.id)] == [workspace.slug]
