"""The team inbox in a real browser, on the demo workspace (Caffè Aurora, in Italian).

Signing in and the queue most overdue first, its filters, a conversation with the
contact's context card, a reply from a saved reply (and one held back as canned), a
note, resolving with a reason, the language switch, live updates, hostile text.

To stay fast, the tests of each worker share one served copy of the demo and sign the
owner in once; every test that writes works on a conversation of its own (a message it
ingests from a new person), so they pass in any order and any split between workers.
"""

from __future__ import annotations

import os
import re
import struct
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, Route, StorageState, expect
from sqlalchemy import distinct, func, select
from starlette.datastructures import State

from dialoga.accounts.models import User, Workspace
from dialoga.channels.base import MessageKind, NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.contacts.models import Identity
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.i18n import translate
from dialoga.demo.content import BRAND
from dialoga.demo.load import DEMO_EMAIL, DEMO_PASSWORD
from dialoga.demo.teamwork import AGENT_EMAIL, SAVED_REPLIES
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.priority import RANK_SHIFT

from .conftest import (
    DEMO_SLUG,
    VIEWPORT,
    LiveServer,
    OpenPage,
    screenshot,
    serve_demo_copy,
    sign_in,
)

INBOX = f"/w/{DEMO_SLUG}/inbox"
OWNER_NAME = "Marta (Caffè Aurora)"  # the demo owner: "Marta" signs the saved replies
HOSTILE = (
    '<script>alert("x")</script><img src=x onerror=alert(1)>'
    '<a href="javascript:alert(2)">clic</a> \u202egnp.exe ' + "A" * 5000
)
# Counts the live-update streams that said "ready" (the page listens from then on).
COUNT_READY_STREAMS = """
window.EventSource = class extends window.EventSource {
  constructor(...args) {
    super(...args);
    this.addEventListener("ready", () => {
      const root = document.documentElement;
      root.dataset.streams = String(Number(root.dataset.streams || 0) + 1);
    });
  }
};
"""


def it(key: str, **values: object) -> str:
    """The Italian text of a catalog key: what the demo owner reads."""
    return translate("it", key, **values)


