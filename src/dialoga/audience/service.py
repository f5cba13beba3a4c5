"""Audits as units of work: run one for a channel, or render a stored one as a report.

The web page and the CLI call these; each opens its own transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.audience.actions import do_run_audit
from dialoga.audience.model import shipped_card
from dialoga.audience.models import AuditRun
from dialoga.audience.queries import audit_run, audit_runs
from dialoga.audience.report import ReportAmbassador, ReportRun, render_report
from dialoga.audience.summary import AuditSummary
from dialoga.audience.verdicts import AuditSettings
from dialoga.channels.queries import channel_of_workspace
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.i18n import number, translate


def run_channel_audit(
    factory: sessionmaker[Session],
    workspace_id: int,
    channel_id: int,
    settings: AuditSettings,
    now: datetime | None = None,
) -> int:
    """Audit the channel's current followers and store the run; returns its id."""
    with transaction(factory) as session:
        channel = channel_of_workspace(session, workspace_id, channel_id)
        return do_run_audit(session, channel, now or utcnow(), settings).id


def stored_report(session: Session, workspace_id: int, run_id: int, locale: str) -> str:
    """The standalone HTML report of a stored audit, with the channel's history.

    Ambassadors link to their conversation in the workspace's inbox.
    """
    run = audit_run(session, workspace_id, run_id)
    inbox = f"/w/{session.get_one(Workspace, workspace_id).slug}/inbox"
    channel = channel_of_workspace(session, workspace_id, run.channel_id)
    runs = audit_runs(session, workspace_id, run.channel_id)
    history = [past for past in runs if past.ran_at <= run.ran_at]
    previous = history[-2] if len(history) >= 2 else None
    return render_report(
        AuditSummary.from_json(run.summary),
        title=f"{channel.name} ({channel.network})",
        locale=locale,
        generated_at=run.ran_at,
        history=[_history_point(past) for past in history],
        ambassadors=[ambassador_of(entry, inbox) for entry in run.ambassadors],
        previous=AuditSummary.from_json(previous.summary) if previous else None,
        model_note=model_note(locale),
    )


def ambassador_of(entry: dict[str, object], inbox: str) -> ReportAmbassador:
    conversation = entry.get("conversation_id")
    return ReportAmbassador(
        name=str(entry["name"]),
        handle=str(entry["handle"]) if entry.get("handle") else None,
        replies=int(str(entry["replies"])),
        mentions=int(str(entry["mentions"])),
        messages=int(str(entry["messages"])),
        followers=int(str(entry["followers"])) if entry.get("followers") is not None else None,
        link=f"{inbox}/{conversation}" if conversation else None,
    )


def _history_point(run: AuditRun) -> ReportRun:
    return ReportRun(run.ran_at, run.quality_score, run.summary["verdicts"])


def model_note(locale: str) -> str:
    """The shipped model's held-out MCC and AUC, for the report's footer."""
    card = shipped_card()
    scores = card["held_out_scores"]["additive model (shipped)"]
    return translate(
        locale,
        "audience.report.model_note",
        trained=card["trained_at"][:10],
        mcc=number(locale, scores["mcc"], 3),
        auc=number(locale, scores["auc"], 3),
    )
