"""Sending replies to Mastodon: the status posted (text, parent, visibility) with the reply's
key as Idempotency-Key, the person answered addressed, and refusals for good."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from dialoga.channels.base import (
    NetworkUnavailableError,
    NormalizedAuthor,
    OutgoingReply,
    SendRefusedError,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.mastodon.connector import MastodonConnector, addressed, build
from dialoga.core.fetch import FetchPolicy

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "mastodon"
BASE = "https://mastodon.example"
TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"
PARENT = "114459712300000200"
MARCO = NormalizedAuthor("mastodon", "110022334455667788", "marco@social.example.org", "Marco")
ANNA = NormalizedAuthor("mastodon", "111234567890123456", "anna@fedi.example.net", "Anna")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector() -> MastodonConnector:
    context = ConnectorContext(
        {"instance": BASE},
        {"access_token": TOKEN, "client_id": "id", "client_secret": "secret"},
        FetchPolicy(),
        handle="caffe_rossi",
        clock=lambda: datetime(2026, 5, 4, 12, 0, tzinfo=UTC),
    )
    return build(context)


def parent_of(visibility: str) -> dict[str, Any]:
    status: dict[str, Any] = fixture("notifications.json")[1]["status"]
    return {**status, "visibility": visibility}


def mock_send(
    router: respx.MockRouter, parent: dict[str, Any], answer: httpx.Response | None = None
) -> respx.Route:
    router.get(f"{BASE}/api/v1/statuses/{parent['id']}").respond(200, json=parent)
    created = answer or httpx.Response(200, json=fixture("status_created.json"))
    return router.post(f"{BASE}/api/v1/statuses").mock(return_value=created)


def test_a_reply_is_posted_with_its_key_as_idempotency_key() -> None:
    reply = OutgoingReply("dlg-7f3a", "Riapriamo il 12 maggio!", "reply", PARENT, recipient=MARCO)
    with respx.mock(assert_all_called=True) as router:
        post = mock_send(router, parent_of("unlisted"))
        sent = connector().send(reply)
    request = post.calls.last.request
    assert request.headers["idempotency-key"] == "dlg-7f3a"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {
        "status": "@marco@social.example.org Riapriamo il 12 maggio!",
        "in_reply_to_id": PARENT,
        "visibility": "unlisted",
    }
    assert sent.external_id == "114460300000000600"
    assert sent.url == "https://mastodon.example/@caffe_rossi/114460300000000600"


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_a_public_reply_keeps_the_parent_visibility(visibility: str) -> None:
    reply = OutgoingReply("k", "Grazie!", "mention", PARENT, recipient=MARCO)
    with respx.mock(assert_all_called=True) as router:
        post = mock_send(router, parent_of(visibility))
        connector().send(reply)
    assert json.loads(post.calls.last.request.content)["visibility"] == visibility


def test_a_dm_is_sent_direct_and_not_addressed_twice() -> None:
    parent = fixture("notifications.json")[0]["status"]
    text = "Ciao @Anna@fedi.example.net, il corriere consegna domani."
    reply = OutgoingReply("k-dm", text, "dm", parent["id"], recipient=ANNA)
    with respx.mock(assert_all_called=True) as router:
        post = mock_send(router, {**parent, "visibility": "public"})
        connector().send(reply)
    body = json.loads(post.calls.last.request.content)
    assert body["visibility"] == "direct"  # a DM never goes public, whatever the parent says
    assert body["status"] == text


def test_a_group_dm_is_answered_to_everyone_in_it_but_the_brand() -> None:
    parent = fixture("notifications.json")[0]["status"]
    bob = {"id": "7", "username": "bob", "acct": "bob@other.example", "url": "https://o/@bob"}
    group = {**parent, "mentions": [*parent["mentions"], bob]}
    reply = OutgoingReply("k-group", "Ci pensiamo noi.", "dm", parent["id"], recipient=ANNA)
    context = ConnectorContext(
        {"instance": BASE}, {"access_token": TOKEN}, FetchPolicy(), handle="caffe_rossi"
    )
    with respx.mock(assert_all_called=True) as router:
        post = mock_send(router, group)
        build(context).send(reply)
    body = json.loads(post.calls.last.request.content)
    assert body["status"] == "@anna@fedi.example.net @bob@other.example Ci pensiamo noi."
    assert body["visibility"] == "direct"


def test_without_a_known_recipient_the_parent_author_is_addressed() -> None:
    reply = OutgoingReply("k", "Sì, da lunedì.", "reply", PARENT)
    with respx.mock(assert_all_called=True) as router:
        post = mock_send(router, parent_of("public"))
        connector().send(reply)
    assert json.loads(post.calls.last.request.content)["status"] == (
        "@marco@social.example.org Sì, da lunedì."
    )


def test_a_post_without_parent_is_public_and_addressed_to_no_one() -> None:
    with respx.mock(assert_all_called=True) as router:
        post = router.post(f"{BASE}/api/v1/statuses").respond(
            200, json=fixture("status_created.json")
        )
        connector().send(OutgoingReply("k", "Nuovi orari!", "post", None))
    assert json.loads(post.calls.last.request.content) == {
        "status": "Nuovi orari!",
        "visibility": "public",
    }


def test_422_is_refused_with_mastodon_reason() -> None:
    reply = OutgoingReply("k", "x" * 600, "reply", PARENT, recipient=MARCO)
    with respx.mock(assert_all_called=True) as router:
        mock_send(router, parent_of("public"), httpx.Response(422, json=fixture("error_422.json")))
        with pytest.raises(SendRefusedError, match="Text character limit of 500 exceeded"):
            connector().send(reply)


def test_a_deleted_parent_is_refused_before_anything_is_posted() -> None:
    reply = OutgoingReply("k", "Grazie!", "reply", PARENT, recipient=MARCO)
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{BASE}/api/v1/statuses/{PARENT}").respond(
            404, json={"error": "Record not found"}
        )
        post = router.post(f"{BASE}/api/v1/statuses")
        with pytest.raises(SendRefusedError, match="Record not found"):
            connector().send(reply)
    assert not post.called


def test_a_server_error_on_send_may_be_retried() -> None:
    reply = OutgoingReply("k", "Grazie!", "reply", PARENT, recipient=MARCO)
    with respx.mock(assert_all_called=True) as router:
        mock_send(router, parent_of("public"), httpx.Response(503))
        with pytest.raises(NetworkUnavailableError):
            connector().send(reply)


@pytest.mark.parametrize(
    ("text", "handle", "expected"),
    [
        ("ciao", "bob", "@bob ciao"),
        ("@bob ciao", "bob", "@bob ciao"),
        ("grazie @BOB.", "bob", "grazie @BOB."),
        ("@bobby ciao", "bob", "@bob @bobby ciao"),
        ("@bob@other.example ciao", "bob", "@bob @bob@other.example ciao"),
        ("ciao", "@bob@x.example", "@bob@x.example ciao"),
        ("ciao", None, "ciao"),
    ],
)
def test_addressed_adds_the_mention_only_when_missing(
    text: str, handle: str | None, expected: str
) -> None:
    assert addressed(text, handle) == expected
