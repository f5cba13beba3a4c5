"""The one place tenancy is enforced: request code gets workspaces only through here.

A person who is not a member of a workspace is told it does not exist (never that it
exists and is closed to them); a member whose role is too low is told so.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialoga.accounts.actions import ROLES
from dialoga.accounts.models import Member, Workspace
from dialoga.core.errors import NotFoundError, PermissionDeniedError

MANAGERS = ("owner", "admin")
WRITERS = ("owner", "admin", "agent")


def access_workspace(
    session: Session, user_id: int, slug: str, roles: Collection[str] = ROLES
) -> tuple[Workspace, Member]:
    """The workspace called ``slug`` and the user's membership, if their role is in ``roles``."""
    found = session.execute(
        select(Workspace, Member)
        .join(Member, Member.workspace_id == Workspace.id)
        .where(Workspace.slug == slug, Member.user_id == user_id)
    ).first()
    if found is None:
        raise NotFoundError(f"workspace {slug!r} does not exist")
    workspace, member = found
    if member.role not in roles:
        raise PermissionDeniedError(
            f"your role ({member.role}) does not allow this; it needs: {', '.join(roles)}"
        )
    return workspace, member
