"""Signing in and out: a form with a CSRF token, limits on failed attempts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialoga.accounts.actions import do_set_locale, do_sign_in
from dialoga.accounts.models import User
from dialoga.core.db import transaction
from dialoga.core.i18n import LOCALES
from dialoga.runtime import Runtime
from dialoga.web.deps import CsrfDep, runtime_of
from dialoga.web.security import CSRF_FIELD, check_csrf, csrf_token, sign_in, signed_in_user
from dialoga.web.templating import LOCALE_KEY, page

router = APIRouter()


REFUSALS = {"wrong_credentials": "signin.wrong", "too_many_attempts": "signin.too_many"}


def local_path(candidate: str | None) -> str:
    """``candidate`` when it is a path on this site, else the home page (no open redirect)."""
    if candidate and candidate.startswith("/") and not candidate.startswith(("//", "/\\")):
        return candidate
    return "/"


def _signin_page(
    request: Request, refusal: str | None = None, email: str = "", next_path: str = "/"
) -> HTMLResponse:
    context = {
        "csrf": csrf_token(request),
        "error": REFUSALS.get(refusal or ""),
        "email": email,
        "next": local_path(next_path),
    }
    return page(request, "signin.html", context, status_code=400 if refusal else 200)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(
    request: Request, next_path: Annotated[str, Query(alias="next", max_length=2000)] = "/"
) -> HTMLResponse:
    """The sign-in form."""
    return _signin_page(request, next_path=next_path)


@router.post("/signin", response_model=None)
def signin(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str | None, Form(alias=CSRF_FIELD)] = None,
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    """Check the credentials; on success start the session and go home."""
    check_csrf(request, csrf)
    runtime: Runtime = request.app.state.runtime
    address = request.client.host if request.client else "unknown"
    with transaction(runtime.sessions) as session:
        outcome = do_sign_in(session, email, password, address)
    if outcome.user is None:
        return _signin_page(request, outcome.refusal, email, next_path)
    sign_in(request, outcome.user)
    return RedirectResponse(local_path(next_path), status_code=303)


@router.post("/signout")
def signout(
    request: Request, csrf: Annotated[str | None, Form(alias=CSRF_FIELD)] = None
) -> RedirectResponse:
    """End the session."""
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


@router.post("/language", dependencies=[CsrfDep])
def switch_language(
    request: Request,
    locale: Annotated[str, Form(max_length=8)],
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> RedirectResponse:
    """Show the interface in ``locale``: the member's choice, kept with their account."""
    if locale in LOCALES:
        user: User | None = signed_in_user(request, runtime_of(request))
        if user is None:
            request.session[LOCALE_KEY] = locale
        else:
            with transaction(runtime_of(request).sessions) as session:
                do_set_locale(session, user.id, locale)
    return RedirectResponse(local_path(next_path), status_code=303)
