"""The forms that act on a conversation: reply, note, assign, label, snooze, resolve,
and correct what a message was read as.

Each checks its input, writes through an ``inbox.work`` action in one transaction, and
goes back to the conversation (303). A refused input re-renders the page with the reason
and what was typed. A reply that is not personal (a saved reply sent as is, or not
addressing the person) is held back once with a visible warning; sending it anyway is an
explicit second step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError, NotFoundError
from dialoga.inbox.context import reply_warnings
from dialoga.inbox.delivery import do_queue_again
from dialoga.inbox.models import Conversation
from dialoga.inbox.reading_work import do_correct_reading
from dialoga.inbox.work import (
    check_assignee,
    check_label_name,
    check_note,
    check_reopen,
    check_reply,
    check_resolve,
    check_snooze,
    do_add_label,
    do_add_note,
    do_assign,
    do_remove_label,
    do_reopen,
    do_reply,
    do_resolve,
    do_snooze,
)
from dialoga.web.deps import CsrfDep, MemberContext, WriterDep, jobs_of, runtime_of
from dialoga.web.routes.inbox import conversation_context
from dialoga.web.templating import page

router = APIRouter(prefix="/w/{slug}/inbox/{conversation_id}", dependencies=[CsrfDep])
LongText = Annotated[str, Form(max_length=20_000)]


def _conversation(session: Session, ctx: MemberContext, conversation_id: int) -> Conversation:
    """The workspace's conversation, locked for this transaction's writes, or 404."""
    found = session.get(Conversation, conversation_id)
    if found is None or found.workspace_id != ctx.workspace.id:
        detail = f"conversation {conversation_id} does not exist"
        raise HTTPException(status_code=404, detail=detail)
    return found


def _back(ctx: MemberContext, conversation_id: int, anchor: str = "") -> RedirectResponse:
    target = f"/w/{ctx.workspace.slug}/inbox/{conversation_id}{anchor}"
    return RedirectResponse(target, status_code=303)


def _act(
    request: Request,
    ctx: MemberContext,
    conversation_id: int,
    act: Callable[[Session, Conversation], None],
    **typed: Any,
) -> Response:
    """Run ``act`` in one transaction; a domain error re-renders the page with the reason."""
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            act(session, _conversation(session, ctx, conversation_id))
    except DialogaError as error:
        return _refused(request, ctx, conversation_id, error, **typed)
    return _back(ctx, conversation_id)


def _refused(
    request: Request,
    ctx: MemberContext,
    conversation_id: int,
    error: DialogaError,
    **typed: Any,
) -> HTMLResponse:
    with runtime_of(request).sessions() as session:
        context = conversation_context(session, ctx, conversation_id, errors=[error], **typed)
    return page(request, "conversation.html", context, ctx.user, status_code=400)


@router.post("/reply", response_model=None)
def reply(
    request: Request,
    ctx: WriterDep,
    conversation_id: int,
    text: LongText,
    send_anyway: Annotated[str | None, Form()] = None,
) -> Response:
    """Store the reply as outbound (queued for the channel's sender)."""
    try:
        check_reply(text)
    except DialogaError as error:
        return _refused(request, ctx, conversation_id, error, draft=text)
    if send_anyway != "1":
        with runtime_of(request).sessions() as session:
            try:
                warnings = reply_warnings(session, ctx.workspace.id, conversation_id, text)
            except NotFoundError as error:
                raise HTTPException(status_code=404, detail=str(error)) from None
            if warnings:
                context = conversation_context(
                    session, ctx, conversation_id, draft=text, warnings=warnings
                )
                return page(request, "conversation.html", context, ctx.user)

    def act(session: Session, conversation: Conversation) -> None:
        message_id = do_reply(session, conversation.id, ctx.user.id, text, utcnow())
        jobs_of(request).send_after_commit(session, message_id)

    return _act(request, ctx, conversation_id, act, draft=text)


@router.post("/notes", response_model=None)
def add_note(request: Request, ctx: WriterDep, conversation_id: int, body: LongText) -> Response:
    """An internal note on the conversation, never sent."""

    def act(session: Session, conversation: Conversation) -> None:
        check_note(body)
        do_add_note(
            session,
            ctx.workspace.id,
            ctx.user.id,
            body,
            conversation_id=conversation.id,
            now=utcnow(),
        )

    return _act(request, ctx, conversation_id, act, note_draft=body)


@router.post("/assign", response_model=None)
def assign(
    request: Request,
    ctx: WriterDep,
    conversation_id: int,
    assignee: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Give the conversation to a member (or to nobody)."""

    def act(session: Session, conversation: Conversation) -> None:
        user_id = int(assignee) if assignee.isdigit() else None
        if user_id is not None:
            check_assignee(session, ctx.workspace.id, user_id)
        do_assign(session, conversation.id, user_id)

    return _act(request, ctx, conversation_id, act)


@router.post("/labels", response_model=None)
def add_label(
    request: Request,
    ctx: WriterDep,
    conversation_id: int,
    name: Annotated[str, Form(max_length=200)],
) -> Response:
    """Put a label on the conversation (made on first use)."""

    def act(session: Session, conversation: Conversation) -> None:
        check_label_name(name)
        do_add_label(session, ctx.workspace.id, conversation.id, name)

    return _act(request, ctx, conversation_id, act)


@router.post("/labels/{label_id}/remove", response_model=None)
def remove_label(request: Request, ctx: WriterDep, conversation_id: int, label_id: int) -> Response:
    """Take a label off the conversation."""

    def act(session: Session, conversation: Conversation) -> None:
        do_remove_label(session, conversation.id, label_id)

    return _act(request, ctx, conversation_id, act)


@router.post("/snooze", response_model=None)
def snooze(
    request: Request,
    ctx: WriterDep,
    conversation_id: int,
    hours: Annotated[int, Form(ge=1, le=24 * 90)],
) -> Response:
    """Hide the conversation from the queue until a later time (or a new message)."""
    now = utcnow()
    until = now + timedelta(hours=hours)

    def act(session: Session, conversation: Conversation) -> None:
        check_snooze(until, now)
        do_snooze(session, conversation.id, until)

    return _act(request, ctx, conversation_id, act)


@router.post("/resolve", response_model=None)
def resolve(
    request: Request,
    ctx: WriterDep,
    conversation_id: int,
    reason: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Close the conversation; with an unanswered message, only with a stated reason."""

    def act(session: Session, conversation: Conversation) -> None:
        chosen = check_resolve(conversation, reason or None)
        do_resolve(session, conversation.id, chosen, ctx.user.id, utcnow())

    return _act(request, ctx, conversation_id, act)


@router.post("/reopen", response_model=None)
def reopen(request: Request, ctx: WriterDep, conversation_id: int) -> Response:
    """Open a resolved conversation again."""

    def act(session: Session, conversation: Conversation) -> None:
        check_reopen(conversation)
        do_reopen(session, conversation.id, ctx.user.id, utcnow())

    return _act(request, ctx, conversation_id, act)


@router.post("/messages/{message_id}/send-again", response_model=None)
def send_again(request: Request, ctx: WriterDep, conversation_id: int, message_id: int) -> Response:
    """Queue a reply that failed to send (its text as written) and send it now."""

    def act(session: Session, conversation: Conversation) -> None:
        if not do_queue_again(session, conversation.id, message_id, utcnow()):
            raise HTTPException(status_code=404, detail="no such reply waiting to be sent")
        jobs_of(request).send_after_commit(session, message_id)

    return _act(request, ctx, conversation_id, act)


@router.post("/messages/{message_id}/reading", response_model=None)
def correct_reading(
    request: Request,
    ctx: WriterDep,
    conversation_id: int,
    message_id: int,
    field: Annotated[str, Form(max_length=16)],
    value: Annotated[str, Form(max_length=32)],
) -> Response:
    """Say what a message really is (its sentiment, intent or language): kept for
    retraining; the conversation's priority follows."""

    def act(session: Session, conversation: Conversation) -> None:
        try:
            do_correct_reading(
                session,
                ctx.workspace.id,
                message_id,
                field,
                value,
                user_id=ctx.user.id,
                now=utcnow(),
                conversation_id=conversation.id,
            )
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None

    return _act(request, ctx, conversation_id, act)
