"""The routing rules page: a workspace's rules in order, each as a sentence, and the forms
that add, edit, move, turn on or off and delete them.

Any member reads the rules; owners and admins change them. A rule id is looked up within
the URL's workspace before anything else, so another workspace's rule is "not found".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dialoga.accounts.access import MANAGERS
from dialoga.core.db import transaction
from dialoga.core.errors import DialogaError, NotFoundError, PermissionDeniedError
from dialoga.inbox.models import RoutingRule
from dialoga.inbox.options import inbox_options
from dialoga.inbox.routing import PRIORITIES, RuleView, rule_views
from dialoga.inbox.routing_actions import (
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    MAX_NAME_CHARS,
    RuleDraft,
    check_rule,
    check_rule_count,
    do_create_rule,
    do_delete_rule,
    do_enable_rule,
    do_move_rule,
    do_update_rule,
    label_named,
    rule_of_workspace,
)
from dialoga.understand.reading import INTENTS, SENTIMENTS
from dialoga.web.deps import CsrfDep, ManagerDep, MemberContext, MemberDep, runtime_of
from dialoga.web.templating import page

router = APIRouter(prefix="/w/{slug}/rules", dependencies=[CsrfDep])
Texts = Annotated[list[str], Form()]


class RuleForm:
    """What the rule form sends, as typed (kept to show again when refused)."""

    def __init__(
        self,
        name: str = "",
        intents: list[str] | None = None,
        sentiments: list[str] | None = None,
        languages: str = "",
        channel_ids: list[str] | None = None,
        keywords: str = "",
        label: str = "",
        priority: str = "",
        assignee_id: str = "",
        stop: str = "",
    ) -> None:
        self.name = name
        self.intents = intents or []
        self.sentiments = sentiments or []
        self.languages = languages
        self.channel_ids = channel_ids or []
        self.keywords = keywords
        self.label = label
        self.priority = priority
        self.assignee_id = assignee_id
        self.stop = bool(stop)

    @classmethod
    def of(cls, rule: RuleView) -> RuleForm:
        """The form filled with a stored rule, to edit it."""
        conditions = rule.conditions
        return cls(
            name=rule.name,
            intents=list(conditions.get("intents", [])),
            sentiments=list(conditions.get("sentiments", [])),
            languages=", ".join(conditions.get("languages", [])),
            channel_ids=[str(c) for c in conditions.get("channel_ids", [])],
            keywords=", ".join(conditions.get("keywords", [])),
            label=rule.label or "",
            priority="" if rule.priority is None else str(rule.priority),
            assignee_id="" if rule.assignee_id is None else str(rule.assignee_id),
            stop="1" if rule.stop else "",
        )

    def draft(self, session: Session, workspace_id: int, *, enabled: bool = True) -> RuleDraft:
        """The draft the form describes; a new label name makes the label."""
        label_id = label_named(session, workspace_id, self.label) if self.label.strip() else None
        return RuleDraft(
            name=self.name,
            intents=tuple(self.intents),
            sentiments=tuple(self.sentiments),
            languages=tuple(_split(self.languages)),
            channel_ids=tuple(int(c) for c in self.channel_ids if c.isdigit()),
            keywords=tuple(_split(self.keywords)),
            label_id=label_id,
            priority=int(self.priority) if self.priority.isdigit() else None,
            assignee_id=int(self.assignee_id) if self.assignee_id.isdigit() else None,
            stop=self.stop,
            enabled=enabled,
        )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def read_form(
    name: Annotated[str, Form(max_length=500)] = "",
    intents: Texts = [],  # noqa: B006 - FastAPI copies defaults
    sentiments: Texts = [],  # noqa: B006
    languages: Annotated[str, Form(max_length=500)] = "",
    channel_ids: Texts = [],  # noqa: B006
    keywords: Annotated[str, Form(max_length=5000)] = "",
    label: Annotated[str, Form(max_length=200)] = "",
    priority: Annotated[str, Form(max_length=2)] = "",
    assignee_id: Annotated[str, Form(max_length=20)] = "",
    stop: Annotated[str, Form(max_length=5)] = "",
) -> RuleForm:
    """The rule form of the request."""
    return RuleForm(
        name,
        intents,
        sentiments,
        languages,
        channel_ids,
        keywords,
        label,
        priority,
        assignee_id,
        stop,
    )


FormDep = Annotated[RuleForm, Depends(read_form)]


def rules_page(
    request: Request, ctx: MemberContext, status_code: int = 200, **shown: Any
) -> HTMLResponse:
    """The rules and the form (``shown``: an error, the rule being edited, what was typed)."""
    with runtime_of(request).sessions() as session:
        options = inbox_options(session, ctx.workspace.id)
        rules = rule_views(session, ctx.workspace.id)
    context = {
        "ctx": ctx,
        "manager": ctx.member.role in MANAGERS,
        "rules": rules,
        "channels": options.channels,
        "channel_names": {c.id: c.name for c in options.channels},
        "labels": options.labels,
        "assignees": options.assignees,
        "intents": INTENTS,
        "sentiments": SENTIMENTS,
        "priorities": PRIORITIES,
        "limits": {"name": MAX_NAME_CHARS, "keywords": MAX_KEYWORDS, "keyword": MAX_KEYWORD_CHARS},
        "form": RuleForm(),
        "editing": None,
        "error": None,
        **shown,
    }
    return page(request, "rules.html", context, ctx.user, status_code=status_code)


def _back(ctx: MemberContext) -> RedirectResponse:
    return RedirectResponse(f"/w/{ctx.workspace.slug}/rules", status_code=303)


def _rule(session: Session, ctx: MemberContext, rule_id: int) -> RoutingRule:
    try:
        return rule_of_workspace(session, ctx.workspace.id, rule_id)
    except NotFoundError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None


def _refused(
    request: Request, ctx: MemberContext, error: DialogaError, form: RuleForm, editing: int | None
) -> HTMLResponse:
    status = 403 if isinstance(error, PermissionDeniedError) else 400
    return rules_page(request, ctx, status, error=error, form=form, editing=editing)


@router.get("", response_class=HTMLResponse)
def list_rules(request: Request, ctx: MemberDep) -> HTMLResponse:
    """The workspace's rules in the order they run."""
    return rules_page(request, ctx)


