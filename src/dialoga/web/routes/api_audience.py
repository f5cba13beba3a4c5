"""The JSON API of audience audits: run one for a channel, list them, read one and its verdicts.

Any member reads audits; owners, admins and agents run them (as on the Audience page).
A caller with the browser's session sends the CSRF token in ``X-CSRF-Token`` on the
POST; an API token needs none. An audit or channel of another workspace is 404.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from dialoga.accounts.access import WRITERS
from dialoga.accounts.actions import ROLES
from dialoga.audience.models import AuditRun
from dialoga.audience.queries import audit_run, audit_runs, run_verdicts
from dialoga.audience.service import run_channel_audit
from dialoga.audience.verdicts import VERDICTS, AuditSettings, stored_reasons_text
from dialoga.channels.queries import channel_of_workspace
from dialoga.core.errors import NotFoundError
from dialoga.web.deps import CSRF_HEADER, runtime_of
from dialoga.web.routes.api import Caller, CallerDep, workspace_of
from dialoga.web.security import check_csrf

router = APIRouter(prefix="/api/v1/workspaces/{slug}/audits", tags=["api"])
MAX_PAGE = 500


class AuditIn(BaseModel):
    channel_id: int
    inactive_days: int = Field(default=180, ge=1, le=3650)


class AuditOut(BaseModel):
    """An audit's figures; ``summary`` and ``ambassadors`` only when one audit is asked for."""

    id: int
    channel_id: int
    ran_at: datetime
    profiles: int
    verdicts: dict[str, int]
    quality_score: float | None
    real_reach: int
    new_followers: int | None
    lost_followers: int | None
    inactive_days: int
    summary: dict[str, Any] | None = None
    ambassadors: list[dict[str, Any]] | None = None


class VerdictOut(BaseModel):
    external_id: str
    handle: str | None
    verdict: str
    fake_probability: float | None
    confidence: str
    reasons: list[str]
    contact_id: int | None


def _workspace_id(request: Request, slug: str, who: Caller, roles: Collection[str]) -> int:
    with runtime_of(request).sessions() as session:
        workspace, _ = workspace_of(session, who, slug, roles)
        return workspace.id


def reader(request: Request, slug: str, who: CallerDep) -> int:
    """The id of the URL's workspace, for any of its members."""
    return _workspace_id(request, slug, who, ROLES)


def runner(request: Request, slug: str, who: CallerDep) -> int:
    """The id of the URL's workspace, for an owner, admin or agent (CSRF with a session)."""
    if who.token_workspace_id is None:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return _workspace_id(request, slug, who, WRITERS)


ReaderDep = Annotated[int, Depends(reader)]
RunnerDep = Annotated[int, Depends(runner)]


def _out(run: AuditRun, *, full: bool) -> AuditOut:
    return AuditOut(
        id=run.id,
        channel_id=run.channel_id,
        ran_at=run.ran_at,
        profiles=run.profiles,
        verdicts=run.summary.get("verdicts", {}),
        quality_score=run.quality_score,
        real_reach=run.real_reach,
        new_followers=run.new_followers,
        lost_followers=run.lost_followers,
        inactive_days=run.inactive_days,
        summary=run.summary if full else None,
        ambassadors=run.ambassadors if full else None,
    )


def _not_found(error: NotFoundError) -> HTTPException:
    return HTTPException(status_code=404, detail=str(error))


@router.post("", status_code=201)
def run_audit(request: Request, body: AuditIn, workspace_id: RunnerDep) -> AuditOut:
    """Audit the channel's current followers now; the run is kept."""
    settings = AuditSettings(inactive_days=body.inactive_days)
    factory = runtime_of(request).sessions
    try:
        run_id = run_channel_audit(factory, workspace_id, body.channel_id, settings)
    except NotFoundError as error:
        raise _not_found(error) from None
    with factory() as session:
        return _out(audit_run(session, workspace_id, run_id), full=True)


@router.get("")
def list_audits(
    request: Request, workspace_id: ReaderDep, channel_id: int | None = None
) -> list[AuditOut]:
    """The audits of one channel, or of every channel, oldest first."""
    with runtime_of(request).sessions() as session:
        try:
            if channel_id is not None:
                channel_of_workspace(session, workspace_id, channel_id)
        except NotFoundError as error:
            raise _not_found(error) from None
        return [_out(run, full=False) for run in audit_runs(session, workspace_id, channel_id)]


@router.get("/{run_id}")
def get_audit(request: Request, workspace_id: ReaderDep, run_id: int) -> AuditOut:
    """One audit with its aggregates and ambassadors."""
    with runtime_of(request).sessions() as session:
        try:
            return _out(audit_run(session, workspace_id, run_id), full=True)
        except NotFoundError as error:
            raise _not_found(error) from None


@router.get("/{run_id}/verdicts")
def list_verdicts(
    request: Request,
    workspace_id: ReaderDep,
    run_id: int,
    verdict: Annotated[str | None, Query(pattern="^(" + "|".join(VERDICTS) + ")$")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    lang: Annotated[str, Query(pattern="^(it|en)$")] = "en",
) -> list[VerdictOut]:
    """A page of an audit's verdicts, most likely fakes first, reasons in ``lang``."""
    with runtime_of(request).sessions() as session:
        try:
            run = audit_run(session, workspace_id, run_id)
        except NotFoundError as error:
            raise _not_found(error) from None
        return [
            VerdictOut(
                external_id=row.external_id,
                handle=row.handle,
                verdict=row.verdict,
                fake_probability=row.fake_probability,
                confidence=row.confidence,
                reasons=stored_reasons_text(row.reasons, lang),
                contact_id=row.contact_id,
            )
            for row in run_verdicts(session, run, verdict, offset, limit)
        ]
