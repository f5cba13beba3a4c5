"""The WordPress connector against a mocked REST API: sweeps page by page, resumes without
missing or repeating (same-second comments, late-approved ones), reads every failure as
the job layer expects, and posts replies with the right body and credentials."""

from __future__ import annotations

import base64
import json
import re
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
    OutgoingReply,
    RateLimitedError,
    SendRefusedError,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.wordpress import connector as wordpress
from dialoga.channels.wordpress.connector import LOOKBACK, WordPressConnector, build, site_of
from dialoga.core.fetch import FetchPolicy

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "wordpress"
SITE = "https://blog.rossi.example"
API = f"{SITE}/wp-json/wp/v2"
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
CREDENTIALS = {"username": "redazione", "application_password": PASSWORD}
BASIC = "Basic " + base64.b64encode(f"redazione:{PASSWORD}".encode()).decode()
ERRORS = json.loads((FIXTURES / "errors.json").read_text(encoding="utf-8"))


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector(credentials: dict[str, str] = CREDENTIALS) -> WordPressConnector:
    context = ConnectorContext(
        {"site": SITE + "/"}, credentials, fetch_policy=FetchPolicy(), clock=lambda: NOW
    )
    return build(context)


def page(comments: Any, pages: int | None = None, total: int | None = None) -> httpx.Response:
    headers = {}
    if pages is not None:
        headers = {"X-WP-Total": str(total or 0), "X-WP-TotalPages": str(pages)}
    return httpx.Response(200, json=comments, headers=headers)


def comment(number: int, date_gmt: str, parent: int = 0) -> dict[str, Any]:
    made: dict[str, Any] = load("comments_page1.json")[0]
    link = f"{SITE}/2026/05/miscela-primavera/#comment-{number}"
    made.update(id=number, parent=parent, date_gmt=date_gmt, link=link)
    return made


def query(route: respx.Route) -> dict[str, str]:
    return dict(route.calls.last.request.url.params)


def test_a_first_sweep_reads_recent_comments_page_by_page() -> None:
    blog = connector()
    with respx.mock() as router:
        me = router.get(f"{API}/users/me").mock(
            return_value=httpx.Response(200, json=load("users_me.json"))
        )
        comments = router.get(f"{API}/comments").mock(
            side_effect=[
                page(load("comments_page1.json"), pages=2, total=4),
                page(load("comments_page2.json"), pages=2, total=4),
            ]
        )
        first = blog.poll({})
        asked = query(comments)
        second = blog.poll(first.cursor)

    assert me.call_count == 1  # the user id is kept in the cursor
    assert asked == {
        "orderby": "date_gmt",
        "order": "asc",
        "after": (NOW - LOOKBACK).isoformat(),
        "per_page": "100",
        "page": "1",
        "status": "approve",
    }
    assert query(comments)["page"] == "2"
    assert query(comments)["after"] == asked["after"]  # one sweep, one window
    assert comments.calls.last.request.headers["authorization"] == BASIC
    assert [m.external_id for m in first.messages] == ["comment-101", "comment-102"]
    assert [m.external_id for m in second.messages] == ["comment-103", "comment-104"]
    assert (first.more, second.more) == (True, False)
    assert first.cursor["user_id"] == 2
    assert [m.author.is_brand for m in first.messages] == [False, True]
    assert first.profiles == second.profiles == []
    assert json.loads(json.dumps(second.cursor)) == second.cursor


def test_the_next_sweep_gives_only_what_is_new_even_in_the_same_second() -> None:
    blog = connector()
    everything = load("comments_page1.json") + load("comments_page2.json")
    same_second = comment(106, "2026-05-03T17:10:00", parent=104)
    late = comment(99, "2026-05-02T09:30:00")  # held for moderation, approved now
    with respx.mock() as router:
        router.get(f"{API}/users/me").mock(
            return_value=httpx.Response(200, json=load("users_me.json"))
        )
        comments = router.get(f"{API}/comments").mock(
            side_effect=[
                page(everything, pages=1, total=4),
                page([late, *everything, same_second], pages=1, total=6),
                page([late, *everything, same_second], pages=1, total=6),
            ]
        )
        first = blog.poll({})
        second = blog.poll(first.cursor)
        third = blog.poll(second.cursor)

    assert len(first.messages) == 4
    assert [m.external_id for m in second.messages] == ["comment-99", "comment-106"]
    assert second.messages[1].in_reply_to == "comment-104"
    assert third.messages == []
    # the window stays LOOKBACK before the newest comment, never before the first one
    assert query(comments)["after"] == (NOW - LOOKBACK).isoformat()
    assert set(third.cursor["seen"]) == {f"comment-{n}" for n in (99, 101, 102, 103, 104, 106)}


