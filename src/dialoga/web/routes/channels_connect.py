"""Connecting a live channel from the web: one form per network (owners and admins), and
Mastodon's OAuth round trip (register Dialoga on the instance, send the person to
authorise it, take the code back).

Secrets typed in a form are sealed on arrival and never written back into a page, even
when the form is shown again with an error. The OAuth state travels in the signed
session cookie, its client secret sealed with the credentials key; the callback accepts
a code only with the state it issued, once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dialoga.channels.mastodon import connector as mastodon
from dialoga.channels.setup import LiveSetup, check_live_setup, do_connect_channel
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError, ValidationError
from dialoga.core.fetch import policy_from
from dialoga.core.vault import Secret
from dialoga.web.deps import CsrfDep, ManagerDep, MemberContext, jobs_of, runtime_of
from dialoga.web.templating import page

router = APIRouter(prefix="/w/{slug}/channels", dependencies=[CsrfDep])
OAUTH_KEY = "mastodon_oauth"
MAX_FIELD_CHARS = 4000


@dataclass(frozen=True)
class FormField:
    """One field of a connect form: where its value goes and how it is typed."""

    name: str
    target: Literal["config", "credentials"] = "config"
    kind: str = "text"  # text, url, email, password, number, select, feeds
    required: bool = True
    choices: tuple[str, ...] = ()


_SECURITY = ("ssl", "starttls", "none")
FORMS: dict[str, tuple[FormField, ...]] = {
    "mastodon": (FormField("instance", kind="url"),),
    "bluesky": (
        FormField("identifier", "credentials"),
        FormField("app_password", "credentials", "password"),
        FormField("service", kind="url", required=False),
    ),
    "email": (
        FormField("address", kind="email"),
        FormField("imap_host"),
        FormField("imap_port", kind="number", required=False),
        FormField("imap_security", kind="select", choices=_SECURITY),
        FormField("mailbox", required=False),
        FormField("smtp_host"),
        FormField("smtp_port", kind="number", required=False),
        FormField("smtp_security", kind="select", choices=_SECURITY),
        FormField("username", "credentials", required=False),
        FormField("password", "credentials", "password"),
    ),
    "rss": (FormField("feeds", kind="feeds"), FormField("blog_feed", kind="url", required=False)),
    "wordpress": (
        FormField("site", kind="url"),
        FormField("username", "credentials"),
        FormField("application_password", "credentials", "password"),
    ),
}


def _form_spec(network: str) -> tuple[FormField, ...]:
    spec = FORMS.get(network)
    if spec is None:
        raise HTTPException(status_code=404, detail=f"no live connector for {network!r}")
    return spec


def _show(
    request: Request,
    ctx: MemberContext,
    network: str,
    typed: dict[str, str] | None = None,
    error: DialogaError | None = None,
) -> HTMLResponse:
    shown = {
        name: value
        for name, value in (typed or {}).items()
        if name in ("channel", "interval") or _is_setting(network, name)
    }  # secrets are never written back into the page
    context = {
        "ctx": ctx,
        "network": network,
        "fields": _form_spec(network),
        "typed": shown,
        "errors": [error] if error else [],
    }
    return page(
        request, "channel_connect.html", context, ctx.user, status_code=400 if error else 200
    )


def _is_setting(network: str, name: str) -> bool:
    return any(f.name == name and f.target == "config" for f in _form_spec(network))


@router.get("/connect/{network}", response_class=HTMLResponse)
def connect_form(request: Request, ctx: ManagerDep, network: str) -> HTMLResponse:
    """The form that connects a channel of ``network``."""
    return _show(request, ctx, network)


@router.post("/connect/{network}", response_model=None)
async def connect(request: Request, ctx: ManagerDep, network: str) -> Response:
    """Check the settings, then connect the channel (Mastodon: go and authorise it)."""
    spec = _form_spec(network)
    form = await request.form()
    typed = {
        key: str(value)[:MAX_FIELD_CHARS] for key, value in form.items() if key != "csrf_token"
    }
    # the network calls and the database are blocking: off the event loop
    return await run_in_threadpool(_connect_typed, request, ctx, network, spec, typed)


def _connect_typed(
    request: Request,
    ctx: MemberContext,
    network: str,
    spec: tuple[FormField, ...],
    typed: dict[str, str],
) -> Response:
    try:
        setup = _setup_from(network, spec, typed)
        if network == "mastodon":
            return _start_oauth(request, ctx, setup)
        _connect(request, ctx, setup)
    except DialogaError as error:
        return _show(request, ctx, network, typed, error)
    return RedirectResponse(f"/w/{ctx.workspace.slug}/channels", status_code=303)


def _setup_from(network: str, spec: tuple[FormField, ...], typed: dict[str, str]) -> LiveSetup:
    config: dict[str, Any] = {}
    credentials: dict[str, Any] = {}
    for field in spec:
        value = typed.get(field.name, "").strip()
        if not value:
            if field.required:
                raise ValidationError(f"{field.name} is required")
            continue
        target = config if field.target == "config" else credentials
        target[field.name] = _typed_value(field, value)
    name = typed.get("channel", "").strip()
    interval = typed.get("interval", "60").strip()
    if not interval.isdigit():
        raise ValidationError("the interval is a number of seconds")
    handle = credentials.get("identifier") if network == "bluesky" else None
    return LiveSetup(network, name, config, credentials, handle, int(interval))


def _typed_value(field: FormField, value: str) -> Any:
    if field.kind == "number":
        if not value.isdigit():
            raise ValidationError(f"{field.name} must be a number")
        return int(value)
    if field.kind == "select" and value not in field.choices:
        raise ValidationError(f"{field.name} must be one of {', '.join(field.choices)}")
    if field.kind == "feeds":
        return feeds_from(value)
    return value


def feeds_from(text: str) -> list[dict[str, Any]]:
    """Feeds typed one per line: the address, then keywords separated by commas
    (``https://news.example.it/feed/ caffè, Rossi``); no keyword: every entry."""
    feeds = []
    for line in text.splitlines():
        url, _, words = line.strip().partition(" ")
        if url:
            keywords = [word.strip() for word in words.split(",") if word.strip()]
            feeds.append({"url": url, "keywords": keywords})
    return feeds


def _connect(request: Request, ctx: MemberContext, setup: LiveSetup) -> None:
    runtime = runtime_of(request)
    check_live_setup(setup, policy_from(runtime.settings))
    jobs = jobs_of(request)
    with transaction(runtime.sessions) as session:
        channel = do_connect_channel(
            session, ctx.workspace.id, setup, runtime.vault, utcnow(), actor=ctx.user.email
        )
        jobs.poll_after_commit(session, channel.id)


# --- Mastodon: OAuth 2 authorisation code ---------------------------------------------


def _callback_url(request: Request, slug: str) -> str:
    configured = runtime_of(request).settings.public_url
    path = f"/w/{slug}/channels/mastodon/callback"
    return configured.rstrip("/") + path if configured else str(request.base_url).rstrip("/") + path


def _start_oauth(request: Request, ctx: MemberContext, setup: LiveSetup) -> RedirectResponse:
    runtime = runtime_of(request)
    check_live_setup(setup, policy_from(runtime.settings))
    instance = str(setup.config["instance"])
    callback = _callback_url(request, ctx.workspace.slug)
    app_keys = mastodon.register_app(instance, callback, policy_from(runtime.settings))
    state = secrets.token_urlsafe(24)
    pending = {**app_keys, "instance": instance, "state": state, "channel": setup.name}
    pending["interval"] = str(setup.interval_seconds)
    request.session[OAUTH_KEY] = {
        "workspace": ctx.workspace.slug,
        "sealed": runtime.vault.seal(Secret(pending)),
    }
    link = mastodon.authorize_url(instance, app_keys["client_id"], callback, state)
    return RedirectResponse(link, status_code=303)


@router.get("/mastodon/callback", response_model=None)
def mastodon_callback(
    request: Request, ctx: ManagerDep, code: str = "", state: str = ""
) -> Response:
    """The instance sends the person back here with a code: exchange it and connect."""
    runtime = runtime_of(request)
    pending = _pending_oauth(request, ctx, state)
    policy = policy_from(runtime.settings)
    try:
        fields = mastodon.exchange_code(
            pending["instance"],
            pending["client_id"],
            pending["client_secret"],
            code,
            _callback_url(request, ctx.workspace.slug),
            policy,
        )
        account = mastodon.verify(pending["instance"], fields["access_token"], policy)
        setup = LiveSetup(
            "mastodon",
            pending["channel"],
            {"instance": pending["instance"]},
            fields,
            account.handle,
            int(pending["interval"]),
        )
        _connect(request, ctx, setup)
    except DialogaError as error:
        typed = {"instance": pending["instance"], "channel": pending["channel"]}
        return _show(request, ctx, "mastodon", typed, error)
    return RedirectResponse(f"/w/{ctx.workspace.slug}/channels", status_code=303)


def _pending_oauth(request: Request, ctx: MemberContext, state: str) -> dict[str, str]:
    """The authorisation this browser started for this workspace, used up; 400 when
    there is none or the state does not match (a forged or replayed callback)."""
    stored = request.session.pop(OAUTH_KEY, None)
    if not isinstance(stored, dict) or stored.get("workspace") != ctx.workspace.slug:
        raise HTTPException(status_code=400, detail="no Mastodon authorisation was started here")
    try:
        pending = dict(runtime_of(request).vault.open(str(stored["sealed"])).fields)
    except DialogaError:
        raise HTTPException(status_code=400, detail="the authorisation is not readable") from None
    if not state or not secrets.compare_digest(state, str(pending.get("state", ""))):
        raise HTTPException(status_code=400, detail="the authorisation state does not match")
    return {key: str(value) for key, value in pending.items()}
