"""Connecting channels from the web: forms for owners and admins only (CSRF), settings
checked before anything is kept, secrets sealed and never shown back, and Mastodon's
OAuth round trip (instance mocked with respx) with its state checked."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from fastapi.testclient import TestClient
from huey import MemoryHuey
from sqlalchemy import func, select

from dialoga.accounts.actions import do_add_member
from dialoga.accounts.models import Workspace
from dialoga.channels.credentials import credentials_of
from dialoga.channels.models import Channel, ChannelCredential, ChannelSync
from dialoga.core.db import transaction
from dialoga.jobs.tasks import build_jobs
from dialoga.runtime import Runtime
from dialoga.web.routes.channels_connect import feeds_from

from .conftest import csrf_of, make_user, sign_in

CONNECT = "/w/acme/channels/connect"
INSTANCE = "https://mastodon.example"


@pytest.fixture
def owner_client(runtime: Runtime, workspace: Workspace, client: TestClient) -> TestClient:
    user = make_user(runtime.sessions, "olga@example.it")
    with transaction(runtime.sessions) as session:
        do_add_member(session, workspace.id, user.id, "owner", actor="test")
    sign_in(client, "olga@example.it")
    client.app.state.jobs = build_jobs(runtime, MemoryHuey())  # type: ignore[attr-defined]
    return client


def _channels(runtime: Runtime) -> list[Channel]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Channel)))


def _post(client: TestClient, network: str, **fields: str) -> httpx.Response:
    token = csrf_of(client.get(f"{CONNECT}/{network}").text)
    return client.post(
        f"{CONNECT}/{network}", data={"csrf_token": token, **fields}, follow_redirects=False
    )


def test_a_wordpress_blog_is_connected_with_its_password_sealed(
    runtime: Runtime, owner_client: TestClient
) -> None:
    answer = _post(
        owner_client,
        "wordpress",
        channel="blog",
        site="https://blog.example.com",
        username="brand",
        application_password="abcd efgh ijkl",
    )
    assert answer.status_code == 303
    [channel] = _channels(runtime)
    assert (channel.network, channel.config) == ("wordpress", {"site": "https://blog.example.com"})
    with runtime.sessions() as session:
        sealed = session.scalar(select(ChannelCredential.sealed))
        secret = credentials_of(session, channel, runtime.vault)
        assert session.get(ChannelSync, channel.id) is not None
    assert sealed is not None and "abcd" not in sealed
    assert secret is not None and secret.fields["application_password"] == "abcd efgh ijkl"
    queued = owner_client.app.state.jobs.huey.pending()  # type: ignore[attr-defined]
    assert [task.args for task in queued] == [(channel.id,)]  # polled once committed


def test_wrong_settings_keep_nothing_and_never_echo_the_secret(
    runtime: Runtime, owner_client: TestClient
) -> None:
    answer = _post(
        owner_client,
        "wordpress",
        channel="blog",
        site="ftp://blog.example.com",
        username="brand",
        application_password="segreta-123",
    )
    assert answer.status_code == 400
    assert "segreta-123" not in answer.text and "ftp://blog.example.com" in answer.text
    assert _channels(runtime) == []


def test_rss_feeds_are_typed_one_per_line() -> None:
    assert feeds_from("https://a.example/feed caffè, Rossi\n\n  https://b.example/rss  ") == [
        {"url": "https://a.example/feed", "keywords": ["caffè", "Rossi"]},
        {"url": "https://b.example/rss", "keywords": []},
    ]


def test_agents_and_analysts_cannot_connect_channels(
    runtime: Runtime, member_client: TestClient
) -> None:
    assert member_client.get(f"{CONNECT}/rss").status_code == 403
    assert "/channels/connect/" not in member_client.get("/w/acme/channels").text


def test_mastodon_is_authorised_on_the_instance_and_connected(
    runtime: Runtime, owner_client: TestClient
) -> None:
    with respx.mock(assert_all_called=True) as instance:
        apps = instance.post(f"{INSTANCE}/api/v1/apps").respond(
            200, json={"client_id": "cid", "client_secret": "csecret", "name": "Dialoga"}
        )
        started = _post(owner_client, "mastodon", channel="social", instance=INSTANCE)
        assert started.status_code == 303
        target = urlsplit(started.headers["location"])
        query = parse_qs(target.query)
        assert f"{target.scheme}://{target.netloc}{target.path}" == f"{INSTANCE}/oauth/authorize"
        callback = query["redirect_uri"][0]
        assert callback.endswith("/w/acme/channels/mastodon/callback")
        assert b"redirect_uris=" in apps.calls.last.request.content

    with respx.mock(assert_all_called=True) as instance:
        token = instance.post(f"{INSTANCE}/oauth/token").respond(
            200, json={"access_token": "tok-1", "token_type": "Bearer", "scope": "read write"}
        )
        instance.get(f"{INSTANCE}/api/v1/accounts/verify_credentials").respond(
            200, json={"id": "109", "username": "caffe_rossi", "acct": "caffe_rossi"}
        )
        done = owner_client.get(
            "/w/acme/channels/mastodon/callback",
            params={"code": "the-code", "state": query["state"][0]},
            follow_redirects=False,
        )
    assert done.status_code == 303, done.text
    assert b"code=the-code" in token.calls.last.request.content
    [channel] = _channels(runtime)
    assert (channel.network, channel.handle) == ("mastodon", "caffe_rossi")
    with runtime.sessions() as session:
        secret = credentials_of(session, channel, runtime.vault)
    assert secret is not None and secret.fields["access_token"] == "tok-1"

    replayed = owner_client.get(
        "/w/acme/channels/mastodon/callback", params={"code": "x", "state": query["state"][0]}
    )
    assert replayed.status_code == 400  # the state was used up


def test_a_callback_with_a_forged_state_connects_nothing(
    runtime: Runtime, owner_client: TestClient
) -> None:
    with respx.mock() as instance:
        instance.post(f"{INSTANCE}/api/v1/apps").respond(
            200, json={"client_id": "cid", "client_secret": "csecret"}
        )
        _post(owner_client, "mastodon", channel="social", instance=INSTANCE)
    forged = owner_client.get(
        "/w/acme/channels/mastodon/callback", params={"code": "c", "state": "guessed"}
    )
    assert forged.status_code == 400
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Channel)) == 0
