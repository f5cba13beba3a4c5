"""Reads of workspaces and members."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialoga.accounts.models import Workspace
from dialoga.core.errors import NotFoundError


def workspace_by_slug(session: Session, slug: str) -> Workspace:
    """The workspace called ``slug``, or a ``NotFoundError`` that says how to create it."""
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        raise NotFoundError(
            f"workspace {slug!r} does not exist; create it with: dialoga workspace create {slug}"
        )
    return workspace