def test_the_window_follows_the_newest_comment_and_forgets_older_ids() -> None:
    blog = connector()
    newer = comment(120, "2026-05-09T08:00:00")
    cursor = {
        "user_id": 2,
        "since": "2026-05-01T12:00:00+00:00",
        "page": 1,
        "newest": "2026-05-03T17:10:00+00:00",
        "seen": {"comment-101": "2026-05-03T16:05:00+00:00"},
    }
    later = NOW + timedelta(days=6)
    blog.clock = lambda: later
    with respx.mock() as router:
        router.get(f"{API}/comments").mock(return_value=page([newer], pages=1, total=1))
        poll = blog.poll(cursor)

    assert [m.external_id for m in poll.messages] == ["comment-120"]
    assert poll.cursor["since"] == "2026-05-06T08:00:00+00:00"
    assert poll.cursor["seen"] == {"comment-120": "2026-05-09T08:00:00+00:00"}


def test_a_comment_dated_in_the_future_does_not_move_the_window_past_now() -> None:
    blog = connector()
    odd = comment(130, "2099-01-01T00:00:00")
    with respx.mock() as router:
        router.get(f"{API}/comments").mock(return_value=page([odd], pages=1, total=1))
        poll = blog.poll({"user_id": 2})

    assert poll.cursor["newest"] == NOW.isoformat()
    assert poll.cursor["since"] == (NOW - LOOKBACK).isoformat()


def test_without_page_headers_a_full_page_means_more() -> None:
    blog = connector()
    full = [comment(1000 + n, "2026-05-03T10:00:00") for n in range(100)]
    with respx.mock() as router:
        router.get(f"{API}/comments").mock(side_effect=[page(full), page(full[:3])])
        first = blog.poll({"user_id": 2})
        second = blog.poll(first.cursor)

    assert (first.more, second.more) == (True, False)
    assert (len(first.messages), len(second.messages)) == (100, 0)


@pytest.mark.parametrize("code", ["incorrect_password", "rest_not_logged_in"])
def test_refused_credentials_need_a_new_application_password(code: str) -> None:
    refused = httpx.Response(401, json=ERRORS[code])
    with respx.mock() as router:
        router.get(f"{API}/users/me").mock(return_value=refused)
        router.get(f"{API}/comments").mock(return_value=refused)
        with pytest.raises(AuthExpiredError) as first:
            connector().poll({})
        with pytest.raises(AuthExpiredError) as later:
            connector().poll({"user_id": 2})

    for raised in (first, later):
        assert PASSWORD not in str(raised.value)
        assert "EFGH" not in repr(raised.value)


@pytest.mark.parametrize(
    ("answer", "error", "wait"),
    [
        (httpx.Response(429, headers={"Retry-After": "90"}), RateLimitedError, 90.0),
        (httpx.Response(503, text="<h1>Service Unavailable</h1>"), NetworkUnavailableError, None),
        (httpx.Response(200, text="<!DOCTYPE html><p>Home</p>"), MalformedPayloadError, None),
        (httpx.Response(404, json=ERRORS["rest_no_route"]), ConnectorError, None),
        (
            httpx.Response(301, headers={"Location": "https://www.rossi.example/"}),
            ConnectorError,
            None,
        ),
    ],
)
def test_failed_polls_are_named_for_the_job_layer(
    answer: httpx.Response, error: type[ConnectorError], wait: float | None
) -> None:
    with respx.mock() as router:
        router.get(f"{API}/comments").mock(return_value=answer)
        with pytest.raises(error) as raised:
            connector().poll({"user_id": 2})

    assert type(raised.value) is error
    assert raised.value.retry_after == wait


def test_a_failed_poll_says_why() -> None:
    with respx.mock() as router:
        router.get(f"{API}/comments").mock(
            side_effect=[
                httpx.Response(404, json=ERRORS["rest_no_route"]),
                httpx.Response(301, headers={"Location": "https://www.rossi.example/"}),
            ]
        )
        with pytest.raises(ConnectorError, match="No route was found"):
            connector().poll({"user_id": 2})
        with pytest.raises(ConnectorError, match=re.escape("https://www.rossi.example/")):
            connector().poll({"user_id": 2})


