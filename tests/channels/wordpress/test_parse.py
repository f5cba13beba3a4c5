"""WordPress REST payloads into messages, on fixtures shaped as the v2 API answers: ids,
threads, guests and users per site, the brand's own comments, hostile HTML, bad shapes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dialoga.channels.base import MalformedPayloadError
from dialoga.channels.wordpress.parse import (
    comment_number,
    comments_of,
    error_reason,
    own_user_id,
    post_of,
    reply_content,
    sent_comment,
)

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "wordpress"
SITE = "https://blog.rossi.example"
BRAND = 2


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_comments_become_messages_threaded_under_their_parent() -> None:
    laura, brand = comments_of(load("comments_page1.json"), SITE, BRAND)

    assert laura.external_id == "comment-101"
    assert laura.kind == "comment"
    assert laura.in_reply_to is None  # a top-level comment opens its own conversation
    assert laura.text == "Buonissima! La trovo anche a Milano?"
    assert laura.created_at == datetime(2026, 5, 3, 16, 5, tzinfo=UTC)  # date_gmt
    assert laura.url == "https://blog.rossi.example/2026/05/miscela-primavera/#comment-101"
    assert laura.direction is None
    assert brand.in_reply_to == "comment-101"
    assert brand.author.external_id == "blog.rossi.example/user/2"
    assert brand.author.is_brand


def test_guests_are_named_by_site_name_and_url_users_by_site_and_id() -> None:
    laura, _ = comments_of(load("comments_page1.json"), SITE, BRAND)
    again, paolo = comments_of(load("comments_page2.json"), SITE, BRAND)

    assert laura.author.external_id.startswith("blog.rossi.example/guest/")
    assert laura.author.external_id == again.author.external_id
    assert laura.author.display_name == "Laura Verdi"
    assert not laura.author.is_brand
    assert paolo.author.external_id == "blog.rossi.example/user/5"
    assert paolo.author.display_name == "Paolo Neri"
    assert not paolo.author.is_brand
    other_blog = comments_of(load("comments_page2.json"), "https://altro.example", BRAND)[1]
    assert other_blog.author.external_id == "altro.example/user/5"


def test_a_guest_with_another_url_is_another_person() -> None:
    page = load("comments_page1.json")
    page[0]["author_url"] = "https://laura-due.example"

    changed = comments_of(page, SITE, BRAND)[0]

    original = comments_of(load("comments_page1.json"), SITE, BRAND)[0]
    assert changed.author.external_id != original.author.external_id


def test_hostile_html_ends_as_plain_text() -> None:
    hostile, plain = comments_of(load("comments_page2.json"), SITE, BRAND)

    # the script is dropped; what the commenter typed as "<b>" stays text
    assert hostile.text == "Perfetto, grazie & a presto!\nofferta <b>non è HTML</b>"
    assert "alert" not in hostile.text
    assert plain.text == "Il barattolo di vetro va bene?\nO meglio latta?"


def _broken(change: str) -> list[Any]:
    page: list[Any] = copy.deepcopy(load("comments_page1.json"))
    comment = page[0]
    if change == "no id":
        del comment["id"]
    elif change == "id as text":
        comment["id"] = "101"
    elif change == "content as text":
        comment["content"] = "<p>ciao</p>"
    elif change == "no rendered":
        comment["content"] = {}
    elif change == "bad date":
        comment["date_gmt"] = "ieri sera"
    elif change == "author as bool":
        comment["author"] = True
    elif change == "name as list":
        comment["author_name"] = ["Laura"]
    elif change == "not an object":
        page[0] = "comment"
    return page


@pytest.mark.parametrize(
    "change",
    [
        "no id",
        "id as text",
        "content as text",
        "no rendered",
        "bad date",
        "author as bool",
        "name as list",
        "not an object",
    ],
)
def test_a_comment_not_in_the_documented_shape_is_malformed(change: str) -> None:
    with pytest.raises(MalformedPayloadError):
        comments_of(_broken(change), SITE, BRAND)


def test_a_comment_list_must_be_a_list() -> None:
    with pytest.raises(MalformedPayloadError, match="not a list"):
        comments_of({"comments": []}, SITE, BRAND)


def test_the_brand_user_the_post_and_the_created_comment() -> None:
    created = load("comment_created.json")

    assert own_user_id(load("users_me.json")) == 2
    assert post_of(load("comments_page2.json")[1]) == 11
    sent = sent_comment(created)
    assert sent.external_id == "comment-105"
    assert sent.url == "https://blog.rossi.example/2026/05/conservare-grani/#comment-105"
    with pytest.raises(MalformedPayloadError):
        own_user_id({"name": "nobody"})
    with pytest.raises(MalformedPayloadError):
        sent_comment([created])


@pytest.mark.parametrize(
    ("external_id", "number"),
    [
        ("comment-104", 104),
        ("comment-0", None),
        ("comment-12x", None),
        ("post-12", None),
        (None, None),
    ],
)
def test_comment_numbers(external_id: str | None, number: int | None) -> None:
    assert comment_number(external_id) == number


def test_a_plain_text_reply_is_escaped_as_comment_content() -> None:
    assert reply_content("Usa <b> & basta\nciao") == "Usa &lt;b&gt; &amp; basta\nciao"


def test_error_bodies_give_their_reason() -> None:
    errors = load("errors.json")

    assert error_reason(errors["rest_comment_closed"]) == (
        "Sorry, comments are closed for this item. (rest_comment_closed)"
    )
    assert error_reason(errors["comment_duplicate"]).startswith(
        "Duplicate comment detected; it looks as though you’ve"
    )
    assert error_reason(None) == "no reason given"
    assert error_reason({"code": "rest_forbidden"}) == "rest_forbidden"
