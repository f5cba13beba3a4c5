"""Polling Mastodon against a mocked server: mentions paged forward from the cursor with
nothing missed or repeated, the brand's account asked once, followers swept a page a poll
once a day, and every failure named as the job layer expects."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
from dialoga.channels.context import ConnectorContext
from dialoga.channels.mastodon.client import NOTIFICATIONS_PAGE, instance_url
from dialoga.channels.mastodon.connector import (
    IDEMPOTENT_SENDS,
    NETWORK,
    MastodonConnector,
    build,
)
from dialoga.core.fetch import FetchPolicy

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "mastodon"
BASE = "https://mastodon.example"
BRAND = "109000000000000001"
TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
FOLLOWERS = f"{BASE}/api/v1/accounts/{BRAND}/followers"
NEXT_FOLLOWERS = (
    f'<{FOLLOWERS}?limit=80&max_id=7486869>; rel="next", '
    f'<{FOLLOWERS}?limit=80&since_id=7489740>; rel="prev"'
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector(
    clock: datetime = NOW, credentials: dict[str, Any] | None = None
) -> MastodonConnector:
    return build(
        ConnectorContext(
            {"instance": "https://Mastodon.example/"},
            credentials if credentials is not None else {"access_token": TOKEN},
            FetchPolicy(),
            clock=lambda: clock,
        )
    )


def serve(router: respx.MockRouter, path: str, name: str, **headers: str) -> respx.Route:
    route = router.get(f"{BASE}{path}")
    return route.mock(return_value=httpx.Response(200, json=fixture(name), headers=headers))


def swept(cursor: dict[str, Any]) -> dict[str, Any]:
    """A cursor whose follower sweep is done for today."""
    return {**cursor, "followers_swept_at": NOW.isoformat()}


def test_the_first_poll_asks_who_the_brand_is_and_reads_the_newest_mentions() -> None:
    with respx.mock(assert_all_called=True) as router:
        me = serve(router, "/api/v1/accounts/verify_credentials", "verify_credentials.json")
        mentions = serve(router, "/api/v1/notifications", "notifications.json")
        followers = serve(
            router,
            f"/api/v1/accounts/{BRAND}/followers",
            "followers_page1.json",
            Link=NEXT_FOLLOWERS,
        )
        page = connector().poll({})
    assert me.call_count == 1
    request = mentions.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.url.params.get_list("types[]") == ["mention"]
    assert request.url.params["include_filtered"] == "true"
    assert request.url.params["limit"] == str(NOTIFICATIONS_PAGE)
    assert "min_id" not in request.url.params
    assert [m.kind for m in page.messages] == ["dm", "reply", "mention"]
    assert page.more is False  # the first poll does not crawl history
    assert page.cursor == {
        "account_id": BRAND,
        "notifications_since": "4120",
        "followers_max_id": "7486869",
    }
    assert followers.calls.last.request.url.params["limit"] == "80"
    assert [p.handle for p in page.profiles] == ["giulia", "marco@social.example.org"]
    assert all(p.seen_at == NOW for p in page.profiles)
    json.dumps(page.cursor)  # the cursor is stored as JSON


def test_the_next_poll_resumes_right_after_the_cursor_and_ends_the_sweep() -> None:
    cursor = {"account_id": BRAND, "notifications_since": "4120", "followers_max_id": "7486869"}
    with respx.mock(assert_all_called=False) as router:
        me = serve(router, "/api/v1/accounts/verify_credentials", "verify_credentials.json")
        mentions = serve(router, "/api/v1/notifications", "notifications_newer.json")
        followers = serve(router, f"/api/v1/accounts/{BRAND}/followers", "followers_page2.json")
        page = connector().poll(cursor)
    assert not me.called  # the account id is in the cursor
    assert mentions.calls.last.request.url.params["min_id"] == "4120"
    assert followers.calls.last.request.url.params["max_id"] == "7486869"
    assert [m.external_id for m in page.messages] == ["114460200000000500", "114460150000000450"]
    assert page.more is False
    assert page.cursor == {
        "account_id": BRAND,
        "notifications_since": "4125",
        "followers_swept_at": NOW.isoformat(),
    }
    assert [p.handle for p in page.profiles] == ["anna@fedi.example.net"]


def test_a_full_page_says_more_and_the_next_poll_starts_after_it() -> None:
    template = fixture("notifications_newer.json")[1]
    full = []
    for number in range(5000 + NOTIFICATIONS_PAGE, 5000, -1):  # newest first, as served
        item = copy.deepcopy(template)
        item["id"] = str(number)
        item["status"]["id"] = f"1144602000000{number}"
        full.append(item)
    cursor = swept({"account_id": BRAND, "notifications_since": "5000"})
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{BASE}/api/v1/notifications")
        route.side_effect = [httpx.Response(200, json=full), httpx.Response(200, json=[])]
        first = connector().poll(cursor)
        second = connector().poll(first.cursor)
    assert len(first.messages) == NOTIFICATIONS_PAGE
    assert first.more is True
    assert first.cursor["notifications_since"] == str(5000 + NOTIFICATIONS_PAGE)
    assert route.calls[1].request.url.params["min_id"] == str(5000 + NOTIFICATIONS_PAGE)
    assert second.messages == [] and second.more is False
    assert second.cursor["notifications_since"] == str(5000 + NOTIFICATIONS_PAGE)


def test_an_empty_page_keeps_the_cursor() -> None:
    cursor = swept({"account_id": BRAND, "notifications_since": "4125"})
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/notifications").respond(200, json=[])
        page = connector().poll(cursor)
    assert page.cursor == cursor and page.messages == [] and page.more is False


def test_after_an_empty_first_poll_every_later_mention_is_read_from_the_first() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{BASE}/api/v1/notifications")
        route.side_effect = [httpx.Response(200, json=[]), httpx.Response(200, json=[])]
        first = connector().poll(swept({"account_id": BRAND}))
        connector().poll(first.cursor)
    assert "min_id" not in route.calls[0].request.url.params  # the newest page, once
    assert route.calls[1].request.url.params["min_id"] == "0"  # then forward from the start


def test_followers_are_swept_at_most_once_a_day() -> None:
    cursor = swept({"account_id": BRAND, "notifications_since": "4125"})
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{BASE}/api/v1/notifications").respond(200, json=[])
        followers = serve(router, f"/api/v1/accounts/{BRAND}/followers", "followers_page2.json")
        later_today = connector(NOW + timedelta(hours=23)).poll(cursor)
        assert not followers.called
        assert later_today.profiles == []
        tomorrow = connector(NOW + timedelta(hours=24, minutes=1)).poll(cursor)
    assert followers.call_count == 1
    assert "max_id" not in followers.calls.last.request.url.params  # a new sweep
    assert len(tomorrow.profiles) == 1
    assert (
        tomorrow.cursor["followers_swept_at"] == (NOW + timedelta(hours=24, minutes=1)).isoformat()
    )


def test_an_unreadable_sweep_time_starts_a_sweep() -> None:
    cursor = {"account_id": BRAND, "notifications_since": "4125", "followers_swept_at": "soon"}
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/notifications").respond(200, json=[])
        serve(router, f"/api/v1/accounts/{BRAND}/followers", "followers_page2.json")
        page = connector().poll(cursor)
    assert len(page.profiles) == 1


def test_429_is_rate_limited_for_as_long_as_mastodon_asked() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/notifications").respond(
            429, json={"error": "Too many requests"}, headers={"Retry-After": "120"}
        )
        with pytest.raises(RateLimitedError) as caught:
            connector().poll(swept({"account_id": BRAND}))
    assert caught.value.retry_after == 120


def test_429_with_mastodon_reset_time_waits_until_then() -> None:
    reset = datetime.now(UTC) + timedelta(minutes=5)
    headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(429, headers=headers)
        with pytest.raises(RateLimitedError) as caught:
            connector().poll({})
    assert caught.value.retry_after is not None
    assert 240 < caught.value.retry_after <= 300


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"error": "The access token is invalid"}),
        (403, {"error": "This action is outside the authorized scopes"}),
    ],
)
def test_a_refused_token_needs_reauthorisation(status: int, body: dict[str, str]) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(status, json=body)
        with pytest.raises(AuthExpiredError) as caught:
            connector().poll({})
    assert TOKEN not in str(caught.value)


def test_a_channel_without_a_token_needs_authorisation_and_calls_nothing() -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        with pytest.raises(AuthExpiredError):
            connector(credentials={}).poll({})
    assert not route.called


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_the_network_unavailable(status: int) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/notifications").respond(status, text="<html>down</html>")
        with pytest.raises(NetworkUnavailableError):
            connector().poll(swept({"account_id": BRAND}))


def test_an_unreachable_server_is_the_network_unavailable() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/notifications").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(NetworkUnavailableError):
            connector().poll(swept({"account_id": BRAND}))


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>Welcome to nginx</html>"),
        httpx.Response(200, json={"id": "4120"}),
        httpx.Response(200, json=[{"id": 4120, "type": "mention"}]),
    ],
    ids=["not JSON", "an object", "a numeric id"],
)
def test_an_answer_not_in_the_documented_shape_is_malformed(answer: httpx.Response) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/notifications").mock(return_value=answer)
        with pytest.raises(MalformedPayloadError):
            connector().poll(swept({"account_id": BRAND}))


def test_a_failed_poll_leaves_nothing_half_done() -> None:
    cursor = {"account_id": BRAND, "notifications_since": "4120", "followers_max_id": "7486869"}
    before = copy.deepcopy(cursor)
    with respx.mock(assert_all_called=True) as router:
        serve(router, "/api/v1/notifications", "notifications_newer.json")
        router.get(FOLLOWERS).respond(503)
        with pytest.raises(NetworkUnavailableError):
            connector().poll(cursor)
    assert cursor == before  # the caller keeps its cursor; the poll is simply done again


def test_another_refusal_names_mastodon_reason() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/notifications").respond(404, json={"error": "Record not found"})
        with pytest.raises(ConnectorError, match="404: Record not found"):
            connector().poll(swept({"account_id": BRAND}))


@pytest.mark.parametrize(
    ("typed", "base"),
    [
        ("mastodon.social", "https://mastodon.social"),
        (" https://Mastodon.Social/ ", "https://mastodon.social"),
        ("http://localhost:3000", "http://localhost:3000"),
    ],
)
def test_the_instance_address_is_normalised(typed: str, base: str) -> None:
    assert instance_url(typed) == base


@pytest.mark.parametrize(
    "typed", [None, "", "ftp://mastodon.social", "https://x.example/api", "https://u:p@x.example"]
)
def test_a_bad_instance_address_is_refused(typed: Any) -> None:
    with pytest.raises(ConnectorError, match="instance"):
        instance_url(typed)


def test_build_gives_a_connector_with_idempotent_sends() -> None:
    made = connector()
    assert NETWORK == "mastodon"
    assert made.idempotent_sends is IDEMPOTENT_SENDS is True
    assert made.renewed_credentials is None
