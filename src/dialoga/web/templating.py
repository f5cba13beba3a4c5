"""The Jinja2 templates of the web app (autoescaped: inbound text stays text), rendered in
the reader's language through the translation catalog."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dialoga.accounts.models import User
from dialoga.core.errors import DialogaError
from dialoga.core.i18n import LOCALES, best_locale, translate
from dialoga.web.security import csrf_token

LOCALE_KEY = "locale"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def reader_locale(request: Request, user: User | None) -> str:
    """The member's language; before signing in, the one chosen here or the browser's."""
    if user is not None:
        return user.locale
    chosen = request.session.get(LOCALE_KEY)
    if chosen in LOCALES:
        return str(chosen)
    return best_locale(request.headers.get("accept-language"))


def error_text(locale: str, error: DialogaError) -> str:
    """A domain error in the reader's language when the catalog has it, else its message."""
    if error.code:
        key = f"errors.{error.code}"
        text = translate(locale, key, **error.values)
        if text != key:
            return text
    return str(error)


def local_time(moment: datetime | None, timezone: str, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A UTC moment shown in the workspace's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime(fmt)


def web_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) address fit to be a link; anything else (``javascript:``,
    ``data:``, relative paths) is not linked."""
    if url and url.lower().startswith(("https://", "http://")) and len(url) <= 2000:
        return url
    return None


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    user: User | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``name`` in the reader's language, with the session's CSRF token."""
    locale = reader_locale(request, user)
    full = {
        "csrf": csrf_token(request),
        "user": user,
        **context,
        "locale": locale,
        "t": partial(translate, locale),
        "error_text": partial(error_text, locale),
    }
    return templates.TemplateResponse(request, name, full, status_code=status_code)


templates.env.filters["local_time"] = local_time
templates.env.filters["web_link"] = web_link
