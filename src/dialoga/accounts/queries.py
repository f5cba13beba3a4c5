"""Reads of workspaces, users, members, invitations and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialoga.accounts.models import ApiToken, Invitation, Member, User, Workspace
from dialoga.core.clock import utcnow
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


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member of a workspace as the settings page lists them."""

    id: int
    user_id: int
    name: str
    email: str
    role: str
    joined_at: datetime


def workspace_members(session: Session, workspace_id: int) -> list[MemberRow]:
    """Everyone in the workspace with their name and role, by name (one query)."""
    rows = session.execute(
        select(Member.id, User.id, User.display_name, User.email, Member.role, Member.created_at)
        .join(User, User.id == Member.user_id)
        .where(Member.workspace_id == workspace_id)
        .order_by(User.display_name, User.email)
    )
    return [MemberRow(*row) for row in rows]


def member_of_workspace(session: Session, workspace_id: int, member_id: int) -> Member:
    """A member of this workspace; one of another workspace is "not found"."""
    member = session.scalar(
        select(Member).where(Member.id == member_id, Member.workspace_id == workspace_id)
    )
    if member is None:
        raise NotFoundError(f"member {member_id} does not exist")
    return member


def open_invitations(session: Session, workspace_id: int) -> list[Invitation]:
    """Invitations not yet redeemed nor expired, newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.workspace_id == workspace_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at >= utcnow(),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


@dataclass(frozen=True, slots=True)
class InvitationView:
    """An invitation as its link shows it: where to, and whether its addressee has an account.

    ``state`` is ``"open"``, ``"used"`` or ``"expired"``.
    """

    invitation: Invitation
    workspace: Workspace
    account_exists: bool
    state: str


def invitation_by_token(session: Session, token: str) -> InvitationView | None:
    """The invitation behind a link (``None`` for an unknown token), in one query."""
    found = session.execute(
        select(Invitation, Workspace, User.id)
        .join(Workspace, Workspace.id == Invitation.workspace_id)
        .outerjoin(User, User.email == Invitation.email)
        .where(Invitation.digest == token_digest(token))
    ).first()
    if found is None:
        return None
    invitation, workspace, user_id = found
    if invitation.accepted_at is not None:
        state = "used"
    elif invitation.expires_at < utcnow():
        state = "expired"
    else:
        state = "open"
    return InvitationView(invitation, workspace, user_id is not None, state)


def member_api_tokens(session: Session, member_id: int) -> list[ApiToken]:
    """A member's tokens that still work, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.member_id == member_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def api_token_of_member(session: Session, member_id: int, token_id: int) -> ApiToken:
    """One of this member's tokens; anyone else's is "not found"."""
    api_token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.member_id == member_id)
    )
    if api_token is None:
        raise NotFoundError(f"API token {token_id} does not exist")
    return api_token
