"""The JSON API's writes: everything an agent does on the inbox pages, for scripts.

Callers are members whose role may act (owner, admin, agent). A caller with the
browser's session must also send the session's CSRF token in ``X-CSRF-Token``; a
caller with an API token needs none (a token is not sent by browsers on their own).
Refusals are JSON: 400 with ``code`` and ``detail`` for bad input, 404 for anything of
another workspace, 409 for a reply held back as not personal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from dialoga.accounts.access import WRITERS
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError, NotFoundError
from dialoga.inbox.context import reply_warnings
from dialoga.inbox.models import Conversation
from dialoga.inbox.options import SavedReplyView, saved_replies
from dialoga.inbox.reading_work import do_correct_reading
from dialoga.inbox.work import (
    check_assignee,
    check_label_name,
    check_note,
    check_reopen,
    check_reply,
    check_resolve,
    check_saved_reply,
    check_snooze,
    do_add_label,
    do_add_note,
    do_assign,
    do_delete_saved_reply,
    do_remove_label,
    do_reopen,
    do_reply,
    do_resolve,
    do_save_reply,
    do_snooze,
)
from dialoga.web.deps import CSRF_HEADER, jobs_of, runtime_of
from dialoga.web.routes.api import CallerDep, workspace_of
from dialoga.web.security import check_csrf

router = APIRouter(prefix="/api/v1/workspaces/{slug}", tags=["api"])
LONG_TEXT = 10_000


@dataclass(frozen=True, slots=True)
class Writer:
    """A caller allowed to act in the URL's workspace."""

    user_id: int
    workspace_id: int


def writer(request: Request, slug: str, who: CallerDep) -> Writer:
    """The acting member; a session caller must send the CSRF token header."""
    if who.token_workspace_id is None:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    with runtime_of(request).sessions() as session:
        workspace, _ = workspace_of(session, who, slug, WRITERS)
    return Writer(who.user_id, workspace.id)


WriterDep = Annotated[Writer, Depends(writer)]


class ReplyIn(BaseModel):
    text: str = Field(max_length=LONG_TEXT * 2)
    send_anyway: bool = False


class NoteIn(BaseModel):
    body: str = Field(max_length=LONG_TEXT * 2)


class AssignIn(BaseModel):
    assignee_id: int | None = None


class LabelIn(BaseModel):
    name: str = Field(max_length=200)


class SnoozeIn(BaseModel):
    until: datetime


class ResolveIn(BaseModel):
    reason: str | None = Field(default=None, max_length=32)


class SavedReplyIn(BaseModel):
    title: str = Field(max_length=500)
    body: str = Field(max_length=LONG_TEXT * 2)
    language: str | None = Field(default=None, pattern="^(it|en)$")


class ReadingIn(BaseModel):
    field: str = Field(max_length=16)
    value: str = Field(max_length=32)


class Created(BaseModel):
    id: int


class Done(BaseModel):
    status: str = "ok"


def _refusal(error: DialogaError) -> HTTPException:
    status = 404 if isinstance(error, NotFoundError) else 400
    return HTTPException(status_code=status, detail={"code": error.code, "detail": str(error)})


def _act(
    request: Request, who: Writer, conversation_id: int, act: Callable[[Session, Conversation], Any]
) -> Any:
    """Run ``act`` on the workspace's conversation in one transaction."""
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None or conversation.workspace_id != who.workspace_id:
                raise NotFoundError(f"conversation {conversation_id} does not exist")
            return act(session, conversation)
    except DialogaError as error:
        raise _refusal(error) from None


CONVERSATION = "/conversations/{conversation_id}"


@router.post(CONVERSATION + "/replies", status_code=201, response_model=Created)
def reply(
    request: Request, who: WriterDep, conversation_id: int, body: ReplyIn
) -> Created | JSONResponse:
    """Reply (queued for the channel's sender); 409 with ``warnings`` when not personal,
    unless ``send_anyway``."""
    try:
        check_reply(body.text)
    except DialogaError as error:
        raise _refusal(error) from None
    if not body.send_anyway:
        warnings = _warnings(request, who, conversation_id, body.text)
        if warnings:
            content = {"detail": "the reply is not personal", "warnings": warnings}
            return JSONResponse(status_code=409, content=content)

    def act(session: Session, conversation: Conversation) -> int:
        message_id = do_reply(session, conversation.id, who.user_id, body.text, utcnow())
        jobs_of(request).send_after_commit(session, message_id)
        return message_id

    return Created(id=_act(request, who, conversation_id, act))


def _warnings(request: Request, who: Writer, conversation_id: int, text: str) -> list[str]:
    with runtime_of(request).sessions() as session:
        try:
            return reply_warnings(session, who.workspace_id, conversation_id, text)
        except NotFoundError as error:
            raise _refusal(error) from None


