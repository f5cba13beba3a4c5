"""The JSON API of audits: run one, read it and its verdicts; roles, CSRF and bad queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_api_token
from dialoga.accounts.models import Workspace
from dialoga.audience.actions import do_store_profiles
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedProfile
from dialoga.core.db import transaction
from dialoga.runtime import Runtime

from .conftest import make_user

NOW = datetime.now(UTC)


def _profile(external_id: str, *, bought: bool) -> NormalizedProfile:
    return NormalizedProfile(
        network="mastodon",
        external_id=external_id,
        handle=f"{external_id}@example.social",
        display_name="x" if bought else "Laura Neri",
        bio=None if bought else "Insegnante, Padova",
        followers_count=2 if bought else 420,
        following_count=4000 if bought else 300,
        posts_count=0 if bought else 1800,
        account_created_at=NOW - timedelta(days=10 if bought else 1900),
        default_avatar=bought,
        default_banner=bought,
    )


@pytest.fixture
def channel_id(runtime: Runtime, workspace: Workspace) -> int:
    with transaction(runtime.sessions) as session:
        channel = do_get_or_create_channel(session, workspace.id, "social", "mastodon", actor="t")
        profiles = [_profile("real1", bought=False), _profile("bot1", bought=True)]
        do_store_profiles(session, workspace.id, channel.id, profiles, date.today())
        return channel.id


def _token(sessions: sessionmaker[Session], workspace: Workspace, email: str, role: str) -> str:
    user = make_user(sessions, email)
    with transaction(sessions) as session:
        member = do_add_member(session, workspace.id, user.id, role, actor="test")
        return do_create_api_token(session, member, "tests", actor="test")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_agent_runs_an_audit_and_reads_its_verdicts(
    runtime: Runtime, client: TestClient, workspace: Workspace, channel_id: int
) -> None:
    token = _token(runtime.sessions, workspace, "agent@example.it", "agent")
    base = f"/api/v1/workspaces/{workspace.slug}/audits"

    ran = client.post(base, json={"channel_id": channel_id}, headers=_auth(token))

    assert ran.status_code == 201, ran.text
    run = ran.json()
    assert run["profiles"] == 2 and run["verdicts"]["fake"] == 1
    assert run["quality_score"] == 0.5 and run["ambassadors"] == []
    no_days = {"channel_id": channel_id, "inactive_days": 0}
    assert client.post(base, json=no_days, headers=_auth(token)).status_code == 422
    listed = client.get(base, params={"channel_id": channel_id}, headers=_auth(token)).json()
    assert [entry["id"] for entry in listed] == [run["id"]] and listed[0]["summary"] is None
    fakes = client.get(
        f"{base}/{run['id']}/verdicts",
        params={"verdict": "fake", "lang": "it"},
        headers=_auth(token),
    ).json()
    assert [v["external_id"] for v in fakes] == ["bot1"]
    assert any("segue 4.000 account, seguito da 2" in reason for reason in fakes[0]["reasons"])


def test_an_analyst_reads_but_cannot_run_and_bad_queries_are_refused(
    runtime: Runtime, client: TestClient, workspace: Workspace, channel_id: int
) -> None:
    token = _token(runtime.sessions, workspace, "analyst@example.it", "analyst")
    base = f"/api/v1/workspaces/{workspace.slug}/audits"

    refused = client.post(base, json={"channel_id": channel_id}, headers=_auth(token))

    assert refused.status_code == 403
    assert client.get(base, headers=_auth(token)).json() == []
    assert client.get(base, params={"channel_id": 999_999}, headers=_auth(token)).status_code == 404
    assert client.get(f"{base}/1/verdicts?verdict=evil", headers=_auth(token)).status_code == 422
    assert client.get(f"{base}/1/verdicts?limit=501", headers=_auth(token)).status_code == 422


def test_a_session_caller_needs_the_csrf_header_to_run_one(
    member_client: TestClient, workspace: Workspace, channel_id: int
) -> None:
    base = f"/api/v1/workspaces/{workspace.slug}/audits"

    refused = member_client.post(base, json={"channel_id": channel_id})

    assert refused.status_code == 403
    assert member_client.get(base).json() == []
