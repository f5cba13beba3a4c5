"""Who is signed in, and the CSRF token every form carries.

The session cookie (signed, HttpOnly, SameSite=Lax, Secure when configured) holds the
user's id and a random CSRF token; every state-changing form posts that token back.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

from dialoga.accounts.models import User
from dialoga.runtime import Runtime

CSRF_FIELD = "csrf_token"
USER_KEY = "user_id"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form whose token is missing or not this session's."""
    expected = request.session.get(CSRF_FIELD)
    if (
        not isinstance(expected, str)
        or not submitted
        or not hmac.compare_digest(expected, submitted)
    ):
        raise HTTPException(status_code=403, detail="the form has expired: reload the page")


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token: no fixation)."""
    request.session.clear()
    request.session[USER_KEY] = user.id
    csrf_token(request)


def signed_in_user(request: Request, runtime: Runtime) -> User | None:
    """The user of this session, if any (a deleted user ends the session)."""
    user_id = request.session.get(USER_KEY)
    if not isinstance(user_id, int):
        return None
    with runtime.sessions() as session:
        user = session.get(User, user_id)
    if user is None:
        request.session.clear()
    return user
