"""Saved replies: texts a team reuses, with placeholders filled for each person."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError, NotFoundError
from dialoga.core.i18n import LOCALES
from dialoga.inbox.options import saved_replies
from dialoga.inbox.personal import PLACEHOLDERS
from dialoga.inbox.work import check_saved_reply, do_delete_saved_reply, do_save_reply
from dialoga.web.deps import CsrfDep, MemberContext, MemberDep, WriterDep, runtime_of
from dialoga.web.templating import page

router = APIRouter(prefix="/w/{slug}/saved-replies", dependencies=[CsrfDep])


def _page(
    request: Request, ctx: MemberContext, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    with runtime_of(request).sessions() as session:
        replies = saved_replies(session, ctx.workspace.id)
    context = {
        "ctx": ctx,
        "replies": replies,
        "placeholders": PLACEHOLDERS,
        "languages": LOCALES,
        "draft": {"title": "", "body": "", "language": ""},
        "error": None,
        **extra,
    }
    return page(request, "saved_replies.html", context, ctx.user, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def list_saved_replies(request: Request, ctx: MemberDep) -> HTMLResponse:
    """The workspace's saved replies and a form for a new one."""
    return _page(request, ctx)


@router.post("", response_model=None)
def create_saved_reply(
    request: Request,
    ctx: WriterDep,
    title: Annotated[str, Form(max_length=500)],
    body: Annotated[str, Form(max_length=20_000)],
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Keep a new saved reply (a title already used, or an unknown placeholder, is refused)."""
    chosen = language if language in LOCALES else None
    try:
        check_saved_reply(title, body)
        with transaction(runtime_of(request).sessions) as session:
            do_save_reply(session, ctx.workspace.id, title, body, chosen)
    except DialogaError as error:
        draft = {"title": title, "body": body, "language": language}
        return _page(request, ctx, 400, error=error, draft=draft)
    return RedirectResponse(f"/w/{ctx.workspace.slug}/saved-replies", status_code=303)


@router.post("/{saved_reply_id}/delete")
def delete_saved_reply(request: Request, ctx: WriterDep, saved_reply_id: int) -> RedirectResponse:
    """Delete a saved reply of this workspace."""
    try:
        with transaction(runtime_of(request).sessions) as session:
            do_delete_saved_reply(session, ctx.workspace.id, saved_reply_id)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    return RedirectResponse(f"/w/{ctx.workspace.slug}/saved-replies", status_code=303)
