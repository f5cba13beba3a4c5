"""The workspace's settings page: its members and their roles, invitations, the member's
own API tokens, the SLA policy (response targets and business hours), and how messages
are read (the understanding tier and the workspace's languages).

Any member reads it; owners and admins change the policy, the understanding, and who is in
the workspace with which role (only an owner makes, changes or removes an owner, and the
last owner stays). Every id in a URL is looked up within the URL's workspace, so another
workspace's objects are "not found". A value shown once (a new API token, an invitation
link) is rendered in the answer to its form, never stored in a form of its own to be seen
again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dialoga.accounts.access import MANAGERS
from dialoga.accounts.actions import (
    ROLES,
    check_change_role,
    check_invite,
    check_remove_member,
    do_change_role,
    do_create_api_token,
    do_invite,
    do_remove_member,
    do_revoke_api_token,
)
from dialoga.accounts.models import Member
from dialoga.accounts.queries import (
    api_token_of_member,
    member_api_tokens,
    member_of_workspace,
    open_invitations,
    workspace_members,
)
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError, NotFoundError, PermissionDeniedError
from dialoga.inbox.sla_actions import check_sla_policy, do_set_sla_policy, policy_for
from dialoga.inbox.work import do_unassign_member
from dialoga.understand.actions import (
    check_understanding,
    deep_tier_available,
    do_set_understanding,
)
from dialoga.understand.queries import SUPPORTED_LANGUAGES, Understanding, understanding_setting
from dialoga.understand.reading import TIERS
from dialoga.web.deps import CsrfDep, ManagerDep, MemberContext, MemberDep, runtime_of
from dialoga.web.templating import page

router = APIRouter(prefix="/w/{slug}/settings", dependencies=[CsrfDep])


def settings_page(
    request: Request, ctx: MemberContext, status_code: int = 200, **shown: Any
) -> HTMLResponse:
    """The page, with ``shown`` (an error, a value shown once, what was typed) on top."""
    with runtime_of(request).sessions() as session:
        context = {
            "ctx": ctx,
            "roles": ROLES,
            "manager": ctx.member.role in MANAGERS,
            "members": workspace_members(session, ctx.workspace.id),
            "invitations": open_invitations(session, ctx.workspace.id),
            "tokens": member_api_tokens(session, ctx.member.id),
            "sla": policy_for(session, ctx.workspace.id),
            "understanding": understanding_setting(session, ctx.workspace.id),
            "tiers": TIERS,
            "deep_available": deep_tier_available(),
            "supported_languages": SUPPORTED_LANGUAGES,
            **shown,
        }
    return page(request, "settings.html", context, ctx.user, status_code=status_code)


def _refused(request: Request, ctx: MemberContext, error: DialogaError, **shown: Any) -> Response:
    status = 403 if isinstance(error, PermissionDeniedError) else 400
    return settings_page(request, ctx, status, error=error, **shown)


def _back(ctx: MemberContext) -> RedirectResponse:
    return RedirectResponse(f"/w/{ctx.workspace.slug}/settings", status_code=303)


def _member(session: Session, ctx: MemberContext, member_id: int) -> Member:
    try:
        return member_of_workspace(session, ctx.workspace.id, member_id)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None


@router.get("", response_class=HTMLResponse)
def settings(request: Request, ctx: MemberDep) -> HTMLResponse:
    """Members, invitations and the reader's API tokens."""
    return settings_page(request, ctx)


