"""Response targets counted in business time: the arithmetic and the policy, no database.

A workspace promises a first response within N minutes and each later response within M
minutes, counted only while it is open for business (weekly hours, in its time zone). A
conversation's reply is due ``business_deadline(awaiting_since, minutes, hours, tz)``.

Time is counted on the real clock: an instant is business time when the wall clock of the
time zone, at that instant, reads a weekday and time inside the business hours. So the
Sunday when clocks fall back holds 25 hours and the one when they spring forward 23,
whatever the hours say. The calendar is built a week (of UTC time) at a time, split where
the zone's offset changes, as a sorted list of business intervals with running totals;
a deadline is then a walk over whole weeks and a bisection, cached per (hours, zone).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialoga.core.errors import ValidationError

BusinessHours = Mapping[int, tuple[tuple[time, time], ...]]
"""Weekday (0 = Monday) to sorted, non-overlapping (start, end) local times; ``END_OF_DAY``
as an end is midnight at the end of the day. An empty mapping: the clock always runs."""

END_OF_DAY = time.max  # written "24:00"
DEFAULT_FIRST_RESPONSE_MINUTES = 60
DEFAULT_NEXT_RESPONSE_MINUTES = 240
DEFAULT_HOURS: BusinessHours = {day: ((time(9), time(18)),) for day in range(5)}
MAX_TARGET_MINUTES = 43_200  # 30 days

_US = timedelta(microseconds=1)
_SECOND = 1_000_000
_HOUR = 3600 * _SECOND
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_EPOCH = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday: day index % 7 is the weekday
_HoursKey = tuple[tuple[int, tuple[tuple[time, time], ...]], ...]


def business_deadline(start: datetime, minutes: int, hours: BusinessHours, tz: str) -> datetime:
    """The instant (UTC) at which ``minutes`` of business time have passed since ``start``.

    It lies inside business hours or at the end of an interval; with no hours set the
    clock always runs and it is ``start + minutes``.
    """
    key = _key(hours)
    if not key:
        return start.astimezone(UTC) + timedelta(minutes=minutes)
    return _calendar(key, tz).deadline(start, minutes)


def business_seconds(start: datetime, end: datetime, hours: BusinessHours, tz: str) -> int:
    """Whole seconds of business time between ``start`` and ``end`` (0 if ``end`` is not
    after ``start``)."""
    key = _key(hours)
    if not key:
        return max(0, (end - start) // timedelta(seconds=1))
    return _calendar(key, tz).elapsed(_us(start), _us(end)) // _SECOND


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


def _key(hours: BusinessHours) -> _HoursKey:
    return tuple((day, tuple(hours[day])) for day in sorted(hours) if hours[day])


def _seconds_of_day(moment: time) -> int:
    if moment == END_OF_DAY:
        return 86_400
    return moment.hour * 3600 + moment.minute * 60 + moment.second


@lru_cache(maxsize=64)
def _calendar(key: _HoursKey, tz: str) -> Calendar:
    return Calendar(dict(key), tz)


@dataclass(frozen=True, slots=True)
class _Week:
    """Business intervals of one UTC week: starts, ends, business time before each one."""

    starts: list[int]
    ends: list[int]
    before: list[int]
    after: list[int]

    @property
    def total(self) -> int:
        return self.after[-1] if self.after else 0

    def position(self, instant: int) -> int:
        """Business time of this week before ``instant``."""
        index = bisect_right(self.starts, instant) - 1
        if index < 0:
            return 0
        return self.before[index] + min(instant, self.ends[index]) - self.starts[index]

    def instant(self, position: int) -> int:
        """The first instant with ``position`` of business time before it (0 < position <=
        total): inside an interval or at its end."""
        index = bisect_left(self.after, position)
        return self.starts[index] + position - self.before[index]


class Calendar:
    """Business time of one set of hours in one zone, on instants in microseconds."""

    def __init__(self, hours: BusinessHours, tz: str) -> None:
        self._zone = ZoneInfo(tz)
        self._daily = [
            [(_seconds_of_day(a) * _SECOND, _seconds_of_day(b) * _SECOND) for a, b in hours[day]]
            if day in hours
            else []
            for day in range(7)
        ]
        self._weeks: dict[int, _Week] = {}

    def deadline(self, start: datetime, minutes: int) -> datetime:
        """``business_deadline`` on this calendar."""
        needed = minutes * 60 * _SECOND
        if needed <= 0:
            return start.astimezone(UTC)
        at = _us(start)
        week_index = at // _WEEK
        week = self._week(week_index)
        needed += week.position(at)
        while needed > week.total:
            needed -= week.total
            week_index += 1
            week = self._week(week_index)
        return _EPOCH + week.instant(needed) * _US

    def elapsed(self, start: int, end: int) -> int:
        """Business microseconds in ``[start, end)``."""
        if end <= start:
            return 0
        first, last = start // _WEEK, end // _WEEK
        if first == last:
            week = self._week(first)
            return week.position(end) - week.position(start)
        total = self._week(first).total - self._week(first).position(start)
        total += sum(self._week(index).total for index in range(first + 1, last))
        return total + self._week(last).position(end)

    def _week(self, index: int) -> _Week:
        week = self._weeks.get(index)
        if week is None:
            if len(self._weeks) > 4096:
                self._weeks.clear()
            week = self._weeks[index] = self._build_week(index)
        return week

    def _build_week(self, index: int) -> _Week:
        pieces: list[tuple[int, int]] = []
        for low, high, offset in self._segments(index * _WEEK, (index + 1) * _WEEK):
            pieces.extend(self._business_between(low, high, offset))
        starts: list[int] = []
        ends: list[int] = []
        before: list[int] = []
        after: list[int] = []
        running = 0
        for low, high in pieces:
            if starts and low == ends[-1]:  # touching: one interval
                ends[-1] = high
            else:
                starts.append(low)
                ends.append(high)
                before.append(running)
                after.append(running)
            running += high - low
            after[-1] = running
        return _Week(starts, ends, before, after)

    def _offset(self, instant: int) -> int:
        offset = (_EPOCH + instant * _US).astimezone(self._zone).utcoffset()
        return (offset or timedelta()) // _US

    def _segments(self, low: int, high: int) -> list[tuple[int, int, int]]:
        """``[low, high)`` cut where the zone's offset changes: (start, end, offset)."""
        segments = []
        start, offset = low, self._offset(low)
        for hour in range(low + _HOUR, high + 1, _HOUR):
            if self._offset(hour) == offset:
                continue
            change = self._change_between(hour - _HOUR, hour)
            segments.append((start, change, offset))
            start, offset = change, self._offset(change)
        segments.append((start, high, offset))
        return segments

    def _change_between(self, low: int, high: int) -> int:
        """The first second in ``(low, high]`` with the offset of ``high``."""
        target = self._offset(high)
        low_s, high_s = low // _SECOND, high // _SECOND
        while high_s - low_s > 1:
            middle = (low_s + high_s) // 2
            if self._offset(middle * _SECOND) == target:
                high_s = middle
            else:
                low_s = middle
        return high_s * _SECOND

    def _business_between(self, low: int, high: int, offset: int) -> list[tuple[int, int]]:
        """Business intervals within ``[low, high)``, where the wall clock is UTC + offset."""
        pieces = []
        for day in range((low + offset) // _DAY, (high + offset - 1) // _DAY + 1):
            midnight = day * _DAY - offset
            for opens, closes in self._daily[day % 7]:
                start, end = max(low, midnight + opens), min(high, midnight + closes)
                if start < end:
                    pieces.append((start, end))
        return pieces


# --- the human format: "mon-fri 09:00-13:00,14:00-18:00; sat 09:00-12:00" ---------------

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ITALIAN = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")
_LONG = (
    ("monday", "lunedi", "lunedì"),
    ("tuesday", "martedi", "martedì"),
    ("wednesday", "mercoledi", "mercoledì"),
    ("thursday", "giovedi", "giovedì"),
    ("friday", "venerdi", "venerdì"),
    ("saturday", "sabato"),
    ("sunday", "domenica"),
)
_DAY_OF = {
    name: day
    for day, names in enumerate(zip(DAY_NAMES, _ITALIAN, strict=True))
    for name in (*names, *_LONG[day])
}
_ALWAYS = ("", "always", "sempre", "24/7")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def parse_business_hours(text: str) -> BusinessHours:
    """Read ``"mon-fri 09:00-13:00,14:00-18:00; sat 09:00-12:00"`` (Italian day names too).

    Groups are separated by ``;`` or new lines; ``always`` (or nothing) means the clock
    always runs. Raises ``ValidationError`` naming what is wrong.
    """
    if text.strip().lower() in _ALWAYS:
        return {}
    found: dict[int, list[tuple[time, time]]] = {}
    for group in re.split(r"[;\n]", text):
        if group.strip():
            days, intervals = _parse_group(group.strip())
            for day in days:
                found.setdefault(day, []).extend(intervals)
    return {day: _sorted_apart(day, intervals) for day, intervals in sorted(found.items())}


def _parse_group(group: str) -> tuple[list[int], list[tuple[time, time]]]:
    """One ``days times`` group; the days end where the first digit is."""
    split = re.search(r"\d", group)
    days_text = re.sub(r"\s+", "", group[: split.start()] if split else group)
    times_text = group[split.start() :] if split else ""
    if not times_text.strip() or not days_text:
        raise ValidationError(
            f"{group!r} needs days and hours, e.g. 'mon-fri 09:00-18:00'",
            code="sla_no_hours",
            group=group,
        )
    days: list[int] = []
    for part in days_text.lower().split(","):
        days.extend(_parse_days(part))
    intervals = [_parse_interval(part.strip()) for part in times_text.split(",")]
    return days, intervals


def _parse_days(text: str) -> list[int]:
    first, dash, last = text.partition("-")
    if not dash:
        return [_day(first)]
    start, end = _day(first), _day(last)
    if end < start:
        raise ValidationError(
            f"the days {text!r} go backwards: write them from Monday to Sunday",
            code="sla_days_backwards",
            days=text,
        )
    return list(range(start, end + 1))


def _day(name: str) -> int:
    day = _DAY_OF.get(name.strip())
    if day is None:
        raise ValidationError(
            f"unknown day {name!r}: use mon tue wed thu fri sat sun "
            "(or lun mar mer gio ven sab dom)",
            code="sla_unknown_day",
            day=name,
        )
    return day


def _parse_interval(text: str) -> tuple[time, time]:
    opens, dash, closes = text.partition("-")
    if not dash:
        raise ValidationError(
            f"{text!r} is not an interval: write it as HH:MM-HH:MM, e.g. 09:00-18:00",
            code="sla_bad_interval",
            interval=text,
        )
    start, end = _parse_time(opens.strip(), end=False), _parse_time(closes.strip(), end=True)
    if _seconds_of_day(end) <= _seconds_of_day(start):
        raise ValidationError(
            f"{text!r} ends before it starts (hours cannot run past midnight: split them)",
            code="sla_ends_before_start",
            interval=text,
        )
    return start, end


def _parse_time(text: str, *, end: bool) -> time:
    match = _TIME.fullmatch(text)
    hour, minute = (int(match[1]), int(match[2])) if match else (-1, -1)
    if end and (hour, minute) == (24, 0):
        return END_OF_DAY
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValidationError(
            f"{text!r} is not a time: write HH:MM, from 00:00 to 24:00",
            code="sla_bad_time",
            value=text,
        )
    return time(hour, minute)


def _sorted_apart(day: int, intervals: list[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    ordered = sorted(intervals, key=lambda pair: _seconds_of_day(pair[0]))
    for earlier, later in pairwise(ordered):
        if _seconds_of_day(later[0]) < _seconds_of_day(earlier[1]):
            raise ValidationError(
                f"on {DAY_NAMES[day]} {_format_interval(earlier)} overlaps "
                f"{_format_interval(later)}",
                code="sla_overlap",
                day=DAY_NAMES[day],
            )
    return tuple(ordered)


def format_business_hours(hours: BusinessHours) -> str:
    """The text ``parse_business_hours`` reads back as ``hours``; ``always`` when empty."""
    days = [(day, tuple(hours.get(day, ()))) for day in range(7)]
    groups: list[tuple[int, int, tuple[tuple[time, time], ...]]] = []
    for day, intervals in days:
        if not intervals:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == intervals:
            groups[-1] = (groups[-1][0], day, intervals)
        else:
            groups.append((day, day, intervals))
    if not groups:
        return "always"
    return "; ".join(
        f"{_format_days(first, last)} {','.join(map(_format_interval, intervals))}"
        for first, last, intervals in groups
    )


def _format_days(first: int, last: int) -> str:
    if first == last:
        return DAY_NAMES[first]
    return f"{DAY_NAMES[first]}-{DAY_NAMES[last]}"


def _format_interval(interval: tuple[time, time]) -> str:
    return "-".join(_format_time(moment) for moment in interval)


def _format_time(moment: time) -> str:
    return "24:00" if moment == END_OF_DAY else moment.strftime("%H:%M")


def hours_to_json(hours: BusinessHours) -> dict[str, list[list[str]]]:
    """The ``sla_policy.business_hours`` value: ``{"0": [["09:00", "18:00"]], ...}``."""
    return {
        str(day): [[_format_time(a), _format_time(b)] for a, b in hours[day]]
        for day in sorted(hours)
        if hours[day]
    }


def hours_from_json(stored: Mapping[str, list[list[str]]]) -> BusinessHours:
    """Read back what ``hours_to_json`` wrote."""
    return {
        int(day): tuple((_parse_time(a, end=False), _parse_time(b, end=True)) for a, b in intervals)
        for day, intervals in sorted(stored.items(), key=lambda item: int(item[0]))
        if intervals
    }


def check_timezone(name: str) -> str:
    """``name`` if it is a time zone zoneinfo knows (``Europe/Rome``)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"unknown time zone {name!r}: use a name such as Europe/Rome",
            code="sla_unknown_timezone",
            timezone=name,
        ) from None
    return name


# --- a workspace's policy ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlaPolicyView:
    """A workspace's response targets (the defaults when it has set none)."""

    workspace_id: int
    first_response_minutes: int
    next_response_minutes: int
    business_hours: BusinessHours
    timezone: str
    is_default: bool = False
    _calendar: Calendar | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = _key(self.business_hours)
        object.__setattr__(self, "_calendar", _calendar(key, self.timezone) if key else None)

    @property
    def hours_text(self) -> str:
        return format_business_hours(self.business_hours)

    def target_minutes(self, first_response_at: datetime | None) -> int:
        """The target of the reply awaited: the first response, or a later one."""
        if first_response_at is None:
            return self.first_response_minutes
        return self.next_response_minutes

    def due_at(
        self, awaiting_since: datetime | None, first_response_at: datetime | None
    ) -> datetime | None:
        """When the awaited reply is due; None when nothing awaits a reply."""
        if awaiting_since is None:
            return None
        minutes = self.target_minutes(first_response_at)
        if self._calendar is None:
            return awaiting_since + timedelta(minutes=minutes)
        return self._calendar.deadline(awaiting_since, minutes)


def default_policy(workspace_id: int, timezone: str) -> SlaPolicyView:
    """The targets of a workspace that has set none: 1 hour, then 4, Mon–Fri 9–18."""
    return SlaPolicyView(
        workspace_id,
        DEFAULT_FIRST_RESPONSE_MINUTES,
        DEFAULT_NEXT_RESPONSE_MINUTES,
        DEFAULT_HOURS,
        timezone,
        is_default=True,
    )
