"""Every write of the audience: follower profile snapshots and audit runs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy.orm import Session

from dialoga.audience.model import shipped_card
from dialoga.audience.models import AuditRun, AuditVerdict, FollowerProfile
from dialoga.audience.queries import (
    Interactions,
    current_followers,
    followers_changed,
    interactions_by_follower,
    latest_run,
)
from dialoga.audience.summary import AuditSummary
from dialoga.audience.verdicts import AuditSettings, Engagement, Verdict, judge
from dialoga.channels.base import NormalizedProfile
from dialoga.channels.models import Channel
from dialoga.core.db import bulk_insert, insert_ignoring_conflicts

AMBASSADORS = 20
_VERDICT_COLUMNS = (
    "run_id",
    "external_id",
    "handle",
    "verdict",
    "fake_probability",
    "confidence",
    "reasons",
    "contact_id",
    "followers_count",
)


def do_store_profiles(
    session: Session,
    workspace_id: int,
    channel_id: int,
    profiles: list[NormalizedProfile],
    seen_on: date,
) -> None:
    """Keep each profile's snapshot of the day it was seen; a second one that day is ignored.

    The day is the source's capture date when it gives one, else ``seen_on``.
    """
    rows = []
    for profile in profiles:
        row = asdict(profile)
        captured = row.pop("seen_at")
        row.update(
            workspace_id=workspace_id,
            channel_id=channel_id,
            seen_on=captured.date() if captured else seen_on,
        )
        rows.append(row)
    insert_ignoring_conflicts(
        session, FollowerProfile, rows, ["channel_id", "relation", "external_id", "seen_on"]
    )


def do_run_audit(
    session: Session, channel: Channel, now: datetime, settings: AuditSettings
) -> AuditRun:
    """Judge the channel's current followers, store the audit and its verdicts, rank ambassadors."""
    interactions = interactions_by_follower(session, channel)
    engagement = Engagement({key: entry.messages for key, entry in interactions.items()})
    previous = latest_run(session, channel.workspace_id, channel.id)
    run = AuditRun(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        ran_at=now,
        inactive_days=settings.inactive_days,
        model_trained_at=str(shipped_card()["trained_at"]),
        **dict.fromkeys(("profiles", "fake", "inactive", "engaged", "passive", "unknown"), 0),
        real_reach=0,
        summary={},
        ambassadors=[],
    )
    session.add(run)
    session.flush()
    summary = AuditSummary()
    engaged: list[tuple[NormalizedProfile, Interactions]] = []
    for batch in current_followers(session, channel.id):
        verdicts = judge(batch, now, settings, engagement)
        summary.add(batch, verdicts)
        _store_verdicts(session, run.id, batch, verdicts, interactions)
        engaged += [
            (profile, interactions[profile.external_id])
            for profile, verdict in zip(batch, verdicts, strict=True)
            if verdict.verdict == "engaged"
        ]
    _finish(run, summary, engaged)
    if previous is not None:
        run.new_followers, run.lost_followers = followers_changed(session, run, previous)
    return run


def _store_verdicts(
    session: Session,
    run_id: int,
    profiles: list[NormalizedProfile],
    verdicts: list[Verdict],
    interactions: dict[str, Interactions],
) -> None:
    rows = [
        (
            run_id,
            profile.external_id,
            profile.handle,
            verdict.verdict,
            verdict.fake_probability,
            verdict.confidence,
            [[reason.key, dict(reason.values)] for reason in verdict.reasons],
            interactions[profile.external_id].contact_id
            if profile.external_id in interactions
            else None,
            profile.followers_count,
        )
        for profile, verdict in zip(profiles, verdicts, strict=True)
    ]
    bulk_insert(session, AuditVerdict.__table__, _VERDICT_COLUMNS, rows)  # type: ignore[arg-type]


def _finish(
    run: AuditRun,
    summary: AuditSummary,
    engaged: list[tuple[NormalizedProfile, Interactions]],
) -> None:
    counts = summary.verdicts
    run.profiles = summary.total
    run.fake, run.inactive, run.unknown = counts["fake"], counts["inactive"], counts["unknown"]
    run.engaged, run.passive = counts["engaged"], counts["passive"]
    run.quality_score = summary.quality_score
    run.real_reach = summary.real_reach
    run.summary = summary.as_json()
    run.ambassadors = rank_ambassadors(engaged)


def rank_ambassadors(
    engaged: list[tuple[NormalizedProfile, Interactions]], limit: int = AMBASSADORS
) -> list[dict[str, object]]:
    """Real followers who talk to the brand most: by interactions, then by their own reach."""
    ranked = sorted(
        engaged,
        key=lambda pair: (-pair[1].messages, -(pair[0].followers_count or 0), pair[0].external_id),
    )
    return [
        {
            "external_id": profile.external_id,
            "handle": profile.handle,
            "name": entry.name or profile.display_name or profile.handle or profile.external_id,
            "followers": profile.followers_count,
            "replies": entry.replies,
            "mentions": entry.mentions,
            "messages": entry.messages,
            "contact_id": entry.contact_id,
            "conversation_id": entry.conversation_id,
        }
        for profile, entry in ranked[:limit]
    ]
