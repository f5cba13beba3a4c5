"""SLA: business-time arithmetic (nights, weekends, DST), the hours format, the policy,
rescheduling when it changes, flagging breaches, and the ``dialoga sla`` commands."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.actions import do_get_or_create_channel
from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.channels.models import Channel
from dialoga.core.db import transaction
from dialoga.core.errors import ValidationError
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, SlaPolicy
from dialoga.inbox.sla import (
    DEFAULT_HOURS,
    END_OF_DAY,
    BusinessHours,
    business_deadline,
    business_seconds,
    format_business_hours,
    hours_from_json,
    hours_to_json,
    parse_business_hours,
)
from dialoga.inbox.sla_actions import (
    check_sla_policy,
    do_flag_breaches,
    do_set_sla_policy,
    policy_for,
)
from dialoga.insights.models import ReportingEvent
from dialoga.runtime import Runtime

from .cast import statements

ROME = "Europe/Rome"
OFFICE = parse_business_hours("mon-fri 09:00-13:00,14:00-18:00")
DIALOGA = str(Path(sys.executable).parent / "dialoga")


def _rome(*parts: int) -> datetime:
    """A wall-clock time in Rome, as an aware UTC instant."""
    year, month, day, hour, minute = parts
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(ROME)).astimezone(UTC)


# --- deadlines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # inside hours: the plain clock
        (_rome(2024, 3, 5, 10, 0), 60, _rome(2024, 3, 5, 11, 0)),
        # the lunch break does not count
        (_rome(2024, 3, 5, 12, 30), 60, _rome(2024, 3, 5, 14, 30)),
        # at night the clock waits for the morning
        (_rome(2024, 3, 5, 22, 0), 60, _rome(2024, 3, 6, 10, 0)),
        (_rome(2024, 3, 6, 3, 0), 30, _rome(2024, 3, 6, 9, 30)),
        # Friday evening to Monday
        (_rome(2024, 3, 8, 17, 30), 60, _rome(2024, 3, 11, 9, 30)),
        (_rome(2024, 3, 9, 11, 0), 240, _rome(2024, 3, 11, 13, 0)),
        # exactly at the close: the deadline is the end of the interval, not the next start
        (_rome(2024, 3, 8, 17, 0), 60, _rome(2024, 3, 8, 18, 0)),
        # a whole working week
        (_rome(2024, 3, 4, 9, 0), 5 * 8 * 60, _rome(2024, 3, 8, 18, 0)),
        # over the spring-forward weekend (Sunday 31 March 2024): Monday is CEST
        (_rome(2024, 3, 29, 17, 30), 60, _rome(2024, 4, 1, 9, 30)),
        # over the fall-back weekend (Sunday 27 October 2024): Monday is CET
        (_rome(2024, 10, 25, 17, 30), 60, _rome(2024, 10, 28, 9, 30)),
    ],
)
def test_deadlines_count_only_business_hours(start: datetime, minutes: int, due: datetime) -> None:
    assert business_deadline(start, minutes, OFFICE, ROME) == due
    assert business_seconds(start, due, OFFICE, ROME) == minutes * 60


def test_the_dst_monday_is_an_hour_apart_in_utc() -> None:
    before = business_deadline(_rome(2024, 3, 29, 17, 30), 60, OFFICE, ROME)
    after = business_deadline(_rome(2024, 10, 25, 17, 30), 60, OFFICE, ROME)

    assert before == datetime(2024, 4, 1, 7, 30, tzinfo=UTC)  # 09:30 CEST
    assert after == datetime(2024, 10, 28, 8, 30, tzinfo=UTC)  # 09:30 CET


def test_a_sunday_open_all_day_lasts_23_or_25_hours_when_clocks_change() -> None:
    sundays = parse_business_hours("sun 00:00-24:00")

    spring = business_seconds(_rome(2024, 3, 31, 0, 0), _rome(2024, 4, 1, 0, 0), sundays, ROME)
    autumn = business_seconds(_rome(2024, 10, 27, 0, 0), _rome(2024, 10, 28, 0, 0), sundays, ROME)
    plain = business_seconds(_rome(2024, 4, 7, 0, 0), _rome(2024, 4, 8, 0, 0), sundays, ROME)

    assert (spring, autumn, plain) == (23 * 3600, 25 * 3600, 24 * 3600)


def test_hours_across_the_skipped_and_the_repeated_hour() -> None:
    night = parse_business_hours("sun 01:00-04:00")
    gap = parse_business_hours("sun 02:15-02:45")

    # spring: 01:00-02:00 CET, then the clock jumps to 03:00 CEST: two hours in all
    start = _rome(2024, 3, 31, 0, 30)
    assert business_deadline(start, 120, night, ROME) == datetime(2024, 3, 31, 2, 0, tzinfo=UTC)
    assert business_seconds(start, start + timedelta(hours=6), night, ROME) == 2 * 3600
    assert business_seconds(start, start + timedelta(hours=6), gap, ROME) == 0
    # autumn: 02:00-03:00 happens twice: four hours in all
    start = _rome(2024, 10, 27, 0, 30)
    assert business_deadline(start, 240, night, ROME) == datetime(2024, 10, 27, 3, 0, tzinfo=UTC)
    assert business_seconds(start, start + timedelta(hours=6), gap, ROME) == 2 * 30 * 60


def test_without_hours_the_clock_always_runs() -> None:
    start = datetime(2024, 3, 9, 23, 59, 30, 123, tzinfo=UTC)

    assert business_deadline(start, 90, {}, ROME) == start + timedelta(minutes=90)
    assert business_seconds(start, start + timedelta(days=2), {}, ROME) == 2 * 86400
    assert business_seconds(start, start - timedelta(days=2), OFFICE, ROME) == 0


# --- properties ------------------------------------------------------------------------

ZONES = ["Europe/Rome", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]


@st.composite
def business_hours(draw: st.DrawFn) -> BusinessHours:
    """Random weekly hours on quarter hours: sorted, apart, at least one interval."""
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for day in range(7):
        marks = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
        marks = marks[: len(marks) // 2 * 2]
        if marks:
            hours[day] = tuple(
                (_quarter(a, end=False), _quarter(b, end=True))
                for a, b in zip(marks[::2], marks[1::2], strict=True)
            )
    if not hours:
        hours[draw(st.integers(0, 6))] = ((time(9), time(17, 45)),)
    return hours


def _quarter(index: int, *, end: bool) -> time:
    if index == 96:
        return END_OF_DAY if end else time(23, 45)
    return time(index // 4, index % 4 * 15)


instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


def _is_business(moment: datetime, hours: BusinessHours, tz: str) -> bool:
    """The definition, straight from the zone's wall clock."""
    local = moment.astimezone(ZoneInfo(tz))
    wall = local.time().replace(tzinfo=None)
    return any(
        start <= wall and (end == END_OF_DAY or wall < end)
        for start, end in hours.get(local.weekday(), ())
    )


