"""Sending replies to Bluesky: thread references, the record key derived from the reply's
key, a repeated send finding its earlier post, and refusals."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import respx

from dialoga.channels.base import (
    AuthExpiredError,
    NetworkUnavailableError,
    OutgoingReply,
    SendRefusedError,
)
from dialoga.channels.bluesky.connector import (
    MAX_GRAPHEMES,
    TID_ALPHABET,
    TID_WINDOW_START_US,
    grapheme_count,
    record_key,
    tid,
)

from .conftest import BRAND, NOW, XRPC, connector, load, xrpc_error

GET_POSTS = XRPC + "app.bsky.feed.getPosts"
CREATE = XRPC + "com.atproto.repo.createRecord"
GET_RECORD = XRPC + "com.atproto.repo.getRecord"
REFRESH = XRPC + "com.atproto.server.refreshSession"
KEY = "dialoga:7f3a9c0e5b1d4e2f8a6b"
PARENT = "at://did:plc:7xkpsdm2hfgv5ocdtfv4ekcq/app.bsky.feed.post/3mg2xjtdypc2b"
TEXT = "Ciao Giulia! Domenica apriamo alle 8:30 ☕"
TID_SHAPE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def _reply(text: str = TEXT, key: str = KEY, in_reply_to: str | None = PARENT) -> OutgoingReply:
    return OutgoingReply(key=key, text=text, kind="reply", in_reply_to=in_reply_to)


def _parent_found(router: respx.MockRouter) -> respx.Route:
    return router.get(GET_POSTS).mock(
        return_value=httpx.Response(200, json=load("get_posts_parent.json"))
    )


def test_a_reply_to_a_reply_names_the_threads_root_and_its_parent(
    respx_mock: respx.MockRouter,
) -> None:
    posts = _parent_found(respx_mock)
    create = respx_mock.post(CREATE).mock(
        return_value=httpx.Response(200, json=load("create_record.json"))
    )
    bluesky = connector()

    sent = bluesky.send(_reply())

    parent = load("get_posts_parent.json")["posts"][0]
    assert posts.calls.last.request.url.params.get_list("uris") == [PARENT]
    request = create.calls.last.request
    assert request.headers["Authorization"] == "Bearer stored-access-jwt"
    assert json.loads(request.content) == {
        "repo": BRAND,
        "collection": "app.bsky.feed.post",
        "rkey": record_key(KEY),
        "record": {
            "$type": "app.bsky.feed.post",
            "text": TEXT,
            "createdAt": "2026-03-02T10:00:00.000Z",
            "reply": {
                "root": parent["record"]["reply"]["root"],
                "parent": {"uri": PARENT, "cid": parent["cid"]},
            },
        },
    }
    assert sent.external_id == load("create_record.json")["uri"]
    assert sent.url == f"https://bsky.app/profile/caffe-aurora.bsky.social/post/{record_key(KEY)}"
    assert bluesky.idempotent_sends is True


def test_a_reply_to_a_top_level_post_uses_it_as_root(respx_mock: respx.MockRouter) -> None:
    found = load("get_posts_parent.json")
    del found["posts"][0]["record"]["reply"]
    respx_mock.get(GET_POSTS).mock(return_value=httpx.Response(200, json=found))
    create = respx_mock.post(CREATE).mock(
        return_value=httpx.Response(200, json=load("create_record.json"))
    )

    connector().send(_reply())

    reply = json.loads(create.calls.last.request.content)["record"]["reply"]
    assert reply["root"] == reply["parent"] == {"uri": PARENT, "cid": found["posts"][0]["cid"]}


def test_the_record_key_is_a_tid_fixed_by_the_replys_key() -> None:
    key = record_key(KEY)

    assert key == "3jqolln5weanj"
    assert record_key(KEY) == key
    assert record_key("dialoga:7f3a9c0e5b1d4e2f8a6c") != key
    assert TID_SHAPE.match(key)
    value = 0
    for char in key:
        value = value * 32 + TID_ALPHABET.index(char)
    timestamp = value >> 10
    assert TID_WINDOW_START_US <= timestamp < TID_WINDOW_START_US + 2**44
    assert timestamp < NOW.timestamp() * 1_000_000  # never dated in the future


def test_tids_are_encoded_as_the_spec_says() -> None:
    assert tid(0, 0) == "2222222222222"
    assert tid(1724171495793000, 512) == "3l25zusnsfck2"


def test_a_repeated_send_returns_the_post_the_first_attempt_made(
    respx_mock: respx.MockRouter,
) -> None:
    _parent_found(respx_mock)
    # bsky.social answers a create at a taken record key with a 500 (atproto#3718)
    respx_mock.post(CREATE).mock(
        return_value=xrpc_error(500, "InternalServerError", "Internal Server Error")
    )
    lookup = respx_mock.get(GET_RECORD).mock(
        return_value=httpx.Response(200, json=load("get_record.json"))
    )

    sent = connector().send(_reply())

    params = lookup.calls.last.request.url.params
    assert (params["repo"], params["collection"], params["rkey"]) == (
        BRAND,
        "app.bsky.feed.post",
        record_key(KEY),
    )
    assert sent.external_id == load("get_record.json")["uri"]
    assert sent.url == f"https://bsky.app/profile/caffe-aurora.bsky.social/post/{record_key(KEY)}"


def test_a_server_error_with_no_post_under_the_key_stays_an_error(
    respx_mock: respx.MockRouter,
) -> None:
    _parent_found(respx_mock)
    respx_mock.post(CREATE).mock(return_value=xrpc_error(502, "UpstreamFailure"))
    respx_mock.get(GET_RECORD).mock(
        return_value=xrpc_error(400, "RecordNotFound", "Could not locate record")
    )

    with pytest.raises(NetworkUnavailableError):
        connector().send(_reply())


def test_another_post_under_the_key_is_refused(respx_mock: respx.MockRouter) -> None:
    _parent_found(respx_mock)
    respx_mock.post(CREATE).mock(return_value=xrpc_error(500, "InternalServerError"))
    other = load("get_record.json")
    other["value"]["text"] = "something else"
    respx_mock.get(GET_RECORD).mock(return_value=httpx.Response(200, json=other))

    with pytest.raises(SendRefusedError, match="another post"):
        connector().send(_reply())


def test_a_refused_record_says_why(respx_mock: respx.MockRouter) -> None:
    _parent_found(respx_mock)
    reason = "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
    respx_mock.post(CREATE).mock(return_value=xrpc_error(400, "InvalidRequest", reason))
    respx_mock.get(GET_RECORD).mock(
        return_value=xrpc_error(400, "RecordNotFound", "Could not locate record")
    )

    with pytest.raises(
        SendRefusedError, match=re.escape("InvalidRequest: Invalid app.bsky.feed.post record")
    ):
        connector().send(_reply())


def test_a_deleted_parent_is_refused_without_posting(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(GET_POSTS).mock(return_value=httpx.Response(200, json={"posts": []}))
    create = respx_mock.post(CREATE)

    with pytest.raises(SendRefusedError, match="gone"):
        connector().send(_reply())

    assert create.call_count == 0


def test_an_expired_token_on_send_is_refreshed_and_retried(respx_mock: respx.MockRouter) -> None:
    _parent_found(respx_mock)
    create = respx_mock.post(CREATE).mock(
        side_effect=[
            xrpc_error(400, "ExpiredToken", "Token has expired"),
            httpx.Response(200, json=load("create_record.json")),
        ]
    )
    respx_mock.post(REFRESH).mock(
        return_value=httpx.Response(200, json=load("refresh_session.json"))
    )
    bluesky = connector()

    bluesky.send(_reply())

    assert create.call_count == 2
    assert create.calls.last.request.headers["Authorization"] == (
        f"Bearer {load('refresh_session.json')['accessJwt']}"
    )
    assert bluesky.renewed_credentials is not None


def test_a_refused_session_on_send_is_auth_expired(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(GET_POSTS).mock(return_value=xrpc_error(401, "AuthenticationRequired"))
    respx_mock.post(REFRESH).mock(
        return_value=xrpc_error(400, "AccountTakedown", "Account has been taken down")
    )

    with pytest.raises(AuthExpiredError, match="AccountTakedown"):
        connector().send(_reply())


def test_a_reply_longer_than_300_graphemes_is_refused_before_any_call(
    respx_mock: respx.MockRouter,
) -> None:
    with pytest.raises(SendRefusedError, match="300"):
        connector().send(_reply("è" * (MAX_GRAPHEMES + 1)))
    with pytest.raises(SendRefusedError):
        connector().send(_reply("👨‍👩‍👧‍👦" * 200))  # 200 graphemes, but over 3000 bytes

    assert respx_mock.calls.call_count == 0


def test_a_reply_of_exactly_300_graphemes_is_sent(respx_mock: respx.MockRouter) -> None:
    _parent_found(respx_mock)
    create = respx_mock.post(CREATE).mock(
        return_value=httpx.Response(200, json=load("create_record.json"))
    )
    text = "e\u0301" * MAX_GRAPHEMES  # 600 code points, 300 graphemes

    connector().send(_reply(text))

    assert json.loads(create.calls.last.request.content)["record"]["text"] == text


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (_reply(in_reply_to=None), "AT URI"),
        (_reply(in_reply_to="https://bsky.app/profile/x/post/3mg2xjtdypc2b"), "AT URI"),
        (_reply(text="  \n"), "empty"),
    ],
)
def test_a_reply_that_cannot_be_a_bluesky_reply_is_refused(
    respx_mock: respx.MockRouter, reply: OutgoingReply, reason: str
) -> None:
    with pytest.raises(SendRefusedError, match=reason):
        connector().send(reply)

    assert respx_mock.calls.call_count == 0


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("ciao", 4),
        ("caffe\u0301", 5),
        ("🇮🇹🇫🇷", 2),
        ("👨‍👩‍👧‍👦", 1),
        ("👍🏽!", 2),
        ("❤️", 1),
        ("a\r\nb", 3),
        ("", 0),
    ],
)
def test_graphemes_are_counted_as_people_see_them(text: str, count: int) -> None:
    assert grapheme_count(text) == count
