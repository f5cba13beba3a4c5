"""What an agent does to a conversation: reply, note, assign, label, snooze, resolve.

Each write is a ``do_*`` action that trusts its input, with a ``check_*`` beside it that
raises ``ValidationError`` (with a ``code`` the web layer translates). Actions never
commit. Actions that change a conversation's summary or status (reply, snooze, resolve,
reopen) first take the channel's write lock, as ingest does, so neither overwrites the
other; the caller's transaction should be a write transaction (``write_lock=True``).
Every action bumps ``channel.activity`` so open pages know to refresh.

A reply is stored as an outbound message, ``queued`` for the channel's sender, and
advances the summary exactly as an ingested outbound message would. It changes nothing
about the status: a reply to a resolved conversation leaves it resolved, a reply to a
snoozed one leaves it snoozed. Resolving with an unanswered inbound message needs a
reason other than ``answered``: the "no comment unanswered" ledger.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from dialoga.accounts.models import Member
from dialoga.channels.models import Channel
from dialoga.contacts.models import Identity
from dialoga.core.db import (
    allocate_ids,
    insert_ignoring_conflicts,
    is_in,
    lock_for_writing,
    rows_changed,
)
from dialoga.core.errors import NotFoundError, ValidationError
from dialoga.inbox.actions import CHANNEL_LOCK, SUMMARY_COLUMNS
from dialoga.inbox.models import (
    Conversation,
    ConversationLabel,
    Label,
    Message,
    Note,
    RoutingRule,
    SavedReply,
)
from dialoga.inbox.personal import PLACEHOLDERS, placeholders_in
from dialoga.inbox.summary import ConversationSummary
from dialoga.insights.actions import do_record_detailed_events, do_record_events

MAX_TEXT_CHARS = 10_000
MAX_TITLE_CHARS = 120
MAX_LABEL_CHARS = 64
MAX_SNOOZE_DAYS = 90
ASSIGNABLE_ROLES = ("owner", "admin", "agent")
RESOLUTION_REASONS = (
    "answered",
    "spam",
    "duplicate",
    "handled_elsewhere",
    "no_reply_needed",
    "abusive",
)
# The kind of a reply: what it answers (a DM, an e-mail, a blog comment), else a reply.
REPLY_KIND = {"dm": "dm", "email": "email", "comment": "comment"}
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_summary_values = attrgetter(*SUMMARY_COLUMNS)


class _Awaiting(Protocol):
    @property
    def awaiting_since(self) -> datetime | None: ...


class _WithStatus(Protocol):
    @property
    def status(self) -> str: ...


# --- reply -----------------------------------------------------------------------------


def check_reply(text: str) -> None:
    """Refuse an empty reply, or one over 10,000 characters."""
    _check_text(text, "reply")


def do_reply(
    session: Session, conversation_id: int, author_user_id: int, text: str, now: datetime
) -> int:
    """Store a reply written in Dialoga, queued for sending; returns the message id.

    It answers the latest inbound message, written as the brand's identity on the
    channel's network when there is one. The summary advances as for any outbound
    message (first response, reply facts); nothing awaits a reply afterwards, so the
    SLA deadline and breach are cleared. A constant number of statements.
    """
    workspace_id, channel_id = _lock_channel_of(session, conversation_id)
    target = _reply_target(session, conversation_id)
    message_id = allocate_ids(session, Message, 1)[0]
    session.execute(
        insert(Message).values(
            id=message_id,
            workspace_id=workspace_id,
            channel_id=channel_id,
            conversation_id=conversation_id,
            external_id=f"dialoga:{uuid.uuid4().hex}",
            direction="outbound",
            kind=REPLY_KIND.get(target.inbound_kind or "")
            or REPLY_KIND.get(target.kind)
            or "reply",
            author_identity_id=target.brand_identity_id,
            author_user_id=author_user_id,
            in_reply_to=target.inbound_external_id,
            created_at=now,
            text=text.strip(),
            delivery="queued",
            delivery_due_at=now,
        )
    )
    summary = ConversationSummary(**{name: getattr(target, name) for name in SUMMARY_COLUMNS})
    summary.advance(
        inbound=False, created_at=now, author_identity_id=None, subject=None, message_id=message_id
    )
    values: dict[str, Any] = dict(zip(SUMMARY_COLUMNS, _summary_values(summary), strict=True))
    if summary.awaiting_since is None:
        values.update(due_at=None, rank_at=None, breached_at=None)
    session.execute(update(Conversation).where(Conversation.id == conversation_id).values(values))
    do_record_events(
        session,
        [
            (
                workspace_id,
                channel_id,
                conversation_id,
                fact.message_id,
                fact.kind,
                fact.occurred_at,
                fact.delay_seconds,
            )
            for fact in summary.facts
        ],
    )
    bump_channels(session, [channel_id])
    return message_id


def _reply_target(session: Session, conversation_id: int) -> Any:
    """The summary and kind of a conversation, its latest inbound message, the brand."""
    latest_inbound = (
        select(Message)
        .where(Message.conversation_id == Conversation.id, Message.direction == "inbound")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    brands = select(Identity.id).where(
        Identity.workspace_id == Conversation.workspace_id,
        Identity.network == Channel.network,
        Identity.is_brand.is_(True),
    )
    # the brand identity with the channel's handle, else the oldest on its network
    brand = func.coalesce(
        brands.where(Identity.handle == Channel.handle).limit(1).scalar_subquery(),
        brands.order_by(Identity.id).limit(1).scalar_subquery(),
    )
    return session.execute(
        select(
            *(getattr(Conversation, name) for name in SUMMARY_COLUMNS),
            Conversation.kind,
            latest_inbound.with_only_columns(Message.external_id)
            .scalar_subquery()
            .label("inbound_external_id"),
            latest_inbound.with_only_columns(Message.kind).scalar_subquery().label("inbound_kind"),
            brand.label("brand_identity_id"),
        )
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(Conversation.id == conversation_id)
    ).one()


# --- notes -----------------------------------------------------------------------------


def check_note(body: str) -> None:
    """Refuse an empty note, or one over 10,000 characters."""
    _check_text(body, "note")


def do_add_note(
    session: Session,
    workspace_id: int,
    author_user_id: int,
    body: str,
    *,
    conversation_id: int | None = None,
    contact_id: int | None = None,
    now: datetime,
) -> int:
    """An internal note on a conversation or a contact; returns its id."""
    note = Note(
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        contact_id=contact_id,
        author_id=author_user_id,
        body=body.strip(),
        created_at=now,
    )
    session.add(note)
    session.flush()
    if conversation_id is not None:
        _bump_channel_of(session, conversation_id)
    return note.id


# --- assignment ------------------------------------------------------------------------


def check_assignee(session: Session, workspace_id: int, user_id: int) -> None:
    """Refuse someone who is not a member, or whose role cannot answer (analysts)."""
    role = session.scalar(
        select(Member.role).where(Member.workspace_id == workspace_id, Member.user_id == user_id)
    )
    if role is None:
        raise ValidationError(
            "that person is not a member of this workspace", code="assignee_not_member"
        )
    if role not in ASSIGNABLE_ROLES:
        raise ValidationError(
            f"a member with role {role} cannot be assigned conversations",
            code="assignee_cannot_answer",
            role=role,
        )


def do_assign(session: Session, conversation_id: int, assignee_user_id: int | None) -> None:
    """Give a conversation to a member, or to nobody (``None``)."""
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(assignee_id=assignee_user_id)
    )
    _bump_channel_of(session, conversation_id)


def do_unassign_member(session: Session, workspace_id: int, user_id: int) -> None:
    """Hand back to nobody the conversations of a member who leaves the workspace, and
    stop its routing rules from assigning to them."""
    session.execute(
        update(Conversation)
        .where(Conversation.workspace_id == workspace_id, Conversation.assignee_id == user_id)
        .values(assignee_id=None)
    )
    session.execute(
        update(RoutingRule)
        .where(RoutingRule.workspace_id == workspace_id, RoutingRule.set_assignee_id == user_id)
        .values(set_assignee_id=None)
    )


# --- labels ----------------------------------------------------------------------------


def check_label_name(name: str) -> None:
    """Refuse a label name that is empty, over 64 characters, or with control characters."""
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= MAX_LABEL_CHARS:
        raise ValidationError(
            f"a label needs 1 to {MAX_LABEL_CHARS} characters",
            code="label_length",
            limit=MAX_LABEL_CHARS,
        )
    if any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in cleaned):
        raise ValidationError(
            "a label cannot contain control characters", code="label_control_characters"
        )


def do_add_label(session: Session, workspace_id: int, conversation_id: int, name: str) -> int:
    """Put a label on a conversation; returns the label's id. Adding it twice changes nothing.

    The workspace's label of that name (case aside) is reused, or created on first use.
    """
    name = name.strip()
    wanted = name.casefold()
    labels = session.execute(select(Label.id, Label.name).where(Label.workspace_id == workspace_id))
    label_id = next((id_ for id_, existing in labels if existing.casefold() == wanted), None)
    if label_id is None:
        label = Label(workspace_id=workspace_id, name=name)
        session.add(label)
        session.flush()
        label_id = label.id
    insert_ignoring_conflicts(
        session,
        ConversationLabel,
        [{"conversation_id": conversation_id, "label_id": label_id}],
        ["conversation_id", "label_id"],
    )
    _bump_channel_of(session, conversation_id)
    return label_id


def do_remove_label(session: Session, conversation_id: int, label_id: int) -> None:
    """Take a label off a conversation (the workspace keeps the label)."""
    session.execute(
        delete(ConversationLabel).where(
            ConversationLabel.conversation_id == conversation_id,
            ConversationLabel.label_id == label_id,
        )
    )
    _bump_channel_of(session, conversation_id)


# --- snooze ----------------------------------------------------------------------------


def check_snooze(until: datetime, now: datetime) -> None:
    """Refuse a time that is not in the future, or more than 90 days ahead."""
    if until <= now:
        raise ValidationError("snooze until a time in the future", code="snooze_not_future")
    if until > now + timedelta(days=MAX_SNOOZE_DAYS):
        raise ValidationError(
            f"a conversation can be snoozed for at most {MAX_SNOOZE_DAYS} days",
            code="snooze_too_long",
            days=MAX_SNOOZE_DAYS,
        )


def do_snooze(session: Session, conversation_id: int, until: datetime) -> None:
    """Put a conversation aside until ``until`` (a new inbound message wakes it earlier).

    A resolved conversation snoozed comes back open: its resolution is cleared.
    """
    _, channel_id = _lock_channel_of(session, conversation_id)
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(status="snoozed", snoozed_until=until, resolved_at=None, resolution_reason=None)
    )
    bump_channels(session, [channel_id])


def do_wake_snoozed(session: Session, now: datetime) -> int:
    """Reopen every snoozed conversation whose time has come; returns how many.

    One update over all workspaces, then one bump of the channels concerned. It takes no
    channel lock: should an ingest running meanwhile write "snoozed" back, the
    conversation is still past its time and the next run wakes it.
    """
    channel_ids = (
        session.execute(
            update(Conversation)
            .where(Conversation.status == "snoozed", Conversation.snoozed_until <= now)
            .values(status="open", snoozed_until=None)
            .returning(Conversation.channel_id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    bump_channels(session, sorted(set(channel_ids)))
    return len(channel_ids)


# --- resolve and reopen ----------------------------------------------------------------


def check_resolve(conversation: _Awaiting, reason: str | None) -> str:
    """The reason a conversation may be resolved with; refuse a missing or wrong one.

    With an inbound message unanswered, a reason is required and cannot be
    ``answered``; otherwise it defaults to ``answered``.
    """
    if conversation.awaiting_since is not None:
        if not reason:
            raise ValidationError(
                "a message in this conversation has no answer: say why it is resolved anyway",
                code="resolution_reason_required",
            )
        if reason == "answered":
            raise ValidationError(
                "a message in this conversation has no answer: it cannot be resolved as answered",
                code="resolution_not_answered",
            )
    reason = reason or "answered"
    if reason not in RESOLUTION_REASONS:
        raise ValidationError(
            f"unknown reason {reason!r}; reasons: {', '.join(RESOLUTION_REASONS)}",
            code="resolution_reason_unknown",
            reason=reason,
        )
    return reason


def do_resolve(
    session: Session, conversation_id: int, reason: str, by_user_id: int, now: datetime
) -> None:
    """Close a conversation with a reason; whatever awaited a reply no longer does.

    Records a ``resolved`` fact with the reason, who resolved it and since when a message
    had been waiting unanswered (``null`` when nothing was).
    """
    workspace_id, channel_id = _lock_channel_of(session, conversation_id)
    awaiting = session.scalar(
        select(Conversation.awaiting_since).where(Conversation.id == conversation_id)
    )
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(
            status="resolved",
            resolved_at=now,
            resolution_reason=reason,
            snoozed_until=None,
            due_at=None,
            rank_at=None,
            breached_at=None,
            awaiting_since=None,
        )
    )
    detail = {
        "reason": reason,
        "unanswered_since": awaiting.isoformat() if awaiting else None,
        "by": by_user_id,
    }
    do_record_detailed_events(
        session, [(workspace_id, channel_id, conversation_id, None, "resolved", now, None, detail)]
    )
    bump_channels(session, [channel_id])


def check_reopen(conversation: _WithStatus) -> None:
    """Refuse to reopen a conversation that is not resolved."""
    if conversation.status != "resolved":
        raise ValidationError("only a resolved conversation can be reopened", code="not_resolved")


def do_reopen(session: Session, conversation_id: int, by_user_id: int, now: datetime) -> None:
    """Open a resolved conversation again, recording a ``reopened`` fact by that member."""
    workspace_id, channel_id = _lock_channel_of(session, conversation_id)
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(status="open", resolved_at=None, resolution_reason=None)
    )
    do_record_detailed_events(
        session,
        [
            (
                workspace_id,
                channel_id,
                conversation_id,
                None,
                "reopened",
                now,
                None,
                {"by": by_user_id},
            )
        ],
    )
    bump_channels(session, [channel_id])


# --- saved replies ---------------------------------------------------------------------


def check_saved_reply(title: str, body: str) -> None:
    """Refuse an empty or long title or body, and placeholders we cannot fill."""
    if not 1 <= len(title.strip()) <= MAX_TITLE_CHARS:
        raise ValidationError(
            f"a saved reply needs a title of 1 to {MAX_TITLE_CHARS} characters",
            code="saved_reply_title_length",
            limit=MAX_TITLE_CHARS,
        )
    _check_text(body, "saved_reply")
    unknown = sorted(placeholders_in(body) - set(PLACEHOLDERS))
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in unknown)
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        raise ValidationError(
            f"unknown placeholders {names}; use {known}",
            code="unknown_placeholders",
            names=names,
            known=known,
        )


def check_saved_reply_title(session: Session, workspace_id: int, title: str) -> None:
    """Refuse a title another saved reply of the workspace already has."""
    title = title.strip()
    taken = session.scalar(
        select(SavedReply.id).where(
            SavedReply.workspace_id == workspace_id, SavedReply.title == title
        )
    )
    if taken is not None:
        raise ValidationError(
            f"a saved reply called {title!r} already exists",
            code="saved_reply_title_taken",
            title=title,
        )


def do_save_reply(
    session: Session, workspace_id: int, title: str, body: str, language: str | None
) -> int:
    """Keep a reply for reuse; returns its id. A title already used is refused first."""
    check_saved_reply_title(session, workspace_id, title)
    saved = SavedReply(
        workspace_id=workspace_id, title=title.strip(), body=body.strip(), language=language
    )
    session.add(saved)
    session.flush()
    return saved.id


def do_delete_saved_reply(session: Session, workspace_id: int, saved_reply_id: int) -> None:
    """Delete a saved reply of the workspace; one of another workspace is not found."""
    deleted = session.execute(
        delete(SavedReply).where(
            SavedReply.id == saved_reply_id, SavedReply.workspace_id == workspace_id
        )
    )
    if not rows_changed(deleted):
        raise NotFoundError("that saved reply does not exist", code="saved_reply_not_found")


# --- shared ----------------------------------------------------------------------------


def _check_text(text: str, what: str) -> None:
    """Refuse empty text (blanks only) and text over ``MAX_TEXT_CHARS``; codes ``<what>_*``."""
    length = len(text.strip())
    label = what.replace("_", " ")
    if length == 0:
        raise ValidationError(f"the {label} is empty", code=f"{what}_empty")
    if length > MAX_TEXT_CHARS:
        raise ValidationError(
            f"the {label} has {length:,} characters; at most {MAX_TEXT_CHARS:,} are allowed",
            code=f"{what}_too_long",
            length=length,
            limit=MAX_TEXT_CHARS,
        )


def _lock_channel_of(session: Session, conversation_id: int) -> tuple[int, int]:
    """Take the write lock of the conversation's channel, as ingest does; its ids.

    Ingest reads summaries then writes them back: holding the same lock keeps either
    from overwriting what the other wrote.
    """
    row = session.execute(
        select(Conversation.workspace_id, Conversation.channel_id).where(
            Conversation.id == conversation_id
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError("that conversation does not exist", code="conversation_not_found")
    lock_for_writing(session, CHANNEL_LOCK, row.channel_id)
    return row.workspace_id, row.channel_id


def bump_channels(session: Session, channel_ids: list[int]) -> None:
    """Tell open pages that these channels' conversations changed."""
    if channel_ids:
        session.execute(
            update(Channel)
            .where(is_in(session, Channel.id, channel_ids))
            .values(activity=Channel.activity + 1)
            .execution_options(synchronize_session=False)
        )


def _bump_channel_of(session: Session, conversation_id: int) -> None:
    channel = select(Conversation.channel_id).where(Conversation.id == conversation_id)
    session.execute(
        update(Channel)
        .where(Channel.id == channel.scalar_subquery())
        .values(activity=Channel.activity + 1)
        .execution_options(synchronize_session=False)
    )
