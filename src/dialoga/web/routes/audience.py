"""The audience audit pages: so a team sees how real each channel's followers are, runs an
audit when it wants, reads one audit's verdicts and ambassadors, and opens its report.

Any member reads audits; owners, admins and agents run them: at once, or as a job for a
channel with more than ``BACKGROUND_AUDIT_FOLLOWERS`` followers (its run appears on the
list when done).
Channels and runs are looked up within the URL's workspace, so another workspace's are
"not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialoga.audience.models import AuditRun, AuditVerdict
from dialoga.audience.queries import (
    audit_run,
    audit_runs,
    channels_with_followers,
    current_follower_count,
    run_verdicts,
)
from dialoga.audience.service import run_channel_audit, stored_report
from dialoga.audience.verdicts import (
    REAL_VERDICTS,
    VERDICTS,
    AuditSettings,
    stored_reasons_text,
)
from dialoga.channels.models import Channel
from dialoga.channels.queries import channel_of_workspace, workspace_channels
from dialoga.core.errors import NotFoundError
from dialoga.core.i18n import number, translate
from dialoga.web.deps import CsrfDep, MemberContext, MemberDep, WriterDep, jobs_of, runtime_of
from dialoga.web.templating import page, reader_locale

router = APIRouter(prefix="/w/{slug}/audience", dependencies=[CsrfDep])

PER_PAGE = 50
BACKGROUND_AUDIT_FOLLOWERS = 20_000  # more than this would keep the request waiting
DEFAULT_INACTIVE_DAYS = AuditSettings().inactive_days
MAX_INACTIVE_DAYS = 3650
CONFIDENCES = ("high", "medium", "low", "none")
# Report CSP: the standalone report needs its inline style and nothing else.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True, slots=True)
class Numbers:
    """Numbers written in the reader's language, for the templates."""

    locale: str

    def count(self, value: int | None) -> str:
        return "—" if value is None else number(self.locale, value)

    def percent(self, fraction: float | None, decimals: int = 1) -> str:
        if fraction is None:
            return translate(self.locale, "audience.page.not_available")
        shown = number(self.locale, 100 * fraction, decimals)
        return translate(self.locale, "audience.page.percent", value=shown)

    def share(self, part: int, whole: int) -> str:
        return self.percent(part / whole if whole else None)

    def change(self, before: int | None, after: int | None) -> str:
        """``after - before`` with its sign (``±0`` when equal)."""
        if before is None or after is None:
            return "—"
        return _signed(after - before, number(self.locale, abs(after - before)))

    def points(self, before: float | None, after: float | None) -> str:
        """The change of a share, in percentage points."""
        if before is None or after is None:
            return translate(self.locale, "audience.page.not_available")
        delta = round(100 * (after - before), 1)
        shown = _signed(delta, number(self.locale, abs(delta), 1))
        return translate(self.locale, "audience.page.points", value=shown)


def _signed(value: float, magnitude: str) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + magnitude


@dataclass(frozen=True, slots=True)
class ChannelAudits:
    """A channel on the audience page: its latest audit, the one before, its followers."""

    channel: Channel
    latest: AuditRun | None
    previous: AuditRun | None
    has_followers: bool


@dataclass(frozen=True, slots=True)
class VerdictRow:
    """One follower's verdict as the run page lists it."""

    external_id: str
    handle: str | None
    verdict: str
    fake_probability: float | None
    confidence: str
    reasons: list[str]


def _not_found(error: NotFoundError) -> HTTPException:
    return HTTPException(status_code=404, detail=str(error))


def _context(request: Request, ctx: MemberContext) -> dict[str, Any]:
    locale = reader_locale(request, ctx.user)
    return {"ctx": ctx, "fmt": Numbers(locale), "verdicts": VERDICTS}


@router.get("", response_class=HTMLResponse)
def audience(
    request: Request, ctx: MemberDep, started: Annotated[int | None, Query()] = None
) -> HTMLResponse:
    """Each channel with its latest audit, and the form that runs one now; ``started``
    names a channel whose audit was just sent to the background."""
    with runtime_of(request).sessions() as session:
        profiled = channels_with_followers(session, ctx.workspace.id)
        rows = []
        for channel in workspace_channels(session, ctx.workspace.id):
            runs = audit_runs(session, ctx.workspace.id, channel.id)
            rows.append(
                ChannelAudits(
                    channel,
                    runs[-1] if runs else None,
                    runs[-2] if len(runs) >= 2 else None,
                    channel.id in profiled,
                )
            )
    context = {
        **_context(request, ctx),
        "rows": rows,
        "inactive_days": DEFAULT_INACTIVE_DAYS,
        "max_inactive_days": MAX_INACTIVE_DAYS,
        "started": next((row.channel for row in rows if row.channel.id == started), None),
    }
    return page(request, "audience.html", context, ctx.user)


