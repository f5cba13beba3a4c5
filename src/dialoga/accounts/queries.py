"""Reads of workspaces, users, members and API tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialoga.accounts.models import ApiToken, Member, User, Workspace
from dialoga.core.crypto import token_digest
from dialoga.core.errors import NotFoundError


def workspace_by_slug(session: Session, slug: str) -> Workspace:
    """The workspace called ``slug``, or a ``NotFoundError`` that says how to create it."""
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        raise NotFoundError(
            f"workspace {slug!r} does not exist; create it with: dialoga workspace create {slug}"
        )
    return workspace


def user_by_email(session: Session, email: str) -> User:
    """The user with this e-mail, or a ``NotFoundError``."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"no user has the e-mail {email!r}")
    return user


def memberships(session: Session, user_id: int) -> list[tuple[Workspace, Member]]:
    """The workspaces a user belongs to, with their membership, by workspace name."""
    rows = session.execute(
        select(Workspace, Member)
        .join(Member, Member.workspace_id == Workspace.id)
        .where(Member.user_id == user_id)
        .order_by(Workspace.name)
    )
    return [(workspace, member) for workspace, member in rows]


def member_for_api_token(session: Session, token: str) -> Member | None:
    """The member a live API token belongs to (a revoked or unknown token: ``None``)."""
    return session.scalar(
        select(Member)
        .join(ApiToken, ApiToken.member_id == Member.id)
        .where(ApiToken.digest == token_digest(token))
        .where(ApiToken.revoked_at.is_(None))
    )
