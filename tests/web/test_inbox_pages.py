"""The inbox pages served as HTML: filters, hostile text, constant queries, acting through
forms, the language switch and the live-update stream."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation
from dialoga.inbox.work import do_save_reply, do_snooze
from dialoga.runtime import Runtime
from dialoga.web.app import create_app

from .conftest import csrf_of

HOSTILE = (
    '<script>alert("x")</script><img src=x onerror=alert(1)>'
    '<a href="javascript:alert(2)">clic</a> \u202egnp.exe ' + "A" * 5000
)
BRAND = NormalizedAuthor("twitter", "acme", handle="acme", is_brand=True)


def _ingest(
    sessions: sessionmaker[Session], workspace: Workspace, count: int, **extra: str
) -> None:
    start = utcnow() - timedelta(days=7)  # a whole business week ago, whatever today is
    messages = [
        NormalizedMessage(
            f"m{i}",
            NormalizedAuthor("twitter", f"u{i}", handle=f"user{i}", display_name=f"Persona {i}"),
            start + timedelta(minutes=i),
            extra.get("text", f"ciao numero {i}") if i == 0 else f"messaggio {i} sul caffè",
            url=extra.get("url") if i == 0 else None,
        )
        for i in range(count)
    ]
    with transaction(sessions, write_lock=True) as session:
        channel = do_get_or_create_channel(session, workspace.id, "X", "twitter", actor="t")
        ingest(session, channel, messages)


def _first_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        found = session.scalar(select(Conversation.id).order_by(Conversation.id))
        assert found is not None
        return found


def test_hostile_inbound_text_renders_inert_in_the_queue_and_the_conversation(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    _ingest(runtime.sessions, workspace, 2, text=HOSTILE, url="javascript:alert(3)")

    pages = [
        member_client.get("/w/acme/inbox").text,
        member_client.get(f"/w/acme/inbox/{_first_id(runtime.sessions)}").text,
    ]

    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
        assert 'href="javascript:' not in html.lower()
        assert "&lt;script&gt;" in html
        assert re.search(r'dir="auto"[^>]*>[^<]*\u202egnp\.exe', html), "isolated from the page"
    assert "A" * 5000 in pages[1]  # kept whole, wrapped by the stylesheet


def test_the_queue_filters_and_searches(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    _ingest(runtime.sessions, workspace, 5)

    everything = member_client.get("/w/acme/inbox").text
    found = member_client.get("/w/acme/inbox", params={"q": "caffe"}).text
    resolved = member_client.get("/w/acme/inbox", params={"status": "resolved"}).text

    assert everything.count("data-conversation=") == 5
    assert found.count("data-conversation=") == 4  # accents optional: caffe finds caffè
    assert resolved.count("data-conversation=") == 0
    assert member_client.get("/w/acme/inbox", params={"status": "gone"}).status_code == 400
    assert member_client.get("/w/acme/inbox", params={"cursor": "!!"}).status_code == 400


def _count_statements(runtime: Runtime, client: TestClient, url: str) -> int:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    return len(statements)


def test_pages_cost_the_same_queries_whatever_the_rows_shown(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    _ingest(runtime.sessions, workspace, 3)
    few = _count_statements(runtime, member_client, "/w/acme/inbox")
    one_thread = _count_statements(
        runtime, member_client, f"/w/acme/inbox/{_first_id(runtime.sessions)}"
    )
    _ingest(runtime.sessions, workspace, 60)
    with transaction(runtime.sessions, write_lock=True) as session:
        channel = do_get_or_create_channel(session, workspace.id, "X", "twitter", actor="t")
        replies = [
            NormalizedMessage(
                f"r{i}", BRAND, utcnow() - timedelta(hours=1, minutes=i), "ok", in_reply_to="m0"
            )
            for i in range(30)
        ]
        ingest(session, channel, replies)

    # One page costs at most the statements of a page of three: the second scan (for
    # conversations with no due date) is skipped when the first fills the page.
    assert _count_statements(runtime, member_client, "/w/acme/inbox") <= few
    long_thread = _count_statements(
        runtime, member_client, f"/w/acme/inbox/{_first_id(runtime.sessions)}"
    )
    assert long_thread == one_thread


def _post(client: TestClient, url: str, data: dict[str, str]) -> object:
    token = csrf_of(client.get("/w/acme/inbox").text)
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def test_a_saved_reply_sent_as_is_is_held_back_with_a_warning(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    _ingest(runtime.sessions, workspace, 1)
    with transaction(runtime.sessions) as session:
        saved = do_save_reply(
            session, workspace.id, "Grazie", "Grazie mille per averci scritto!", "it"
        )
    url = f"/w/acme/inbox/{_first_id(runtime.sessions)}"

    prefilled = member_client.get(url, params={"use": saved}).text
    held = _post(member_client, f"{url}/reply", {"text": "Grazie mille per averci scritto!"})
    sent = _post(
        member_client,
        f"{url}/reply",
        {"text": "Grazie mille per averci scritto!", "send_anyway": "1"},
    )

    assert "Grazie mille per averci scritto!</textarea>" in prefilled
    assert held.status_code == 200  # type: ignore[attr-defined]
    assert 'name="send_anyway"' in held.text  # type: ignore[attr-defined]
    assert sent.status_code == 303  # type: ignore[attr-defined]
    thread = member_client.get(url, params={"fragment": "thread"}).text
    assert thread.count('class="outbound"') == 1 and "in coda" in thread  # sent once, queued


def test_resolving_an_unanswered_conversation_needs_a_reason(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    _ingest(runtime.sessions, workspace, 1)
    url = f"/w/acme/inbox/{_first_id(runtime.sessions)}"

    refused = _post(member_client, f"{url}/resolve", {"reason": ""})
    resolved = _post(member_client, f"{url}/resolve", {"reason": "spam"})

    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert 'role="alert"' in refused.text  # type: ignore[attr-defined]
    assert resolved.status_code == 303  # type: ignore[attr-defined]
    with runtime.sessions() as session:
        conversation = session.get_one(Conversation, _first_id(runtime.sessions))
        assert (conversation.status, conversation.resolution_reason) == ("resolved", "spam")


def test_the_language_switch_keeps_the_choice_with_the_account(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    before = member_client.get("/w/acme/inbox").text
    switched = _post(member_client, "/language", {"locale": "en", "next": "/w/acme/inbox"})
    after = member_client.get("/w/acme/inbox").text
    outside = _post(member_client, "/language", {"locale": "it", "next": "https://evil.example/"})

    assert 'lang="it"' in before and "Posticipate" in before
    assert switched.headers["location"] == "/w/acme/inbox"  # type: ignore[attr-defined]
    assert 'lang="en"' in after and "Snoozed" in after
    assert outside.headers["location"] == "/"  # type: ignore[attr-defined]


def test_the_event_stream_tells_open_pages_that_something_changed(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    app = member_client.app
    app.state.live_poll_seconds = 0.05  # type: ignore[attr-defined]
    app.state.live_max_seconds = 5  # type: ignore[attr-defined]
    _ingest(runtime.sessions, workspace, 1)
    url = f"/w/acme/inbox/{_first_id(runtime.sessions)}/notes"
    token = csrf_of(member_client.get("/w/acme/inbox").text)

    with member_client.stream("GET", "/w/acme/events") as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        assert next(lines) == "event: ready"
        member_client.post(url, data={"body": "visto", "csrf_token": token})
        received = [next(lines) for _ in range(3)]

    assert "event: changed" in received


def test_the_served_app_wakes_snoozed_conversations_and_flags_breaches(
    runtime: Runtime, workspace: Workspace
) -> None:
    _ingest(runtime.sessions, workspace, 2)
    first = _first_id(runtime.sessions)
    with transaction(runtime.sessions, write_lock=True) as session:
        do_snooze(session, first, utcnow() - timedelta(minutes=1))
    ticking = Runtime.from_settings(
        runtime.settings.model_copy(update={"housekeeping_seconds": 0.05})
    )

    with TestClient(create_app(ticking)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with runtime.sessions() as session:
                states = session.execute(
                    select(Conversation.status, Conversation.breached_at)
                ).all()
            if all(status == "open" and breached for status, breached in states):
                break
            time.sleep(0.05)
    ticking.engine.dispose()

    assert [status for status, _ in states] == ["open", "open"]
    assert all(breached is not None for _, breached in states)  # asked a week ago