@router.post("/{channel_id}/audit")
def run_audit(
    request: Request,
    ctx: WriterDep,
    channel_id: int,
    inactive_days: Annotated[str, Form(max_length=8)] = str(DEFAULT_INACTIVE_DAYS),
) -> RedirectResponse:
    """Audit the channel's current followers now, keep the run, and show it."""
    days = inactive_days.strip()
    if not days.isdigit() or not 1 <= int(days) <= MAX_INACTIVE_DAYS:
        raise HTTPException(
            status_code=400,
            detail=translate(
                reader_locale(request, ctx.user),
                "audience.page.bad_inactive_days",
                max=MAX_INACTIVE_DAYS,
            ),
        )
    settings = AuditSettings(inactive_days=int(days), locale=reader_locale(request, ctx.user))
    sessions = runtime_of(request).sessions
    try:
        with sessions() as session:
            channel_of_workspace(session, ctx.workspace.id, channel_id)
            followers = current_follower_count(session, channel_id)
        if followers > BACKGROUND_AUDIT_FOLLOWERS:
            jobs_of(request).enqueue_audit(
                ctx.workspace.id, channel_id, settings.inactive_days, settings.locale
            )
            target = f"/w/{ctx.workspace.slug}/audience?started={channel_id}"
            return RedirectResponse(target, status_code=303)
        run_id = run_channel_audit(sessions, ctx.workspace.id, channel_id, settings)
    except NotFoundError as error:
        raise _not_found(error) from None
    return RedirectResponse(f"/w/{ctx.workspace.slug}/audience/runs/{run_id}", status_code=303)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def audit_page(
    request: Request,
    ctx: MemberDep,
    run_id: int,
    verdict: Annotated[str, Query(max_length=16)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """One audit: key figures, verdicts, change since the previous audit, history,
    ambassadors, and its followers one page at a time (``?verdict=`` filters them)."""
    if verdict and verdict not in VERDICTS:
        raise HTTPException(status_code=400, detail=f"unknown verdict {verdict!r}")
    locale = reader_locale(request, ctx.user)
    with runtime_of(request).sessions() as session:
        try:
            run = audit_run(session, ctx.workspace.id, run_id)
            channel = channel_of_workspace(session, ctx.workspace.id, run.channel_id)
        except NotFoundError as error:
            raise _not_found(error) from None
        history = audit_runs(session, ctx.workspace.id, run.channel_id)
        offset = (page_number - 1) * PER_PAGE
        found = run_verdicts(session, run, verdict or None, offset, PER_PAGE)
    counts = _counts(run)
    earlier = [past for past in history if (past.ran_at, past.id) < (run.ran_at, run.id)]
    previous = earlier[-1] if earlier else None
    total = counts[verdict] if verdict else run.profiles
    pages = max(1, -(-total // PER_PAGE))
    context = {
        **_context(request, ctx),
        "run": run,
        "channel": channel,
        "previous": previous,
        "history": list(reversed(history)),
        "counts": counts,
        "real": _real(counts),
        "previous_real": _real(_counts(previous)) if previous else None,
        "ambassadors": run.ambassadors,
        "rows": [_verdict_row(item, locale) for item in found],
        "verdict": verdict,
        "page_number": page_number,
        "pages": pages,
        "total": total,
        "previous_page": _page_link(verdict, page_number - 1) if page_number > 1 else None,
        "next_page": _page_link(verdict, page_number + 1) if page_number < pages else None,
        "confidences": CONFIDENCES,
    }
    return page(request, "audience_run.html", context, ctx.user)


def _counts(run: AuditRun) -> dict[str, int]:
    """Followers per verdict, every verdict named."""
    stored = run.summary.get("verdicts", {})
    return {name: int(stored.get(name, 0)) for name in VERDICTS}


def _real(counts: dict[str, int]) -> int:
    return sum(counts[name] for name in REAL_VERDICTS)


def _verdict_row(item: AuditVerdict, locale: str) -> VerdictRow:
    return VerdictRow(
        external_id=item.external_id,
        handle=item.handle,
        verdict=item.verdict,
        fake_probability=item.fake_probability,
        confidence=item.confidence,
        reasons=stored_reasons_text(item.reasons, locale),
    )


def _page_link(verdict: str, page_number: int) -> str:
    query = {"verdict": verdict} if verdict else {}
    return "?" + urlencode({**query, "page": page_number})


@router.get("/runs/{run_id}/report.html", response_class=HTMLResponse)
def audit_report(request: Request, ctx: MemberDep, run_id: int) -> Response:
    """The audit's standalone HTML report, with its charts, in the reader's language."""
    locale = reader_locale(request, ctx.user)
    with runtime_of(request).sessions() as session:
        try:
            html = stored_report(session, ctx.workspace.id, run_id, locale)
        except NotFoundError as error:
            raise _not_found(error) from None
    headers = {
        "Content-Disposition": f'inline; filename="audit-{run_id}.html"',
        "Content-Security-Policy": REPORT_POLICY,
    }
    return HTMLResponse(html, headers=headers)
