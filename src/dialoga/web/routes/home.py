"""The home page: the signed-in member's workspaces and what waits longest for a reply."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialoga.accounts.queries import memberships
from dialoga.inbox.queries import overdue_conversations, workspace_overview
from dialoga.runtime import Runtime
from dialoga.web.security import csrf_token, signed_in_user
from dialoga.web.templating import page

router = APIRouter()


@router.get("/", response_class=HTMLResponse, response_model=None)
def home(request: Request) -> Response:
    """Only the workspaces the user belongs to; anyone else is sent to sign in."""
    runtime: Runtime = request.app.state.runtime
    user = signed_in_user(request, runtime)
    if user is None:
        return RedirectResponse("/signin", status_code=303)
    with runtime.sessions() as session:
        workspace_ids = [workspace.id for workspace, _ in memberships(session, user.id)]
        overview = workspace_overview(session, workspace_ids)
        overdue = overdue_conversations(session, workspace_ids)
    context = {"user": user, "overview": overview, "overdue": overdue, "csrf": csrf_token(request)}
    return page(request, "home.html", context, user)
