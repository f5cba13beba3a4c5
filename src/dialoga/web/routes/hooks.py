"""The inbound webhook endpoint: integrations push signed records into one channel.

The channel is named by its id; the HMAC signature with that channel's secret is the
only authentication (no session, no CSRF), and ``channels.webhooks`` checks it before
anything is read. Answers are JSON: 202 with what was stored, 400 for a malformed
delivery, 401 for a bad or stale signature, 404 for no such channel, 409 for a delivery
already accepted, 413 for a body over 1 MiB.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from dialoga.channels.models import Channel
from dialoga.channels.webhooks import (
    MAX_BODY_BYTES,
    Delivery,
    ReplayError,
    SignatureError,
    do_receive,
)
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError
from dialoga.web.deps import runtime_of

router = APIRouter(prefix="/hooks", tags=["webhooks"])
_STATUS = {SignatureError: 401, ReplayError: 409}


@router.post("/{channel_id}", status_code=202)
async def receive(request: Request, channel_id: int) -> JSONResponse:
    """Store one signed delivery of generic records into the channel."""
    body = await _bounded_body(request)
    delivery = Delivery(
        request.headers.get("x-dialoga-delivery", ""),
        request.headers.get("x-dialoga-timestamp", ""),
        request.headers.get("x-dialoga-signature", ""),
        body,
    )
    runtime = runtime_of(request)
    try:
        with transaction(runtime.sessions) as session:
            channel = session.get(Channel, channel_id)
            if channel is None:
                raise HTTPException(status_code=404, detail="no such channel")
            accepted = do_receive(session, channel, delivery, runtime.vault, utcnow())
    except DialogaError as error:
        status = _STATUS.get(type(error), 400)
        raise HTTPException(status_code=status, detail=str(error)) from None
    answer: dict[str, Any] = {
        "messages": accepted.messages,
        "profiles": accepted.profiles,
        "rejected": accepted.rejected,
    }
    return JSONResponse(answer, status_code=202)


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(status_code=413, detail=f"the body is over {MAX_BODY_BYTES:,} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(
                status_code=413, detail=f"the body is over {MAX_BODY_BYTES:,} bytes"
            )
    return body
