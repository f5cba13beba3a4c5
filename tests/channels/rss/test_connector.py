"""The feed connector against mocked sites: feeds read in turn, conditional fetches,
nothing given twice, every failure named as the job layer expects, and no replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from dialoga.channels.base import (
    ConnectorError,
    MalformedPayloadError,
    NetworkUnavailableError,
    OutgoingReply,
    RateLimitedError,
    SendRefusedError,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.rss import connector as rss
from dialoga.channels.rss.connector import SEEN_PER_FEED, FeedConnector, build, sources_of
from dialoga.core.fetch import FetchPolicy

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "rss"
NEWS = "https://news.example.it/feed/"
SAGRE = "https://sagre.example.org/feed"
BLOG = "https://blog.rossi.example/feed.atom"
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
CONFIG = {
    "feeds": [
        {"url": NEWS, "keywords": ["caffe", "Torrefazione Rossi"]},
        {"url": SAGRE, "keywords": ["rossi"]},
    ],
    "blog_feed": BLOG,
}
XML = {"content-type": "application/rss+xml; charset=utf-8"}
ONE_FEED = {"feeds": [{"url": NEWS, "keywords": ["caffe"]}]}


def connector(config: dict[str, Any] = CONFIG, policy: FetchPolicy | None = None) -> FeedConnector:
    return build(ConnectorContext(config, fetch_policy=policy or FetchPolicy(), clock=lambda: NOW))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def serve(router: respx.MockRouter, url: str, name: str, **headers: str) -> respx.Route:
    answer = httpx.Response(200, content=fixture(name), headers={**XML, **headers})
    return router.get(url).mock(return_value=answer)


def test_a_round_reads_every_feed_once_then_stops() -> None:
    feeds = connector()
    with respx.mock(assert_all_called=True) as router:
        serve(router, NEWS, "listening.xml")
        serve(router, SAGRE, "unescaped.xml")
        serve(router, BLOG, "blog.atom")

        first = feeds.poll({})
        second = feeds.poll(first.cursor)
        third = feeds.poll(second.cursor)

    assert [len(first.messages), len(second.messages), len(third.messages)] == [2, 1, 2]
    assert [first.more, second.more, third.more] == [True, True, False]
    assert [p.cursor["next"] for p in (first, second, third)] == [1, 2, 0]
    assert {m.kind for m in third.messages} == {"post"}
    assert {m.author.is_brand for m in third.messages} == {True}
    assert first.profiles == second.profiles == third.profiles == []
    assert json.loads(json.dumps(third.cursor)) == third.cursor
    assert set(third.cursor["feeds"]) == {NEWS, SAGRE, BLOG}


def test_the_next_fetch_is_conditional_and_304_brings_nothing() -> None:
    feeds = connector({"feeds": [{"url": NEWS, "keywords": ["caffe"]}]})
    validators = {"ETag": '"v1"', "Last-Modified": "Mon, 04 May 2026 07:30:00 GMT"}
    with respx.mock() as router:
        route = serve(router, NEWS, "listening.xml", **validators)
        first = feeds.poll({})
        assert "if-none-match" not in route.calls.last.request.headers

        route.mock(return_value=httpx.Response(304, headers={"ETag": '"v1"'}))
        again = feeds.poll(first.cursor)

    sent = route.calls.last.request.headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 04 May 2026 07:30:00 GMT"
    assert len(first.messages) == 1
    assert again.messages == []
    assert again.more is False
    assert again.cursor["feeds"][NEWS] == first.cursor["feeds"][NEWS]


def test_entries_read_before_are_not_given_again_only_new_ones() -> None:
    feeds = connector({"feeds": [{"url": NEWS, "keywords": ["caffe"]}]})
    fresh = (
        "<item><title>Un altro caffè, grazie</title>"
        "<link>https://news.example.it/2026/05/05/altro-caffe/</link>"
        '<guid isPermaLink="false">news-1002</guid>'
        "<pubDate>Tue, 05 May 2026 08:00:00 +0200</pubDate></item>"
    )
    later = fixture("listening.xml").replace(b"<item>", fresh.encode() + b"<item>", 1)
    with respx.mock() as router:
        route = serve(router, NEWS, "listening.xml")
        first = feeds.poll({})
        same = feeds.poll(first.cursor)
        route.mock(return_value=httpx.Response(200, content=later, headers=XML))
        newer = feeds.poll(same.cursor)

    assert [m.external_id.endswith(":news-1001") for m in first.messages] == [True]
    assert same.messages == []
    assert [m.text for m in newer.messages] == ["Un altro caffè, grazie"]
    assert newer.cursor["feeds"][NEWS]["seen"][:2] == ["news-1002", "news-1001"]


def test_the_ids_remembered_per_feed_are_bounded() -> None:
    items = "".join(
        f"<item><title>Caffe {n}</title><guid isPermaLink='false'>g-{n}</guid></item>"
        for n in range(SEEN_PER_FEED + 100)
    )
    big = f"<rss version='2.0'><channel><title>Big</title>{items}</channel></rss>".encode()
    feeds = connector({"feeds": [{"url": NEWS, "keywords": []}]})
    with respx.mock() as router:
        router.get(NEWS).mock(return_value=httpx.Response(200, content=big, headers=XML))
        poll = feeds.poll({})

    assert len(poll.messages) == SEEN_PER_FEED + 100
    assert len(poll.cursor["feeds"][NEWS]["seen"]) == SEEN_PER_FEED
    assert poll.cursor["feeds"][NEWS]["seen"][0] == "g-0"


def test_a_feed_taken_out_of_the_config_leaves_the_cursor() -> None:
    feeds = connector({"blog_feed": BLOG})
    old = {"next": 7, "feeds": {NEWS: {"seen": ["news-1001"]}, BLOG: {"seen": []}}}
    with respx.mock() as router:
        serve(router, BLOG, "blog.atom")
        poll = feeds.poll(old)

    assert set(poll.cursor["feeds"]) == {BLOG}
    assert (poll.cursor["next"], poll.more) == (0, False)


def test_a_damaged_cursor_starts_the_feed_afresh() -> None:
    feeds = connector({"feeds": [{"url": NEWS, "keywords": ["caffe"]}]})
    damaged = {"next": "one", "feeds": {NEWS: {"seen": "news-1001", "etag": 7}}}
    with respx.mock() as router:
        route = serve(router, NEWS, "listening.xml")
        poll = feeds.poll(damaged)

    assert "if-none-match" not in route.calls.last.request.headers
    assert [m.external_id.endswith(":news-1001") for m in poll.messages] == [True]


@pytest.mark.parametrize(
    ("answer", "error", "wait"),
    [
        (httpx.Response(429, headers={"Retry-After": "120"}), RateLimitedError, 120.0),
        (httpx.Response(503, headers={"Retry-After": "30"}), NetworkUnavailableError, 30.0),
        (httpx.Response(500), NetworkUnavailableError, None),
        (httpx.Response(404, text="Not Found"), ConnectorError, None),
        (httpx.Response(403, text="Forbidden"), ConnectorError, None),
    ],
)
def test_failed_answers_are_named_for_the_job_layer(
    answer: httpx.Response, error: type[ConnectorError], wait: float | None
) -> None:
    feeds = connector(ONE_FEED)
    with respx.mock() as router:
        router.get(NEWS).mock(return_value=answer)
        with pytest.raises(error, match=f"feed {NEWS}") as raised:
            feeds.poll({})

    assert type(raised.value) is error
    assert raised.value.retry_after == wait


def test_an_unreachable_site_is_unavailable() -> None:
    with respx.mock() as router:
        router.get(NEWS).mock(side_effect=httpx.ConnectError("connection refused"))
        with pytest.raises(NetworkUnavailableError, match="connection refused"):
            connector(ONE_FEED).poll({})


def test_a_page_that_is_no_feed_is_malformed() -> None:
    page = httpx.Response(
        200, content=fixture("not_a_feed.html"), headers={"content-type": "text/html"}
    )
    with respx.mock() as router:
        router.get(NEWS).mock(return_value=page)
        with pytest.raises(MalformedPayloadError, match="not a feed"):
            connector(ONE_FEED).poll({})


def test_a_feed_past_the_size_limit_is_refused() -> None:
    policy = FetchPolicy(max_bytes=1000)
    with respx.mock() as router:
        serve(router, NEWS, "listening.xml")
        with pytest.raises(ConnectorError, match="larger than 1,000 bytes") as raised:
            connector(ONE_FEED, policy).poll({})

    assert not isinstance(raised.value, NetworkUnavailableError)


def test_a_dead_feed_among_several_is_a_problem_and_the_others_are_still_read() -> None:
    feeds = connector()
    with respx.mock(assert_all_called=True) as router:
        router.get(NEWS).respond(404, text="Not Found")
        serve(router, SAGRE, "unescaped.xml")
        first = feeds.poll({})
        second = feeds.poll(first.cursor)

    assert first.messages == [] and first.more and first.cursor["next"] == 1
    assert len(first.problems) == 1 and first.problems[0].startswith(NEWS)
    assert len(second.messages) == 1 and second.problems == []


def test_feeds_cannot_be_answered() -> None:
    reply = OutgoingReply(key="r-1", text="Grazie!", kind="reply", in_reply_to="x:news-1001")

    with pytest.raises(SendRefusedError, match="reply on the site"):
        connector().send(reply)
    assert rss.IDEMPOTENT_SENDS is False
    assert connector().idempotent_sends is False
    assert connector().renewed_credentials is None
    assert rss.NETWORK == "rss"


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "at least one feed"),
        ({"feeds": "https://news.example.it/feed/"}, "must be a list"),
        ({"feeds": ["https://news.example.it/feed/"]}, "must be {url, keywords}"),
        ({"feeds": [{"url": "ftp://news.example.it/feed"}]}, "http:// or https://"),
        ({"feeds": [{"url": NEWS, "keywords": "caffe"}]}, "list of words"),
        ({"feeds": [{"url": NEWS}], "blog_feed": NEWS}, "only once"),
    ],
)
def test_a_bad_config_is_refused_with_its_reason(config: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConnectorError, match=problem):
        sources_of(config)


def test_the_config_names_listened_feeds_then_the_blog() -> None:
    sources = sources_of(CONFIG)

    assert [(s.url, s.keywords, s.own_blog) for s in sources] == [
        (NEWS, ("caffe", "Torrefazione Rossi"), False),
        (SAGRE, ("rossi",), False),
        (BLOG, (), True),
    ]
