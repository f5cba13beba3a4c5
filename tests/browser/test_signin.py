"""Signing in and out in a real browser: the form, the refusal, the home page, the language."""

from __future__ import annotations

import struct
from pathlib import Path

from playwright.sync_api import Page, expect

from dialoga.accounts.models import User, Workspace
from dialoga.core.i18n import translate
from dialoga.demo.content import BRAND

from .conftest import MEMBER_EMAIL, PASSWORD, LiveServer, OpenPage, screenshot, sign_in, sign_out


def test_a_wrong_password_is_refused_on_the_form(page: Page, member: User) -> None:
    sign_in(page, MEMBER_EMAIL, "not-the-password")

    expect(page).to_have_url("/signin")
    expect(page.get_by_role("alert")).to_have_text(translate("en", "signin.wrong"))
    expect(page.locator("#email")).to_have_value(MEMBER_EMAIL)
    expect(page.locator("#password")).to_have_value("")


def test_the_right_password_lands_on_the_home_page_with_the_workspace(
    page: Page, live_server: LiveServer, member: User, workspace: Workspace
) -> None:
    sign_in(page, MEMBER_EMAIL, PASSWORD)

    assert page.url == f"{live_server.url}/"
    expect(page.get_by_role("cell", name=workspace.name, exact=True)).to_be_visible()
    expect(page.get_by_text("Giulia", exact=True)).to_be_visible()


def test_signing_out_ends_the_session(page: Page, member: User) -> None:
    sign_in(page, MEMBER_EMAIL, PASSWORD)

    sign_out(page)

    expect(page).to_have_url("/signin")
    page.goto("/")
    expect(page).to_have_url("/signin")


def test_the_sign_in_page_speaks_the_browser_language(
    open_page: OpenPage, live_server: LiveServer
) -> None:
    italian = open_page(live_server, locale="it-IT")
    english = open_page(live_server, locale="en-US")

    for opened, language in ((italian, "it"), (english, "en")):
        opened.goto("/signin")
        expect(opened.locator("html")).to_have_attribute("lang", language)
        submit = opened.locator("form[action='/signin'] button[type=submit]")
        expect(submit).to_have_text(translate(language, "signin.submit"))
        expect(opened.locator("body")).to_contain_text(translate(language, "app.tagline"))
    assert translate("it", "app.tagline") != translate("en", "app.tagline")


def test_the_demo_page_is_signed_in_to_the_demo_workspace(demo_page: Page) -> None:
    expect(demo_page.get_by_role("cell", name=BRAND, exact=True)).to_be_visible()
    expect(demo_page.locator("html")).to_have_attribute("lang", "it")


def test_screenshot_saves_the_whole_page_as_png(page: Page, tmp_path: Path) -> None:
    page.goto("/signin")

    saved = screenshot(page, tmp_path / "signin.png")

    header = saved.read_bytes()[:24]
    width, height = struct.unpack(">II", header[16:24])
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert (width, height) == (1280, 800)
