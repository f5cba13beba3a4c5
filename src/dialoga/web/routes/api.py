"""The JSON API (``/api/v1``): the same reads the pages make, for scripts and tools.

A caller authenticates with ``Authorization: Bearer <API token>`` (the token reaches its
own workspace only) or with the browser's session. Workspaces and their objects are
reached through ``accounts.access``: another workspace's objects are "not found".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dialoga.accounts.access import access_workspace
from dialoga.accounts.actions import ROLES
from dialoga.accounts.models import Member, Workspace
from dialoga.accounts.queries import member_for_api_token, memberships
from dialoga.core.clock import utcnow
from dialoga.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from dialoga.inbox.context import (
    ContactCard,
    NoteView,
    ThreadMessage,
    contact_card,
    conversation_detail,
)
from dialoga.inbox.queue import QueueFilter, QueueItem, QueuePage, assignee_filter, queue_page
from dialoga.runtime import Runtime
from dialoga.web.security import signed_in_user

router = APIRouter(prefix="/api/v1", tags=["api"])


class Caller(BaseModel):
    """Who is calling: a user, limited to one workspace when they came with a token."""

    user_id: int
    token_workspace_id: int | None = None


class WorkspaceOut(BaseModel):
    slug: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class ConversationView:
    """One conversation as the API gives it: the queue's view of it, its thread, its
    notes and the card of the person."""

    conversation: QueueItem
    messages: list[ThreadMessage]
    notes: list[NoteView]
    contact_card: ContactCard | None


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def caller(request: Request) -> Caller:
    """The caller, from a bearer token or the session; 401 when neither."""
    runtime = _runtime(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        with runtime.sessions() as session:
            member = member_for_api_token(session, header[7:].strip())
        if member is None:
            raise HTTPException(status_code=401, detail="the API token is not valid")
        return Caller(user_id=member.user_id, token_workspace_id=member.workspace_id)
    user = signed_in_user(request, runtime)
    if user is None:
        raise HTTPException(status_code=401, detail="sign in or send an API token")
    return Caller(user_id=user.id)


CallerDep = Annotated[Caller, Depends(caller)]


def workspace_of(
    session: Session, who: Caller, slug: str, roles: Collection[str] = ROLES
) -> tuple[Workspace, Member]:
    """The caller's workspace ``slug`` (404 when not theirs or not their token's; 403
    when their role is not in ``roles``)."""
    try:
        workspace, member = access_workspace(session, who.user_id, slug, roles)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    except PermissionDeniedError as error:
        raise HTTPException(status_code=403, detail=str(error)) from None
    if who.token_workspace_id not in (None, workspace.id):
        raise HTTPException(status_code=404, detail=f"workspace {slug!r} does not exist")
    return workspace, member


@router.get("/workspaces")
def list_workspaces(request: Request, who: CallerDep) -> list[WorkspaceOut]:
    """The workspaces the caller can reach."""
    with _runtime(request).sessions() as session:
        return [
            WorkspaceOut(slug=w.slug, name=w.name, role=m.role)
            for w, m in memberships(session, who.user_id)
            if who.token_workspace_id in (None, w.id)
        ]


Id = Annotated[int | None, Query(ge=1, le=2**53)]
Word = Annotated[str | None, Query(max_length=32)]


@router.get("/workspaces/{slug}/conversations")
def list_conversations(
    request: Request,
    who: CallerDep,
    slug: str,
    status: Annotated[str, Query(pattern="^(open|resolved|snoozed|all)$")] = "open",
    channel_id: Id = None,
    assignee: Annotated[str | None, Query(pattern="^(me|none|[0-9]{1,15})$")] = None,
    language: Word = None,
    sentiment: Word = None,
    intent: Word = None,
    label_id: Id = None,
    priority: Annotated[int | None, Query(ge=0, le=3)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    breached: bool = False,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QueuePage:
    """The queue, most pressing first (the due date shifted by priority: 0 low, 1 normal,
    2 high, 3 urgent), filtered; ``next_cursor`` asks for the next page."""
    filters = QueueFilter(
        status=status,
        channel_id=channel_id,
        assignee=assignee_filter(assignee, who.user_id),
        language=language,
        sentiment=sentiment,
        intent=intent,
        label_id=label_id,
        text=q,
        breached_only=breached,
        priority=priority,
    )
    with _runtime(request).sessions() as session:
        workspace, _ = workspace_of(session, who, slug)
        try:
            found = queue_page(
                session, workspace.id, filters, now=utcnow(), cursor=cursor, limit=limit
            )
        except ValidationError as error:
            raise HTTPException(status_code=400, detail=str(error)) from None
    return found


@router.get("/workspaces/{slug}/conversations/{conversation_id}")
def get_conversation(
    request: Request, who: CallerDep, slug: str, conversation_id: int
) -> ConversationView:
    """One conversation with its messages, its notes and the contact's context card."""
    with _runtime(request).sessions() as session:
        workspace, _ = workspace_of(session, who, slug)
        try:
            detail = conversation_detail(session, workspace.id, conversation_id, now=utcnow())
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None
        contact_id = detail.item.contact_id
        card = (
            None
            if contact_id is None
            else contact_card(
                session, workspace.id, contact_id, exclude_conversation_id=conversation_id
            )
        )
    return ConversationView(detail.item, detail.messages, detail.notes, card)
