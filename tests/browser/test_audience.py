"""The audience page in a real browser, on the demo workspace (audited once as it loads):
the owner runs an audit of the X channel and reads it, then opens its HTML report."""

from __future__ import annotations

import os
import re
import struct

import pytest
from playwright.sync_api import Page, expect

from dialoga.core.i18n import translate

from .conftest import DEMO_SLUG, screenshot

AUDIENCE = f"/w/{DEMO_SLUG}/audience"
CHANNEL = "Caffè Aurora su X"


def it(key: str, **values: object) -> str:
    """The Italian text of a catalog key: what the demo owner reads."""
    return translate("it", key, **values)


def test_the_owner_runs_an_audit_and_reads_it(demo_page: Page) -> None:
    demo_page.goto(f"/w/{DEMO_SLUG}/inbox")
    demo_page.get_by_role("link", name=it("nav.audience"), exact=True).click()
    expect(demo_page).to_have_url(AUDIENCE)
    row = demo_page.locator("tbody tr", has_text=CHANNEL)
    row.get_by_label(it("audience.page.inactive_days")).fill("90")

    with demo_page.expect_navigation():
        row.get_by_role("button", name=it("audience.page.run_now")).click()

    expect(demo_page).to_have_url(re.compile(rf"{AUDIENCE}/runs/\d+$"))
    expect(demo_page.get_by_role("heading", level=1)).to_contain_text(CHANNEL)
    expect(demo_page.locator("#quality-score dd")).to_have_text(re.compile(r"^\d+,\d%$"))
    expect(demo_page.get_by_role("heading", name=it("audience.page.change"))).to_be_visible()
    expect(demo_page.locator("table.history tbody tr")).to_have_count(2)
    expect(demo_page.locator("table.verdicts tbody tr")).to_have_count(50)
    expect(demo_page.locator("table.ambassadors tbody tr").first).to_be_visible()

    demo_page.get_by_role("link", name=it("audience.page.open_report")).click()

    expect(demo_page).to_have_url(re.compile(r"/report\.html$"))
    expect(demo_page.locator("svg").first).to_be_visible()


@pytest.mark.skipif(
    os.environ.get("DIALOGA_SCREENSHOTS") != "1", reason="set DIALOGA_SCREENSHOTS=1 to redraw"
)
def test_the_user_guide_pictures_of_an_audit(demo_page: Page) -> None:
    demo_page.goto(AUDIENCE)
    demo_page.locator("tbody tr", has_text=CHANNEL).get_by_role("link").first.click()
    expect(demo_page).to_have_url(re.compile(rf"{AUDIENCE}/runs/\d+$"))

    page_picture = screenshot(demo_page, "audience.png", full_page=False)
    demo_page.get_by_role("link", name=it("audience.page.open_report")).click()
    report_picture = screenshot(demo_page, "audience-report.png", full_page=False)

    for picture in (page_picture, report_picture):
        assert struct.unpack(">II", picture.read_bytes()[16:24]) == (1280, 800)
