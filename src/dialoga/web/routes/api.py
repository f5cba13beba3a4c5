"""The JSON API (``/api/v1``): the same reads the pages make, for scripts and tools.

A caller authenticates with ``Authorization: Bearer <API token>`` (the token reaches its
own workspace only) or with the browser's session. Workspaces and their objects are
reached through ``accounts.access``: another workspace's objects are "not found".
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dialoga.accounts.access import access_workspace
from dialoga.accounts.models import Member, Workspace
from dialoga.accounts.queries import member_for_api_token, memberships
from dialoga.core.errors import NotFoundError, PermissionDeniedError
from dialoga.inbox.queries import conversation_detail, queue
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


class ConversationOut(BaseModel):
    id: int
    channel: str
    network: str
    kind: str
    status: str
    subject: str | None
    contact: str | None
    awaiting_since: datetime | None
    last_message_at: datetime
    message_count: int
    last_inbound_text: str | None


class MessageOut(BaseModel):
    id: int
    external_id: str
    direction: str
    author: str | None
    created_at: datetime
    text: str


class IdentityOut(BaseModel):
    network: str
    handle: str | None


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]
    contact_identities: list[IdentityOut]


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


def _workspace(session: Session, who: Caller, slug: str) -> tuple[Workspace, Member]:
    try:
        workspace, member = access_workspace(session, who.user_id, slug)
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


@router.get("/workspaces/{slug}/conversations")
def list_conversations(
    request: Request,
    who: CallerDep,
    slug: str,
    status: Annotated[str, Query(pattern="^(open|resolved|snoozed)$")] = "open",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ConversationOut]:
    """The queue: most overdue first."""
    with _runtime(request).sessions() as session:
        workspace, _ = _workspace(session, who, slug)
        items = queue(session, workspace.id, status=status, offset=offset, limit=limit)
    return [ConversationOut(**asdict(item)) for item in items]


@router.get("/workspaces/{slug}/conversations/{conversation_id}")
def get_conversation(
    request: Request, who: CallerDep, slug: str, conversation_id: int
) -> ConversationDetailOut:
    """One conversation with its messages and the person's identities."""
    with _runtime(request).sessions() as session:
        workspace, _ = _workspace(session, who, slug)
        try:
            detail = conversation_detail(session, workspace.id, conversation_id)
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None
    fields: dict[str, Any] = asdict(detail.item)
    return ConversationDetailOut(
        **fields,
        messages=[MessageOut(**asdict(m)) for m in detail.messages],
        contact_identities=[IdentityOut(network=n, handle=h) for n, h in detail.contact_identities],
    )
