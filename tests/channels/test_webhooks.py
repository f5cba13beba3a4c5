"""Inbound webhooks through the app: signed deliveries are stored once, everything else is
refused with its reason, and a refused delivery stores nothing."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.models import Channel
from dialoga.channels.webhooks import do_enable_webhook, signature
from dialoga.core.db import transaction
from dialoga.core.vault import Vault
from dialoga.inbox.models import Message
from dialoga.runtime import Runtime
from dialoga.web.app import create_app

RECORDS = {
    "records": [
        {"external_id": "wh-1", "created_at": "2026-12-01T10:00:00Z", "text": "Ciao!",
         "author_id": "u-9", "author_handle": "laura"},
        {"record": "profile", "external_id": "u-9", "handle": "laura", "followers_count": 40},
        {"external_id": "wh-bad", "created_at": "ieri", "text": "x", "author_id": "u-9"},
    ]
}  # fmt: skip


@pytest.fixture
def hooked(runtime: Runtime, workspace: Workspace) -> tuple[TestClient, Channel, str]:
    vault = Vault.from_settings(runtime.settings)
    with transaction(runtime.sessions) as session:
        channel = do_get_or_create_channel(session, workspace.id, "forum", "generic", actor="t")
        secret = do_enable_webhook(session, channel, vault, actor="test")
    return TestClient(create_app(runtime)), channel, secret


def _headers(
    secret: str, body: bytes, delivery: str = "d-1", at: int | None = None
) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    return {
        "X-Dialoga-Delivery": delivery,
        "X-Dialoga-Timestamp": stamp,
        "X-Dialoga-Signature": signature(secret, stamp, delivery, body),
        "Content-Type": "application/json",
    }


def _messages(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def test_a_signed_delivery_is_stored_once(
    runtime: Runtime, hooked: tuple[TestClient, Channel, str]
) -> None:
    client, channel, secret = hooked
    body = json.dumps(RECORDS).encode()

    first = client.post(f"/hooks/{channel.id}", content=body, headers=_headers(secret, body))
    again = client.post(f"/hooks/{channel.id}", content=body, headers=_headers(secret, body))

    assert first.status_code == 202, first.text
    answer = first.json()
    assert (answer["messages"], answer["profiles"]) == (1, 1)
    assert [r["index"] for r in answer["rejected"]] == [2]
    assert again.status_code == 409 and "already accepted" in again.json()["detail"]
    assert _messages(runtime.sessions) == 1


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"X-Dialoga-Signature": "sha256=" + "0" * 64}, 401, "does not match"),
        ({"X-Dialoga-Timestamp": str(int(time.time()) - 3600)}, 401, "five minutes"),
        ({"X-Dialoga-Timestamp": "yesterday"}, 401, "Unix seconds"),
        ({"X-Dialoga-Delivery": ""}, 400, "X-Dialoga-Delivery"),
    ],
)
def test_a_bad_or_stale_signature_stores_nothing(
    runtime: Runtime,
    hooked: tuple[TestClient, Channel, str],
    change: dict[str, str],
    status: int,
    reason: str,
) -> None:
    client, channel, secret = hooked
    body = json.dumps(RECORDS).encode()

    refused = client.post(
        f"/hooks/{channel.id}", content=body, headers={**_headers(secret, body), **change}
    )

    assert refused.status_code == status and reason in refused.json()["detail"]
    assert _messages(runtime.sessions) == 0


def test_malformed_huge_and_unknown_deliveries_are_refused(
    hooked: tuple[TestClient, Channel, str],
) -> None:
    client, channel, secret = hooked
    broken = b"{not json"
    huge = b"[" + b" " * (1 << 20) + b"]"

    assert (
        client.post(
            f"/hooks/{channel.id}", content=broken, headers=_headers(secret, broken)
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/hooks/{channel.id}", content=huge, headers=_headers(secret, huge, "d-2")
        ).status_code
        == 413
    )
    assert (
        client.post("/hooks/999999", content=broken, headers=_headers(secret, broken)).status_code
        == 404
    )


def test_a_channel_without_a_secret_takes_no_webhooks(
    runtime: Runtime, workspace: Workspace
) -> None:
    with transaction(runtime.sessions) as session:
        channel = do_get_or_create_channel(session, workspace.id, "quiet", "generic", actor="t")
    body = b"[]"
    answer = TestClient(create_app(runtime)).post(
        f"/hooks/{channel.id}", content=body, headers=_headers("guess", body)
    )
    assert answer.status_code == 401 and "enable them first" in answer.json()["detail"]


def test_a_delivery_that_failed_to_store_can_be_sent_again(
    runtime: Runtime, hooked: tuple[TestClient, Channel, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, channel, secret = hooked
    body = json.dumps(RECORDS).encode()

    def crash(*_: object, **__: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("dialoga.channels.webhooks.ingest", crash)
    with pytest.raises(RuntimeError):
        client.post(f"/hooks/{channel.id}", content=body, headers=_headers(secret, body))
    monkeypatch.undo()

    retried = client.post(f"/hooks/{channel.id}", content=body, headers=_headers(secret, body))
    assert retried.status_code == 202 and _messages(runtime.sessions) == 1
