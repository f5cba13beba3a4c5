"""Polling a Bluesky account against mocked XRPC answers: pages, resuming, followers,
sessions and errors."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx

from dialoga.channels.base import (
    AuthExpiredError,
    ConnectorError,
    MalformedPayloadError,
    NetworkUnavailableError,
    RateLimitedError,
)
from dialoga.channels.bluesky import parse

from .conftest import APP_PASSWORD, BRAND, NOW, STORED, XRPC, connector, load, xrpc_error

NOTIFICATIONS = XRPC + "app.bsky.notification.listNotifications"
FOLLOWERS = XRPC + "app.bsky.graph.getFollowers"
PROFILES = XRPC + "app.bsky.actor.getProfiles"
REFRESH = XRPC + "com.atproto.server.refreshSession"
LOGIN = XRPC + "com.atproto.server.createSession"
SWEPT = {"followers_swept_at": (NOW - timedelta(hours=2)).isoformat()}


def _mark(page: str, index: int) -> dict[str, Any]:
    item = load(page)["notifications"][index]
    return {"at": parse.moment(item["indexedAt"], "test").isoformat(), "uris": [item["uri"]]}


def _texts(poll: Any) -> list[str]:
    return [message.text for message in poll.messages]


def test_the_first_poll_reads_the_newest_page_only(respx_mock: respx.MockRouter) -> None:
    notes = respx_mock.get(NOTIFICATIONS).mock(
        return_value=httpx.Response(200, json=load("notifications_head.json"))
    )
    respx_mock.get(FOLLOWERS).mock(
        return_value=httpx.Response(200, json=load("followers_page2.json"))
    )
    respx_mock.get(PROFILES).mock(return_value=httpx.Response(200, json={"profiles": []}))
    bluesky = connector()

    poll = bluesky.poll({})

    assert [m.kind for m in poll.messages] == ["reply", "mention", "mention"]
    assert poll.more is False  # the page had a cursor, but history is not crawled
    assert poll.cursor["seen"] == _mark("notifications_head.json", 0)
    assert notes.call_count == 1
    request = notes.calls.last.request
    assert request.headers["Authorization"] == "Bearer stored-access-jwt"
    assert request.url.params.get_list("reasons") == ["mention", "quote", "reply"]
    assert request.url.params["limit"] == "50"
    assert "cursor" not in request.url.params
    assert bluesky.renewed_credentials is None
    json.dumps(poll.cursor)  # the cursor is stored as JSON


def test_pages_that_arrived_between_polls_are_walked_without_gaps_or_repeats(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get(NOTIFICATIONS).mock(
        side_effect=[
            httpx.Response(200, json=load("notifications_page1.json")),
            httpx.Response(200, json=load("notifications_page2.json")),
            httpx.Response(200, json=load("notifications_newer.json")),
        ]
    )
    bluesky = connector()
    start = {"seen": _mark("notifications_page2.json", 2)} | SWEPT

    first = bluesky.poll(start)
    second = bluesky.poll(first.cursor)
    third = bluesky.poll(second.cursor)

    assert _texts(first) == ["uno", "due", "tre"]
    assert first.more is True
    assert first.cursor["seen"] == start["seen"]  # not past what is still unread
    assert first.cursor["walk"] == {
        "page": "2026-03-02T09:30:00.000Z",
        "top": _mark("notifications_page1.json", 0),
    }
    assert route.calls[1].request.url.params["cursor"] == "2026-03-02T09:30:00.000Z"
    assert _texts(second) == ["quattro", "cinque"]
    assert second.more is False
    assert second.cursor == {"seen": _mark("notifications_page1.json", 0)} | SWEPT
    assert "cursor" not in route.calls[2].request.url.params
    assert _texts(third) == ["sei"]
    assert third.cursor["seen"] == _mark("notifications_newer.json", 0)


def test_a_poll_redone_from_the_same_cursor_reads_the_same_page(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get(NOTIFICATIONS).mock(
        return_value=httpx.Response(200, json=load("notifications_page2.json"))
    )
    cursor = {
        "seen": _mark("notifications_page2.json", 2),
        "walk": {"page": "2026-03-02T09:30:00.000Z", "top": _mark("notifications_page1.json", 0)},
    } | SWEPT

    once, again = connector().poll(cursor), connector().poll(cursor)

    assert _texts(once) == _texts(again) == ["quattro", "cinque"]
    assert once.cursor == again.cursor
    assert [call.request.url.params["cursor"] for call in route.calls] == [
        "2026-03-02T09:30:00.000Z"
    ] * 2


def test_nothing_new_gives_nothing_and_keeps_the_cursor(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(NOTIFICATIONS).mock(
        return_value=httpx.Response(200, json=load("notifications_head.json"))
    )
    cursor = {"seen": _mark("notifications_head.json", 0)} | SWEPT

    poll = connector().poll(cursor)

    assert poll.messages == [] and poll.profiles == []
    assert poll.more is False
    assert poll.cursor == cursor


def test_followers_are_swept_a_page_a_poll_once_a_day(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(NOTIFICATIONS).mock(return_value=httpx.Response(200, json={"notifications": []}))
    followers = respx_mock.get(FOLLOWERS).mock(
        side_effect=[
            httpx.Response(200, json=load("followers_page1.json")),
            httpx.Response(200, json=load("followers_page2.json")),
        ]
    )
    profiles = respx_mock.get(PROFILES).mock(
        side_effect=[
            httpx.Response(200, json=load("profiles.json")),
            httpx.Response(200, json={"profiles": []}),
            httpx.Response(200, json={"profiles": []}),
        ]
    )

    first = connector().poll({})
    second = connector().poll(first.cursor)
    later = connector(now=NOW + timedelta(hours=23)).poll(second.cursor)

    assert [p.handle for p in first.profiles] == ["giulia.bsky.social", "sara.bsky.social"]
    assert first.profiles[0].followers_count == 412 and first.profiles[1].default_avatar is True
    assert first.more is True
    assert followers.calls[0].request.url.params["actor"] == BRAND
    assert followers.calls[0].request.url.params["limit"] == "100"
    assert profiles.calls[0].request.url.params.get_list("actors") == [
        "did:plc:7xkpsdm2hfgv5ocdtfv4ekcq",
        "did:plc:w2dj4rnx7hqlk5ebv3cmzsoa",
    ]
    assert followers.calls[1].request.url.params["cursor"] == load("followers_page1.json")["cursor"]
    assert [p.handle for p in second.profiles] == ["pietro.bsky.social"]
    assert second.profiles[0].followers_count is None
    assert second.more is False
    assert second.cursor == {"followers_swept_at": NOW.isoformat()}
    assert later.profiles == [] and followers.call_count == 2
    respx_mock.get(FOLLOWERS).mock(
        return_value=httpx.Response(200, json=load("followers_page2.json"))
    )
    next_day = connector(now=NOW + timedelta(hours=25)).poll(second.cursor)
    assert [p.handle for p in next_day.profiles] == ["pietro.bsky.social"]


def test_counts_cost_one_get_profiles_call_per_25_followers(respx_mock: respx.MockRouter) -> None:
    page = load("followers_page1.json")
    template = page["followers"][0]
    page["followers"] = [
        template | {"did": f"did:plc:follower{n:016d}", "handle": f"f{n}.bsky.social"}
        for n in range(30)
    ]
    respx_mock.get(NOTIFICATIONS).mock(return_value=httpx.Response(200, json={"notifications": []}))
    respx_mock.get(FOLLOWERS).mock(return_value=httpx.Response(200, json=page))
    profiles = respx_mock.get(PROFILES).mock(
        return_value=httpx.Response(200, json={"profiles": []})
    )

    poll = connector().poll({})

    assert len(poll.profiles) == 30
    assert [len(c.request.url.params.get_list("actors")) for c in profiles.calls] == [25, 5]


def test_an_expired_token_is_refreshed_and_the_call_retried(respx_mock: respx.MockRouter) -> None:
    notes = respx_mock.get(NOTIFICATIONS).mock(
        side_effect=[
            xrpc_error(400, "ExpiredToken", "Token has expired"),
            httpx.Response(200, json=load("notifications_head.json")),
        ]
    )
    refresh = respx_mock.post(REFRESH).mock(
        return_value=httpx.Response(200, json=load("refresh_session.json"))
    )
    login = respx_mock.post(LOGIN)
    bluesky = connector()

    poll = bluesky.poll({"seen": _mark("notifications_head.json", 1)} | SWEPT)

    fresh = load("refresh_session.json")
    assert _texts(poll) == ["Grazie! A che ora aprite domenica?"]
    assert refresh.calls.last.request.headers["Authorization"] == "Bearer stored-refresh-jwt"
    assert notes.calls.last.request.headers["Authorization"] == f"Bearer {fresh['accessJwt']}"
    assert login.call_count == 0
    assert bluesky.renewed_credentials == STORED | {
        "access_jwt": fresh["accessJwt"],
        "refresh_jwt": fresh["refreshJwt"],
    }


def test_a_refused_refresh_logs_in_again_with_the_app_password(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(NOTIFICATIONS).mock(
        side_effect=[
            xrpc_error(400, "ExpiredToken", "Token has expired"),
            httpx.Response(200, json={"notifications": []}),
        ]
    )
    respx_mock.post(REFRESH).mock(return_value=xrpc_error(400, "ExpiredToken", "Token has expired"))
    login = respx_mock.post(LOGIN).mock(
        return_value=httpx.Response(200, json=load("create_session.json"))
    )
    bluesky = connector()

    bluesky.poll(SWEPT)

    assert json.loads(login.calls.last.request.content) == {
        "identifier": "caffe-aurora.bsky.social",
        "password": APP_PASSWORD,
    }
    assert bluesky.renewed_credentials is not None
    assert bluesky.renewed_credentials["access_jwt"] == load("create_session.json")["accessJwt"]
    assert bluesky.renewed_credentials["app_password"] == APP_PASSWORD


def test_a_refused_login_is_auth_expired_and_names_no_secret(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(NOTIFICATIONS).mock(return_value=xrpc_error(401, "AuthenticationRequired"))
    respx_mock.post(REFRESH).mock(
        return_value=xrpc_error(400, "InvalidToken", "Token could not be verified")
    )
    login = respx_mock.post(LOGIN).mock(
        return_value=xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
    )

    with pytest.raises(AuthExpiredError) as refused:
        connector().poll(SWEPT)

    assert login.call_count == 1
    for secret in (APP_PASSWORD, "stored-access-jwt", "stored-refresh-jwt"):
        assert secret not in str(refused.value)


def test_without_a_session_the_connector_logs_in_once(respx_mock: respx.MockRouter) -> None:
    login = respx_mock.post(LOGIN).mock(
        return_value=httpx.Response(200, json=load("create_session.json"))
    )
    notes = respx_mock.get(NOTIFICATIONS).mock(
        return_value=httpx.Response(200, json={"notifications": []})
    )
    bluesky = connector({"identifier": "caffe-aurora.bsky.social", "app_password": APP_PASSWORD})

    bluesky.poll(SWEPT)
    bluesky.poll(SWEPT)

    session = load("create_session.json")
    assert login.call_count == 1
    assert notes.calls.last.request.headers["Authorization"] == f"Bearer {session['accessJwt']}"
    assert bluesky.renewed_credentials == {
        "identifier": "caffe-aurora.bsky.social",
        "app_password": APP_PASSWORD,
        "access_jwt": session["accessJwt"],
        "refresh_jwt": session["refreshJwt"],
        "did": BRAND,
        "handle": "caffe-aurora.bsky.social",
    }


def test_without_session_or_app_password_the_channel_must_be_connected_again() -> None:
    with pytest.raises(AuthExpiredError):
        connector({}).poll({})


def test_a_custom_service_gets_the_calls(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(
        "https://pds.example.org/xrpc/app.bsky.notification.listNotifications"
    ).mock(return_value=httpx.Response(200, json={"notifications": []}))

    connector(config={"service": "https://pds.example.org/"}).poll(SWEPT)

    assert route.call_count == 1


def test_rate_limit_reset_is_the_wait(respx_mock: respx.MockRouter) -> None:
    reset = int(time.time()) + 120
    respx_mock.get(NOTIFICATIONS).mock(
        return_value=httpx.Response(
            429,
            headers={
                "RateLimit-Limit": "3000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
            },
            json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        )
    )

    with pytest.raises(RateLimitedError) as limited:
        connector().poll(SWEPT)

    assert limited.value.retry_after is not None
    assert 110 <= limited.value.retry_after <= 120


def test_retry_after_is_the_wait(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(NOTIFICATIONS).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "30"})
    )

    with pytest.raises(RateLimitedError) as limited:
        connector().poll(SWEPT)

    assert limited.value.retry_after == 30


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_network_unavailable(respx_mock: respx.MockRouter, status: int) -> None:
    respx_mock.get(NOTIFICATIONS).mock(return_value=xrpc_error(status, "InternalServerError"))

    with pytest.raises(NetworkUnavailableError):
        connector().poll(SWEPT)


def test_an_unreachable_service_is_network_unavailable(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(NOTIFICATIONS).mock(side_effect=httpx.ConnectError("no route"))

    with pytest.raises(NetworkUnavailableError):
        connector().poll(SWEPT)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>Bad gateway</html>"),
        httpx.Response(200, json={"cursor": "x"}),
        httpx.Response(200, json={"notifications": [{"uri": "at://x/y/z"}]}),
        httpx.Response(200, json=[]),
    ],
)
def test_an_answer_not_in_the_documented_shape_is_malformed(
    respx_mock: respx.MockRouter, answer: httpx.Response
) -> None:
    respx_mock.get(NOTIFICATIONS).mock(return_value=answer)

    with pytest.raises(MalformedPayloadError):
        connector().poll(SWEPT)


def test_another_xrpc_refusal_of_a_read_says_why(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(NOTIFICATIONS).mock(
        return_value=xrpc_error(400, "InvalidRequest", "Invalid cursor")
    )

    with pytest.raises(ConnectorError, match="InvalidRequest: Invalid cursor") as refused:
        connector().poll(SWEPT)

    assert not isinstance(refused.value, AuthExpiredError)


def test_an_unreadable_cursor_starts_afresh_from_the_newest_page(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get(NOTIFICATIONS).mock(
        return_value=httpx.Response(200, json=load("notifications_head.json"))
    )
    cursor = {"seen": {"at": "garbage", "uris": "x"}, "walk": "?"} | SWEPT

    poll = connector().poll(cursor)

    assert len(poll.messages) == 3 and poll.more is False
    assert "cursor" not in route.calls.last.request.url.params
    assert poll.cursor["seen"] == _mark("notifications_head.json", 0)
