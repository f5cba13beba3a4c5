"""The routing rules page and API: rules read as sentences, owners and admins change
them, other roles read only, writes want the CSRF token, and another workspace's rule is
"not found"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_api_token, do_create_workspace
from dialoga.accounts.models import Member, Workspace
from dialoga.core.db import transaction
from dialoga.inbox.models import Label, RoutingRule
from dialoga.inbox.routing import rule_views
from dialoga.inbox.routing_actions import RuleDraft, do_create_rule, label_named
from dialoga.runtime import Runtime

from .conftest import csrf_of, make_user, sign_in

RULES = "/w/acme/rules"
API = "/api/v1/workspaces/acme/rules"


def _join(sessions: sessionmaker[Session], workspace: Workspace, email: str, role: str) -> int:
    user = make_user(sessions, email)
    with transaction(sessions) as session:
        do_add_member(session, workspace.id, user.id, role, actor="t")
    return user.id


@pytest.fixture
def admin(runtime: Runtime, workspace: Workspace, client: TestClient) -> TestClient:
    _join(runtime.sessions, workspace, "ada@example.it", "admin")
    sign_in(client, "ada@example.it")
    return client


def _token(client: TestClient) -> str:
    return csrf_of(client.get(RULES).text)


def _rules(sessions: sessionmaker[Session], workspace_id: int) -> list[RoutingRule]:
    with sessions() as session:
        return list(
            session.scalars(
                select(RoutingRule)
                .where(RoutingRule.workspace_id == workspace_id)
                .order_by(RoutingRule.position)
            )
        )


def test_an_admin_adds_a_rule_that_reads_as_a_sentence(
    runtime: Runtime, workspace: Workspace, admin: TestClient
) -> None:
    luca = _join(runtime.sessions, workspace, "luca@example.it", "agent")
    form = {
        "csrf_token": _token(admin),
        "name": "Reclami arrabbiati",
        "intents": ["complaint"],
        "sentiments": ["negative"],
        "keywords": "rimborso, non funziona",
        "label": "Urgente",
        "priority": "3",
        "assignee_id": str(luca),
    }

    response = admin.post(RULES, data=form, follow_redirects=False)

    assert response.status_code == 303
    (rule,) = _rules(runtime.sessions, workspace.id)
    assert rule.conditions == {
        "intents": ["complaint"],
        "sentiments": ["negative"],
        "keywords": ["rimborso", "non funziona"],
    }
    assert (rule.set_priority, rule.set_assignee_id, rule.enabled) == (3, luca, True)
    page = admin.get(RULES).text
    assert "Reclami arrabbiati" in page
    sentence = page[page.index('class="sentence"') :]
    for part in ("Reclamo", "Negativo", "rimborso", "Urgente", "Luca"):
        assert part in sentence[:1500], part


def test_a_bad_rule_is_refused_with_the_form_as_typed(
    runtime: Runtime, workspace: Workspace, admin: TestClient
) -> None:
    form = {"csrf_token": _token(admin), "name": "Senza azione", "keywords": "prezzo"}

    response = admin.post(RULES, data=form)

    assert response.status_code == 400
    assert "almeno un&#39;azione" in response.text
    assert 'value="Senza azione"' in response.text
    assert _rules(runtime.sessions, workspace.id) == []


def test_rules_move_turn_off_change_and_go(
    runtime: Runtime, workspace: Workspace, admin: TestClient
) -> None:
    with transaction(runtime.sessions) as session:
        first, second = (
            do_create_rule(
                session, workspace.id, RuleDraft(name, intents=("spam",), priority=0), actor="t"
            )
            for name in ("primo", "secondo")
        )
    token = _token(admin)

    admin.post(f"{RULES}/{second}/move", data={"csrf_token": token, "direction": "up"})
    admin.post(f"{RULES}/{first}/disable", data={"csrf_token": token})
    edit = admin.get(f"{RULES}/{second}/edit")
    changed = admin.post(
        f"{RULES}/{second}",
        data={"csrf_token": token, "name": "lingua", "languages": "EN", "priority": "2"},
        follow_redirects=False,
    )

    assert 'value="secondo"' in edit.text
    assert changed.status_code == 303
    rules = _rules(runtime.sessions, workspace.id)
    assert [(r.name, r.enabled, r.conditions, r.set_priority) for r in rules] == [
        ("lingua", True, {"languages": ["en"]}, 2),
        ("primo", False, {"intents": ["spam"]}, 0),
    ]
    admin.post(f"{RULES}/{first}/delete", data={"csrf_token": token})
    assert [r.name for r in _rules(runtime.sessions, workspace.id)] == ["lingua"]


def test_agents_read_the_rules_but_cannot_change_them(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    with transaction(runtime.sessions) as session:
        rule_id = do_create_rule(
            session, workspace.id, RuleDraft("r", intents=("lead",), priority=2), actor="t"
        )
    token = _token(member_client)
    page = member_client.get(RULES)

    refused = [
        member_client.post(RULES, data={"csrf_token": token, "name": "x", "intents": ["lead"]}),
        member_client.post(f"{RULES}/{rule_id}/delete", data={"csrf_token": token}),
        member_client.get(f"{RULES}/{rule_id}/edit"),
        member_client.delete(f"{API}/{rule_id}", headers={"X-CSRF-Token": token}),
    ]

    assert page.status_code == 200
    assert "Nuova regola" not in page.text
    assert [r.status_code for r in refused] == [403] * 4
    assert member_client.get(API).json()[0]["name"] == "r"
    assert len(_rules(runtime.sessions, workspace.id)) == 1


def test_the_page_wants_the_csrf_token(
    runtime: Runtime, workspace: Workspace, admin: TestClient
) -> None:
    response = admin.post(RULES, data={"name": "x", "intents": ["lead"], "priority": "1"})

    assert response.status_code == 403
    assert _rules(runtime.sessions, workspace.id) == []


def test_another_workspace_rule_is_not_found_on_pages_and_api(
    runtime: Runtime, workspace: Workspace, admin: TestClient
) -> None:
    with transaction(runtime.sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="t")
        theirs = do_create_rule(
            session, rival.id, RuleDraft("loro", intents=("lead",), priority=1), actor="t"
        )
    token = _token(admin)
    header = {"X-CSRF-Token": token}

    answers = [
        admin.get(f"{RULES}/{theirs}/edit"),
        admin.post(f"{RULES}/{theirs}", data={"csrf_token": token, "name": "mio", "priority": "1"}),
        admin.post(f"{RULES}/{theirs}/delete", data={"csrf_token": token}),
        admin.post(f"{RULES}/{theirs}/disable", data={"csrf_token": token}),
        admin.patch(f"{API}/{theirs}", json={"enabled": False}, headers=header),
        admin.put(
            f"{API}/{theirs}",
            json={"name": "mio", "intents": ["lead"], "priority": 1},
            headers=header,
        ),
        admin.delete(f"{API}/{theirs}", headers=header),
        admin.get("/api/v1/workspaces/rival/rules"),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    (rule,) = _rules(runtime.sessions, rival.id)
    assert (rule.name, rule.enabled) == ("loro", True)


def test_the_api_creates_changes_moves_and_deletes_rules(
    runtime: Runtime, workspace: Workspace, admin: TestClient
) -> None:
    header = {"X-CSRF-Token": _token(admin)}
    body = {"name": "Lead", "intents": ["lead"], "keywords": ["prezzo"], "label": "vendite"}

    created = admin.post(API, json=body, headers=header)
    other = admin.post(
        API, json={"name": "Spam", "intents": ["spam"], "priority": 0}, headers=header
    )
    patched = admin.patch(
        f"{API}/{created.json()['id']}", json={"enabled": False, "priority": 2}, headers=header
    )
    moved = admin.post(f"{API}/{other.json()['id']}/move", json={"direction": "up"}, headers=header)
    listed = admin.get(API).json()

    assert created.status_code == 201, created.text
    assert created.json()["label"] == "vendite"
    assert created.json()["conditions"] == {"intents": ["lead"], "keywords": ["prezzo"]}
    assert patched.json()["enabled"] is False
    assert patched.json()["priority"] == 2
    assert patched.json()["label"] == "vendite"  # what PATCH did not send stays
    assert moved.status_code == 200
    assert [r["name"] for r in listed] == ["Spam", "Lead"]
    replaced = admin.put(
        f"{API}/{created.json()['id']}",
        json={"name": "Solo it", "languages": ["it"], "priority": 1},
        headers=header,
    )
    assert replaced.json()["conditions"] == {"languages": ["it"]}
    assert replaced.json()["label"] is None
    assert replaced.json()["enabled"] is True
    assert admin.delete(f"{API}/{other.json()['id']}", headers=header).status_code == 204
    assert [r["name"] for r in admin.get(API).json()] == ["Solo it"]


def test_the_api_refuses_bad_rules_and_sessions_without_the_csrf_header(
    runtime: Runtime, workspace: Workspace, admin: TestClient
) -> None:
    header = {"X-CSRF-Token": _token(admin)}
    with transaction(runtime.sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="t")
        their_label = label_named(session, rival.id, "loro")

    unknown = admin.post(
        API, json={"name": "x", "intents": ["angry"], "priority": 1}, headers=header
    )
    foreign = admin.post(
        API, json={"name": "x", "intents": ["lead"], "label_id": their_label}, headers=header
    )
    no_header = admin.post(API, json={"name": "x", "intents": ["lead"], "priority": 1})

    assert (unknown.status_code, unknown.json()["detail"]["code"]) == (400, "rule_unknown_intent")
    assert (foreign.status_code, foreign.json()["detail"]["code"]) == (400, "rule_unknown_label")
    assert no_header.status_code == 403
    assert _rules(runtime.sessions, workspace.id) == []


def test_an_api_token_of_an_admin_changes_rules_without_csrf(
    runtime: Runtime, workspace: Workspace, client: TestClient
) -> None:
    user_id = _join(runtime.sessions, workspace, "ada@example.it", "admin")
    with transaction(runtime.sessions) as session:
        member = session.scalars(select(Member).where(Member.user_id == user_id)).one()
        token = do_create_api_token(session, member, "ci", actor="t")
    bearer = {"Authorization": f"Bearer {token}"}

    created = client.post(
        API, json={"name": "x", "intents": ["lead"], "priority": 1}, headers=bearer
    )

    assert created.status_code == 201
    with runtime.sessions() as session:
        assert [v.name for v in rule_views(session, workspace.id)] == ["x"]
        assert session.scalars(select(Label)).all() == []


def test_the_settings_page_links_to_the_rules(workspace: Workspace, admin: TestClient) -> None:
    assert 'href="/w/acme/rules"' in admin.get("/w/acme/settings").text
