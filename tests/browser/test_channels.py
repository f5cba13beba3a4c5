"""Live channels in a real browser, on the demo workspace with its embedded job worker
running as in ``dialoga serve``: the owner connects a feed (served on loopback) from the
Channels page, the worker reads it, and the matching entry is in the inbox."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dialoga.core.i18n import translate
from fake_feed import serving_feed

from .conftest import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    DEMO_SLUG,
    LiveServer,
    OpenPage,
    screenshot,
    serve_demo_copy,
    sign_in,
)


def it(key: str, **values: object) -> str:
    return translate("it", key, **values)


@pytest.fixture
def feed_url() -> Iterator[str]:
    with serving_feed() as site:
        yield site.url


@pytest.fixture
def working_server(demo_template: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The demo, with its worker allowed to reach the feed on loopback."""
    with serve_demo_copy(demo_template, tmp_path, allow_private_fetches=True) as server:
        yield server


def test_the_owner_connects_a_feed_and_its_entry_reaches_the_inbox(
    open_page: OpenPage, working_server: LiveServer, feed_url: str
) -> None:
    page = open_page(working_server)
    sign_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto(f"/w/{DEMO_SLUG}/inbox")
    page.get_by_role("link", name=it("nav.channels"), exact=True).click()
    expect(page.get_by_text(it("channels.none"))).to_be_visible()
    page.get_by_role("link", name=it("connect.title.rss")).click()

    page.get_by_label(it("connect.field.channel")).fill("Rassegna stampa")
    page.get_by_label(it("connect.field.feeds")).fill(f"{feed_url} caffè")
    page.get_by_label(it("connect.field.interval")).fill("5")
    with page.expect_navigation():
        page.get_by_role("button", name=it("connect.submit.other")).click()

    row = page.locator("tbody tr", has_text="Rassegna stampa")
    for _ in range(40):  # the worker polls it within a few seconds
        if (
            row.locator(".health").inner_text() == it("channels.state.ok")
            and row.locator("td.nowrap").first.inner_text() != "—"
        ):
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(row.locator(".health")).to_have_text(it("channels.state.ok"))
    if os.environ.get("DIALOGA_SCREENSHOTS") == "1":
        screenshot(page, "channels.png", full_page=False)

    page.goto(f"/w/{DEMO_SLUG}/inbox?q=Milano")
    expect(page.get_by_text(re.compile("caffè più buono di Milano"))).to_be_visible()