@pytest.fixture(scope="module")
def inbox_server(
    demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One served copy of the demo for this worker's inbox tests."""
    with serve_demo_copy(demo_template, tmp_path_factory.mktemp("inbox")) as server:
        yield server


@pytest.fixture(scope="module")
def owner_cookies(browser: Browser, inbox_server: LiveServer) -> StorageState:
    """The demo owner's session, signed in once through the form."""
    context = browser.new_context(base_url=inbox_server.url, viewport=VIEWPORT)
    try:
        sign_in(context.new_page(), DEMO_EMAIL, DEMO_PASSWORD)
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def owner(open_page: OpenPage, inbox_server: LiveServer, owner_cookies: StorageState) -> Page:
    """A browser page signed in as the demo owner, whose pages are in Italian."""
    return open_page(inbox_server, storage_state=owner_cookies)


@pytest.fixture
def live_state(inbox_server: LiveServer) -> Iterator[State]:
    """The app's state, for a test to make live updates quick; put back afterwards."""
    state = inbox_server.app.state
    yield state
    for name in ("live_poll_seconds", "live_max_seconds"):
        if hasattr(state, name):
            delattr(state, name)


def _ingest(
    server: LiveServer,
    text: str,
    *,
    name: str,
    network: str = "mastodon",
    url: str | None = None,
    subject: str | None = None,
) -> int:
    """A message from a new person on the demo's ``network`` channel, as a connector
    would store it; the id of the conversation it opens."""
    key = uuid.uuid4().hex[:12]
    author = NormalizedAuthor(network, f"browser-{key}", handle=f"p{key}", display_name=name)
    kind: MessageKind = "email" if network == "email" else "mention"
    message = NormalizedMessage(
        f"browser-{key}", author, utcnow(), text, kind=kind, subject=subject, url=url
    )
    with transaction(server.runtime.sessions, write_lock=True) as session:
        channel = session.scalars(
            select(Channel)
            .join(Workspace, Workspace.id == Channel.workspace_id)
            .where(Workspace.slug == DEMO_SLUG, Channel.network == network)
        ).one()
        result = ingest(session, channel, [message])
    assert result.conversations_created == 1
    return result.conversation_ids[0]


def _open(page: Page, conversation_id: int) -> None:
    page.goto(f"{INBOX}/{conversation_id}")
    expect(page.locator("#thread")).to_be_visible()


def _press(page: Page, name: str) -> None:
    """Press the button called ``name`` and wait for the page it leads to."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


# --- the queue ------------------------------------------------------------------------


def _queue_rows(page: Page) -> list[dict[str, str]]:
    """The queue's rows as shown: id, priority, due date, breached mark, last message,
    channel."""
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        "#queue tbody tr",
        """rows => rows.map(row => ({
            id: row.dataset.conversation,
            priority: row.dataset.priority,
            due: row.cells[0].querySelector("span")?.textContent ?? "",
            breached: row.cells[0].querySelector("small.breached")?.textContent ?? "",
            text: row.cells[2].innerText,
            channel: row.cells[3].innerText,
        }))""",
    )
    return rows


def test_signing_in_shows_the_queue_most_pressing_first(
    open_page: OpenPage, inbox_server: LiveServer
) -> None:
    page = open_page(inbox_server)
    sign_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("link", name=BRAND, exact=True).click()  # the home page's workspace

    expect(page).to_have_url(INBOX)
    expect(page.locator("h1")).to_have_text(it("inbox.title"))
    rows = _queue_rows(page)
    marks = [row["breached"] for row in rows]
    assert set(marks) == {it("inbox.breached"), ""}, "breached and not breached both shown"
    ranks = [
        datetime.strptime(row["due"], "%d/%m/%Y %H:%M") + RANK_SHIFT[int(row["priority"])]
        for row in rows
        if row["due"]
    ]
    assert ranks == sorted(ranks), "most overdue first, urgent work moved up"
    assert len({row["priority"] for row in rows}) > 1, "the demo has several priorities"
    dated = [row["due"] != "" for row in rows]
    assert dated == sorted(dated, reverse=True), "those with no reply due come last"


def test_the_queue_filters_by_channel_and_by_words(owner: Page) -> None:
    owner.goto(INBOX)
    everything = _queue_rows(owner)

    owner.select_option("#f-channel", label="Mastodon")
    _press(owner, it("inbox.apply"))
    on_mastodon = _queue_rows(owner)

    expect(owner).to_have_url(re.compile(r"[?&]channel=\d+"))
    assert on_mastodon and all(row["channel"] == "Mastodon (mastodon)" for row in on_mastodon)
    assert len(on_mastodon) < len(everything)

    owner.select_option("#f-channel", value="")
    owner.fill("#f-q", "macinacaffè")
    _press(owner, it("inbox.apply"))
    found = _queue_rows(owner)

    expect(owner.locator("#f-q")).to_have_value("macinacaffè")
    assert found and all("macinacaffè" in row["text"].lower() for row in found)
    assert len(found) < len(everything)
    assert {row["channel"] for row in found} != {"Mastodon (mastodon)"}, "channel filter gone"


# --- one conversation ---------------------------------------------------------------------


def _regular(server: LiveServer) -> tuple[int, list[int], list[str]]:
    """A person who wrote from several networks, waiting for an answer: the conversation
    waiting (so on the queue's first page), their other conversations, and their
    identities as the context card lists them."""
    with server.runtime.sessions() as session:
        several = (
            select(Identity.contact_id)
            .where(Identity.contact_id.is_not(None))
            .group_by(Identity.contact_id)
            .having(func.count(distinct(Identity.network)) > 1)
        )
        rows = session.execute(
            select(Identity.contact_id, Conversation.id, Conversation.due_at)
            .join(Conversation, Conversation.identity_id == Identity.id)
            .where(Identity.contact_id.in_(several))
            .order_by(Conversation.id)
        ).all()
        by_contact: dict[int, list[tuple[int, bool]]] = defaultdict(list)
        for contact_id, conversation_id, due_at in rows:
            by_contact[contact_id].append((conversation_id, due_at is not None))
        contact_id, conversations = next(
            (c, found)
            for c, found in by_contact.items()
            if len(found) > 1 and any(waiting for _, waiting in found)
        )
        identities = session.execute(
            select(Identity.network, Identity.handle, Identity.display_name)
            .where(Identity.contact_id == contact_id)
            .order_by(Identity.network)
        ).all()
    chosen = next(cid for cid, waiting in conversations if waiting)
    others = [cid for cid, _ in conversations if cid != chosen]
    shown = [f"{network}: {handle or name}" for network, handle, name in identities]
    return chosen, others, shown


def test_a_conversation_opened_from_the_queue_shows_the_thread_and_the_context_card(
    owner: Page, inbox_server: LiveServer
) -> None:
    chosen, others, identities = _regular(inbox_server)
    with inbox_server.runtime.sessions() as session:
        texts = session.scalars(
            select(Message.text)
            .where(Message.conversation_id == chosen)
            .order_by(Message.created_at, Message.id)
        ).all()
    owner.goto(INBOX)

    with owner.expect_navigation():
        owner.locator(f'tr[data-conversation="{chosen}"] td:nth-child(2) a').click()

    expect(owner).to_have_url(f"{INBOX}/{chosen}")
    expect(owner.locator("#thread li[data-message] .text")).to_have_text(list(texts))
    card = owner.locator(".card.context")
    expect(card.locator("h3").first).to_have_text(it("card.title"))
    listed = card.locator(f"h3:text-is('{it('card.identities')}') + ul > li")
    expect(listed).to_have_count(len(identities))
    assert sorted(listed.all_inner_texts()) == sorted(identities)
    earlier = card.locator(f"a[href^='{INBOX}/']")
    expect(earlier).to_have_count(len(others))
    for other in others:
        expect(card.locator(f"a[href='{INBOX}/{other}']")).to_be_visible()

    with owner.expect_navigation():
        earlier.first.click()
    expect(owner).to_have_url(re.compile(rf"{INBOX}/({'|'.join(map(str, others))})$"))
    expect(owner.locator(f".card.context a[href='{INBOX}/{chosen}']")).to_be_visible()


# --- acting ---------------------------------------------------------------------------------


def test_a_saved_reply_is_filled_for_the_person_and_sent_as_queued(
    owner: Page, inbox_server: LiveServer
) -> None:
    title, body, _ = SAVED_REPLIES[0]
    asked = _ingest(inbox_server, "Spedite anche a Vienna? Quanto ci mette?", name="Giovanna Rossi")
    filled = body.replace("{first_name}", "Giovanna").replace("{agent}", "Marta")
    _open(owner, asked)

    owner.select_option("#use", label=title)
    _press(owner, it("conversation.use_saved"))
    expect(owner.locator("#reply-text")).to_have_value(filled)
    _press(owner, it("conversation.send"))

    expect(owner).to_have_url(f"{INBOX}/{asked}")
    expect(owner.get_by_role("alert")).to_have_count(0)
    sent = owner.locator("#thread li.outbound")
    expect(sent).to_have_count(1)
    expect(sent.locator(".text")).to_have_text(filled)
    expect(sent.locator("small")).to_contain_text(f"{OWNER_NAME} · ")
    expect(sent.locator("small")).to_contain_text(it("delivery.queued"))


def test_a_canned_reply_is_held_back_with_a_warning_until_sent_anyway(
    owner: Page, inbox_server: LiveServer
) -> None:
    canned = "Grazie di cuore! Fa piacere sapere che il caffè ti è piaciuto."
    assert canned == SAVED_REPLIES[1][1].replace(" {first_name}", "").replace(" {agent}", "")
    asked = _ingest(inbox_server, "Il Carso è buonissimo, complimenti!", name="Tommaso Bianchi")
    _open(owner, asked)

    owner.fill("#reply-text", canned)
    _press(owner, it("conversation.send"))

    warning = owner.get_by_role("alert")
    expect(warning).to_contain_text(it("warning.title"))
    expect(warning).to_contain_text(it("warning.identical_to_saved_reply"))
    expect(owner.locator("#reply-text")).to_have_value(canned)
    expect(owner.locator("#thread li.outbound")).to_have_count(0)

    _press(owner, it("warning.send_anyway"))

    expect(owner).to_have_url(f"{INBOX}/{asked}")
    sent = owner.locator("#thread li.outbound")
    expect(sent.locator(".text")).to_have_text([canned])
    expect(sent.locator("small")).to_contain_text(it("delivery.queued"))


def test_a_note_shows_in_the_thread_as_a_note(owner: Page, inbox_server: LiveServer) -> None:
    asked = _ingest(inbox_server, "Avete anche la decaffeinata?", name="Elisa Conti")
    today = utcnow().astimezone(ZoneInfo("Europe/Rome")).strftime("%d/%m/%Y")
    note = "Cliente nuova: chiederle se è per un bar o per casa."
    _open(owner, asked)
    card = owner.locator(".card.context")  # a first message: singular, no earlier ones
    expect(card).to_contain_text(it("card.seen_once", first=today))
    expect(card).to_contain_text(it("card.first_conversation"))

    owner.fill("#note-body", note)
    _press(owner, it("conversation.add_note"))

    expect(owner).to_have_url(f"{INBOX}/{asked}")
    noted = owner.locator("#thread li.note")
    expect(noted).to_have_count(1)
    expect(noted.locator(".text")).to_have_text(note)
    expect(noted.locator("small")).to_contain_text(it("conversation.note_by", name=OWNER_NAME))
    expect(owner.locator("#thread li.outbound")).to_have_count(0)  # a note is never sent
    expect(owner.locator("#note-body")).to_have_value("")


def test_resolving_an_unanswered_conversation_needs_a_reason(
    owner: Page, inbox_server: LiveServer
) -> None:
    asked = _ingest(inbox_server, "Compra follower veri a 1€! DM", name="Crescita Rapida")
    _open(owner, asked)
    status = owner.locator("main > p.muted")
    expect(status).to_contain_text(it("state.open"))

    expect(owner.locator("#reason")).to_have_value("")
    _press(owner, it("conversation.resolve_button"))
    expect(owner.get_by_role("alert")).to_have_text(it("errors.resolution_reason_required"))
    expect(status).to_contain_text(it("state.open"))

    owner.select_option("#reason", "spam")
    _press(owner, it("conversation.resolve_button"))

    expect(owner).to_have_url(f"{INBOX}/{asked}")
    expect(status).to_contain_text(it("state.resolved"))
    expect(status).to_contain_text(it("reason.spam"))
    expect(owner.get_by_role("button", name=it("conversation.reopen"))).to_be_visible()
    owner.goto(INBOX)
    expect(owner.locator("#queue tbody tr").first).to_be_visible()
    expect(owner.locator(f'tr[data-conversation="{asked}"]')).to_have_count(0)


# --- the language -------------------------------------------------------------------------


def test_switching_to_english_reloads_in_english_and_stays_with_the_account(
    open_page: OpenPage, inbox_server: LiveServer
) -> None:
    page = open_page(inbox_server)  # an English browser; Luca chose Italian
    sign_in(page, AGENT_EMAIL, DEMO_PASSWORD)
    page.goto(INBOX)
    expect(page.locator("html")).to_have_attribute("lang", "it")

    page.select_option("#language-choice", "en")
    _press(page, it("nav.language_apply"))

    expect(page).to_have_url(INBOX)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name=translate("en", "inbox.apply"))).to_be_visible()
    expect(page.locator("#f-status option:checked")).to_have_text(translate("en", "status.open"))
    expect(page.locator("#language-choice")).to_have_value("en")
    with page.expect_navigation():
        page.get_by_role("link", name=translate("en", "nav.saved_replies")).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name=translate("en", "nav.settings"))).to_be_visible()
    with inbox_server.runtime.sessions() as session:
        luca = session.scalars(select(User).where(User.email == AGENT_EMAIL)).one()
        assert luca.locale == "en"
    assert translate("en", "nav.settings") != it("nav.settings")


# --- live updates ---------------------------------------------------------------------------


def _listening(page: Page, streams: int = 1) -> None:
    """Wait until ``streams`` live-update streams have said they are ready."""
    page.wait_for_function(
        "streams => Number(document.documentElement.dataset.streams || 0) >= streams",
        arg=streams,
    )


def test_a_new_message_appears_in_the_open_queue_without_reloading(
    owner: Page, inbox_server: LiveServer, live_state: State
) -> None:
    live_state.live_poll_seconds = 0.2
    owner.add_init_script(COUNT_READY_STREAMS)
    owner.goto(INBOX)
    owner.evaluate("window.sameDocument = true")
    _listening(owner)

    arrived = _ingest(inbox_server, "Il pacco è arrivato, grazie!", name="Nuova Arrivata")

    row = owner.locator(f'tr[data-conversation="{arrived}"]')
    expect(row).to_contain_text("Nuova Arrivata")
    expect(row).to_contain_text("Il pacco è arrivato, grazie!")
    expect(row).to_contain_text(it("inbox.one_message"))
    assert owner.evaluate("window.sameDocument") is True, "refreshed in place, not reloaded"


def test_a_change_while_the_stream_reconnects_is_not_missed(
    owner: Page, inbox_server: LiveServer, live_state: State
) -> None:
    live_state.live_poll_seconds = 0.2
    live_state.live_max_seconds = 0  # every stream ends at once: only reconnects tell
    owner.add_init_script(COUNT_READY_STREAMS)
    owner.goto(INBOX)
    owner.evaluate("window.sameDocument = true")
    _listening(owner, streams=2)

    arrived = _ingest(inbox_server, "Scritto mentre la pagina si ricollegava", name="Tra Due")

    expect(owner.locator(f'tr[data-conversation="{arrived}"]')).to_contain_text("Tra Due")
    assert owner.evaluate("window.sameDocument") is True


def test_a_change_during_a_refresh_is_refreshed_too(
    owner: Page, inbox_server: LiveServer, live_state: State
) -> None:
    live_state.live_poll_seconds = 0.1
    owner.add_init_script(COUNT_READY_STREAMS)
    owner.goto(INBOX)
    _listening(owner)
    later: list[int] = []

    def answer_late(route: Route) -> None:
        """Read the first refresh's answer, let another message in, then deliver it."""
        if later:
            route.continue_()
            return
        stale = route.fetch()
        later.append(_ingest(inbox_server, "E un'altra cosa...", name="Seconda Volta"))
        time.sleep(0.6)  # the stream tells the page of it while the answer is on its way
        route.fulfill(response=stale)

    owner.route(lambda url: "fragment=queue" in url, answer_late)
    first = _ingest(inbox_server, "Una domanda veloce", name="Prima Volta")

    expect(owner.locator(f'tr[data-conversation="{first}"]')).to_contain_text("Prima Volta")
    expect(owner.locator(f'tr[data-conversation="{later[0]}"]')).to_contain_text("Seconda Volta")


# --- hostile text -----------------------------------------------------------------------------


def test_hostile_text_stays_inert_in_a_real_browser(owner: Page, inbox_server: LiveServer) -> None:
    name = "<img src=x onerror=alert(4)>\u202e" + "N" * 150  # names are kept to 200
    subject = '<script>alert("s")</script>' + "S" * 300
    hostile = _ingest(
        inbox_server,
        HOSTILE,
        name=name,
        network="email",
        subject=subject,
        url="javascript:alert(3)",
    )
    dialogs: list[str] = []
    owner.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    for path in (INBOX, f"{INBOX}/{hostile}"):
        owner.goto(path)
        owner.wait_for_load_state("load")
        expect(owner.locator("main")).to_contain_text(name)
        scripts = owner.eval_on_selector_all("script", "all => all.map(s => s.src)")
        assert scripts == [f"{inbox_server.url}/static/live.js"], path
        expect(owner.locator("img, iframe, object, embed")).to_have_count(0)
        expect(owner.locator("[onerror], [onclick], [onload]")).to_have_count(0)
        expect(owner.locator("a[href^='javascript:' i]")).to_have_count(0)
        assert owner.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path

    expect(owner.locator("h1")).to_have_text(subject)
    text = owner.locator("#thread li[data-message] .text")
    expect(text).to_have_text(HOSTILE)
    assert text.evaluate("node => getComputedStyle(node).unicodeBidi") == "isolate"
    assert dialogs == []


# --- the README's picture -----------------------------------------------------------------------


@pytest.mark.skipif(
    os.environ.get("DIALOGA_SCREENSHOTS") != "1", reason="set DIALOGA_SCREENSHOTS=1 to redraw"
)
def test_the_readme_screenshot_of_the_inbox(demo_page: Page) -> None:
    demo_page.goto(INBOX)
    expect(demo_page.locator("html")).to_have_attribute("lang", "it")
    expect(demo_page.locator("#queue tbody tr")).not_to_have_count(0)

    saved = screenshot(demo_page, "inbox.png", full_page=False)

    header = saved.read_bytes()[:24]
    assert struct.unpack(">II", header[16:24]) == (1280, 800)
