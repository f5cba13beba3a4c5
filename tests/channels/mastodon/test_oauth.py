"""Connecting a Mastodon account: the app registration, the authorisation address, the code
traded for a token and the token checked, each request as Mastodon documents it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import respx

from dialoga.channels.base import AuthExpiredError, ConnectorError
from dialoga.channels.mastodon.connector import (
    OUT_OF_BAND,
    authorize_url,
    exchange_code,
    register_app,
    verify,
)
from dialoga.core.fetch import FetchPolicy

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "mastodon"
BASE = "https://mastodon.example"
CLIENT_ID = "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM"
CLIENT_SECRET = "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw"
TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def form(content: bytes) -> dict[str, list[str]]:
    return parse_qs(content.decode())


def test_register_app_posts_dialoga_and_keeps_the_client_credentials() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(f"{BASE}/api/v1/apps").respond(200, json=fixture("app.json"))
        made = register_app("mastodon.example", OUT_OF_BAND, FetchPolicy())
    assert made == {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    request = route.calls.last.request
    assert "authorization" not in request.headers
    assert form(request.content) == {
        "client_name": ["Dialoga"],
        "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob"],
        "scopes": ["read write"],
    }


def test_register_app_passes_a_website_and_names_a_refusal() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(f"{BASE}/api/v1/apps").respond(
            422, json={"error": "Validation failed: Redirect URI must be an absolute URI."}
        )
        with pytest.raises(ConnectorError, match="Redirect URI must be an absolute URI"):
            register_app(BASE, "callback", FetchPolicy(), website="https://dialoga.example")
    assert form(route.calls.last.request.content)["website"] == ["https://dialoga.example"]


def test_authorize_url_asks_for_a_code_with_state() -> None:
    url = authorize_url(BASE, CLIENT_ID, OUT_OF_BAND, "st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/oauth/authorize"
    assert "scope=read+write" in parts.query
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": [OUT_OF_BAND],
        "scope": ["read write"],
        "state": ["st4te"],
    }


def test_exchange_code_gives_the_channel_credentials() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.post(f"{BASE}/oauth/token").respond(200, json=fixture("token.json"))
        credentials = exchange_code(
            BASE, CLIENT_ID, CLIENT_SECRET, "qDFUEaYrRK5c", OUT_OF_BAND, FetchPolicy()
        )
    assert credentials == {
        "access_token": TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert form(route.calls.last.request.content) == {
        "grant_type": ["authorization_code"],
        "code": ["qDFUEaYrRK5c"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "redirect_uri": [OUT_OF_BAND],
        "scope": ["read write"],
    }


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, "error_invalid_grant.json"),
        (401, "error_401.json"),
    ],
)
def test_a_refused_code_needs_authorising_again(status: int, body: str) -> None:
    with respx.mock(assert_all_called=True) as router:
        router.post(f"{BASE}/oauth/token").respond(status, json=fixture(body))
        with pytest.raises(AuthExpiredError) as caught:
            exchange_code(BASE, CLIENT_ID, CLIENT_SECRET, "used", OUT_OF_BAND, FetchPolicy())
    assert CLIENT_SECRET not in str(caught.value)


def test_verify_names_the_brand_account() -> None:
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(
            200, json=fixture("verify_credentials.json")
        )
        author = verify(BASE, TOKEN, FetchPolicy())
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    assert (author.network, author.external_id, author.handle) == (
        "mastodon",
        "109000000000000001",
        "caffe_rossi",
    )
    assert author.display_name == "Caffè Rossi"
    assert author.is_brand is True


def test_verify_with_a_revoked_token_needs_authorising_again() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(
            401, json=fixture("error_401.json")
        )
        with pytest.raises(AuthExpiredError):
            verify(BASE, TOKEN, FetchPolicy())
