"""Stored audits of a channel: engagement from the inbox, ambassadors, growth, isolation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.audience.actions import do_store_profiles
from dialoga.audience.models import AuditVerdict
from dialoga.audience.queries import audit_run, audit_runs, run_verdicts
from dialoga.audience.service import run_channel_audit, stored_report
from dialoga.audience.verdicts import AuditSettings
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage, NormalizedProfile
from dialoga.channels.models import Channel
from dialoga.core.db import transaction
from dialoga.core.errors import NotFoundError
from dialoga.inbox.actions import ingest

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PERSON = NormalizedProfile(
    network="mastodon",
    external_id="p0",
    handle="p0@example.social",
    display_name="Anna Verdi",
    bio="Cuoca, mamma, lettrice.",
    followers_count=300,
    following_count=250,
    posts_count=2400,
    account_created_at=NOW - timedelta(days=2000),
    last_post_at=NOW - timedelta(days=1),
    default_avatar=False,
    default_banner=False,
    location="Bologna",
)
BOUGHT = replace(
    PERSON,
    external_id="b0",
    handle="bot84736251",
    display_name="bot",
    bio=None,
    followers_count=3,
    following_count=3000,
    posts_count=0,
    account_created_at=NOW - timedelta(days=12),
    last_post_at=None,
    default_avatar=True,
    default_banner=True,
    location=None,
)


def _people(count: int) -> list[NormalizedProfile]:
    return [
        replace(PERSON, external_id=f"p{n}", handle=f"p{n}@example.social") for n in range(count)
    ]


def _bots(count: int) -> list[NormalizedProfile]:
    return [replace(BOUGHT, external_id=f"b{n}", handle=f"bot{n}8473") for n in range(count)]


def _channel(sessions: sessionmaker[Session], workspace: Workspace) -> Channel:
    with transaction(sessions) as session:
        return do_get_or_create_channel(session, workspace.id, "social", "mastodon", actor="test")


def _store(
    sessions: sessionmaker[Session], channel: Channel, profiles: list[NormalizedProfile], day: date
) -> None:
    with transaction(sessions) as session:
        do_store_profiles(session, channel.workspace_id, channel.id, profiles, day)


def _talk(sessions: sessionmaker[Session], channel: Channel, author: str, times: int) -> None:
    who = NormalizedAuthor("mastodon", author, handle=f"{author}@example.social")
    messages = [
        NormalizedMessage(f"{author}-{n}", who, NOW - timedelta(hours=n), f"ciao {n}")
        for n in range(times)
    ]
    with transaction(sessions) as session:
        ingest(session, channel, messages)


def test_an_audit_sorts_followers_and_ranks_the_ambassadors(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    channel = _channel(sessions, workspace)
    _store(sessions, channel, _people(6) + _bots(4), date(2026, 11, 30))
    _talk(sessions, channel, "p1", 3)
    _talk(sessions, channel, "p2", 5)
    _talk(sessions, channel, "b0", 2)  # a bought account that wrote is still fake

    run_id = run_channel_audit(sessions, workspace.id, channel.id, AuditSettings(), NOW)

    with sessions() as session:
        run = audit_run(session, workspace.id, run_id)
        assert (run.profiles, run.fake, run.engaged, run.passive) == (10, 4, 2, 4)
        assert run.quality_score == pytest.approx(0.6)
        assert run.real_reach == 6 * 300
        assert [a["external_id"] for a in run.ambassadors] == ["p2", "p1"]
        assert run.ambassadors[0]["messages"] == 5 and run.ambassadors[0]["conversation_id"]
        fakes = run_verdicts(session, run, "fake", 0, 50)
        assert {v.external_id for v in fakes} == {"b0", "b1", "b2", "b3"}
        assert fakes[0].reasons and fakes[0].reasons[0][0].startswith("audience.reason.")
        page = stored_report(session, workspace.id, run_id, "it")
        assert "p2@example.social" in page and "MCC 0,9" in page
        conversation = run.ambassadors[0]["conversation_id"]
        assert f'href="/w/acme/inbox/{conversation}"' in page


def test_a_second_audit_knows_who_came_and_who_left(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    channel = _channel(sessions, workspace)
    _store(sessions, channel, _people(5), date(2026, 10, 1))
    run_channel_audit(sessions, workspace.id, channel.id, AuditSettings(), NOW - timedelta(days=60))
    # two months later: p0..p2 still there (seen again), three bought ones arrived
    _store(sessions, channel, _people(3) + _bots(3), date(2026, 11, 30))

    second = run_channel_audit(sessions, workspace.id, channel.id, AuditSettings(), NOW)

    with sessions() as session:
        run = audit_run(session, workspace.id, second)
        assert (run.profiles, run.new_followers, run.lost_followers) == (6, 3, 2)
        assert run.quality_score == pytest.approx(0.5)
        assert len(audit_runs(session, workspace.id, channel.id)) == 2


def test_another_workspace_reaches_neither_the_audit_nor_the_channel(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    channel = _channel(sessions, workspace)
    _store(sessions, channel, _people(2), date(2026, 11, 30))
    run_id = run_channel_audit(sessions, workspace.id, channel.id, AuditSettings(), NOW)
    with transaction(sessions) as session:
        other = do_create_workspace(session, "rival", "Rival", actor="test")
    with sessions() as session:
        with pytest.raises(NotFoundError):
            audit_run(session, other.id, run_id)
        with pytest.raises(NotFoundError):
            stored_report(session, other.id, run_id, "en")
    with pytest.raises(NotFoundError):
        run_channel_audit(sessions, other.id, channel.id, AuditSettings(), NOW)


def test_an_empty_channel_gives_an_empty_audit(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    channel = _channel(sessions, workspace)
    run_id = run_channel_audit(sessions, workspace.id, channel.id, AuditSettings(), NOW)
    with sessions() as session:
        run = audit_run(session, workspace.id, run_id)
        assert (run.profiles, run.quality_score, run.ambassadors) == (0, None, [])
        assert session.scalar(select(func.count()).select_from(AuditVerdict)) == 0