@settings(max_examples=150, deadline=None)
@given(business_hours(), st.sampled_from(ZONES), instants, st.integers(1, 5000))
def test_the_deadline_is_exactly_the_target_away_in_business_time(
    hours: BusinessHours, tz: str, start: datetime, minutes: int
) -> None:
    due = business_deadline(start, minutes, hours, tz)

    assert due > start
    assert business_seconds(start, due, hours, tz) == minutes * 60
    # inside business hours, or at the end of an interval
    assert _is_business(due - timedelta(microseconds=1), hours, tz)


@settings(max_examples=150, deadline=None)
@given(
    business_hours(), st.sampled_from(ZONES), instants, st.integers(0, 10**7), st.integers(1, 3000)
)
def test_the_deadline_moves_with_its_start(
    hours: BusinessHours, tz: str, start: datetime, later_by: int, minutes: int
) -> None:
    later = start + timedelta(seconds=later_by)

    assert business_deadline(start, minutes, hours, tz) <= business_deadline(
        later, minutes, hours, tz
    )


@settings(max_examples=60, deadline=None)
@given(business_hours(), st.sampled_from(ZONES), instants)
def test_business_seconds_agree_with_the_wall_clock_minute_by_minute(
    hours: BusinessHours, tz: str, start: datetime
) -> None:
    start = start.replace(second=0, microsecond=0)
    span = 3 * 24 * 60
    expected = sum(60 for m in range(span) if _is_business(start + timedelta(minutes=m), hours, tz))

    assert business_seconds(start, start + timedelta(minutes=span), hours, tz) == expected


