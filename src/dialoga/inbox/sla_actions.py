"""A workspace's SLA policy and its breaches: reading it, setting it, flagging what is late.

The rule (``SlaPolicyView.due_at``): a conversation awaiting a reply since T owes it
within the first-response target when it never had one, else within the next-response
target, counted in business time from T. Ingest keeps ``conversation.due_at`` current
with it; ``do_set_sla_policy`` recomputes it for the whole workspace.

``breached_at`` is the queue's flag for the wait in progress: ``do_flag_breaches`` sets it
to ``due_at`` and appends one ``sla_breach`` fact (which stays, whatever happens later).
A new wait clears the flag. When a new policy moves a deadline into the future the flag
is cleared too, so the queue does not show late what is not late any more; should that
wait still go unanswered past its new deadline, a second breach is recorded for it.

Writers of conversations serialise per channel (``inbox.actions.CHANNEL_LOCK``): both
writes here take the lock of every channel they touch, in id order, before writing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from dialoga.accounts.actions import do_log
from dialoga.accounts.models import Workspace
from dialoga.channels.models import Channel
from dialoga.core.db import bulk_update, is_in
from dialoga.core.errors import NotFoundError, ValidationError
from dialoga.inbox.models import Conversation, SlaPolicy
from dialoga.inbox.priority import rank_at
from dialoga.inbox.sla import (
    MAX_TARGET_MINUTES,
    BusinessHours,
    SlaPolicyView,
    check_timezone,
    default_policy,
    hours_from_json,
    hours_to_json,
    parse_business_hours,
)
from dialoga.insights.actions import do_record_events

PAGE = 5000
_conversations = cast(Table, Conversation.__table__)
_channels = cast(Table, Channel.__table__)
_POLICY_COLUMNS = (
    SlaPolicy.first_response_minutes,
    SlaPolicy.next_response_minutes,
    SlaPolicy.business_hours,
    SlaPolicy.timezone,
)


def policy_for(session: Session, workspace_id: int) -> SlaPolicyView:
    """The workspace's policy, or the defaults in its time zone: one query."""
    row = session.execute(
        select(Workspace.timezone, *_POLICY_COLUMNS)
        .outerjoin(SlaPolicy, SlaPolicy.workspace_id == Workspace.id)
        .where(Workspace.id == workspace_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"workspace {workspace_id} does not exist")
    return _view(workspace_id, row)


def policies_for(session: Session, workspace_ids: list[int]) -> dict[int, SlaPolicyView]:
    """The policies of several workspaces, in one query."""
    rows = session.execute(
        select(Workspace.id, Workspace.timezone, *_POLICY_COLUMNS)
        .outerjoin(SlaPolicy, SlaPolicy.workspace_id == Workspace.id)
        .where(is_in(session, Workspace.id, workspace_ids))
    )
    return {row[0]: _view(row[0], row[1:]) for row in rows}


def _view(workspace_id: int, row: Any) -> SlaPolicyView:
    workspace_zone, first, following, hours, zone = row
    if first is None:
        return default_policy(workspace_id, _known_zone(workspace_zone))
    return SlaPolicyView(workspace_id, first, following, hours_from_json(hours), zone)


def _known_zone(name: str) -> str:
    """A workspace's zone as zoneinfo knows it; UTC for a name it does not know."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def check_sla_policy(
    first_response_minutes: int, next_response_minutes: int, hours_text: str, timezone: str
) -> BusinessHours:
    """Refuse targets out of 1..43,200 minutes, unreadable hours or an unknown time zone;
    return the hours read."""
    for name, minutes in (
        ("first-response", first_response_minutes),
        ("next-response", next_response_minutes),
    ):
        if not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise ValidationError(
                f"the {name} target must be between 1 and {MAX_TARGET_MINUTES:,} minutes "
                f"(30 days), not {minutes}",
                code="sla_target_range",
                target=name,
                minutes=minutes,
            )
    check_timezone(timezone)
    return parse_business_hours(hours_text)


def do_set_sla_policy(
    session: Session,
    workspace_id: int,
    first_response_minutes: int,
    next_response_minutes: int,
    business_hours: BusinessHours,
    timezone: str,
    *,
    actor: str,
    now: datetime,
) -> int:
    """Set (or replace) the workspace's policy and reschedule every awaited reply.

    Returns how many conversations were rescheduled. Two statements per 5,000 of them.
    """
    channel_ids = session.scalars(select(Channel.id).where(Channel.workspace_id == workspace_id))
    _lock_channels(session, list(channel_ids))
    stored = session.get(SlaPolicy, workspace_id) or SlaPolicy(workspace_id=workspace_id)
    stored.first_response_minutes = first_response_minutes
    stored.next_response_minutes = next_response_minutes
    stored.business_hours = hours_to_json(business_hours)
    stored.timezone = timezone
    stored.updated_at = now
    session.add(stored)
    session.flush()
    policy = SlaPolicyView(
        workspace_id, first_response_minutes, next_response_minutes, business_hours, timezone
    )
    rescheduled = _reschedule(session, policy, now)
    session.execute(
        update(_channels)
        .where(_channels.c.workspace_id == workspace_id)
        .values(activity=_channels.c.activity + 1)
    )
    do_log(
        session,
        workspace_id,
        actor,
        "sla_policy.set",
        "sla_policy",
        workspace_id,
        {"first": first_response_minutes, "next": next_response_minutes, "timezone": timezone},
    )
    return rescheduled


def _reschedule(session: Session, policy: SlaPolicyView, now: datetime) -> int:
    """Recompute ``due_at`` (and the queue's ``rank_at``) of the workspace's conversations
    awaiting a reply, by pages."""
    done, last_id = 0, 0
    while True:
        rows = session.execute(
            select(
                Conversation.id,
                Conversation.awaiting_since,
                Conversation.first_response_at,
                Conversation.breached_at,
                Conversation.priority,
            )
            .where(Conversation.workspace_id == policy.workspace_id)
            .where(Conversation.awaiting_since.is_not(None))
            .where(Conversation.id > last_id)
            .order_by(Conversation.id)
            .limit(PAGE)
        ).all()
        updates = []
        for conversation_id, waiting, first_response_at, breached_at, priority in rows:
            due = policy.due_at(waiting, first_response_at)
            still_late = due is not None and due <= now
            flag = breached_at if still_late else None
            updates.append((due, rank_at(due, priority), flag, conversation_id))
        bulk_update(session, _conversations, ("due_at", "rank_at", "breached_at"), updates)
        done += len(rows)
        if len(rows) < PAGE:
            return done
        last_id = rows[-1].id


def do_flag_breaches(session: Session, now: datetime, limit: int = PAGE) -> int:
    """Flag up to ``limit`` open conversations whose reply was due by ``now``, any workspace.

    Each gets ``breached_at = due_at`` and one ``sla_breach`` fact (at the deadline, with
    the target in seconds as its delay); their channels' activity is bumped. Returns how
    many were flagged: call again while it returns ``limit``. A constant number of
    statements, however many are flagged; a conversation is flagged once.
    """
    late = Conversation.due_at <= now
    candidates = session.execute(
        select(Conversation.id, Conversation.channel_id)
        .where(Conversation.status == "open", late, Conversation.breached_at.is_(None))
        .order_by(Conversation.due_at, Conversation.id)
        .limit(limit)
    ).all()
    if not candidates:
        return 0
    _lock_channels(session, sorted({channel_id for _, channel_id in candidates}))
    table = _conversations.c
    flagged = session.execute(
        update(_conversations)
        .where(is_in(session, table.id, [conversation_id for conversation_id, _ in candidates]))
        .where(table.status == "open", table.due_at <= now, table.breached_at.is_(None))
        .values(breached_at=table.due_at)
        .returning(
            table.id, table.workspace_id, table.channel_id, table.due_at, table.first_response_at
        )
    ).all()
    if not flagged:
        return 0
    policies = policies_for(session, sorted({row.workspace_id for row in flagged}))
    do_record_events(session, _breach_events(flagged, policies))
    session.execute(
        update(_channels)
        .where(is_in(session, _channels.c.id, sorted({row.channel_id for row in flagged})))
        .values(activity=_channels.c.activity + 1)
    )
    return len(flagged)


def _breach_events(
    flagged: Sequence[Any], policies: Mapping[int, SlaPolicyView]
) -> list[tuple[int, int, int, None, str, datetime, int]]:
    return [
        (
            row.workspace_id,
            row.channel_id,
            row.id,
            None,
            "sla_breach",
            row.due_at,
            policies[row.workspace_id].target_minutes(row.first_response_at) * 60,
        )
        for row in sorted(flagged, key=lambda row: (row.due_at, row.id))
    ]


def _lock_channels(session: Session, channel_ids: list[int]) -> None:
    """Take the ingest lock of each channel, in id order (PostgreSQL; SQLite writers
    already hold the database's write lock)."""
    from dialoga.inbox.actions import CHANNEL_LOCK  # ingest reads the policy: no cycle at load

    connection = session.connection()
    if connection.dialect.name != "postgresql" or not channel_ids:
        return
    connection.exec_driver_sql(
        f"SELECT pg_advisory_xact_lock({CHANNEL_LOCK:d}, c) "  # noqa: S608
        "FROM (SELECT unnest(%s::int[]) AS c ORDER BY c) AS ordered",
        (sorted(channel_ids),),
    )
