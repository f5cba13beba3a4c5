"""Reading fetched e-mails (pure): the sample messages as the connector gives them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialoga.channels.base import MalformedPayloadError
from dialoga.channels.email.parse import NETWORK, read_email

FIXTURES = Path(__file__).parents[2] / "fixtures" / "email"
BRAND = "support@example.org"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_a_customer_question_is_an_inbound_email() -> None:
    message = read_email(read("question.eml"), BRAND, "INBOX UID 1")
    assert message.external_id == "CAF3u5x8Qm1@mail.example.net"
    assert message.kind == "email"
    assert message.author.network == NETWORK == "email"
    assert message.author.external_id == message.author.email == "ana.souza@example.net"
    assert message.author.display_name == "Ana Souza"
    assert not message.author.is_brand
    assert message.direction is None
    assert message.created_at == datetime(2026, 5, 4, 7, 12, 37, tzinfo=UTC)
    assert message.subject == "Order 1042 has not arrived"
    assert message.text.startswith("Hello,\n\nI ordered two bags")
    assert message.in_reply_to is None
    assert message.references == ()


def test_a_follow_up_threads_and_decodes_its_headers_and_body() -> None:
    message = read_email(read("followup.eml"), BRAND, "INBOX UID 2")
    assert message.author.email == "ana.souza@example.net"  # one identity, whatever its case
    assert message.in_reply_to == "reply-7f3a@example.org"
    assert message.references == ("CAF3u5x8Qm1@mail.example.net", "reply-7f3a@example.org")
    assert message.subject == "Re: Order 1042 has not arrived – café"
    assert message.text.startswith("It came today, thank you! The café smells wonderful.")
    assert "<b>" not in message.text  # the text/plain part, not the HTML one


def test_the_brands_own_message_is_outbound() -> None:
    message = read_email(read("from_brand.eml"), BRAND, "INBOX UID 3")
    assert message.author.is_brand
    assert message.direction == "outbound"
    assert message.in_reply_to == "CAF3u5x8Qm1@mail.example.net"


def test_a_hostile_html_body_ends_as_text() -> None:
    message = read_email(read("hostile_html.eml"), BRAND, "INBOX UID 4")
    assert "Claim your <prize> & more" in message.text  # entities decoded, as text
    for markup in ("<script", "document.cookie", "<img", "onerror", "alert", "iframe", "{"):
        assert markup not in message.text
    assert message.subject == "<b>You have won</b>"  # a subject is text, never markup


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (read("no_message_id.eml"), "no Message-ID"),
        (b"\x00\xff\xfe garbage without headers", "Message-ID"),
        (b"Message-ID: <a@b>\r\nDate: Mon, 4 May 2026 09:00:00 +0000\r\n\r\nhi", "no From"),
        (b"Message-ID: <a@b>\r\nFrom: a@example.net\r\n\r\nhi", "no Date"),
    ],
)
def test_an_unreadable_message_is_malformed_and_named(data: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayloadError, match=reason) as raised:
        read_email(data, BRAND, "INBOX UID 9")
    assert str(raised.value).startswith("INBOX UID 9: ")
