"""The team inbox pages: the queue with its filters, and one conversation with the
contact's context card. The forms that act on a conversation are in ``inbox_actions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from dialoga.core.clock import utcnow
from dialoga.core.errors import NotFoundError, ValidationError
from dialoga.inbox.context import ConversationDetail, contact_card, conversation_detail
from dialoga.inbox.options import inbox_options, saved_replies
from dialoga.inbox.personal import fill_placeholders
from dialoga.inbox.priority import PRIORITIES, PRIORITY_NAMES
from dialoga.inbox.queue import STATUSES as QUEUE_STATUSES
from dialoga.inbox.queue import QueueFilter, assignee_filter, queue_page
from dialoga.inbox.work import RESOLUTION_REASONS
from dialoga.understand.queries import SUPPORTED_LANGUAGES
from dialoga.understand.reading import INTENTS, SENTIMENTS
from dialoga.web.deps import CsrfDep, MemberContext, MemberDep, runtime_of
from dialoga.web.templating import page

router = APIRouter(prefix="/w/{slug}/inbox", dependencies=[CsrfDep])

STATUSES = (*QUEUE_STATUSES, "all")
SNOOZE_HOURS = (1, 4, 24, 72, 168)
# What the filters and the correction menus offer: every value a reading can take.
READING_VALUES = {
    "languages": SUPPORTED_LANGUAGES,
    "sentiments": SENTIMENTS,
    "intents": INTENTS,
    "priorities": tuple(reversed(PRIORITIES)),
    "priority_names": PRIORITY_NAMES,
}


def queue_filter(ctx: MemberContext, request: Request) -> QueueFilter:
    """The queue's filters from the query string; bad values are a 400, not a crash."""
    values = request.query_params
    try:
        return QueueFilter(
            status=values.get("status") or "open",
            channel_id=_number(values.get("channel")),
            assignee=assignee_filter(values.get("assignee"), ctx.user.id),
            language=(values.get("language") or None),
            sentiment=(values.get("sentiment") or None),
            intent=(values.get("intent") or None),
            label_id=_number(values.get("label")),
            text=(values.get("q") or "")[:200] or None,
            breached_only=values.get("breached") == "1",
            priority=_number(values.get("priority")),
        )
    except ValidationError as error:
        raise HTTPException(status_code=400, detail=str(error)) from None


def _number(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise HTTPException(status_code=400, detail=f"{value!r} is not an id")
    return int(value)


@router.get("", response_class=HTMLResponse)
def inbox(
    request: Request,
    ctx: MemberDep,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    fragment: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    """The queue: open conversations, most pressing first (SLA due time shifted by priority)."""
    filters = queue_filter(ctx, request)
    with runtime_of(request).sessions() as session:
        try:
            found = queue_page(session, ctx.workspace.id, filters, now=utcnow(), cursor=cursor)
        except ValidationError as error:
            raise HTTPException(status_code=400, detail=str(error)) from None
        options = inbox_options(session, ctx.workspace.id)
    context = {
        "ctx": ctx,
        "page": found,
        "filters": filters,
        "options": options,
        "query": request.query_params,
        "statuses": STATUSES,
        **READING_VALUES,
    }
    if fragment == "queue":
        return _fragment(request, "_queue.html", context, ctx)
    return page(request, "inbox.html", context, ctx.user)


@router.get("/{conversation_id}", response_class=HTMLResponse)
def conversation(
    request: Request,
    ctx: MemberDep,
    conversation_id: int,
    use: Annotated[int | None, Query(ge=1)] = None,
    fragment: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    """One conversation: the thread, the forms to act, and the contact's context card."""
    with runtime_of(request).sessions() as session:
        context = conversation_context(session, ctx, conversation_id)
    if use is not None:
        context["draft"] = _filled_saved_reply(context, use)
    if fragment == "thread":
        return _fragment(request, "_thread.html", context, ctx)
    return page(request, "conversation.html", context, ctx.user)


def conversation_context(
    session: Session, ctx: MemberContext, conversation_id: int, **extra: Any
) -> dict[str, Any]:
    """What the conversation page shows (another workspace's conversation is a 404)."""
    try:
        detail = conversation_detail(session, ctx.workspace.id, conversation_id, now=utcnow())
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    card = (
        contact_card(
            session,
            ctx.workspace.id,
            detail.item.contact_id,
            exclude_conversation_id=conversation_id,
        )
        if detail.item.contact_id is not None
        else None
    )
    return {
        "ctx": ctx,
        "detail": detail,
        "timeline": _timeline(detail),
        "card": card,
        "options": inbox_options(session, ctx.workspace.id),
        "saved_replies": saved_replies(session, ctx.workspace.id),
        "reasons": RESOLUTION_REASONS,
        "snooze_hours": SNOOZE_HOURS,
        **READING_VALUES,
        "draft": "",
        "warnings": [],
        "errors": [],
        **extra,
    }


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """A message or an internal note, in the order they happened."""

    kind: str
    item: Any
    at: datetime


def _timeline(detail: ConversationDetail) -> list[TimelineEntry]:
    entries = [TimelineEntry("message", m, m.created_at) for m in detail.messages]
    entries += [TimelineEntry("note", n, n.created_at) for n in detail.notes]
    return sorted(entries, key=lambda entry: entry.at)


def _filled_saved_reply(context: dict[str, Any], saved_reply_id: int) -> str:
    chosen = next((s for s in context["saved_replies"] if s.id == saved_reply_id), None)
    if chosen is None:
        raise HTTPException(status_code=404, detail=f"saved reply {saved_reply_id} does not exist")
    card = context["card"]
    name = card.display_name if card else (context["detail"].item.contact or "")
    handle = next((i.handle for i in card.identities if i.handle), None) if card else None
    return fill_placeholders(
        chosen.body,
        first_name=name.split()[0] if name.split() else "",
        name=name,
        handle=handle or "",
        agent=context["ctx"].user.display_name.split()[0],
    )


def _fragment(
    request: Request, name: str, context: dict[str, Any], ctx: MemberContext
) -> HTMLResponse:
    """A part of a page, refreshed in place by the live updates."""
    response = page(request, name, context, ctx.user)
    response.headers["Cache-Control"] = "no-store"
    return response