@settings(max_examples=200, deadline=None)
@given(business_hours())
def test_the_hours_format_and_json_round_trip(hours: BusinessHours) -> None:
    assert parse_business_hours(format_business_hours(hours)) == hours
    assert hours_from_json(hours_to_json(hours)) == hours


# --- the hours format ------------------------------------------------------------------


def test_hours_are_read_in_english_and_italian() -> None:
    text = "mon-fri 09:00-13:00,14:00-18:00; sat 09:00-12:00"

    hours = parse_business_hours(text)

    assert hours[0] == ((time(9), time(13)), (time(14), time(18)))
    assert hours[5] == ((time(9), time(12)),)
    assert 6 not in hours
    assert format_business_hours(hours) == text
    assert parse_business_hours("lun - ven 9:00-13:00, 14:00-18:00\nsab 09:00-12:00") == hours
    assert parse_business_hours("Lunedì,Mercoledì 09:00-10:00") == {
        0: ((time(9), time(10)),),
        2: ((time(9), time(10)),),
    }
    assert format_business_hours(parse_business_hours("mon,wed 09:00-10:00")) == (
        "mon 09:00-10:00; wed 09:00-10:00"
    )
    assert hours_to_json(parse_business_hours("sun 20:00-24:00")) == {"6": [["20:00", "24:00"]]}
    assert parse_business_hours("always") == parse_business_hours("") == {}
    assert format_business_hours({}) == "always"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("mon-fri 09:00-12:00,11:00-13:00", "on mon 09:00-12:00 overlaps 11:00-13:00"),
        ("mon 09:00-12:00; mon 11:30-13:00", "overlaps"),
        ("mon 18:00-09:00", "ends before it starts"),
        ("mon 09:00-09:00", "ends before it starts"),
        ("xyz 09:00-18:00", "unknown day 'xyz'"),
        ("mon 9.00-18:00", "'9.00' is not a time"),
        ("mon 09:00-25:00", "'25:00' is not a time"),
        ("mon 09:60-10:00", "'09:60' is not a time"),
        ("mon 24:00-24:00", "'24:00' is not a time"),
        ("mon 09:00", "'09:00' is not an interval"),
        ("mon-fri", "needs days and hours"),
        ("09:00-18:00", "needs days and hours"),
        ("fri-mon 09:00-18:00", "go backwards"),
    ],
)
def test_bad_hours_are_refused_with_a_reason(text: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        parse_business_hours(text)


@pytest.mark.parametrize(
    ("first", "following", "hours", "zone", "complaint"),
    [
        (0, 240, "mon-fri 09:00-18:00", ROME, "first-response target must be between 1"),
        (60, 43_201, "mon-fri 09:00-18:00", ROME, "next-response target must be between 1"),
        (60, 240, "mon-fri 09:00-18:00", "Europe/Atlantis", "unknown time zone"),
        (60, 240, "mon-fri 18:00-09:00", ROME, "ends before it starts"),
    ],
)
def test_check_sla_policy_refuses_bad_targets(
    first: int, following: int, hours: str, zone: str, complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        check_sla_policy(first, following, hours, zone)


def test_check_sla_policy_returns_the_hours_read() -> None:
    assert check_sla_policy(1, 43_200, "mon-fri 09:00-18:00", "America/New_York") == DEFAULT_HOURS


# --- the policy in the database --------------------------------------------------------

CUSTOMER = NormalizedAuthor("twitter", "1157", handle="giulia_r")
BRAND = NormalizedAuthor("twitter", "acme", handle="acme_it", is_brand=True)


@pytest.fixture
def channel(sessions: sessionmaker[Session], workspace: Workspace) -> Channel:
    with transaction(sessions) as session:
        return do_get_or_create_channel(session, workspace.id, "support", "twitter", actor="test")


def _wait(
    external_id: str,
    at: datetime,
    author: NormalizedAuthor = CUSTOMER,
    in_reply_to: str | None = None,
) -> NormalizedMessage:
    return NormalizedMessage(
        external_id=external_id, author=author, created_at=at, text="?", in_reply_to=in_reply_to
    )


def _ingest(
    sessions: sessionmaker[Session], channel: Channel, *messages: NormalizedMessage
) -> None:
    with transaction(sessions, write_lock=True) as session:
        ingest(session, channel, list(messages))


def _set(
    sessions: sessionmaker[Session],
    workspace_id: int,
    first: int,
    following: int,
    hours: str,
    zone: str = ROME,
    now: datetime | None = None,
) -> int:
    with transaction(sessions, write_lock=True) as session:
        return do_set_sla_policy(
            session,
            workspace_id,
            first,
            following,
            parse_business_hours(hours),
            zone,
            actor="test",
            now=now or datetime(2024, 3, 4, 12, tzinfo=UTC),
        )


def _due(sessions: sessionmaker[Session]) -> dict[str, tuple[datetime | None, datetime | None]]:
    with sessions() as session:
        rows = session.execute(
            select(Conversation.thread_key, Conversation.due_at, Conversation.breached_at)
        )
        return {key: (due, breached) for key, due, breached in rows}


def test_a_workspace_without_a_policy_gets_the_defaults_in_its_zone(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        workspace = do_create_workspace(session, "nyc", "NYC", actor="test", timezone="US/Eastern")
        policy = policy_for(session, workspace.id)

    assert (policy.first_response_minutes, policy.next_response_minutes) == (60, 240)
    assert (policy.timezone, policy.is_default) == ("US/Eastern", True)
    assert policy.hours_text == "mon-fri 09:00-18:00"


def test_setting_a_policy_twice_keeps_one_row_and_the_last_values(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    _set(sessions, workspace.id, 30, 120, "mon-fri 08:00-20:00")
    _set(sessions, workspace.id, 15, 90, "lun-sab 08:00-20:00", zone="Europe/London")

    with sessions() as session:
        policy = policy_for(session, workspace.id)
        stored = session.scalars(select(SlaPolicy)).all()
    assert len(stored) == 1
    assert stored[0].business_hours["5"] == [["08:00", "20:00"]]
    assert (policy.first_response_minutes, policy.next_response_minutes) == (15, 90)
    assert (policy.timezone, policy.is_default) == ("Europe/London", False)
    assert policy.hours_text == "mon-sat 08:00-20:00"


def test_a_new_policy_reschedules_awaited_replies_and_keeps_past_breaches(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel
) -> None:
    asked = _rome(2024, 3, 4, 10, 0)  # Monday
    _ingest(sessions, channel, _wait("a", asked), _wait("b", asked + timedelta(minutes=5)))
    _ingest(
        sessions, channel, _wait("c", asked), _wait("r", asked + timedelta(hours=1), BRAND, "c")
    )
    with transaction(sessions, write_lock=True) as session:
        do_flag_breaches(session, asked + timedelta(minutes=62))  # "a" only

    # round the clock, 8 hours: "a" still late at 12:00 UTC, "b" not yet
    moved = _set(sessions, workspace.id, 8 * 60, 60, "always", now=asked + timedelta(hours=8))
    due = _due(sessions)

    assert moved == 2  # "c" was answered: nothing awaits a reply there
    assert due["a"] == (asked + timedelta(hours=8), asked + timedelta(hours=1))
    assert due["b"] == (asked + timedelta(hours=8, minutes=5), None)
    assert due["c"] == (None, None)

    # a later, longer target moves "a" into the future: its flag goes, its fact stays
    _set(sessions, workspace.id, 24 * 60, 60, "always", now=asked + timedelta(hours=8))
    assert _due(sessions)["a"] == (asked + timedelta(hours=24), None)
    with sessions() as session:
        assert session.scalars(select(ReportingEvent.kind)).all().count("sla_breach") == 1


# --- breaches --------------------------------------------------------------------------


def _breaches(sessions: sessionmaker[Session]) -> list[tuple[str, datetime, int | None]]:
    """(conversation key, occurred at, delay) of each breach fact, by key."""
    with sessions() as session:
        rows = session.execute(
            select(
                Conversation.thread_key,
                ReportingEvent.occurred_at,
                ReportingEvent.delay_seconds,
            )
            .join(Conversation, Conversation.id == ReportingEvent.conversation_id)
            .where(ReportingEvent.kind == "sla_breach")
            .order_by(Conversation.thread_key)
        )
        return [(key, at, delay) for key, at, delay in rows]


def test_breaches_are_flagged_once_at_their_deadline_with_the_target(
    sessions: sessionmaker[Session], channel: Channel
) -> None:
    monday = _rome(2024, 3, 4, 10, 0)
    _ingest(
        sessions,
        channel,
        _wait("first", monday),
        _wait("answered", monday),
        _wait("reply", monday + timedelta(minutes=10), BRAND, "answered"),
        _wait("snoozed", monday),
        _wait("future", monday + timedelta(hours=4, minutes=30)),
    )
    # "answered" then asks again: the next-response target (240 minutes) applies
    _ingest(sessions, channel, _wait("again", monday + timedelta(minutes=20), in_reply_to="reply"))
    with transaction(sessions) as session:
        session.execute(
            update(Conversation)
            .where(Conversation.thread_key == "snoozed")
            .values(status="snoozed")
        )
        activity_before = session.scalar(select(Channel.activity).where(Channel.id == channel.id))
    now = monday + timedelta(hours=5)

    with transaction(sessions, write_lock=True) as session:
        flagged = do_flag_breaches(session, now)
    with transaction(sessions, write_lock=True) as session:
        again = do_flag_breaches(session, now)

    due = _due(sessions)
    next_due = monday + timedelta(hours=4, minutes=20)
    assert (flagged, again) == (2, 0)
    assert due["first"] == (monday + timedelta(hours=1), monday + timedelta(hours=1))
    assert due["answered"] == (next_due, next_due)
    assert due["future"] == (monday + timedelta(hours=5, minutes=30), None)
    assert due["snoozed"] == (monday + timedelta(hours=1), None)
    assert _breaches(sessions) == [
        ("answered", next_due, 240 * 60),
        ("first", monday + timedelta(hours=1), 3600),
    ]
    with sessions() as session:
        activity = session.scalar(select(Channel.activity).where(Channel.id == channel.id))
    assert activity == (activity_before or 0) + 1


def test_flagging_uses_each_workspace_policy_and_pages_with_a_constant_statement_count(
    runtime: Runtime, sessions: sessionmaker[Session], workspace: Workspace, channel: Channel
) -> None:
    with transaction(sessions) as session:
        other = do_create_workspace(session, "beta", "Beta", actor="test")
        elsewhere = do_get_or_create_channel(session, other.id, "mail", "email", actor="test")
    _set(sessions, other.id, 30, 60, "always")
    start = _rome(2024, 3, 4, 10, 0)
    _ingest(sessions, channel, *[_wait(f"a{i}", start + timedelta(seconds=i)) for i in range(60)])
    _ingest(sessions, elsewhere, *[_wait(f"b{i}", start + timedelta(seconds=i)) for i in range(9)])
    now = start + timedelta(days=1)

    counts, flagged = [], []
    for limit in (4, 50, 50, 50):
        with (
            transaction(sessions, write_lock=True) as session,
            statements(runtime.engine) as seen,
        ):
            flagged.append(do_flag_breaches(session, now, limit=limit))
        counts.append(len(seen))

    assert flagged == [4, 50, 15, 0]
    assert counts[0] == counts[1] == counts[2], counts
    delays = {key: delay for key, _, delay in _breaches(sessions)}
    assert len(delays) == 69
    assert {delays[f"a{i}"] for i in range(60)} == {3600}
    assert {delays[f"b{i}"] for i in range(9)} == {1800}


def test_rescheduling_costs_the_same_statements_for_few_or_many(
    runtime: Runtime, sessions: sessionmaker[Session], workspace: Workspace, channel: Channel
) -> None:
    start = _rome(2024, 3, 4, 10, 0)
    _set(sessions, workspace.id, 60, 60, "always")  # then each call updates the same row
    counts = []
    for size in (5, 80):
        _ingest(sessions, channel, *[_wait(f"{size}-{i}", start) for i in range(size)])
        with statements(runtime.engine) as seen:
            _set(sessions, workspace.id, 30 + size, 60, "mon-fri 09:00-18:00")
        counts.append(len(seen))

    assert counts[0] == counts[1], counts


# --- the command line ------------------------------------------------------------------


def _dialoga(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DIALOGA, *args],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_sla_show_set_and_check_from_the_command_line(
    cli_env: dict[str, str], sessions: sessionmaker[Session], channel: Channel
) -> None:
    _ingest(sessions, channel, _wait("old", _rome(2024, 3, 4, 10, 0)))

    shown = _dialoga(cli_env, "sla", "show", "--workspace", "acme")
    changed = _dialoga(
        cli_env, "sla", "set", "--workspace", "acme", "--first-response", "30",
        "--next-response", "120", "--hours", "lun-ven 09:00-13:00,14:00-18:00; sab 09:00-12:00",
        "--timezone", "Europe/Rome",
    )  # fmt: skip
    shown_after = _dialoga(cli_env, "sla", "show", "--workspace", "acme")
    checked = _dialoga(cli_env, "sla", "check")
    checked_again = _dialoga(cli_env, "sla", "check")
    bad_hours = _dialoga(cli_env, "sla", "set", "--workspace", "acme", "--hours", "mon 18-9")
    bad_zone = _dialoga(cli_env, "sla", "set", "--workspace", "acme", "--timezone", "Mars/Base")
    nowhere = _dialoga(cli_env, "sla", "show", "--workspace", "nope")

    assert shown.returncode == 0, shown.stderr
    assert "60 minutes" in shown.stdout and "mon-fri 09:00-18:00" in shown.stdout
    assert "defaults" in shown.stdout
    assert changed.returncode == 0, changed.stderr
    assert "awaited replies rescheduled: 1" in changed.stderr
    assert "mon-fri 09:00-13:00,14:00-18:00; sat 09:00-12:00" in shown_after.stdout
    assert "30 minutes" in shown_after.stdout and "defaults" not in shown_after.stdout
    assert checked.returncode == 0 and "SLA breaches flagged: 1" in checked.stderr
    assert "SLA breaches flagged: 0" in checked_again.stderr
    assert _breaches(sessions) == [("old", _rome(2024, 3, 4, 10, 30), 1800)]
    for refused, complaint in (
        (bad_hours, "is not a time"),
        (bad_zone, "unknown time zone 'Mars/Base'"),
        (nowhere, "does not exist"),
    ):
        assert refused.returncode == 2, refused.stderr
        assert complaint in refused.stderr and "Traceback" not in refused.stderr
