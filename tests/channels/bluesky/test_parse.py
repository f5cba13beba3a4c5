"""Bluesky payloads to Dialoga's shapes, on fixtures shaped as the lexicons document them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from dialoga.channels.base import MalformedPayloadError, NormalizedMessage
from dialoga.channels.bluesky import parse

from .conftest import BRAND, NOW, load

BRAND_POST = "at://did:plc:4bqzk6vq3nj2rcwcxvmhkl2e/app.bsky.feed.post/3mfyywqnz222b"


def _messages() -> list[NormalizedMessage | None]:
    page = parse.notifications_page(load("notifications_head.json"))
    return [parse.message_of(item, BRAND) for item in page.items]


def test_a_notifications_page_is_read_newest_first_with_its_cursor() -> None:
    page = parse.notifications_page(load("notifications_head.json"))

    assert [item.reason for item in page.items] == ["reply", "quote", "mention", "like"]
    assert page.items[0].indexed_at == datetime(2026, 3, 2, 9, 40, 12, 345000, tzinfo=UTC)
    assert page.cursor == "2026-03-02T09:00:00.000Z"


def test_a_reply_points_at_its_parent_and_thread() -> None:
    reply = _messages()[0]

    assert reply is not None
    assert reply.external_id == (
        "at://did:plc:7xkpsdm2hfgv5ocdtfv4ekcq/app.bsky.feed.post/3mg2xjtdypc2b"
    )
    assert reply.kind == "reply"
    assert reply.text == "Grazie! A che ora aprite domenica?"
    assert reply.in_reply_to == BRAND_POST
    assert reply.references == (BRAND_POST,)
    assert reply.created_at == datetime(2026, 3, 2, 9, 40, 11, 902000, tzinfo=UTC)
    assert reply.language == "it"
    assert reply.url == "https://bsky.app/profile/giulia.bsky.social/post/3mg2xjtdypc2b"
    assert reply.direction is None
    assert reply.author.network == "bluesky"
    assert reply.author.external_id == "did:plc:7xkpsdm2hfgv5ocdtfv4ekcq"
    assert reply.author.handle == "giulia.bsky.social"
    assert reply.author.display_name == "Giulia Ferri"
    assert reply.author.is_brand is False


def test_a_quote_is_a_mention_that_names_the_quoted_post() -> None:
    quote = _messages()[1]

    assert quote is not None
    assert quote.kind == "mention"
    assert quote.in_reply_to is None
    assert quote.references == (BRAND_POST,)


def test_post_text_is_plain_text_kept_exactly_as_written() -> None:
    """Bluesky text has no markup: tags in it are characters someone typed, kept as text
    (and escaped wherever it is shown), never parsed or run."""
    quote = _messages()[1]

    assert quote is not None
    assert quote.text == "Questo caffè <script>alert(1)</script> è <b>ottimo</b>"


def test_a_mention_is_a_mention_and_likes_are_not_messages() -> None:
    messages = _messages()
    mention = messages[2]

    assert mention is not None
    assert mention.kind == "mention"
    assert mention.in_reply_to is None
    assert mention.references == ()
    assert mention.language == "en"
    assert mention.text.startswith("@caffe-aurora.bsky.social")
    assert messages[3] is None


def test_the_brand_is_recognised_as_author() -> None:
    page = parse.notifications_page(load("notifications_head.json"))

    message = parse.message_of(page.items[0], "did:plc:7xkpsdm2hfgv5ocdtfv4ekcq")

    assert message is not None and message.author.is_brand is True


def test_created_at_falls_back_to_indexed_at() -> None:
    payload = load("notifications_head.json")
    payload["notifications"][0]["record"]["createdAt"] = "ieri"
    item = parse.notifications_page(payload).items[0]

    message = parse.message_of(item, BRAND)

    assert message is not None and message.created_at == item.indexed_at


def test_a_quote_with_media_names_the_quoted_post() -> None:
    payload = load("notifications_head.json")
    record = payload["notifications"][1]["record"]
    record["embed"] = {
        "$type": "app.bsky.embed.recordWithMedia",
        "record": {"$type": "app.bsky.embed.record", "record": record["embed"]["record"]},
        "media": {"$type": "app.bsky.embed.images", "images": []},
    }

    message = parse.message_of(parse.notifications_page(payload).items[1], BRAND)

    assert message is not None and message.references == (BRAND_POST,)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("notifications", None),
        ("uri", 42),
        ("uri", "https://bsky.app/post/1"),
        ("indexedAt", 1740990000),
        ("author", "giulia"),
        ("record", None),
    ],
)
def test_a_notification_not_in_the_documented_shape_is_malformed(where: str, value: object) -> None:
    payload = load("notifications_head.json")
    if where == "notifications":
        payload["notifications"] = value
    else:
        payload["notifications"][0][where] = value

    with pytest.raises(MalformedPayloadError):
        parse.notifications_page(payload)


@pytest.mark.parametrize(
    "damage",
    [
        lambda n: n["author"].pop("did"),
        lambda n: n["author"].update(handle=None),
        lambda n: n["record"].pop("text"),
        lambda n: n["record"]["reply"].update(parent={"uri": "nowhere"}),
    ],
)
def test_a_message_not_in_the_documented_shape_is_malformed(damage: object) -> None:
    payload = load("notifications_head.json")
    damage(payload["notifications"][0])  # type: ignore[operator]
    item = parse.notifications_page(payload).items[0]

    with pytest.raises(MalformedPayloadError):
        parse.message_of(item, BRAND)


def test_a_follower_profile_takes_counts_from_the_detailed_view() -> None:
    views = parse.followers_page(load("followers_page1.json")).items
    detailed = parse.detailed_profiles(load("profiles.json"))

    giulia = parse.profile_of(views[0], detailed.get(views[0]["did"]), NOW)
    sara = parse.profile_of(views[1], detailed.get(views[1]["did"]), NOW)

    assert giulia.external_id == "did:plc:7xkpsdm2hfgv5ocdtfv4ekcq"
    assert giulia.relation == "follower"
    assert (giulia.followers_count, giulia.following_count, giulia.posts_count) == (412, 380, 1290)
    assert giulia.bio == "Barista a Torino ☕"
    assert giulia.website == "https://giulia.example"
    assert giulia.verified is True
    assert giulia.default_avatar is False
    assert giulia.default_banner is False
    assert giulia.account_created_at == datetime(2023, 11, 20, 16, 2, 11, 318000, tzinfo=UTC)
    assert giulia.profile_url == "https://bsky.app/profile/giulia.bsky.social"
    assert giulia.seen_at == NOW
    assert (sara.followers_count, sara.following_count, sara.posts_count) == (3, 1450, 0)
    assert sara.default_avatar is True
    assert sara.default_banner is True
    assert sara.bio is None
    assert sara.verified is None


def test_a_follower_without_a_detailed_view_has_unknown_counts() -> None:
    view = parse.followers_page(load("followers_page2.json")).items[0]

    profile = parse.profile_of(view, None, NOW)

    assert profile.handle == "pietro.bsky.social"
    assert profile.followers_count is None and profile.default_banner is None
    assert profile.default_avatar is False


def test_counts_of_the_wrong_type_are_malformed() -> None:
    payload = load("profiles.json")
    payload["profiles"][0]["followersCount"] = "412"
    detailed = parse.detailed_profiles(payload)
    view = load("followers_page1.json")["followers"][0]

    with pytest.raises(MalformedPayloadError):
        parse.profile_of(view, detailed[view["did"]], NOW)


def test_a_follower_page_without_dids_is_malformed() -> None:
    payload = load("followers_page1.json")
    del payload["followers"][1]["did"]

    with pytest.raises(MalformedPayloadError):
        parse.followers_page(payload)


def test_reply_refs_take_the_root_from_the_parents_own_thread() -> None:
    parent = "at://did:plc:7xkpsdm2hfgv5ocdtfv4ekcq/app.bsky.feed.post/3mg2xjtdypc2b"
    payload = load("get_posts_parent.json")

    refs = parse.reply_refs(payload, parent)

    assert refs == {
        "root": payload["posts"][0]["record"]["reply"]["root"],
        "parent": {"uri": parent, "cid": payload["posts"][0]["cid"]},
    }
    assert refs["root"]["uri"] == BRAND_POST


def test_reply_refs_of_a_top_level_post_use_it_as_root_and_parent() -> None:
    parent = "at://did:plc:7xkpsdm2hfgv5ocdtfv4ekcq/app.bsky.feed.post/3mg2xjtdypc2b"
    payload = load("get_posts_parent.json")
    del payload["posts"][0]["record"]["reply"]

    refs = parse.reply_refs(payload, parent)

    assert refs is not None and refs["root"] == refs["parent"]
    assert parse.reply_refs({"posts": []}, parent) is None


def test_a_session_keeps_its_tokens_out_of_its_repr() -> None:
    payload = load("create_session.json")

    session = parse.session_of(payload)

    assert session.did == BRAND and session.handle == "caffe-aurora.bsky.social"
    assert session.access_jwt == payload["accessJwt"]
    assert payload["accessJwt"] not in repr(session)
    assert payload["refreshJwt"] not in repr(session)
    with pytest.raises(MalformedPayloadError):
        parse.session_of({**payload, "accessJwt": None})


def test_datetimes_with_any_fraction_are_read_as_utc() -> None:
    assert parse.moment("2026-03-02T09:40:12.123456789Z", "t") == datetime(
        2026, 3, 2, 9, 40, 12, 123456, tzinfo=UTC
    )
    assert parse.moment("2026-03-02T11:40:12+02:00", "t") == datetime(
        2026, 3, 2, 9, 40, 12, tzinfo=UTC
    )
    with pytest.raises(MalformedPayloadError):
        parse.moment("yesterday", "t")


def test_a_post_url_uses_the_did_when_the_handle_is_invalid() -> None:
    uri = "at://did:plc:7xkpsdm2hfgv5ocdtfv4ekcq/app.bsky.feed.post/3mg2xjtdypc2b"

    assert parse.post_url(uri, "handle.invalid") == (
        "https://bsky.app/profile/did:plc:7xkpsdm2hfgv5ocdtfv4ekcq/post/3mg2xjtdypc2b"
    )
    with pytest.raises(MalformedPayloadError):
        parse.post_url(uri.replace("feed.post", "feed.like"), "giulia.bsky.social")


def test_an_existing_post_record_is_read_back() -> None:
    payload = copy.deepcopy(load("get_record.json"))

    post = parse.existing_post(payload)

    assert post.uri == payload["uri"]
    assert post.text == "Ciao Giulia! Domenica apriamo alle 8:30 ☕"
    assert post.parent_uri == payload["value"]["reply"]["parent"]["uri"]
    assert parse.xrpc_error({"error": "RecordNotFound", "message": "Could not locate record"}) == (
        "RecordNotFound",
        "Could not locate record",
    )
    assert parse.xrpc_error("<html>") == ("", "")
