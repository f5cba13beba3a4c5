"""The audience pages: each channel's latest audit, running one (CSRF, writers only), one
audit's figures and verdicts with their reasons in the reader's language, its HTML
report, another workspace's audits "not found", and hostile follower text kept as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from huey import MemoryHuey
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.audience.actions import do_store_profiles
from dialoga.audience.models import AuditRun, AuditVerdict
from dialoga.audience.service import run_channel_audit
from dialoga.audience.verdicts import AuditSettings, Reason
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage, NormalizedProfile
from dialoga.channels.models import Channel
from dialoga.core.db import transaction
from dialoga.core.i18n import translate
from dialoga.inbox.actions import ingest
from dialoga.jobs.tasks import build_jobs
from dialoga.runtime import Runtime
from dialoga.web.routes import audience as audience_routes
from dialoga.web.routes.audience import Numbers

from .conftest import csrf_of, make_user, sign_in

AUDIENCE = "/w/acme/audience"
NOW = datetime.now(UTC).replace(microsecond=0)
HOSTILE = "<script>alert(1)</script>"


def it(key: str, **values: object) -> str:
    """What Giulia (an Italian-speaking member) reads, as the page writes it (escaped)."""
    return str(escape(translate("it", key, **values)))


def _real(external_id: str, **fields: object) -> NormalizedProfile:
    values: dict[str, object] = {
        "handle": f"persona_{external_id}",
        "display_name": "Laura Bianchi",
        "bio": "Torrefazione, montagna e fotografia. Trieste.",
        "followers_count": 640,
        "following_count": 410,
        "posts_count": 3200,
        "account_created_at": NOW - timedelta(days=3000),
        "last_post_at": NOW - timedelta(days=2),
        "default_avatar": False,
        "default_banner": False,
        "website": "https://example.it",
        "location": "Trieste",
        **fields,
    }
    return NormalizedProfile(network="twitter", external_id=external_id, **values)  # type: ignore[arg-type]


def _fake(external_id: str) -> NormalizedProfile:
    return NormalizedProfile(
        network="twitter",
        external_id=external_id,
        handle=f"user{external_id}83920174",
        display_name=None,
        bio=None,
        followers_count=1,
        following_count=4800,
        posts_count=0,
        account_created_at=NOW - timedelta(days=20),
        last_post_at=None,
        default_avatar=True,
        default_banner=True,
    )


def _channel(
    sessions: sessionmaker[Session],
    workspace_id: int,
    name: str,
    profiles: list[NormalizedProfile],
) -> int:
    with transaction(sessions) as session:
        channel = do_get_or_create_channel(session, workspace_id, name, "twitter", actor="t")
        if profiles:
            do_store_profiles(session, workspace_id, channel.id, profiles, NOW.date())
        return channel.id


def _followers(count: int = 6, fakes: int = 3) -> list[NormalizedProfile]:
    return [_real(f"r{index}") for index in range(count)] + [
        _fake(f"f{index}") for index in range(fakes)
    ]


def _runs(sessions: sessionmaker[Session], workspace_id: int) -> list[AuditRun]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditRun).where(AuditRun.workspace_id == workspace_id).order_by(AuditRun.id)
            )
        )


def _token(client: TestClient) -> str:
    return csrf_of(client.get(AUDIENCE).text)


def _run_now(client: TestClient, channel_id: int, **form: str) -> str:
    response = client.post(
        f"{AUDIENCE}/{channel_id}/audit",
        data={"csrf_token": _token(client), **form},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


@pytest.fixture
def channel_id(runtime: Runtime, workspace: Workspace) -> int:
    return _channel(runtime.sessions, workspace.id, "X Acme", _followers())


def test_the_page_lists_channels_and_says_where_followers_come_from(
    runtime: Runtime, workspace: Workspace, member_client: TestClient, channel_id: int
) -> None:
    empty = _channel(runtime.sessions, workspace.id, "Blog Acme", [])

    page = member_client.get(AUDIENCE)

    assert page.status_code == 200
    assert "X Acme" in page.text and "Blog Acme" in page.text
    assert f'action="{AUDIENCE}/{channel_id}/audit"' in page.text
    assert f'action="{AUDIENCE}/{empty}/audit"' not in page.text, "nothing to audit there"
    assert "dialoga import x-archive" in page.text
    assert it("audience.page.no_followers") in page.text
    assert it("audience.page.never_audited") in page.text
    assert 'name="inactive_days"' in page.text and 'value="180"' in page.text
    assert f'href="{AUDIENCE}"' in page.text, "the navigation links the page"


def test_running_an_audit_without_the_csrf_token_is_refused(
    runtime: Runtime, workspace: Workspace, member_client: TestClient, channel_id: int
) -> None:
    for data in ({}, {"csrf_token": "not-the-token"}):
        response = member_client.post(
            f"{AUDIENCE}/{channel_id}/audit", data=data, follow_redirects=False
        )
        assert response.status_code == 403

    assert _runs(runtime.sessions, workspace.id) == []


def test_a_large_channel_is_audited_in_the_background(
    runtime: Runtime,
    workspace: Workspace,
    member_client: TestClient,
    channel_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audience_routes, "BACKGROUND_AUDIT_FOLLOWERS", 5)  # 9 followers
    huey = MemoryHuey()
    member_client.app.state.jobs = build_jobs(runtime, huey)  # type: ignore[attr-defined]

    location = _run_now(member_client, channel_id, inactive_days="90")

    assert location == f"{AUDIENCE}?started={channel_id}"
    assert _runs(runtime.sessions, workspace.id) == []  # not in the request
    page = member_client.get(location).text
    assert it("audience.page.audit_started", channel="X Acme") in page
    [task] = huey.pending()
    huey.execute(task)  # what a worker does
    (run,) = _runs(runtime.sessions, workspace.id)
    assert (run.profiles, run.inactive_days) == (9, 90)


def test_running_an_audit_shows_its_score_and_verdicts_with_reasons(
    runtime: Runtime, workspace: Workspace, member_client: TestClient, channel_id: int
) -> None:
    location = _run_now(member_client, channel_id, inactive_days="90")

    (run,) = _runs(runtime.sessions, workspace.id)
    assert location == f"{AUDIENCE}/runs/{run.id}"
    assert (run.profiles, run.inactive_days) == (9, 90)
    page = member_client.get(location).text
    assert Numbers("it").percent(run.quality_score) in page
    assert it("audience.page.open_report") in page
    assert f'href="{AUDIENCE}/runs/{run.id}/report.html"' in page
    with runtime.sessions() as session:
        verdicts = list(session.scalars(select(AuditVerdict).where(AuditVerdict.run_id == run.id)))
    fake = next(v for v in verdicts if v.verdict == "fake")
    assert fake.handle in page
    assert fake.reasons, "a suspected fake comes with its reasons"
    for key, values in fake.reasons:
        assert str(escape(Reason(key, values).text("it"))) in page
    assert it("audience.verdict.fake") in page
    assert it("audience.page.first_audit") in page
    listing = member_client.get(AUDIENCE).text
    assert f'href="{AUDIENCE}/runs/{run.id}"' in listing
    assert Numbers("it").percent(run.quality_score) in listing


def test_a_second_audit_shows_the_change_and_the_history(
    runtime: Runtime, workspace: Workspace, member_client: TestClient, channel_id: int
) -> None:
    _run_now(member_client, channel_id)
    with transaction(runtime.sessions) as session:
        later = [_real("r-new"), *[_fake(f"g{index}") for index in range(3)]]
        do_store_profiles(session, workspace.id, channel_id, later, NOW.date())
    location = _run_now(member_client, channel_id)

    first, second = _runs(runtime.sessions, workspace.id)
    page = member_client.get(location).text
    assert it("audience.page.change") in page and it("audience.page.first_audit") not in page
    assert Numbers("it").points(first.quality_score, second.quality_score) in page
    assert second.new_followers == 4
    assert f'href="{AUDIENCE}/runs/{first.id}"' in page, "the history links the earlier audit"
    assert it("audience.page.first_audit") in member_client.get(f"{AUDIENCE}/runs/{first.id}").text


def test_the_verdict_list_filters_and_pages(
    runtime: Runtime,
    member_client: TestClient,
    channel_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("dialoga.web.routes.audience.PER_PAGE", 2)
    run = f"{AUDIENCE}/runs/" + _run_now(member_client, channel_id).rsplit("/", 1)[1]

    fakes = member_client.get(run, params={"verdict": "fake"}).text
    second = member_client.get(run, params={"verdict": "fake", "page": 2}).text

    assert fakes.count("83920174") == 2 and second.count("83920174") == 1
    assert it("audience.page.page_of", page=1, pages=2) in fakes
    assert 'href="?verdict=fake&amp;page=2#followers"' in fakes
    assert member_client.get(run, params={"verdict": "nonsense"}).status_code == 400
    assert member_client.get(run, params={"page": 0}).status_code == 422


def test_the_report_is_html_with_charts(
    runtime: Runtime, workspace: Workspace, member_client: TestClient, channel_id: int
) -> None:
    location = _run_now(member_client, channel_id)

    response = member_client.get(f"{location}/report.html")

    run_id = location.rsplit("/", 1)[1]
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"] == f'inline; filename="audit-{run_id}.html"'
    assert "<svg" in response.text and "X Acme" in response.text


def test_another_workspaces_audit_and_channel_are_not_found(
    runtime: Runtime, workspace: Workspace, member_client: TestClient, channel_id: int
) -> None:
    with transaction(runtime.sessions) as session:
        rival = do_create_workspace(session, "rival", "Rival", actor="t")
    theirs = _channel(runtime.sessions, rival.id, "X Rival", _followers(2, 1))
    their_run = run_channel_audit(runtime.sessions, rival.id, theirs, AuditSettings())

    assert member_client.get(f"{AUDIENCE}/runs/{their_run}").status_code == 404
    assert member_client.get(f"{AUDIENCE}/runs/{their_run}/report.html").status_code == 404
    refused = member_client.post(
        f"{AUDIENCE}/{theirs}/audit",
        data={"csrf_token": _token(member_client)},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    assert member_client.get("/w/rival/audience").status_code == 404
    assert [r.id for r in _runs(runtime.sessions, rival.id)] == [their_run]
    assert _runs(runtime.sessions, workspace.id) == []
    assert "X Rival" not in member_client.get(AUDIENCE).text


def test_hostile_follower_text_is_shown_as_text(
    runtime: Runtime, workspace: Workspace, member_client: TestClient
) -> None:
    hostile = _real("h1", handle=HOSTILE, display_name=HOSTILE)
    channel = _channel(runtime.sessions, workspace.id, "X Acme", [hostile, _fake("f1")])
    with transaction(runtime.sessions) as session:
        found = session.get_one(Channel, channel)
        author = NormalizedAuthor("twitter", "h1", handle=HOSTILE, display_name=HOSTILE)
        ingest(session, found, [NormalizedMessage("m-1", author, NOW, "Buongiorno!")])

    page = member_client.get(_run_now(member_client, channel)).text

    (run,) = _runs(runtime.sessions, workspace.id)
    assert run.ambassadors and run.ambassadors[0]["name"] == HOSTILE
    assert HOSTILE not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # list, ambassador name, handle
    assert "/w/acme/inbox/" in page, "the ambassador links to their conversation"


def test_an_analyst_reads_audits_but_cannot_run_one(
    runtime: Runtime, workspace: Workspace, client: TestClient, channel_id: int
) -> None:
    run_id = run_channel_audit(runtime.sessions, workspace.id, channel_id, AuditSettings())
    analyst = make_user(runtime.sessions, "ada@example.it")
    with transaction(runtime.sessions) as session:
        do_add_member(session, workspace.id, analyst.id, "analyst", actor="t")
    sign_in(client, "ada@example.it")

    page = client.get(AUDIENCE).text
    refused = client.post(
        f"{AUDIENCE}/{channel_id}/audit",
        data={"csrf_token": csrf_of(page)},
        follow_redirects=False,
    )

    assert refused.status_code == 403
    assert f'action="{AUDIENCE}/{channel_id}/audit"' not in page
    assert it("audience.page.read_only") in page
    assert client.get(f"{AUDIENCE}/runs/{run_id}").status_code == 200
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditRun)) == 1


def test_a_bad_number_of_inactive_days_is_refused(
    runtime: Runtime, workspace: Workspace, member_client: TestClient, channel_id: int
) -> None:
    for days in ("0", "-3", "abc", "99999"):
        response = member_client.post(
            f"{AUDIENCE}/{channel_id}/audit",
            data={"csrf_token": _token(member_client), "inactive_days": days},
            follow_redirects=False,
        )
        assert response.status_code == 400, days

    assert _runs(runtime.sessions, workspace.id) == []
