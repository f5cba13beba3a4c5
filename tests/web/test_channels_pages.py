"""The live channels page: each channel's state and the network's last error (escaped),
read-now / pause / resume for writers only (with CSRF), another workspace's channel "not
found"; and a failed reply shown with its reason and sent again from the conversation."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from huey import MemoryHuey
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.base import Poll, SendRefusedError
from dialoga.channels.models import Channel, ChannelSync
from dialoga.channels.sending import send_reply
from dialoga.channels.sync import HEALTH_STATES, poll_channel
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.i18n import translate
from dialoga.inbox.delivery import DELIVERY_STATES
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.work import do_reply
from dialoga.jobs.tasks import build_jobs
from dialoga.runtime import Runtime
from live_double import Clock, ScriptedConnector, agent, live_channel, make_live, mention

from .conftest import csrf_of, make_user, sign_in

CHANNELS = "/w/acme/channels"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def channel(sessions: sessionmaker[Session], workspace: Workspace) -> Channel:
    return live_channel(sessions, workspace, Clock())


def _sync(sessions: sessionmaker[Session], channel: Channel) -> ChannelSync:
    with sessions() as session:
        found = session.get(ChannelSync, channel.id)
        assert found is not None
        return found


def test_the_page_shows_each_channels_state_and_its_error_as_text(
    runtime: Runtime, member_client: TestClient, channel: Channel
) -> None:
    with transaction(runtime.sessions) as session:
        session.execute(
            update(ChannelSync).values(health="needs_reauth", last_error=f"401 {HOSTILE}")
        )
    page = member_client.get(CHANNELS)
    assert page.status_code == 200
    assert "social" in page.text and translate("it", "channels.state.needs_reauth") in page.text
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text


def test_read_now_pause_and_resume(
    runtime: Runtime, member_client: TestClient, channel: Channel
) -> None:
    page = member_client.get(CHANNELS)
    token = csrf_of(page.text)
    url = f"{CHANNELS}/{channel.id}"
    assert member_client.post(f"{url}/pause", data={}).status_code == 403  # no CSRF token
    paused = member_client.post(f"{url}/pause", data={"csrf_token": token}, follow_redirects=False)
    assert paused.status_code == 303 and not _sync(runtime.sessions, channel).enabled
    assert translate("it", "channels.state.paused") in member_client.get(CHANNELS).text
    member_client.post(f"{url}/resume", data={"csrf_token": token})
    assert _sync(runtime.sessions, channel).enabled
    assert member_client.post(f"{url}/poll", data={"csrf_token": token}).status_code == 200


def test_an_analyst_reads_the_page_but_cannot_change_a_channel(
    runtime: Runtime, client: TestClient, workspace: Workspace, channel: Channel
) -> None:
    user = make_user(runtime.sessions, "ada@example.it")
    with transaction(runtime.sessions) as session:
        do_add_member(session, workspace.id, user.id, "analyst", actor="test")
    sign_in(client, "ada@example.it")
    page = client.get(CHANNELS)
    assert "social" in page.text and "/pause" not in page.text
    refused = client.post(f"{CHANNELS}/{channel.id}/pause", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 403 and _sync(runtime.sessions, channel).enabled


def test_another_workspaces_channel_is_not_found(
    runtime: Runtime, member_client: TestClient
) -> None:
    with transaction(runtime.sessions) as session:
        other = do_create_workspace(session, "rival", "Rival", actor="test")
    theirs = live_channel(runtime.sessions, other, Clock())
    token = csrf_of(member_client.get(CHANNELS).text)
    answer = member_client.post(f"{CHANNELS}/{theirs.id}/pause", data={"csrf_token": token})
    assert answer.status_code == 404 and _sync(runtime.sessions, theirs).enabled
    assert "rival" not in member_client.get(CHANNELS).text


def test_a_failed_reply_shows_its_reason_and_is_sent_again(
    runtime: Runtime, member_client: TestClient, workspace: Workspace, channel: Channel
) -> None:
    clock = Clock()
    network = ScriptedConnector([Poll([mention(1)], [], {"since": 1})])
    network.send_error = SendRefusedError(f"Validation failed {HOSTILE}")
    live = make_live(runtime.sessions, runtime.vault, network, clock)
    poll_channel(live, channel.id)
    user = agent(runtime.sessions, workspace)
    with transaction(runtime.sessions) as session:
        conversation = session.scalars(select(Conversation.id)).one()
        reply_id = do_reply(session, conversation, user, "Ciao", clock())
    send_reply(live, reply_id)

    page = member_client.get(f"/w/acme/inbox/{conversation}")
    shown = translate("it", "delivery.failed_because", reason="Validation failed ")
    assert f"{shown}&lt;script&gt;" in page.text
    network.send_error = None
    clock.now = utcnow() + timedelta(minutes=1)  # the page queues it in real time
    member_client.app.state.jobs = build_jobs(runtime, MemoryHuey(immediate=True), live)  # type: ignore[attr-defined]
    again = member_client.post(
        f"/w/acme/inbox/{conversation}/messages/{reply_id}/send-again",
        data={"csrf_token": csrf_of(page.text)},
    )
    assert again.status_code == 200
    with runtime.sessions() as session:
        assert session.get(Message, reply_id).delivery == "sent"  # type: ignore[union-attr]
    assert [reply.text for reply in network.sent] == ["Ciao"]


def test_every_state_a_page_can_show_is_in_both_catalogs() -> None:
    locale = Path(__file__).parents[2] / "src" / "dialoga" / "locale"
    keys = [f"channels.state.{state}" for state in (*HEALTH_STATES, "paused")]
    keys += [f"delivery.{state}" for state in DELIVERY_STATES]
    for language in ("en", "it"):
        catalog = json.loads((locale / f"{language}.json").read_text(encoding="utf-8"))
        assert [key for key in keys if key not in catalog] == [], language
