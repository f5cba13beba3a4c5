"""The demo workspace: loaded through the real actions, checked with queries, loaded once."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.audience.models import FollowerProfile
from dialoga.channels.models import Channel
from dialoga.contacts.models import Contact, Identity
from dialoga.core.db import transaction
from dialoga.core.errors import ValidationError
from dialoga.demo.load import load_demo
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.routing import rule_views
from dialoga.insights.models import ReportingEvent
from dialoga.schema import metadata
from dialoga.understand.queries import understanding_setting

NOW = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)
ITALIAN_WORDS = {"il", "che", "non", "per", "di", "ho", "sono", "grazie", "ciao", "ordine", "è"}
ENGLISH_WORDS = {"the", "and", "you", "for", "is", "we", "thanks", "your", "it", "order", "my"}


@pytest.fixture
def demo(sessions: sessionmaker[Session]) -> Workspace:
    """The demo loaded at a fixed moment."""
    report = load_demo(sessions, "demo", now=NOW)
    assert report.startswith("Loaded the demo workspace 'demo'")
    with sessions() as session:
        return session.scalars(select(Workspace).where(Workspace.slug == "demo")).one()


def _scalar(sessions: sessionmaker[Session], statement: Select[Any]) -> int:
    with sessions() as session:
        return int(session.scalar(statement) or 0)


def _row_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def test_the_workspace_is_an_italian_roaster_on_five_networks(
    sessions: sessionmaker[Session], demo: Workspace
) -> None:
    assert (demo.name, demo.timezone) == ("Caffè Aurora", "Europe/Rome")
    with sessions() as session:
        assert understanding_setting(session, demo.id).languages == ("it", "en")
        networks = session.scalars(
            select(Channel.network).where(Channel.workspace_id == demo.id)
        ).all()
        busy = session.scalars(
            select(Channel.network)
            .distinct()
            .join(Message, Message.channel_id == Channel.id)
            .where(Channel.workspace_id == demo.id)
        ).all()
    assert len(set(networks)) == len(networks) >= 4
    assert set(networks) == {"twitter", "mastodon", "bluesky", "email", "wordpress"}
    assert set(busy) == set(networks), "every channel has messages"


def _language_of(text: str) -> str | None:
    words = re.findall(r"\w+", text.lower())
    italian = sum(word in ITALIAN_WORDS for word in words)
    english = sum(word in ENGLISH_WORDS for word in words)
    if italian == english:
        return None
    return "it" if italian > english else "en"


def test_conversations_are_mostly_italian_with_english(
    sessions: sessionmaker[Session], demo: Workspace
) -> None:
    with sessions() as session:
        texts = session.scalars(select(Message.text).where(Message.workspace_id == demo.id)).all()
        declared = Counter(
            session.scalars(select(Message.language).where(Message.workspace_id == demo.id))
        )
    found = Counter(_language_of(text) for text in texts)
    assert found["it"] >= 40 and found["en"] >= 30, found
    italian_share = found["it"] / (found["it"] + found["en"])
    assert 0.5 <= italian_share <= 0.75, italian_share
    assert set(declared) == {"it", "en"}
    assert found["it"] == pytest.approx(declared["it"], rel=0.15)


def test_several_people_are_one_contact_across_networks(
    sessions: sessionmaker[Session], demo: Workspace
) -> None:
    multi = (
        select(Identity.contact_id)
        .where(Identity.workspace_id == demo.id)
        .where(Identity.contact_id.is_not(None))
        .group_by(Identity.contact_id)
        .having(func.count(distinct(Identity.network)) >= 2)
    )
    with sessions() as session:
        contact_ids = session.scalars(multi).all()
        contacts = session.scalar(select(func.count()).where(Contact.workspace_id == demo.id))
        channels_per_contact = session.execute(
            select(Identity.contact_id, func.count(distinct(Conversation.channel_id)))
            .join(Conversation, Conversation.identity_id == Identity.id)
            .where(Identity.contact_id.in_(contact_ids))
            .group_by(Identity.contact_id)
        ).all()
        brand_with_contact = session.scalar(
            select(func.count())
            .where(Identity.workspace_id == demo.id)
            .where(Identity.is_brand)
            .where(Identity.contact_id.is_not(None))
        )
    assert len(contact_ids) >= 6
    assert 40 <= (contacts or 0) <= 80
    assert len(channels_per_contact) == len(contact_ids)
    assert all(count >= 2 for _, count in channels_per_contact)
    assert brand_with_contact == 0


def test_the_queue_has_work_and_the_brand_has_answered(
    sessions: sessionmaker[Session], demo: Workspace
) -> None:
    conversations = select(func.count()).where(Conversation.workspace_id == demo.id)
    awaiting = _scalar(sessions, conversations.where(Conversation.awaiting_since.is_not(None)))
    answered = _scalar(
        sessions, conversations.where(Conversation.first_response_seconds.is_not(None))
    )
    late = _scalar(sessions, conversations.where(Conversation.first_response_seconds > 86_400))
    quick = _scalar(sessions, conversations.where(Conversation.first_response_seconds < 3_600))
    first_responses = _scalar(
        sessions,
        select(func.count())
        .where(ReportingEvent.workspace_id == demo.id)
        .where(ReportingEvent.kind == "first_response"),
    )
    assert awaiting >= 8
    assert answered >= 30
    assert late >= 2 and quick >= 5
    assert first_responses == answered


def test_threads_take_every_shape(sessions: sessionmaker[Session], demo: Workspace) -> None:
    with sessions() as session:
        kinds = Counter(
            session.scalars(select(Conversation.kind).where(Conversation.workspace_id == demo.id))
        )
        long_threads = session.scalar(
            select(func.count())
            .where(Conversation.workspace_id == demo.id)
            .where(Conversation.message_count >= 4)
        )
        replies = Counter(
            (network, kind)
            for network, kind in session.execute(
                select(Channel.network, Message.kind)
                .join(Channel, Channel.id == Message.channel_id)
                .where(Message.workspace_id == demo.id)
                .where(Message.in_reply_to.is_not(None))
            )
        )
        subjects = session.scalars(
            select(Message.subject)
            .where(Message.workspace_id == demo.id)
            .where(Message.kind == "email")
        ).all()
    assert kinds["dm"] >= 3 and kinds["email"] >= 10 and kinds["thread"] >= 20
    assert (long_threads or 0) >= 10
    assert replies[("twitter", "reply")] >= 3 and replies[("wordpress", "comment")] >= 3
    assert replies[("email", "email")] >= 10
    assert all(subjects) and sum(s.startswith("Re: ") for s in subjects if s) >= 10


def test_messages_span_the_last_month_and_brand_replies_in_office_hours(
    sessions: sessionmaker[Session], demo: Workspace
) -> None:
    with sessions() as session:
        rows = session.execute(
            select(Message.created_at, Message.direction).where(Message.workspace_id == demo.id)
        ).all()
    times = [created_at for created_at, _ in rows]
    assert min(times) >= NOW - timedelta(days=31) and max(times) <= NOW
    assert max(times) - min(times) >= timedelta(days=20)
    rome = ZoneInfo("Europe/Rome")
    outbound_hours = {t.astimezone(rome).hour for t, direction in rows if direction == "outbound"}
    assert outbound_hours and min(outbound_hours) >= 8 and max(outbound_hours) < 21


def test_followers_mix_real_passive_inactive_and_bought(
    sessions: sessionmaker[Session], demo: Workspace
) -> None:
    with sessions() as session:
        per_network = {
            network: count
            for network, count in session.execute(
                select(FollowerProfile.network, func.count())
                .where(FollowerProfile.workspace_id == demo.id)
                .group_by(FollowerProfile.network)
            )
        }
        profiles = session.scalars(
            select(FollowerProfile).where(FollowerProfile.workspace_id == demo.id)
        ).all()
    assert per_network == {"twitter": 200, "mastodon": 200}
    bought = [
        p
        for p in profiles
        if p.posts_count == 0
        and p.default_avatar
        and (p.following_count or 0) > 1000
        and (p.followers_count or 0) < 10
        and re.search(r"\d{5,}", p.handle or "")
        and p.account_created_at
        and p.account_created_at > NOW - timedelta(days=90)
    ]
    inactive = [
        p for p in profiles if p.last_post_at and p.last_post_at < NOW - timedelta(days=365)
    ]
    engaged = [p for p in profiles if p.last_post_at and p.last_post_at > NOW - timedelta(days=7)]
    assert len(bought) >= 40 and len(inactive) >= 40 and len(engaged) >= 100
    assert len({(p.network, p.external_id) for p in profiles}) == len(profiles)


def test_loading_twice_adds_nothing(sessions: sessionmaker[Session], demo: Workspace) -> None:
    before = _row_counts(sessions)
    report = load_demo(sessions, "demo")
    assert "already loaded" in report and "nothing changed" in report
    assert _row_counts(sessions) == before
    assert before["message"] > 150 and before["follower_profile"] == 400


def test_the_same_seed_gives_the_same_ids_and_texts(sessions: sessionmaker[Session]) -> None:
    load_demo(sessions, "first", now=NOW)
    load_demo(sessions, "later", now=NOW + timedelta(days=3))
    with sessions() as session:
        rows = session.execute(
            select(Workspace.slug, Channel.name, Message.external_id, Message.text)
            .join(Channel, Channel.id == Message.channel_id)
            .join(Workspace, Workspace.id == Message.workspace_id)
        ).all()
    first = {(r.name, r.external_id): r.text for r in rows if r.slug == "first"}
    later = {(r.name, r.external_id): r.text for r in rows if r.slug == "later"}
    shared = first.keys() & later.keys()
    assert len(shared) >= 0.9 * len(first)
    assert all(first[key] == later[key] for key in shared)


def test_a_workspace_that_is_not_the_demo_is_left_alone(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        do_create_workspace(session, "demo", "Rossi S.r.l.", actor="test")
    before = _row_counts(sessions)
    with pytest.raises(ValidationError, match="not the demo"):
        load_demo(sessions, "demo")
    assert _row_counts(sessions) == before


@pytest.mark.slow
def test_the_demo_command_loads_once(
    sessions: sessionmaker[Session], cli_env: dict[str, str]
) -> None:
    command = [str(Path(sys.executable).parent / "dialoga"), "demo"]
    first = subprocess.run(
        command, env=cli_env, capture_output=True, text=True, timeout=120, check=False
    )
    assert first.returncode == 0, first.stderr
    assert "Loaded the demo workspace 'demo'" in first.stderr
    second = subprocess.run(
        command, env=cli_env, capture_output=True, text=True, timeout=120, check=False
    )
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stderr
    with sessions() as session:
        workspace = session.scalars(select(Workspace).where(Workspace.slug == "demo")).one()
        channels = session.scalar(select(func.count()).where(Channel.workspace_id == workspace.id))
    assert workspace.name == "Caffè Aurora" and channels == 5


def test_the_demo_routes_angry_complaints_and_purchase_enquiries(
    sessions: sessionmaker[Session], demo: Workspace
) -> None:
    with sessions() as session:
        rules = rule_views(session, demo.id)

    assert [(r.conditions, r.label, r.priority, r.assignee) for r in rules] == [
        ({"intents": ["complaint"], "sentiments": ["negative"]}, "urgente", 3, None),
        ({"intents": ["lead"]}, None, 2, "Luca"),
    ]
