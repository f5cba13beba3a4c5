"""Loading the demo workspace through the ordinary actions, in one transaction.

``load_demo`` creates the workspace and its five channels, ingests the planned messages
channel by channel (e-mail first, so contacts get their address), links the identities
of people who wrote from several networks into one contact, stores a snapshot of the X
and Mastodon followers and audits them once, so the audience page has an audit to show.
A workspace already loaded is left as it is.
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import (
    check_create_workspace,
    do_add_member,
    do_create_user,
    do_create_workspace,
)
from dialoga.accounts.models import User, Workspace
from dialoga.audience.actions import do_run_audit, do_store_profiles
from dialoga.audience.models import AuditRun, FollowerProfile
from dialoga.audience.verdicts import AuditSettings
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.imports import GROWING_TABLES
from dialoga.channels.models import Channel
from dialoga.contacts.actions import check_link_identity, do_link_identity
from dialoga.contacts.models import Contact, Identity
from dialoga.core.clock import utcnow
from dialoga.core.db import refresh_statistics, transaction
from dialoga.core.errors import ValidationError
from dialoga.demo.content import BRAND
from dialoga.demo.followers import make_followers
from dialoga.demo.people import CHANNELS, Person
from dialoga.demo.plan import plan_messages
from dialoga.demo.teamwork import add_teamwork
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message

ACTOR = "demo"
DEMO_EMAIL = "demo@caffeaurora.it"
DEMO_PASSWORD = "caffe-aurora-demo"  # noqa: S105 - the demo account, documented in the README
DEFAULT_SEED = 20_240_917
INGEST_ORDER = ("email", "blog", "x", "mastodon", "bluesky")
AUDITED_CHANNELS = ("x", "mastodon")


def load_demo(
    sessions: sessionmaker[Session],
    slug: str = "demo",
    *,
    now: datetime | None = None,
    seed: int = DEFAULT_SEED,
) -> str:
    """Load the Caffè Aurora workspace as ``slug`` (once) and say what is in it."""
    moment = now or utcnow()
    with transaction(sessions, write_lock=True) as session:
        existing = session.scalar(select(Workspace).where(Workspace.slug == slug))
        if existing is not None:
            if existing.name != BRAND:
                raise ValidationError(
                    f"workspace {slug!r} already exists and is not the demo; "
                    "choose another slug with --slug"
                )
            return f"The demo workspace {slug!r} was already loaded; nothing changed. " + _describe(
                session, existing
            )
        workspace = _load(session, slug, random.Random(seed), moment)
        refresh_statistics(session, GROWING_TABLES)
        return f"Loaded the demo workspace {slug!r}. " + _describe(session, workspace)


def _load(session: Session, slug: str, rng: random.Random, now: datetime) -> Workspace:
    check_create_workspace(session, slug, BRAND)
    workspace = do_create_workspace(session, slug, BRAND, actor=ACTOR, timezone="Europe/Rome")
    channels = {
        spec.key: do_get_or_create_channel(
            session, workspace.id, spec.name, spec.network, actor=ACTOR, handle=spec.handle
        )
        for spec in CHANNELS
    }
    people, messages = plan_messages(rng, now)
    for key in INGEST_ORDER:
        ingest(session, channels[key], messages[key])
    _link_people(session, workspace.id, people)
    owner_id = _add_demo_owner(session, workspace.id)
    add_teamwork(session, workspace.id, owner_id, DEMO_PASSWORD, rng, now)
    for spec in CHANNELS:
        if spec.key in AUDITED_CHANNELS:
            profiles = make_followers(rng, spec, people, now)
            do_store_profiles(session, workspace.id, channels[spec.key].id, profiles, now.date())
            do_run_audit(session, channels[spec.key], now, AuditSettings())
    return workspace


def _add_demo_owner(session: Session, workspace_id: int) -> int:
    """The account to sign in with: made once, owner of every demo workspace."""
    user = session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = do_create_user(
            session, DEMO_EMAIL, "Marta (Caffè Aurora)", DEMO_PASSWORD, actor=ACTOR
        )
    do_add_member(session, workspace_id, user.id, "owner", actor=ACTOR)
    return user.id


def _link_people(session: Session, workspace_id: int, people: list[Person]) -> None:
    """Make one contact of each person who wrote from several networks."""
    for person in people:
        if len(person.accounts) < 2:
            continue
        identities = [
            session.scalars(
                select(Identity)
                .where(Identity.workspace_id == workspace_id)
                .where(Identity.network == account.network)
                .where(Identity.external_id == account.external_id)
            ).one()
            for account in person.accounts.values()
        ]
        contact_id = identities[0].contact_id
        assert contact_id is not None, "a person's identity always has a contact"
        for identity in identities[1:]:
            if identity.contact_id != contact_id:
                check_link_identity(session, workspace_id, identity.id, contact_id)
                do_link_identity(session, identity.id, contact_id)


def _describe(session: Session, workspace: Workspace) -> str:
    """One paragraph on what the workspace holds."""
    wid = workspace.id
    channels = session.scalar(select(func.count()).where(Channel.workspace_id == wid))
    conversations = select(func.count()).where(Conversation.workspace_id == wid)
    messages = session.scalar(select(func.count()).where(Message.workspace_id == wid)) or 0
    italian = (
        session.scalar(
            select(func.count()).where(Message.workspace_id == wid).where(Message.language == "it")
        )
        or 0
    )
    awaiting = session.scalar(conversations.where(Conversation.awaiting_since.is_not(None)))
    answered = session.scalar(conversations.where(Conversation.first_response_seconds.is_not(None)))
    contacts = session.scalar(select(func.count()).where(Contact.workspace_id == wid))
    multi = session.scalar(
        select(func.count()).select_from(
            select(Identity.contact_id)
            .where(Identity.workspace_id == wid)
            .where(Identity.contact_id.is_not(None))
            .group_by(Identity.contact_id)
            .having(func.count(distinct(Identity.network)) > 1)
            .subquery()
        )
    )
    profiles = session.scalar(select(func.count()).where(FollowerProfile.workspace_id == wid))
    audits = session.scalar(select(func.count()).where(AuditRun.workspace_id == wid))
    share = round(100 * italian / messages) if messages else 0
    return (
        f"{workspace.name} (a small coffee roaster in Trieste selling in Italy and abroad, "
        f"time zone {workspace.timezone}) has {channels} channels (X, Mastodon, Bluesky, "
        f"e-mail, blog) with {session.scalar(conversations)} conversations and {messages} "
        f"messages ({share}% in Italian, the rest in English): {awaiting} await a reply and "
        f"{answered} have been answered. {contacts} contacts, {multi} of them on more than one "
        f"network; {profiles} follower profiles on X and Mastodon, with {audits} audits of "
        f"them on the audience page. Open it with: dialoga serve, and sign in as "
        f"{DEMO_EMAIL} with the password {DEMO_PASSWORD}"
    )
