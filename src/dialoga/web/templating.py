"""The Jinja2 templates of the web app (autoescaped: inbound text stays text), rendered in
the reader's language through the translation catalog."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dialoga.accounts.models import User
from dialoga.core.i18n import best_locale, translate

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    user: User | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``name`` in the user's language (or the browser's, before signing in)."""
    locale = user.locale if user else best_locale(request.headers.get("accept-language"))
    full = {**context, "locale": locale, "t": partial(translate, locale)}
    return templates.TemplateResponse(request, name, full, status_code=status_code)
