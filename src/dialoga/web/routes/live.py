"""Live updates (server-sent events): open pages learn that the workspace changed.

Each stream polls the workspace's activity counter (``channel.activity``, bumped by every
write to its conversations, from any process: web, import, worker) and sends a
``changed`` event when it moves; the page then fetches its live parts again. Polling the
database, rather than an in-process bus, keeps it right with several web processes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dialoga.channels.queries import workspace_activity
from dialoga.runtime import Runtime
from dialoga.web.deps import MemberDep, runtime_of

router = APIRouter()
HEARTBEAT_SECONDS = 15.0


@router.get("/w/{slug}/events", response_class=StreamingResponse)
async def events(request: Request, ctx: MemberDep) -> StreamingResponse:
    """A stream of ``changed`` events for the workspace (reconnects resume by themselves)."""
    stream = _changes(request, runtime_of(request), ctx.workspace.id)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def _changes(request: Request, runtime: Runtime, workspace_id: int) -> AsyncIterator[str]:
    poll = float(getattr(request.app.state, "live_poll_seconds", 2.0))
    lifetime = float(getattr(request.app.state, "live_max_seconds", 600.0))
    started = last_beat = time.monotonic()
    seen = await run_in_threadpool(_activity, runtime, workspace_id)
    yield f"retry: {int(poll * 1000)}\nevent: ready\ndata: {seen}\n\n"
    while time.monotonic() - started < lifetime and not await request.is_disconnected():
        await asyncio.sleep(poll)
        now = await run_in_threadpool(_activity, runtime, workspace_id)
        if now != seen:
            seen = now
            yield f"event: changed\ndata: {now}\n\n"
        elif time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
            last_beat = time.monotonic()
            yield ": still here\n\n"


def _activity(runtime: Runtime, workspace_id: int) -> int:
    with runtime.sessions() as session:
        return workspace_activity(session, workspace_id)