@router.post(CONVERSATION + "/notes", status_code=201, response_model=Created)
def add_note(request: Request, who: WriterDep, conversation_id: int, body: NoteIn) -> Created:
    """An internal note on the conversation."""

    def act(session: Session, conversation: Conversation) -> int:
        check_note(body.body)
        return do_add_note(
            session,
            who.workspace_id,
            who.user_id,
            body.body,
            conversation_id=conversation.id,
            now=utcnow(),
        )

    return Created(id=_act(request, who, conversation_id, act))


@router.post(CONVERSATION + "/assign", response_model=Done)
def assign(request: Request, who: WriterDep, conversation_id: int, body: AssignIn) -> Done:
    """Assign the conversation to a member (``null``: to nobody)."""

    def act(session: Session, conversation: Conversation) -> None:
        if body.assignee_id is not None:
            check_assignee(session, who.workspace_id, body.assignee_id)
        do_assign(session, conversation.id, body.assignee_id)

    _act(request, who, conversation_id, act)
    return Done()


@router.post(CONVERSATION + "/labels", status_code=201, response_model=Created)
def add_label(request: Request, who: WriterDep, conversation_id: int, body: LabelIn) -> Created:
    """Put a label on the conversation (made on first use); returns the label's id."""

    def act(session: Session, conversation: Conversation) -> int:
        check_label_name(body.name)
        return do_add_label(session, who.workspace_id, conversation.id, body.name)

    return Created(id=_act(request, who, conversation_id, act))


@router.delete(CONVERSATION + "/labels/{label_id}", response_model=Done)
def remove_label(request: Request, who: WriterDep, conversation_id: int, label_id: int) -> Done:
    """Take a label off the conversation."""
    _act(
        request,
        who,
        conversation_id,
        lambda session, c: do_remove_label(session, c.id, label_id),
    )
    return Done()


@router.post(CONVERSATION + "/snooze", response_model=Done)
def snooze(request: Request, who: WriterDep, conversation_id: int, body: SnoozeIn) -> Done:
    """Snooze until a time (at most 90 days ahead)."""

    def act(session: Session, conversation: Conversation) -> None:
        check_snooze(body.until, utcnow())
        do_snooze(session, conversation.id, body.until)

    _act(request, who, conversation_id, act)
    return Done()


@router.post(CONVERSATION + "/resolve", response_model=Done)
def resolve(request: Request, who: WriterDep, conversation_id: int, body: ResolveIn) -> Done:
    """Resolve; with an unanswered message, only with a reason."""

    def act(session: Session, conversation: Conversation) -> None:
        reason = check_resolve(conversation, body.reason)
        do_resolve(session, conversation.id, reason, who.user_id, utcnow())

    _act(request, who, conversation_id, act)
    return Done()


@router.post(CONVERSATION + "/reopen", response_model=Done)
def reopen(request: Request, who: WriterDep, conversation_id: int) -> Done:
    """Open a resolved conversation again."""

    def act(session: Session, conversation: Conversation) -> None:
        check_reopen(conversation)
        do_reopen(session, conversation.id, who.user_id, utcnow())

    _act(request, who, conversation_id, act)
    return Done()


@router.post("/messages/{message_id}/reading", response_model=Done)
def correct_reading(request: Request, who: WriterDep, message_id: int, body: ReadingIn) -> Done:
    """Correct what an inbound message was read as: ``field`` is ``sentiment``, ``intent``
    or ``language``; kept for retraining, and the conversation's priority follows."""
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            do_correct_reading(
                session,
                who.workspace_id,
                message_id,
                body.field,
                body.value,
                user_id=who.user_id,
                now=utcnow(),
            )
    except DialogaError as error:
        raise _refusal(error) from None
    return Done()


@router.get("/saved-replies")
def list_saved_replies(request: Request, slug: str, who: CallerDep) -> list[SavedReplyView]:
    """The workspace's saved replies."""
    with runtime_of(request).sessions() as session:
        workspace, _ = workspace_of(session, who, slug)
        return saved_replies(session, workspace.id)


@router.post("/saved-replies", status_code=201, response_model=Created)
def create_saved_reply(request: Request, who: WriterDep, body: SavedReplyIn) -> Created:
    """Keep a reply for reuse (placeholders: first_name, name, handle, agent)."""
    try:
        check_saved_reply(body.title, body.body)
        with transaction(runtime_of(request).sessions) as session:
            saved_id = do_save_reply(
                session, who.workspace_id, body.title, body.body, body.language
            )
    except DialogaError as error:
        raise _refusal(error) from None
    return Created(id=saved_id)


@router.delete("/saved-replies/{saved_reply_id}", response_model=Done)
def delete_saved_reply(request: Request, who: WriterDep, saved_reply_id: int) -> Done:
    """Delete a saved reply."""
    try:
        with transaction(runtime_of(request).sessions) as session:
            do_delete_saved_reply(session, who.workspace_id, saved_reply_id)
    except DialogaError as error:
        raise _refusal(error) from None
    return Done()
