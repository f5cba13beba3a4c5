"""The channels page: each live channel's health (ok, degraded, needs re-authorisation,
paused), when it was last read and will be next, the network's last error, and the
replies waiting or failed; writers can ask for a poll now, pause and resume.

Channels are looked up within the URL's workspace, so another workspace's are "not found".
The error text comes from the networks: the template escapes it like any inbound text.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dialoga.accounts.access import MANAGERS
from dialoga.channels.queries import channel_of_workspace, live_channels
from dialoga.channels.sync import check_live, do_pause_live, do_poll_soon, do_resume_live
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.errors import NotFoundError
from dialoga.web.deps import CsrfDep, MemberDep, WriterDep, jobs_of, runtime_of
from dialoga.web.routes.channels_connect import FORMS
from dialoga.web.templating import page

router = APIRouter(prefix="/w/{slug}/channels", dependencies=[CsrfDep])


@router.get("", response_class=HTMLResponse)
def channels(request: Request, ctx: MemberDep) -> HTMLResponse:
    """Every live channel of the workspace and how it is doing."""
    with runtime_of(request).sessions() as session:
        rows = live_channels(session, ctx.workspace.id)
    context = {
        "ctx": ctx,
        "rows": rows,
        "can_manage": ctx.member.role in MANAGERS,
        "networks": tuple(FORMS),
    }
    return page(request, "channels.html", context, ctx.user)


def _change(request: Request, ctx: WriterDep, channel_id: int, change: str) -> RedirectResponse:
    now = utcnow()
    jobs = jobs_of(request)
    try:
        with transaction(runtime_of(request).sessions) as session:
            channel = channel_of_workspace(session, ctx.workspace.id, channel_id)
            check_live(session, channel)
            if change == "pause":
                do_pause_live(session, channel.id)
            else:
                if change == "resume":
                    do_resume_live(session, channel.id, now)
                do_poll_soon(session, channel.id, now)
                jobs.poll_after_commit(session, channel.id)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    return RedirectResponse(f"/w/{ctx.workspace.slug}/channels", status_code=303)


@router.post("/{channel_id}/poll")
def poll_now(request: Request, ctx: WriterDep, channel_id: int) -> RedirectResponse:
    """Read the channel now rather than at its next turn."""
    return _change(request, ctx, channel_id, "poll")


@router.post("/{channel_id}/pause")
def pause(request: Request, ctx: WriterDep, channel_id: int) -> RedirectResponse:
    """Stop reading the channel (its place is kept)."""
    return _change(request, ctx, channel_id, "pause")


@router.post("/{channel_id}/resume")
def resume(request: Request, ctx: WriterDep, channel_id: int) -> RedirectResponse:
    """Read the channel again, from where it stopped."""
    return _change(request, ctx, channel_id, "resume")
