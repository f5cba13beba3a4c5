"""Signing in and out: a form with a CSRF token, limits on failed attempts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialoga.accounts.actions import do_sign_in
from dialoga.core.db import transaction
from dialoga.runtime import Runtime
from dialoga.web.security import CSRF_FIELD, check_csrf, csrf_token, sign_in
from dialoga.web.templating import page

router = APIRouter()


REFUSALS = {"wrong_credentials": "signin.wrong", "too_many_attempts": "signin.too_many"}


def _signin_page(request: Request, refusal: str | None = None, email: str = "") -> HTMLResponse:
    context = {"csrf": csrf_token(request), "error": REFUSALS.get(refusal or ""), "email": email}
    return page(request, "signin.html", context, status_code=400 if refusal else 200)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return _signin_page(request)


@router.post("/signin", response_model=None)
def signin(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str | None, Form(alias=CSRF_FIELD)] = None,
) -> Response:
    """Check the credentials; on success start the session and go home."""
    check_csrf(request, csrf)
    runtime: Runtime = request.app.state.runtime
    address = request.client.host if request.client else "unknown"
    with transaction(runtime.sessions) as session:
        outcome = do_sign_in(session, email, password, address)
    if outcome.user is None:
        return _signin_page(request, outcome.refusal, email)
    sign_in(request, outcome.user)
    return RedirectResponse("/", status_code=303)


@router.post("/signout")
def signout(
    request: Request, csrf: Annotated[str | None, Form(alias=CSRF_FIELD)] = None
) -> RedirectResponse:
    """End the session."""
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)
