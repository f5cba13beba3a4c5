"""Feed entries into messages, on captured-shape RSS 2.0 and Atom documents: keyword
matching (whole words, any case, any accents), ids, dates, authors, hostile HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dialoga.channels.base import MalformedPayloadError
from dialoga.channels.rss.client import decode_feed
from dialoga.channels.rss.parse import FeedSource, feed_key, fold, keyword_pattern, read_feed

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "rss"
NEWS = "https://news.example.it/feed/"
BLOG = "https://blog.rossi.example/feed.atom"
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
LISTENING = FeedSource(NEWS, ("caffe", "Torrefazione Rossi"))


def document(name: str, url: str = NEWS) -> dict[str, Any]:
    return decode_feed((FIXTURES / name).read_bytes(), url, "application/xml")


def test_keywords_find_whole_words_whatever_the_case_and_accents() -> None:
    messages, ids = read_feed(document("listening.xml"), LISTENING, set(), NOW)

    assert ids == [
        "news-1001",
        "news-1000",
        "https://news.example.it/2026/05/02/torrefazioni/",
        "news-998",
    ]
    # "caffè" matches "caffe"; "Caffeina" is another word; "TORREFAZIONE   Rossi" matches
    assert [m.external_id for m in messages] == [
        f"{feed_key(NEWS)}:news-1001",
        f"{feed_key(NEWS)}:https://news.example.it/2026/05/02/torrefazioni/",
    ]
    assert {m.kind for m in messages} == {"mention"}
    assert {m.direction for m in messages} == {None}


def test_a_listened_entry_keeps_its_link_date_language_and_author() -> None:
    first, second = read_feed(document("listening.xml"), LISTENING, set(), NOW)[0]

    assert first.url == "https://news.example.it/2026/05/04/caffe-milano/"
    assert first.created_at == datetime(2026, 5, 4, 7, 15, tzinfo=UTC)  # +0200 in the feed
    assert first.language == "it-it"
    assert first.text == (
        "Il caffè più buono di Milano? Lo abbiamo cercato per una settimana\n"
        "Dodici bar, sette quartieri, un solo vincitore."
    )
    assert first.author.external_id == "news.example.it/Giulia Bianchi"
    assert first.author.display_name == "Giulia Bianchi"
    assert first.author.handle == "news.example.it"
    assert not first.author.is_brand
    # no named author: the site speaks, under the feed's title
    assert second.author.external_id == "news.example.it"
    assert second.author.display_name == "Cronaca Gastronomica"


def test_hostile_html_in_a_summary_ends_as_plain_text() -> None:
    messages, _ = read_feed(document("listening.xml"), LISTENING, set(), NOW)
    text = messages[1].text

    assert text == (
        "Torrefazioni di quartiere: tre indirizzi\n"
        "Abbiamo provato TORREFAZIONE Rossi in via Po.\n"
        "Da tornarci & consigliare."
    )
    assert "<" not in text and "alert" not in text


def test_entries_seen_before_are_not_given_again() -> None:
    messages, ids = read_feed(document("listening.xml"), LISTENING, {"news-1001"}, NOW)

    assert [m.external_id.split(":", 1)[1] for m in messages] == [ids[2]]


def test_a_feed_without_keywords_gives_every_entry() -> None:
    messages, _ = read_feed(document("listening.xml"), FeedSource(NEWS), set(), NOW)

    assert len(messages) == 4


def test_the_brands_blog_gives_its_own_posts() -> None:
    source = FeedSource(BLOG, own_blog=True)
    spring, beans = read_feed(document("blog.atom", BLOG), source, set(), NOW)[0]

    assert spring.external_id == f"{feed_key(BLOG)}:tag:blog.rossi.example,2026:post-12"
    assert (spring.kind, spring.direction) == ("post", "outbound")
    assert spring.author.is_brand
    assert spring.author.external_id == "blog.rossi.example"
    assert spring.author.display_name == "Il blog di Torrefazione Rossi"
    assert spring.created_at == datetime(2026, 5, 3, 14, 0, tzinfo=UTC)  # published wins
    assert spring.text == "La nuova miscela di primavera\nNote di mandorla e agrumi."
    assert spring.language == "it"
    # a relative link resolves against the feed's address; no published: updated
    assert beans.url == "https://blog.rossi.example/2026/04/conservare-grani"
    assert beans.created_at == datetime(2026, 4, 20, 9, 0, tzinfo=UTC)
    assert beans.text.endswith("Barattolo chiuso, al buio, lontano dal frigo.")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ((FIXTURES / "not_a_feed.html").read_bytes(), "neither RSS nor Atom"),
        (b"", "neither RSS nor Atom"),
        (b"<rss version='2.0'><channel><title>cut off", "not a feed"),
        (b'{"items": []}', "not a feed"),
    ],
)
def test_an_answer_that_is_no_feed_is_malformed(content: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayloadError, match=reason):
        read_feed(decode_feed(content, NEWS), LISTENING, set(), NOW)


def test_a_broken_feed_whose_entries_can_be_read_is_kept() -> None:
    decoded = document("unescaped.xml", "https://sagre.example.org/feed")
    assert decoded["bozo"]

    messages, _ = read_feed(decoded, FeedSource("https://sagre.example.org/feed"), set(), NOW)

    assert [m.text for m in messages] == [
        "Sagra del caffè & della nocciola\nOspite d'onore la Torrefazione Rossi."
    ]


def test_a_valid_feed_without_entries_is_empty() -> None:
    empty = b"<rss version='2.0'><channel><title>Quiet</title></channel></rss>"

    assert read_feed(decode_feed(empty, NEWS), LISTENING, set(), NOW) == ([], [])


def test_odd_entries_are_skipped_or_kept_safe() -> None:
    decoded = {
        "version": "rss20",
        "feed": {"title": 42, "link": "https://odd.example/"},
        "entries": [
            {"title": "No id, no link"},
            {"id": "x-1", "title": "Dangerous link", "link": "javascript:alert(1)"},
            {"id": "x-2", "title": ["not", "text"], "summary": None},
            "not an entry",
        ],
    }

    messages, ids = read_feed(decoded, FeedSource("https://odd.example/feed"), set(), NOW)

    assert ids == ["x-1", "x-2"]
    assert [(m.text, m.url, m.created_at) for m in messages] == [("Dangerous link", None, NOW)]
    assert messages[0].author.display_name == "odd.example"


def test_entries_must_be_a_list() -> None:
    with pytest.raises(MalformedPayloadError, match="no list of entries"):
        read_feed({"version": "rss20", "entries": "many"}, LISTENING, set(), NOW)


def test_folding_and_patterns() -> None:
    assert fold("Caffè ÀÉÎ Straße") == "caffe aei strasse"
    pattern = keyword_pattern(["CAFFÈ", "#rossi", "  "])
    assert pattern is not None
    assert pattern.search(fold("un caffe al volo"))
    assert pattern.search(fold("grazie #Rossi!"))
    assert not pattern.search(fold("decaffeinato"))
    assert not pattern.search(fold("#rossiniano"))
    assert keyword_pattern(["", " "]) is None
