"""Reads for the audit: a channel's current followers, their interactions, past audits.

Every read is scoped to one workspace, and the heavy ones are a handful of grouped
queries, never one per follower.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from dialoga.audience.models import AuditRun, AuditVerdict, FollowerProfile
from dialoga.channels.base import NormalizedProfile
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact, Identity
from dialoga.core.errors import NotFoundError
from dialoga.inbox.models import Message

AUDIENCE_WINDOW = timedelta(days=30)  # seen this close to the latest snapshot: still following
_PROFILE_FIELDS = (
    "network",
    "external_id",
    "handle",
    "display_name",
    "bio",
    "followers_count",
    "following_count",
    "posts_count",
    "account_created_at",
    "last_post_at",
    "default_avatar",
    "default_banner",
    "profile_url",
    "website",
    "location",
    "verified",
    "declared_bot",
)


@dataclass(slots=True)
class Interactions:
    """What one follower said to the brand on the channel."""

    contact_id: int | None
    name: str | None
    replies: int = 0
    mentions: int = 0
    messages: int = 0
    conversation_id: int | None = None


def current_follower_count(session: Session, channel_id: int) -> int:
    """How many followers an audit of the channel would judge now (one count)."""
    latest_day = _latest_follower_day(session, channel_id)
    if latest_day is None:
        return 0
    return (
        session.scalar(
            select(func.count(func.distinct(FollowerProfile.external_id))).where(
                FollowerProfile.channel_id == channel_id,
                FollowerProfile.relation == "follower",
                FollowerProfile.seen_on >= latest_day - AUDIENCE_WINDOW,
            )
        )
        or 0
    )


def _latest_follower_day(session: Session, channel_id: int) -> date | None:
    return session.scalar(
        select(func.max(FollowerProfile.seen_on)).where(
            FollowerProfile.channel_id == channel_id, FollowerProfile.relation == "follower"
        )
    )


def current_followers(
    session: Session, channel_id: int, batch: int = 20_000
) -> Iterator[list[NormalizedProfile]]:
    """The channel's followers, each at its latest snapshot, in batches.

    A follower last seen more than ``AUDIENCE_WINDOW`` before the channel's latest
    snapshot is taken to have left.
    """
    latest_day = _latest_follower_day(session, channel_id)
    if latest_day is None:
        return
    latest = (
        select(FollowerProfile.external_id, func.max(FollowerProfile.seen_on).label("seen_on"))
        .where(
            FollowerProfile.channel_id == channel_id,
            FollowerProfile.relation == "follower",
            FollowerProfile.seen_on >= latest_day - AUDIENCE_WINDOW,
        )
        .group_by(FollowerProfile.external_id)
        .subquery()
    )
    columns = [getattr(FollowerProfile, name) for name in _PROFILE_FIELDS]
    query = (
        select(*columns, FollowerProfile.seen_on)
        .join(
            latest,
            and_(
                FollowerProfile.external_id == latest.c.external_id,
                FollowerProfile.seen_on == latest.c.seen_on,
            ),
        )
        .where(FollowerProfile.channel_id == channel_id, FollowerProfile.relation == "follower")
        .order_by(FollowerProfile.external_id)
        .execution_options(yield_per=batch)
    )
    for rows in session.execute(query).partitions(batch):
        yield [_profile(row) for row in rows]


def _profile(row: Sequence[Any]) -> NormalizedProfile:
    """A stored snapshot, dated at the start of the day it was seen."""
    values, seen_on = row[:-1], row[-1]
    profile = NormalizedProfile(**dict(zip(_PROFILE_FIELDS, values, strict=True)))
    profile.seen_at = datetime.combine(seen_on, time(), UTC)
    return profile


def channels_with_followers(session: Session, workspace_id: int) -> set[int]:
    """The workspace's channels that have follower profiles stored."""
    query = (
        select(FollowerProfile.channel_id)
        .where(FollowerProfile.workspace_id == workspace_id)
        .distinct()
    )
    return set(session.scalars(query))


def interactions_by_follower(session: Session, channel: Channel) -> dict[str, Interactions]:
    """Inbound messages on the channel per author id: replies, mentions and the rest."""
    query = (
        select(
            Identity.external_id,
            Identity.contact_id,
            func.coalesce(Contact.display_name, Identity.display_name, Identity.handle),
            Message.kind,
            func.count(),
            func.max(Message.conversation_id),
        )
        .join(Message, Message.author_identity_id == Identity.id)
        .outerjoin(Contact, Contact.id == Identity.contact_id)
        .where(
            Message.workspace_id == channel.workspace_id,
            Message.channel_id == channel.id,
            Message.direction == "inbound",
            Identity.workspace_id == channel.workspace_id,
        )
        .group_by(
            Identity.external_id,
            Identity.contact_id,
            Contact.display_name,
            Identity.display_name,
            Identity.handle,
            Message.kind,
        )
    )
    found: dict[str, Interactions] = {}
    for external_id, contact_id, name, kind, count, conversation_id in session.execute(query):
        entry = found.setdefault(external_id, Interactions(contact_id, name))
        entry.messages += count
        entry.replies += count if kind in ("reply", "comment") else 0
        entry.mentions += count if kind == "mention" else 0
        entry.conversation_id = max(entry.conversation_id or 0, conversation_id) or None
    return found


def audit_runs(session: Session, workspace_id: int, channel_id: int | None) -> list[AuditRun]:
    """The channel's audits (every channel's, for None), oldest first."""
    query = select(AuditRun).where(AuditRun.workspace_id == workspace_id)
    if channel_id is not None:
        query = query.where(AuditRun.channel_id == channel_id)
    return list(session.scalars(query.order_by(AuditRun.ran_at, AuditRun.id)))


def audit_run(session: Session, workspace_id: int, run_id: int) -> AuditRun:
    """One audit of the workspace; another workspace's audit does not exist for it."""
    run = session.scalar(
        select(AuditRun).where(AuditRun.id == run_id, AuditRun.workspace_id == workspace_id)
    )
    if run is None:
        raise NotFoundError("no such audit")
    return run


def latest_run(session: Session, workspace_id: int, channel_id: int) -> AuditRun | None:
    return session.scalar(
        select(AuditRun)
        .where(AuditRun.workspace_id == workspace_id, AuditRun.channel_id == channel_id)
        .order_by(AuditRun.ran_at.desc(), AuditRun.id.desc())
        .limit(1)
    )


def run_verdicts(
    session: Session, run: AuditRun, verdict: str | None, offset: int, limit: int
) -> list[AuditVerdict]:
    """A page of one audit's verdicts, most likely fakes first."""
    query = select(AuditVerdict).where(AuditVerdict.run_id == run.id)
    if verdict:
        query = query.where(AuditVerdict.verdict == verdict)
    query = query.order_by(
        AuditVerdict.fake_probability.desc().nulls_last(), AuditVerdict.external_id
    )
    return list(session.scalars(query.offset(offset).limit(limit)))


def followers_changed(session: Session, run: AuditRun, previous: AuditRun) -> tuple[int, int]:
    """Followers in ``run`` but not in ``previous`` (new), and the other way round (lost)."""
    return _missing_from(session, run.id, previous.id), _missing_from(session, previous.id, run.id)


def _missing_from(session: Session, present_in: int, absent_from: int) -> int:
    other = aliased(AuditVerdict)
    elsewhere = select(other.id).where(
        other.run_id == absent_from, other.external_id == AuditVerdict.external_id
    )
    query = select(func.count()).where(AuditVerdict.run_id == present_in, ~elsewhere.exists())
    return int(session.scalar(query) or 0)
