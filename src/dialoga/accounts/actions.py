"""Every write to workspaces, users, members, tokens, invitations and the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from dialoga.accounts.models import (
    ApiToken,
    AuditLog,
    Invitation,
    LoginAttempt,
    Member,
    User,
    Workspace,
)
from dialoga.core.clock import utcnow
from dialoga.core.crypto import hash_password, new_token, token_digest, verify_password
from dialoga.core.errors import PermissionDeniedError, ValidationError

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")
ROLES = ("owner", "admin", "agent", "analyst")
LOCALES = ("it", "en")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
INVITATION_DAYS = 7
SIGN_IN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 20


def check_create_workspace(session: Session, slug: str, name: str) -> None:
    """Refuse a slug that is malformed or taken, and an empty name."""
    if not _SLUG.match(slug):
        raise ValidationError(
            f"workspace slug {slug!r} must be 1-63 lowercase letters, digits or dashes"
        )
    if not name.strip():
        raise ValidationError("the workspace needs a name")
    if session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        raise ValidationError(f"workspace {slug!r} already exists")


def do_create_workspace(
    session: Session,
    slug: str,
    name: str,
    *,
    actor: str,
    timezone: str = "Europe/Rome",
) -> Workspace:
    """Create a tenant and log who created it."""
    workspace = Workspace(slug=slug, name=name.strip(), timezone=timezone)
    session.add(workspace)
    session.flush()
    do_log(
        session, workspace.id, actor, "workspace.create", "workspace", workspace.id, {"slug": slug}
    )
    return workspace


def do_log(
    session: Session,
    workspace_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: int | str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one line to the audit log."""
    session.add(
        AuditLog(
            workspace_id=workspace_id,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            detail=detail or {},
        )
    )


def check_create_user(session: Session, email: str, name: str, password: str, locale: str) -> None:
    """Refuse a malformed or taken e-mail, an empty name, a short password, a locale we lack."""
    _check_email(email)
    if session.scalar(select(User.id).where(User.email == email.lower())) is not None:
        raise ValidationError(
            f"a user with e-mail {email.lower()!r} already exists",
            code="email_taken",
            email=email.lower(),
        )
    if not name.strip():
        raise ValidationError("the user needs a name", code="name_required")
    check_password(password)
    if locale not in LOCALES:
        raise ValidationError(
            f"language {locale!r} is not available; choose it or en", code="locale_unknown"
        )


def _check_email(email: str) -> None:
    if not _EMAIL.match(email):
        raise ValidationError(f"{email!r} is not an e-mail address", code="email_invalid")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError(
            f"unknown role {role!r}; roles: {', '.join(ROLES)}", code="role_unknown"
        )