def test_a_page_with_a_comment_without_id_is_malformed() -> None:
    broken = load("comments_page1.json")
    del broken[1]["id"]
    with respx.mock() as router:
        router.get(f"{API}/comments").mock(return_value=page(broken, pages=1, total=2))
        with pytest.raises(MalformedPayloadError, match="id"):
            connector().poll({"user_id": 2})


def reply(text: str = "Meglio latta <sempre>!", to: str | None = "comment-104") -> OutgoingReply:
    return OutgoingReply(key="r-9", text=text, kind="reply", in_reply_to=to)


def test_a_reply_is_posted_under_its_comment_on_that_comments_post() -> None:
    parent = load("comments_page2.json")[1]
    with respx.mock() as router:
        router.get(f"{API}/comments/104").mock(return_value=httpx.Response(200, json=parent))
        posted = router.post(f"{API}/comments").mock(
            return_value=httpx.Response(201, json=load("comment_created.json"))
        )
        sent = connector().send(reply())

    request = posted.calls.last.request
    assert json.loads(request.content) == {
        "post": 11,
        "parent": 104,
        "content": "Meglio latta &lt;sempre&gt;!",
    }
    assert request.headers["authorization"] == BASIC
    assert request.headers["content-type"] == "application/json"
    assert sent.external_id == "comment-105"
    assert sent.url == f"{SITE}/2026/05/conservare-grani/#comment-105"


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("rest_comment_closed", 403, "comments are closed"),
        ("comment_duplicate", 409, "Duplicate comment"),
    ],
)
def test_a_refused_reply_says_why(code: str, status: int, reason: str) -> None:
    parent = load("comments_page2.json")[1]
    with respx.mock() as router:
        router.get(f"{API}/comments/104").mock(return_value=httpx.Response(200, json=parent))
        router.post(f"{API}/comments").mock(return_value=httpx.Response(status, json=ERRORS[code]))
        with pytest.raises(SendRefusedError, match=reason) as raised:
            connector().send(reply())

    assert code in str(raised.value)


def test_a_reply_to_a_comment_that_is_gone_is_refused() -> None:
    gone = httpx.Response(404, json=ERRORS["rest_comment_invalid_id"])
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{API}/comments/104").mock(return_value=gone)
        posted = router.post(f"{API}/comments")
        with pytest.raises(SendRefusedError, match="Invalid comment ID"):
            connector().send(reply())

    assert not posted.called


def test_posting_too_fast_waits_instead_of_failing() -> None:
    parent = load("comments_page2.json")[1]
    with respx.mock() as router:
        router.get(f"{API}/comments/104").mock(return_value=httpx.Response(200, json=parent))
        router.post(f"{API}/comments").mock(
            return_value=httpx.Response(400, json=ERRORS["comment_flood"])
        )
        with pytest.raises(RateLimitedError) as raised:
            connector().send(reply())

    assert raised.value.retry_after == 60.0


def test_a_reply_with_refused_credentials_needs_reauthorisation() -> None:
    with respx.mock() as router:
        router.get(f"{API}/comments/104").mock(
            return_value=httpx.Response(401, json=ERRORS["incorrect_password"])
        )
        with pytest.raises(AuthExpiredError):
            connector().send(reply())


def test_only_comments_can_be_answered() -> None:
    with respx.mock() as router, pytest.raises(SendRefusedError, match="not one"):
        connector().send(reply(to="post-12"))

    assert not router.calls
    assert wordpress.IDEMPOTENT_SENDS is False
    assert connector().idempotent_sends is False
    assert wordpress.NETWORK == "wordpress"


def test_credentials_are_required_and_never_shown() -> None:
    with pytest.raises(AuthExpiredError, match="application password"):
        connector({"username": "redazione"})
    assert PASSWORD not in repr(connector().client)


@pytest.mark.parametrize(
    ("site", "problem"),
    [
        (None, "https://"),
        ("http://blog.rossi.example", "https://"),
        ("blog.rossi.example", "https://"),
        ("https://user:pw@blog.rossi.example", "plain address"),
        ("https://blog.rossi.example/?p=1", "plain address"),
    ],
)
def test_a_bad_site_is_refused(site: str | None, problem: str) -> None:
    with pytest.raises(ConnectorError, match=problem):
        site_of({"site": site})


def test_a_site_in_a_folder_keeps_its_path() -> None:
    assert site_of({"site": " https://rossi.example/blog/ "}) == "https://rossi.example/blog"
