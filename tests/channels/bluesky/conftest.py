"""Shared pieces of the Bluesky tests: fixture files, a fixed clock, a logged-in connector."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialoga.channels.bluesky.connector import BlueskyConnector, build
from dialoga.channels.context import ConnectorContext
from dialoga.core.fetch import FetchPolicy

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bluesky"
XRPC = "https://bsky.social/xrpc/"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BRAND = "did:plc:4bqzk6vq3nj2rcwcxvmhkl2e"
BRAND_HANDLE = "caffe-aurora.bsky.social"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
STORED = {
    "identifier": BRAND_HANDLE,
    "app_password": APP_PASSWORD,
    "access_jwt": "stored-access-jwt",
    "refresh_jwt": "stored-refresh-jwt",
    "did": BRAND,
    "handle": BRAND_HANDLE,
}


def load(name: str) -> Any:
    """A fixture file's JSON."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def xrpc_error(status: int, error: str, message: str = "") -> httpx.Response:
    """An XRPC error answer, as the PDS writes it."""
    return httpx.Response(status, json={"error": error, "message": message or error})


def connector(
    credentials: dict[str, Any] | None = None,
    now: datetime = NOW,
    config: dict[str, Any] | None = None,
) -> BlueskyConnector:
    """The connector ``build`` makes for a channel with these credentials (default: a
    stored session) and a fixed clock."""
    context = ConnectorContext(
        config=config or {},
        credentials=STORED if credentials is None else credentials,
        fetch_policy=FetchPolicy(),
        clock=lambda: now,
    )
    return build(context)


@pytest.fixture
def brand_connector() -> BlueskyConnector:
    return connector()