def check_password(password: str) -> None:
    """Refuse passwords too short to resist guessing, or absurdly long."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(
            f"the password needs at least {MIN_PASSWORD_CHARS} characters",
            code="password_too_short",
            count=MIN_PASSWORD_CHARS,
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationError(
            f"the password may have at most {MAX_PASSWORD_CHARS} characters",
            code="password_too_long",
            count=MAX_PASSWORD_CHARS,
        )


def do_create_user(
    session: Session, email: str, name: str, password: str, *, actor: str, locale: str = "it"
) -> User:
    """Create a person who can sign in; the password is stored as an argon2 hash only."""
    user = User(
        email=email.lower(),
        display_name=name.strip(),
        password_hash=hash_password(password),
        locale=locale,
    )
    session.add(user)
    session.flush()
    do_log(session, None, actor, "user.create", "user", user.id, {"email": user.email})
    return user


def do_set_locale(session: Session, user_id: int, locale: str) -> None:
    """The language the interface speaks to this user (one of ``LOCALES``)."""
    session.execute(update(User).where(User.id == user_id).values(locale=locale))


def check_add_member(session: Session, workspace_id: int, user_id: int, role: str) -> None:
    """Refuse an unknown role, or a user already in the workspace."""
    _check_role(role)
    existing = session.scalar(
        select(Member.id).where(Member.workspace_id == workspace_id, Member.user_id == user_id)
    )
    if existing is not None:
        raise ValidationError(
            "that person is already a member of this workspace", code="already_member"
        )


def do_add_member(
    session: Session, workspace_id: int, user_id: int, role: str, *, actor: str
) -> Member:
    """Give a user a role in a workspace."""
    member = Member(workspace_id=workspace_id, user_id=user_id, role=role)
    session.add(member)
    session.flush()
    do_log(
        session,
        workspace_id,
        actor,
        "member.add",
        "member",
        member.id,
        {"user_id": user_id, "role": role},
    )
    return member


def check_invite(
    session: Session, workspace_id: int, inviter_role: str, email: str, role: str
) -> None:
    """Refuse an unknown role, an owner invited by a non-owner, a bad address, a member."""
    _check_role(role)
    _check_owner_rights(inviter_role, role)
    _check_email(email)
    already = session.scalar(
        select(Member.id)
        .join(User, User.id == Member.user_id)
        .where(Member.workspace_id == workspace_id, User.email == email.lower())
    )
    if already is not None:
        raise ValidationError(
            "that person is already a member of this workspace", code="already_member"
        )


def check_change_role(session: Session, actor: Member, target: Member, role: str) -> None:
    """Only an owner makes or unmakes owners; the last owner stays an owner."""
    _check_role(role)
    _check_owner_rights(actor.role, role, target.role)
    if target.role == "owner" and role != "owner":
        _keep_an_owner(session, target.workspace_id)


def do_change_role(session: Session, target: Member, role: str, *, actor: str) -> None:
    """Give a member another role."""
    detail = {"from": target.role, "to": role}
    target.role = role
    do_log(session, target.workspace_id, actor, "member.role", "member", target.id, detail)


def check_remove_member(session: Session, actor: Member, target: Member) -> None:
    """Only an owner removes an owner, and never the last one."""
    if target.role == "owner":
        _check_owner_rights(actor.role, "owner")
        _keep_an_owner(session, target.workspace_id)


def do_remove_member(session: Session, target: Member, *, actor: str) -> None:
    """Take a member out of the workspace; their API tokens go with the membership."""
    detail = {"user_id": target.user_id, "role": target.role}
    session.execute(delete(ApiToken).where(ApiToken.member_id == target.id))
    session.execute(delete(Member).where(Member.id == target.id))
    do_log(session, target.workspace_id, actor, "member.remove", "member", target.id, detail)


def _check_owner_rights(actor_role: str, *roles: str) -> None:
    if "owner" in roles and actor_role != "owner":
        raise PermissionDeniedError(
            "only an owner may make, change or remove an owner", code="owner_only"
        )


def _keep_an_owner(session: Session, workspace_id: int) -> None:
    """Refuse to lose the last owner (owners are locked until commit: no race between two)."""
    owners = session.scalars(
        select(Member.id)
        .where(Member.workspace_id == workspace_id, Member.role == "owner")
        .with_for_update()
    ).all()
    if len(owners) <= 1:
        raise ValidationError("the workspace needs at least one owner", code="last_owner")


def do_create_api_token(session: Session, member: Member, name: str, *, actor: str) -> str:
    """A new API token for ``member``: returned once, stored only as a digest."""
    token = new_token("dlg")
    api_token = ApiToken(
        member_id=member.id, name=name.strip()[:100] or "token", digest=token_digest(token)
    )
    session.add(api_token)
    session.flush()
    do_log(
        session,
        member.workspace_id,
        actor,
        "token.create",
        "api_token",
        api_token.id,
        {"name": api_token.name},
    )
    return token


def do_revoke_api_token(session: Session, api_token: ApiToken, *, actor: str) -> None:
    """Stop a token from working; the row stays, for the audit trail."""
    api_token.revoked_at = utcnow()
    member = session.get_one(Member, api_token.member_id)
    do_log(session, member.workspace_id, actor, "token.revoke", "api_token", api_token.id)


def do_invite(
    session: Session,
    workspace_id: int,
    email: str,
    role: str,
    *,
    invited_by: int | None,
    actor: str,
) -> str:
    """An invitation to join with ``role``: the token (for the link) is returned once."""
    _check_role(role)
    _check_email(email)
    token = new_token("inv")
    invitation = Invitation(
        workspace_id=workspace_id,
        email=email.lower(),
        role=role,
        digest=token_digest(token),
        invited_by=invited_by,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    do_log(
        session,
        workspace_id,
        actor,
        "invitation.create",
        "invitation",
        invitation.id,
        {"email": invitation.email, "role": role},
    )
    return token


def check_open_invitation(session: Session, token: str) -> Invitation:
    """The invitation behind ``token`` (locked until commit) if it can still be redeemed."""
    invitation = session.scalar(
        select(Invitation).where(Invitation.digest == token_digest(token)).with_for_update()
    )
    if invitation is None or invitation.accepted_at is not None:
        raise ValidationError(
            "this invitation does not exist or has already been used", code="invitation_used"
        )
    if invitation.expires_at < utcnow():
        raise ValidationError(
            "this invitation has expired; ask for a new one", code="invitation_expired"
        )
    return invitation


def check_accept_invitation(session: Session, token: str, user: User) -> Invitation:
    """The open invitation behind ``token`` for ``user``'s e-mail, or why it cannot be used."""
    invitation = check_open_invitation(session, token)
    if invitation.email != user.email:
        raise ValidationError(
            "this invitation was sent to another e-mail address", code="invitation_other_email"
        )
    check_add_member(session, invitation.workspace_id, user.id, invitation.role)
    return invitation


def do_accept_invitation(session: Session, invitation: Invitation, user: User) -> Member:
    """Redeem an invitation: the user becomes a member with the invited role."""
    invitation.accepted_at = utcnow()
    return do_add_member(
        session, invitation.workspace_id, user.id, invitation.role, actor=user.email
    )


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of a sign-in: the user, or why not (never saying if the e-mail exists).

    ``refusal`` is ``"wrong_credentials"`` or ``"too_many_attempts"``.
    """

    user: User | None
    refusal: str | None = None


def do_sign_in(session: Session, email: str, password: str, address: str) -> SignIn:
    """Check credentials; failures are recorded and, past a limit, every try is refused.

    Commit the transaction whatever the outcome, so that failures count.
    """
    email = email.strip().lower()
    now = utcnow()
    if _too_many_failures(session, email, address, now):
        return SignIn(None, "too_many_attempts")
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not verify_password(user.password_hash, password[:MAX_PASSWORD_CHARS]):
        if user is None:
            verify_password(None, password[:MAX_PASSWORD_CHARS])  # same time either way
        session.add(LoginAttempt(email=email[:320], address=address[:64], attempted_at=now))
        session.flush()
        return SignIn(None, "wrong_credentials")
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    return SignIn(user)


def _too_many_failures(session: Session, email: str, address: str, now: datetime) -> bool:
    since = now - SIGN_IN_WINDOW
    by_email = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.email == email, LoginAttempt.attempted_at >= since)
    )
    by_address = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.address == address, LoginAttempt.attempted_at >= since)
    )
    return (by_email or 0) >= MAX_FAILURES_PER_EMAIL or (
        by_address or 0
    ) >= MAX_FAILURES_PER_ADDRESS
