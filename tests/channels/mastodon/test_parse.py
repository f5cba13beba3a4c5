"""Mastodon's entities, as documented, into messages and profiles: kinds, DM threads,
hostile HTML as plain text, follower fields, and every bad shape a MalformedPayloadError."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dialoga.channels.base import MalformedPayloadError
from dialoga.channels.mastodon import parse

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "mastodon"
BRAND = "109000000000000001"
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_a_page_of_notifications_becomes_a_dm_a_reply_and_a_mention() -> None:
    messages, ids = parse.read_notifications(fixture("notifications.json"), BRAND)
    assert ids == ["4120", "4117", "4113"]
    dm, reply, mention = messages
    assert (dm.kind, reply.kind, mention.kind) == ("dm", "reply", "mention")
    assert dm.external_id == "114460000000000300"
    assert dm.thread_key == "mastodon-dm:111234567890123456"
    assert reply.thread_key is None and mention.thread_key is None
    assert reply.in_reply_to == "114459000000000050"
    assert mention.in_reply_to is None
    assert reply.url == "https://social.example.org/@marco/114459712300000200"
    assert reply.language == "it"
    assert all(message.direction is None for message in messages)


def test_a_status_keeps_its_author_time_and_text() -> None:
    messages, _ = parse.read_notifications(fixture("notifications.json"), BRAND)
    reply = messages[1]
    assert reply.author.network == "mastodon"
    assert reply.author.external_id == "110022334455667788"
    assert reply.author.handle == "marco@social.example.org"
    assert reply.author.display_name == "Marco <script>alert(1)</script>"  # plain text there
    assert reply.author.is_brand is False
    assert reply.created_at == datetime(2026, 5, 4, 8, 2, 44, 1000, tzinfo=UTC)
    assert reply.text == "@caffe_rossi quando riaprite il negozio in via Indipendenza?"


def test_hostile_html_ends_as_plain_text_and_the_content_warning_as_subject() -> None:
    messages, _ = parse.read_notifications(fixture("notifications.json"), BRAND)
    mention = messages[2]
    assert mention.text == (
        "Il miglior espresso di Bologna da @caffe_rossi! & i cornetti <3\nSeconda riga"
    )
    assert "alert" not in mention.text and "<script" not in mention.text
    assert mention.subject == "recensione caffè"
    assert messages[1].subject is None  # an empty spoiler_text is no subject


def test_every_dm_with_the_same_people_is_one_thread() -> None:
    first, _ = parse.read_notifications(fixture("notifications.json"), BRAND)
    later, _ = parse.read_notifications(fixture("notifications_newer.json"), BRAND)
    assert later[0].kind == "dm"
    assert later[0].thread_key == first[0].thread_key
    assert later[0].in_reply_to == "114460100000000400"


def test_a_group_dm_names_everyone_but_the_brand() -> None:
    payload = fixture("notifications.json")
    status = payload[0]["status"]
    status["mentions"].append(
        {"id": "99", "username": "bo", "url": "https://x.example/@bo", "acct": "bo@x.example"}
    )
    messages, _ = parse.read_notifications(payload, BRAND)
    assert messages[0].thread_key == "mastodon-dm:99,111234567890123456"


def test_a_status_without_a_url_falls_back_to_its_uri_and_null_language_is_none() -> None:
    messages, _ = parse.read_notifications(fixture("notifications_newer.json"), BRAND)
    assert messages[1].url == "https://mastodon.example/users/giulia/statuses/114460150000000450"
    assert messages[1].language is None


def test_other_notification_types_are_skipped_but_counted() -> None:
    payload = fixture("notifications.json")
    payload[1]["type"] = "favourite"  # a server older than 3.5 ignores types[]
    payload[2]["status"] = None
    messages, ids = parse.read_notifications(payload, BRAND)
    assert [message.external_id for message in messages] == ["114460000000000300"]
    assert ids == ["4120", "4117", "4113"]


def test_the_brand_own_status_is_marked_as_the_brand() -> None:
    parent = fixture("status_parent_unlisted.json")
    message = parse.status_message(parent, BRAND)
    assert message.author.is_brand is True
    assert message.kind == "mention"


def test_newest_id_compares_ids_as_numbers() -> None:
    assert parse.newest_id(["999", "1000", "998"]) == "1000"
    assert parse.newest_id([], "41") == "41"
    assert parse.newest_id(["40"], "41") == "41"
    assert parse.newest_id([]) is None


def test_followers_become_profiles_with_every_field() -> None:
    giulia, marco = parse.follower_profiles(fixture("followers_page1.json"), NOW)
    assert giulia.relation == "follower"
    assert giulia.external_id == "109348726501234567"
    assert giulia.handle == "giulia"
    assert giulia.display_name == "Giulia B."
    assert giulia.bio == "Caffè, libri e bici."
    assert (giulia.followers_count, giulia.following_count, giulia.posts_count) == (312, 290, 1543)
    assert giulia.account_created_at == datetime(2022, 11, 15, tzinfo=UTC)
    assert giulia.last_post_at == datetime(2026, 5, 4, tzinfo=UTC)
    assert giulia.default_avatar is False
    assert giulia.default_banner is True
    assert giulia.location == "Bologna"
    assert giulia.website is None
    assert giulia.verified is False
    assert giulia.declared_bot is False
    assert giulia.profile_url == "https://mastodon.example/@giulia"
    assert giulia.seen_at == NOW
    assert marco.declared_bot is True
    assert marco.bio is None  # an empty note
    assert marco.default_avatar is False and marco.default_banner is False


def test_a_default_avatar_and_a_linked_website_are_recognised() -> None:
    (anna,) = parse.follower_profiles(fixture("followers_page2.json"), NOW)
    assert anna.default_avatar is True and anna.default_banner is True
    brand = parse.profile_of(fixture("verify_credentials.json"), NOW)
    assert brand.website == "https://caffe-rossi.example"
    assert brand.verified is True


def test_an_older_server_last_status_at_datetime_is_read_too() -> None:
    account = fixture("followers_page2.json")[0]
    account["last_status_at"] = "2019-12-05T03:03:02.595Z"
    assert parse.profile_of(account, NOW).last_post_at == datetime(
        2019, 12, 5, 3, 3, 2, 595000, tzinfo=UTC
    )


BROKEN_NOTIFICATIONS = {
    "an object, not an array": lambda p: {"error": "nope"},
    "a notification that is a string": lambda p: ["4120"],
    "a notification without id": lambda p: [{**p[0], "id": None}],
    "a numeric notification id": lambda p: [{**p[0], "id": 4120}],
    "a notification without type": lambda p: [{k: v for k, v in p[0].items() if k != "type"}],
    "a status without id": lambda p: [{**p[0], "status": {**p[0]["status"], "id": None}}],
    "a status that is a list": lambda p: [{**p[0], "status": [p[0]["status"]]}],
    "content that is a number": lambda p: [{**p[0], "status": {**p[0]["status"], "content": 5}}],
    "a bad created_at": lambda p: [
        {**p[0], "status": {**p[0]["status"], "created_at": "yesterday"}}
    ],
    "a status without account": lambda p: [{**p[0], "status": {**p[0]["status"], "account": None}}],
    "an account without acct": lambda p: [
        {
            **p[0],
            "status": {**p[0]["status"], "account": {**p[0]["status"]["account"], "acct": None}},
        }
    ],
    "mentions that are not a list": lambda p: [
        {**p[0], "status": {**p[0]["status"], "mentions": "x"}}
    ],
    "a status without visibility": lambda p: [
        {**p[0], "status": {**p[0]["status"], "visibility": None}}
    ],
}


@pytest.mark.parametrize("breaking", BROKEN_NOTIFICATIONS.values(), ids=BROKEN_NOTIFICATIONS)
def test_notifications_not_in_the_documented_shape_are_malformed(breaking: Any) -> None:
    payload = breaking(fixture("notifications.json"))
    with pytest.raises(MalformedPayloadError):
        parse.read_notifications(payload, BRAND)


BROKEN_ACCOUNTS = {
    "a count that is text": ("followers_count", "312"),
    "a count that is true": ("statuses_count", True),
    "a negative count": ("following_count", -1),
    "bot that is text": ("bot", "yes"),
    "a bad created_at": ("created_at", "2022-13-45"),
    "fields that are an object": ("fields", {"name": "x"}),
    "an id that is a number": ("id", 5),
}


@pytest.mark.parametrize(("key", "value"), BROKEN_ACCOUNTS.values(), ids=BROKEN_ACCOUNTS)
def test_accounts_not_in_the_documented_shape_are_malformed(key: str, value: Any) -> None:
    account = fixture("followers_page2.json")[0]
    account[key] = value
    with pytest.raises(MalformedPayloadError):
        parse.follower_profiles([account], NOW)


def test_a_follower_page_that_is_not_an_array_is_malformed() -> None:
    with pytest.raises(MalformedPayloadError):
        parse.follower_profiles({"accounts": []}, NOW)


def test_reply_visibility_never_widens_the_parent() -> None:
    parent = fixture("status_parent_unlisted.json")
    assert parse.reply_visibility(parent) == "unlisted"
    for visibility in ("public", "private", "direct"):
        assert parse.reply_visibility({**parent, "visibility": visibility}) == visibility
    assert parse.reply_visibility({**parent, "visibility": "local"}) == "private"


def test_apps_tokens_and_errors() -> None:
    assert parse.app_credentials(fixture("app.json")) == {
        "client_id": "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
        "client_secret": "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw",
    }
    assert parse.access_token(fixture("token.json")).startswith("ZA-Yj3")
    assert parse.error_reason(fixture("error_422.json")) == (
        "Validation failed: Text character limit of 500 exceeded"
    )
    grant = parse.error_reason(fixture("error_invalid_grant.json")) or ""
    assert grant.startswith("invalid_grant: The provided authorization grant is invalid")
    assert parse.error_reason("<html>") is None
    with pytest.raises(MalformedPayloadError):
        parse.app_credentials({"client_id": "x"})
    with pytest.raises(MalformedPayloadError):
        parse.access_token({"token_type": "Bearer"})


def test_a_created_status_is_a_sent_reply() -> None:
    sent = parse.sent_of(fixture("status_created.json"))
    assert sent.external_id == "114460300000000600"
    assert sent.url == "https://mastodon.example/@caffe_rossi/114460300000000600"
