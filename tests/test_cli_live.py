"""``dialoga channel``: connect a live channel (an RSS feed served on loopback), poll it,
see its health, and get clear errors for bad settings and networks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_feed import FeedSite, serving_feed

DIALOGA = str(Path(sys.executable).parent / "dialoga")


@pytest.fixture
def feed() -> Iterator[FeedSite]:
    with serving_feed() as site:
        yield site


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DIALOGA, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    environment = dict(cli_env, COLUMNS="200", DIALOGA_ALLOW_PRIVATE_FETCHES="true")
    created = _run(environment, "workspace", "create", "acme", "--name", "ACME")
    assert created.returncode == 0, created.stderr
    return environment


def test_a_feed_channel_is_connected_polled_and_listed(env: dict[str, str], feed: FeedSite) -> None:
    feeds = f'feeds=[{{"url": "{feed.url}", "keywords": ["caffè"]}}]'
    base = ("--workspace", "acme", "--channel", "press")
    connected = _run(env, "channel", "connect", "rss", *base, "--setting", feeds)
    assert connected.returncode == 0, connected.stderr
    assert "polled every 60 s" in connected.stderr

    polled = _run(env, "channel", "poll", *base)
    assert polled.returncode == 0, polled.stderr
    assert "1 page(s): 1 message(s)" in polled.stderr  # "caffè", as a word: not "Caffeina"

    listed = _run(env, "channel", "list", "--workspace", "acme")
    assert "press" in listed.stderr and " ok " in listed.stderr

    assert _run(env, "channel", "pause", *base).returncode == 0
    assert "paused" in _run(env, "channel", "list", "--workspace", "acme").stderr
    assert _run(env, "channel", "poll", *base).returncode == 2  # paused: not read
    assert _run(env, "channel", "resume", *base).returncode == 0

    feed.status = 500
    failed = _run(env, "channel", "poll", *base)
    assert failed.returncode == 2 and "500" in failed.stderr
    assert "degraded" in _run(env, "channel", "list", "--workspace", "acme").stderr


def test_private_addresses_are_refused_unless_the_operator_allows_them(
    env: dict[str, str], feed: FeedSite
) -> None:
    strict = {k: v for k, v in env.items() if k != "DIALOGA_ALLOW_PRIVATE_FETCHES"}
    feeds = f'feeds=[{{"url": "{feed.url}"}}]'
    base = ("--workspace", "acme", "--channel", "press")
    assert _run(strict, "channel", "connect", "rss", *base, "--setting", feeds).returncode == 0
    polled = _run(strict, "channel", "poll", *base)
    assert polled.returncode == 2 and "private, loopback or link-local" in polled.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("twitter",), "no live connector for 'twitter'"),
        (("rss", "--setting", "feeds=nonsense"), "feeds must be a list"),
        (("rss", "--setting", "novalue"), "a setting is key=value"),
        (("rss", "--interval", "1"), "at most every 5 seconds"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    refused = _run(env, "channel", "connect", *args, "--workspace", "acme", "--channel", "x")
    assert refused.returncode == 2
    assert message in refused.stderr


def test_secrets_are_asked_for_never_echoed(env: dict[str, str]) -> None:
    settings = ("--setting", "site=https://blog.example.com")
    secrets = ("--secret", "username", "--secret", "application_password")
    run_env = dict(
        env, DIALOGA_SECRET_USERNAME="brand", DIALOGA_SECRET_APPLICATION_PASSWORD="abcd efgh"
    )
    connected = _run(
        run_env, "channel", "connect", "wordpress", "--workspace", "acme", "--channel", "blog",
        *settings, *secrets,
    )  # fmt: skip
    assert connected.returncode == 0, connected.stderr
    assert "abcd" not in connected.stderr + connected.stdout
    assert os.environ.get("DIALOGA_SECRET_USERNAME") is None