@router.post("", response_model=None)
def create_rule(request: Request, ctx: ManagerDep, form: FormDep) -> Response:
    """Add a rule after the others (refused with the form as typed)."""
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            check_rule_count(session, ctx.workspace.id)
            draft = check_rule(session, ctx.workspace.id, form.draft(session, ctx.workspace.id))
            do_create_rule(session, ctx.workspace.id, draft, actor=ctx.user.email)
    except DialogaError as error:
        return _refused(request, ctx, error, form, None)
    return _back(ctx)


@router.get("/{rule_id}/edit", response_class=HTMLResponse)
def edit_rule(request: Request, ctx: ManagerDep, rule_id: int) -> HTMLResponse:
    """The page with the form filled with this rule."""
    with runtime_of(request).sessions() as session:
        _rule(session, ctx, rule_id)
        view = next(v for v in rule_views(session, ctx.workspace.id) if v.id == rule_id)
    return rules_page(request, ctx, form=RuleForm.of(view), editing=rule_id)


@router.post("/{rule_id}", response_model=None)
def update_rule(request: Request, ctx: ManagerDep, rule_id: int, form: FormDep) -> Response:
    """Change a rule's name, conditions and actions; it keeps its place and its state."""
    try:
        with transaction(runtime_of(request).sessions, write_lock=True) as session:
            rule = _rule(session, ctx, rule_id)
            typed = form.draft(session, ctx.workspace.id, enabled=rule.enabled)
            draft = check_rule(session, ctx.workspace.id, typed)
            do_update_rule(session, rule, draft, actor=ctx.user.email)
    except DialogaError as error:
        return _refused(request, ctx, error, form, rule_id)
    return _back(ctx)


@router.post("/{rule_id}/move")
def move_rule(
    request: Request,
    ctx: ManagerDep,
    rule_id: int,
    direction: Annotated[str, Form(pattern="^(up|down)$")] = "up",
) -> RedirectResponse:
    """Run a rule one place earlier (``up``) or later (``down``)."""
    with transaction(runtime_of(request).sessions, write_lock=True) as session:
        do_move_rule(session, _rule(session, ctx, rule_id), direction, actor=ctx.user.email)
    return _back(ctx)


@router.post("/{rule_id}/enable")
def enable_rule(request: Request, ctx: ManagerDep, rule_id: int) -> RedirectResponse:
    """Turn a rule on."""
    return _set_enabled(request, ctx, rule_id, enabled=True)


@router.post("/{rule_id}/disable")
def disable_rule(request: Request, ctx: ManagerDep, rule_id: int) -> RedirectResponse:
    """Turn a rule off: it stays in its place and runs no more until turned on."""
    return _set_enabled(request, ctx, rule_id, enabled=False)


def _set_enabled(
    request: Request, ctx: MemberContext, rule_id: int, *, enabled: bool
) -> RedirectResponse:
    with transaction(runtime_of(request).sessions) as session:
        do_enable_rule(session, _rule(session, ctx, rule_id), enabled, actor=ctx.user.email)
    return _back(ctx)


@router.post("/{rule_id}/delete")
def delete_rule(request: Request, ctx: ManagerDep, rule_id: int) -> RedirectResponse:
    """Delete a rule."""
    with transaction(runtime_of(request).sessions) as session:
        do_delete_rule(session, _rule(session, ctx, rule_id), actor=ctx.user.email)
    return _back(ctx)
