"""The JSON API of routing rules: list them, create, change, move and delete them.

Any member lists a workspace's rules; owners and admins change them. A caller with the
browser's session sends the CSRF token in ``X-CSRF-Token`` on writes (an API token needs
none). Refusals are JSON: 400 with ``code`` and ``detail`` for a rule that breaks one of
``inbox.routing_actions``'s checks, 404 for a rule of another workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from dialoga.accounts.access import MANAGERS
from dialoga.accounts.actions import ROLES
from dialoga.accounts.models import User
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError, NotFoundError
from dialoga.inbox.models import RoutingRule
from dialoga.inbox.routing import RuleView, rule_views
from dialoga.inbox.routing_actions import (
    RuleDraft,
    check_rule,
    check_rule_count,
    do_create_rule,
    do_delete_rule,
    do_move_rule,
    do_update_rule,
    draft_of,
    label_named,
    rule_of_workspace,
)
from dialoga.web.deps import CSRF_HEADER, runtime_of
from dialoga.web.routes.api import Caller, CallerDep, workspace_of
from dialoga.web.security import check_csrf

router = APIRouter(prefix="/api/v1/workspaces/{slug}/rules", tags=["api"])
Texts = Annotated[list[str], Field(max_length=100)]


class RuleIn(BaseModel):
    """A rule as the API takes it; on PATCH, only the fields sent change. ``label`` names
    a label (made when new), as an alternative to ``label_id``."""

    name: str = Field(default="", max_length=500)
    intents: Texts = []
    sentiments: Texts = []
    languages: Texts = []
    channel_ids: Annotated[list[int], Field(max_length=100)] = []
    keywords: Texts = []
    label_id: int | None = None
    label: str | None = Field(default=None, max_length=200)
    priority: int | None = None
    assignee_id: int | None = None
    stop: bool = False
    enabled: bool = True


class MoveIn(BaseModel):
    direction: str = Field(default="up", pattern="^(up|down)$")


@dataclass(frozen=True, slots=True)
class RulesCaller:
    """A member reaching the URL's workspace, and how the audit log names them."""

    workspace_id: int
    actor: str


def _rules_caller(request: Request, slug: str, who: Caller, roles: Collection[str]) -> RulesCaller:
    with runtime_of(request).sessions() as session:
        workspace, _ = workspace_of(session, who, slug, roles)
        user = session.get_one(User, who.user_id)
        return RulesCaller(workspace.id, user.email)


def reader(request: Request, slug: str, who: CallerDep) -> RulesCaller:
    """Any member of the URL's workspace."""
    return _rules_caller(request, slug, who, ROLES)


def manager(request: Request, slug: str, who: CallerDep) -> RulesCaller:
    """An owner or admin of the URL's workspace, with the CSRF header when calling with
    the session."""
    if who.token_workspace_id is None:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return _rules_caller(request, slug, who, MANAGERS)


ReaderDep = Annotated[RulesCaller, Depends(reader)]
ManagerDep = Annotated[RulesCaller, Depends(manager)]
Act = Callable[[Session], int | None]


def _refusal(error: DialogaError) -> HTTPException:
    status = 404 if isinstance(error, NotFoundError) else 400
    return HTTPException(status_code=status, detail={"code": error.code, "detail": str(error)})


def _run(request: Request, act: Act) -> int | None:
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            return act(session)
    except DialogaError as error:
        raise _refusal(error) from None


def _view(request: Request, workspace_id: int, rule_id: int) -> RuleView:
    with runtime_of(request).sessions() as session:
        return next(v for v in rule_views(session, workspace_id) if v.id == rule_id)


def _draft(session: Session, workspace_id: int, body: RuleIn, base: RuleDraft) -> RuleDraft:
    """``base`` with the fields ``body`` sent."""
    given: dict[str, Any] = {
        name: getattr(body, name) for name in body.model_fields_set if name != "label"
    }
    for listed in ("intents", "sentiments", "languages", "channel_ids", "keywords"):
        if listed in given:
            given[listed] = tuple(given[listed])
    if body.label is not None and body.label.strip():
        given["label_id"] = label_named(session, workspace_id, body.label)
    return check_rule(session, workspace_id, replace(base, **given))


@router.get("")
def list_rules(request: Request, who: ReaderDep) -> list[RuleView]:
    """The workspace's rules in the order they run, enabled or not."""
    with runtime_of(request).sessions() as session:
        return rule_views(session, who.workspace_id)


@router.post("", status_code=201)
def create_rule(request: Request, who: ManagerDep, body: RuleIn) -> RuleView:
    """Add a rule after the others."""

    def create(session: Session) -> int:
        check_rule_count(session, who.workspace_id)
        draft = _draft(session, who.workspace_id, body, RuleDraft(name=""))
        return do_create_rule(session, who.workspace_id, draft, actor=who.actor)

    rule_id = _run(request, create)
    assert rule_id is not None
    return _view(request, who.workspace_id, rule_id)


@router.put("/{rule_id}")
def replace_rule(request: Request, who: ManagerDep, rule_id: int, body: RuleIn) -> RuleView:
    """Replace a rule's name, conditions and actions (fields not sent take their defaults)."""
    full = RuleIn.model_validate(body.model_dump())  # every field counts as sent
    return _change(request, who, rule_id, full, fresh=True)


@router.patch("/{rule_id}")
def patch_rule(request: Request, who: ManagerDep, rule_id: int, body: RuleIn) -> RuleView:
    """Change the fields sent (``{"enabled": false}`` turns a rule off)."""
    return _change(request, who, rule_id, body, fresh=False)


def _change(
    request: Request, who: RulesCaller, rule_id: int, body: RuleIn, *, fresh: bool
) -> RuleView:
    def change(session: Session) -> None:
        rule = rule_of_workspace(session, who.workspace_id, rule_id)
        base = RuleDraft(name="") if fresh else draft_of(rule)
        draft = _draft(session, who.workspace_id, body, base)
        do_update_rule(session, rule, draft, actor=who.actor)

    _run(request, change)
    return _view(request, who.workspace_id, rule_id)


@router.post("/{rule_id}/move")
def move_rule(request: Request, who: ManagerDep, rule_id: int, body: MoveIn) -> RuleView:
    """Run a rule one place earlier (``up``) or later (``down``)."""

    def move(session: Session) -> None:
        rule = rule_of_workspace(session, who.workspace_id, rule_id)
        do_move_rule(session, rule, body.direction, actor=who.actor)

    _run(request, move)
    return _view(request, who.workspace_id, rule_id)


@router.delete("/{rule_id}", status_code=204)
def delete_rule(request: Request, who: ManagerDep, rule_id: int) -> Response:
    """Delete a rule."""

    def delete(session: Session) -> None:
        rule: RoutingRule = rule_of_workspace(session, who.workspace_id, rule_id)
        do_delete_rule(session, rule, actor=who.actor)

    _run(request, delete)
    return Response(status_code=204)
