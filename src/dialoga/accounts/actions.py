"""Every write to workspaces, users, members and the audit log."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialoga.accounts.models import AuditLog, Workspace
from dialoga.core.errors import ValidationError

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


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
    languages: str = "it,en",
) -> Workspace:
    """Create a tenant and log who created it."""
    workspace = Workspace(slug=slug, name=name.strip(), timezone=timezone, languages=languages)
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
