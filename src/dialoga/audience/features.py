"""The audit's profile features: what any network's public profile says, as numbers.

Only what a Twitter, Mastodon or Bluesky profile can all provide is used: counts, the
account's age, the avatar and header image, the bio, website, location, the display name
and the handle. Nothing that names the source (interface language, time zone, theme
colours) is read. A value the source did not give is ``NaN``: the model then counts that
feature as neutral and the verdict's confidence drops (see ``missing_groups``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from dialoga.channels.base import NormalizedProfile

FEATURES = (
    "followers",
    "following",
    "posts",
    "age",
    "followers_to_following",
    "following_per_day",
    "posts_per_day",
    "default_avatar",
    "default_banner",
    "bio_length",
    "website",
    "location",
    "name_words",
    "handle_length",
    "handle_digits",
    "handle_ends_in_digits",
)
BINARY = frozenset(
    {"default_avatar", "default_banner", "website", "location", "handle_ends_in_digits"}
)
COUNTS = ("followers", "following", "posts")
_NAN = math.nan
_BIO_CAP = 300
_NAME_WORDS_CAP = 6


def feature_matrix(profiles: Sequence[NormalizedProfile], as_of: datetime) -> np.ndarray:
    """(profiles, FEATURES) as float64; ``as_of`` dates a profile without its own ``seen_at``."""
    rows = [_row(profile, as_of) for profile in profiles]
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))


def account_age_days(profile: NormalizedProfile, as_of: datetime) -> float | None:
    """Days from the account's creation to when the profile was seen (at least one)."""
    if profile.account_created_at is None:
        return None
    return max(days_between(profile.seen_at or as_of, profile.account_created_at), 1.0)


def days_between(later: datetime, earlier: datetime) -> float:
    """Days from ``earlier`` to ``later``; a moment without a time zone is taken as UTC."""
    return (_aware(later) - _aware(earlier)).total_seconds() / 86400


def _row(profile: NormalizedProfile, as_of: datetime) -> list[float]:
    followers = _log_count(profile.followers_count)
    following = _log_count(profile.following_count)
    posts = _log_count(profile.posts_count)
    age = account_age_days(profile, as_of)
    handle = (profile.handle or "").partition("@")[0] if profile.handle else ""
    digits = sum(character.isdigit() for character in handle)
    return [
        followers,
        following,
        posts,
        _NAN if age is None else math.log1p(age),
        followers - following,
        _per_day(profile.following_count, age),
        _per_day(profile.posts_count, age),
        _flag(profile.default_avatar),
        _flag(profile.default_banner),
        float(min(len((profile.bio or "").strip()), _BIO_CAP)),
        1.0 if profile.website else 0.0,
        1.0 if (profile.location or "").strip() else 0.0,
        float(min(len((profile.display_name or "").split()), _NAME_WORDS_CAP)),
        float(len(handle)) if handle else _NAN,
        float(digits) if handle else _NAN,
        (1.0 if handle[-1:].isdigit() else 0.0) if handle else _NAN,
    ]


def _log_count(value: int | None) -> float:
    return _NAN if value is None else math.log1p(value)


def _per_day(value: int | None, age: float | None) -> float:
    return _NAN if value is None or age is None else math.log1p(value / age)


def _flag(value: bool | None) -> float:
    return _NAN if value is None else float(value)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