@router.post("/invitations", response_model=None)
def invite(
    request: Request,
    ctx: ManagerDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    """Invite someone by e-mail; the link is shown this once (only its digest is kept)."""
    email = email.strip().lower()
    try:
        with transaction(runtime_of(request).sessions) as session:
            check_invite(session, ctx.workspace.id, ctx.member.role, email, role)
            token = do_invite(
                session, ctx.workspace.id, email, role, invited_by=ctx.user.id, actor=ctx.user.email
            )
    except DialogaError as error:
        return _refused(request, ctx, error, invite_email=email, invite_role=role)
    link = f"{str(request.base_url).rstrip('/')}/invitations/{token}"
    return settings_page(request, ctx, invitation_link=link, invited=email)


@router.post("/members/{member_id}/role", response_model=None)
def change_role(
    request: Request,
    ctx: ManagerDep,
    member_id: int,
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    """Give a member another role."""
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            target = _member(session, ctx, member_id)
            check_change_role(session, ctx.member, target, role)
            do_change_role(session, target, role, actor=ctx.user.email)
    except DialogaError as error:
        return _refused(request, ctx, error)
    return _back(ctx)


@router.post("/members/{member_id}/remove", response_model=None)
def remove_member(request: Request, ctx: ManagerDep, member_id: int) -> Response:
    """Take a member out of the workspace (whoever leaves it goes home)."""
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            target = _member(session, ctx, member_id)
            check_remove_member(session, ctx.member, target)
            do_remove_member(session, target, actor=ctx.user.email)
            do_unassign_member(session, ctx.workspace.id, target.user_id)
    except DialogaError as error:
        return _refused(request, ctx, error)
    if member_id == ctx.member.id:
        return RedirectResponse("/", status_code=303)
    return _back(ctx)


@router.post("/tokens", response_class=HTMLResponse)
def create_token(
    request: Request, ctx: MemberDep, name: Annotated[str, Form(max_length=100)] = ""
) -> HTMLResponse:
    """A new API token of the reader's own: shown this once."""
    with transaction(runtime_of(request).sessions) as session:
        token = do_create_api_token(session, ctx.member, name, actor=ctx.user.email)
    return settings_page(request, ctx, new_token=token)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, ctx: MemberDep, token_id: int) -> RedirectResponse:
    """Stop one of the reader's own tokens from working (another's is "not found")."""
    with transaction(runtime_of(request).sessions) as session:
        try:
            api_token = api_token_of_member(session, ctx.member.id, token_id)
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None
        if api_token.revoked_at is None:
            do_revoke_api_token(session, api_token, actor=ctx.user.email)
    return _back(ctx)


@router.post("/sla", response_model=None)
def set_sla(
    request: Request,
    ctx: ManagerDep,
    first_response_minutes: Annotated[int, Form()],
    next_response_minutes: Annotated[int, Form()],
    timezone: Annotated[str, Form(max_length=64)],
    business_hours: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Set the response targets and business hours; every awaited reply is rescheduled."""
    zone = timezone.strip()
    try:
        hours = check_sla_policy(
            first_response_minutes, next_response_minutes, business_hours, zone
        )
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            do_set_sla_policy(
                session,
                ctx.workspace.id,
                first_response_minutes,
                next_response_minutes,
                hours,
                zone,
                actor=ctx.user.email,
                now=utcnow(),
            )
    except DialogaError as error:
        typed = {
            "first_response_minutes": first_response_minutes,
            "next_response_minutes": next_response_minutes,
            "hours_text": business_hours,
            "timezone": zone,
        }
        return _refused(request, ctx, error, sla_form=typed)
    return _back(ctx)


@router.post("/understanding", response_model=None)
def set_understanding(
    request: Request,
    ctx: ManagerDep,
    tier: Annotated[str, Form(max_length=8)],
    languages: Annotated[list[str] | None, Form(max_length=8)] = None,
) -> Response:
    """Choose the reading tier and the workspace's languages (messages read from now on)."""
    chosen = languages or []
    try:
        check_understanding(tier, chosen)
        with transaction(runtime_of(request).sessions) as session:
            do_set_understanding(session, ctx.workspace.id, tier, chosen, now=utcnow())
    except DialogaError as error:
        typed = Understanding(tier, tuple(chosen[: len(SUPPORTED_LANGUAGES)]))
        return _refused(request, ctx, error, understanding_form=typed)
    return _back(ctx)
