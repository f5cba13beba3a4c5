"""Polling a live channel: pages stored with their cursor, one worker at a time, backoff
and health on failures, and a poll killed half-way that loses and repeats nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.audience.models import FollowerProfile
from dialoga.channels.base import (
    AuthExpiredError,
    NetworkUnavailableError,
    RateLimitedError,
)
from dialoga.channels.credentials import credentials_of, do_set_credentials
from dialoga.channels.models import Channel, ChannelSync
from dialoga.channels.sync import PAGES_PER_RUN, backoff, due_channels, poll_channel, spread
from dialoga.core.clock import utcnow
from dialoga.core.db import transaction
from dialoga.core.vault import Secret
from dialoga.inbox.models import Message
from dialoga.runtime import Runtime
from live_double import Clock, ScriptedConnector, make_live, page


def _sync(sessions: sessionmaker[Session], channel: Channel) -> ChannelSync:
    with sessions() as session:
        found = session.get(ChannelSync, channel.id)
        assert found is not None
        return found


def _due(runtime: Runtime, clock: Clock) -> list[int]:
    with runtime.sessions() as session:
        return due_channels(session, clock())


def _external_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Message.external_id)))


def test_a_poll_stores_every_waiting_page_with_its_cursor(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    network = ScriptedConnector([page(range(1, 4), more=True), page(range(4, 6), profiles=3)])
    outcome = poll_channel(make_live(runtime.sessions, runtime.vault, network, clock), channel.id)

    assert outcome.claimed and outcome.pages == 2 and outcome.messages == 5
    assert network.cursors == [{}, {"since": 3}]
    assert _external_ids(runtime.sessions) == [f"s-{n}" for n in range(1, 6)]
    sync = _sync(runtime.sessions, channel)
    assert sync.cursor == {"since": 5} and sync.health == "ok" and sync.lease_token is None
    assert sync.next_poll_at == clock() + timedelta(seconds=60)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(FollowerProfile)) == 3


def test_a_channel_not_due_or_held_by_another_worker_is_not_polled(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    network = ScriptedConnector([page(range(1, 2))])
    live = make_live(runtime.sessions, runtime.vault, network, clock)
    assert poll_channel(live, channel.id).claimed
    assert not poll_channel(live, channel.id).claimed  # next poll is a minute away
    clock.advance(seconds=61)
    with transaction(runtime.sessions) as session:
        session.execute(
            update(ChannelSync).values(lease_token="other", lease_until=clock() + timedelta(1))
        )
    assert _due(runtime, clock) == []
    assert not poll_channel(live, channel.id).claimed
    clock.advance(days=2)  # the other worker died: its lease runs out
    assert _due(runtime, clock) == [channel.id]
    assert poll_channel(live, channel.id).claimed


def test_failures_back_off_and_mark_the_channel_degraded_until_a_poll_succeeds(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    network = ScriptedConnector(
        [
            NetworkUnavailableError("social.example answered 503"),
            NetworkUnavailableError("social.example answered 503"),
            RateLimitedError("rate limited", retry_after=900),
            page(range(1, 2)),
        ]
    )
    live = make_live(runtime.sessions, runtime.vault, network, clock)
    waits = []
    for _ in range(3):
        outcome = poll_channel(live, channel.id)
        assert outcome.next_poll_at is not None
        waits.append(outcome.next_poll_at - clock())
        sync = _sync(runtime.sessions, channel)
        assert sync.health == "degraded" and sync.lease_token is None
        clock.now = outcome.next_poll_at
    expected = [timedelta(seconds=120), timedelta(seconds=240), timedelta(seconds=900)]
    for wait, least in zip(waits, expected, strict=True):
        assert least <= wait <= least * 1.2  # spread over the next fifth
    assert _sync(runtime.sessions, channel).failures == 3
    assert "rate limited" in (_sync(runtime.sessions, channel).last_error or "")

    assert poll_channel(live, channel.id).messages == 1
    sync = _sync(runtime.sessions, channel)
    assert (sync.health, sync.failures, sync.last_error) == ("ok", 0, None)


def test_retries_of_channels_that_failed_together_are_spread() -> None:
    wait = timedelta(minutes=10)
    spread_out = {spread(wait, channel_id, 1) for channel_id in range(1, 51)}
    assert len(spread_out) > 40 and all(wait <= each < wait * 1.2 for each in spread_out)
    assert spread(wait, 7, 1) == spread(wait, 7, 1)  # the same channel, the same wait


def test_backoff_doubles_up_to_an_hour_and_honours_the_network() -> None:
    assert backoff(60, 1, None) == timedelta(minutes=2)
    assert backoff(60, 5, None) == timedelta(minutes=32)
    assert backoff(60, 40, None) == timedelta(hours=1)
    assert backoff(60, 1, 3000) == timedelta(seconds=3000)


def test_refused_credentials_stop_polling_until_they_are_set_again(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    network = ScriptedConnector([AuthExpiredError("the access token is invalid")])
    live = make_live(runtime.sessions, runtime.vault, network, clock)
    poll_channel(live, channel.id)
    assert _sync(runtime.sessions, channel).health == "needs_reauth"
    clock.advance(days=1)
    assert _due(runtime, clock) == []
    assert not poll_channel(live, channel.id).claimed

    with transaction(runtime.sessions) as session:
        found = session.get(Channel, channel.id)
        assert found is not None
        do_set_credentials(
            session, found, Secret({"access_token": "new"}), runtime.vault, actor="t"
        )
    sync = _sync(runtime.sessions, channel)
    assert sync.health == "ok" and sync.failures == 0
    clock.now = utcnow()  # credentials are set in real time: polled again from then on
    assert poll_channel(live, channel.id).claimed
    assert network.contexts[-1].credentials == {"access_token": "new"}


def test_a_poll_killed_after_some_pages_keeps_them_and_the_next_repeats_nothing(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    network = ScriptedConnector(
        [page(range(1, 4), more=True), NetworkUnavailableError("connection reset")]
    )
    live = make_live(runtime.sessions, runtime.vault, network, clock)
    poll_channel(live, channel.id)
    assert _external_ids(runtime.sessions) == ["s-1", "s-2", "s-3"]
    assert _sync(runtime.sessions, channel).cursor == {"since": 3}

    clock.advance(hours=1)
    # the network gives the page again (overlapping) and the rest
    network.script = [page(range(2, 7))]
    poll_channel(live, channel.id)
    assert network.cursors[-1] == {"since": 3}
    assert _external_ids(runtime.sessions) == [f"s-{n}" for n in range(1, 7)]


def test_a_worker_whose_lease_was_taken_over_writes_nothing(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    def steal(cursor: dict[str, object]) -> None:
        with transaction(runtime.sessions) as session:
            session.execute(update(ChannelSync).values(lease_token="thief"))

    network = ScriptedConnector([page(range(1, 3))])
    original = network.poll

    def poll_then_lose_the_lease(cursor: dict[str, object]):  # type: ignore[no-untyped-def]
        steal(cursor)
        return original(cursor)

    network.poll = poll_then_lose_the_lease  # type: ignore[method-assign]
    outcome = poll_channel(make_live(runtime.sessions, runtime.vault, network, clock), channel.id)
    assert outcome.error and "lease" in outcome.error
    assert _external_ids(runtime.sessions) == []
    assert _sync(runtime.sessions, channel).cursor == {}


def test_one_run_stops_after_its_page_budget_and_polls_again_at_once(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    pages = [page(range(n, n + 1), more=True) for n in range(PAGES_PER_RUN + 5)]
    network = ScriptedConnector(list(pages))
    outcome = poll_channel(make_live(runtime.sessions, runtime.vault, network, clock), channel.id)
    assert outcome.pages == PAGES_PER_RUN and outcome.next_poll_at == clock()


def test_refreshed_tokens_are_stored_sealed_with_the_page(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    network = ScriptedConnector([page(range(1, 2))])
    network.renewed_credentials = {"access_jwt": "fresh", "refresh_jwt": "r2"}
    poll_channel(make_live(runtime.sessions, runtime.vault, network, clock), channel.id)
    with runtime.sessions() as session:
        found = session.get(Channel, channel.id)
        assert found is not None
        secret = credentials_of(session, found, runtime.vault)
    assert secret is not None and secret.fields["access_jwt"] == "fresh"


def test_a_network_without_a_connector_is_recorded_not_retried_in_a_loop(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    live = make_live(runtime.sessions, runtime.vault, ScriptedConnector(), clock)
    live.build = lambda network, context: None
    outcome = poll_channel(live, channel.id)
    assert outcome.error and "no live connector" in outcome.error
    sync = _sync(runtime.sessions, channel)
    assert sync.health == "degraded" and sync.next_poll_at > clock()


def test_a_source_partly_failing_is_degraded_but_its_pages_are_kept(
    runtime: Runtime, channel: Channel, clock: Clock
) -> None:
    partial = page(range(1, 3))
    partial.problems = ["https://dead.example/feed: the site answered 404"]
    network = ScriptedConnector([partial])
    outcome = poll_channel(make_live(runtime.sessions, runtime.vault, network, clock), channel.id)
    assert outcome.messages == 2 and outcome.problems == partial.problems
    sync = _sync(runtime.sessions, channel)
    assert sync.health == "degraded" and "404" in (sync.last_error or "")
    assert sync.failures == 0 and sync.next_poll_at == clock() + timedelta(seconds=60)
    assert _external_ids(runtime.sessions) == ["s-1", "s-2"]
