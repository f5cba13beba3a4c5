"""The page an invitation link opens: join the workspace, signing in or creating an account.

The link's token is the credential: the page says which workspace and role it offers, and
then either accepts it for the signed-in addressee, sends the addressee to sign in first,
or lets them create their account (with the invited e-mail) and join in one step. Unknown
tokens are "not found"; used or expired ones say so.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialoga.accounts.actions import (
    check_accept_invitation,
    check_create_user,
    check_open_invitation,
    do_accept_invitation,
    do_create_user,
)
from dialoga.accounts.models import User
from dialoga.accounts.queries import InvitationView, invitation_by_token
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError
from dialoga.web.deps import CsrfDep, runtime_of, signin_location
from dialoga.web.security import sign_in, signed_in_user
from dialoga.web.templating import page, reader_locale

router = APIRouter(prefix="/invitations/{token}", dependencies=[CsrfDep])
Token = Annotated[str, Path(max_length=100)]
GONE = 410


def _view(request: Request, token: str) -> InvitationView:
    with runtime_of(request).sessions() as session:
        view = invitation_by_token(session, token)
    if view is None:
        raise HTTPException(status_code=404, detail="this invitation does not exist")
    return view


def invitation_page(
    request: Request,
    token: str,
    view: InvitationView,
    user: User | None,
    status_code: int = 200,
    **shown: Any,
) -> HTMLResponse:
    """The invitation, and what its reader can do with it."""
    if view.state != "open" and status_code == 200:
        status_code = GONE
    context = {
        "view": view,
        "token": token,
        "signin_link": signin_location(f"/invitations/{token}"),
        "chosen_locale": reader_locale(request, user),
        **shown,
    }
    return page(request, "invitation.html", context, user, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def show(request: Request, token: Token) -> HTMLResponse:
    """Which workspace and role the link offers, and the next step."""
    view = _view(request, token)
    return invitation_page(request, token, view, signed_in_user(request, runtime_of(request)))


def _inbox(view: InvitationView) -> RedirectResponse:
    return RedirectResponse(f"/w/{view.workspace.slug}/inbox", status_code=303)


@router.post("/accept", response_model=None)
def accept(request: Request, token: Token) -> Response:
    """The signed-in addressee joins the workspace with the invited role."""
    view = _view(request, token)
    user = signed_in_user(request, runtime_of(request))
    if user is None:
        return RedirectResponse(signin_location(f"/invitations/{token}"), status_code=303)
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            invitation = check_accept_invitation(session, token, user)
            do_accept_invitation(session, invitation, user)
    except DialogaError as error:
        return invitation_page(request, token, view, user, 400, error=error)
    return _inbox(view)


@router.post("/register", response_model=None)
def register(
    request: Request,
    token: Token,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    locale: Annotated[str, Form(max_length=8)] = "it",
) -> Response:
    """Create the addressee's account with the invited e-mail, join, and sign in."""
    view = _view(request, token)
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            invitation = check_open_invitation(session, token)
            check_create_user(session, invitation.email, name, password, locale)
            user = do_create_user(
                session, invitation.email, name, password, actor=invitation.email, locale=locale
            )
            do_accept_invitation(session, invitation, user)
    except DialogaError as error:
        current = signed_in_user(request, runtime_of(request))
        return invitation_page(
            request, token, view, current, 400, error=error, name=name, chosen_locale=locale
        )
    sign_in(request, user)
    return _inbox(view)
