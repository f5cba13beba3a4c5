"""Each follower's verdict (fake, inactive, engaged, passive, real or unknown) and its reasons.

The fake-follower model scores a whole batch at once; its additive effects, summed per
group of related features, are the reasons, written with the profile's own numbers
("follows 4,800 accounts, followed by 12"). Inactivity needs a known last post (or a
known zero posts); engagement needs the brand's inbox, so without it a real follower is
just ``real``. A profile that gives no counts at all (an X archive's ids) is ``unknown``
until it is enriched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from dialoga.audience.features import (
    COUNTS,
    FEATURES,
    account_age_days,
    days_between,
    feature_matrix,
)
from dialoga.audience.model import AdditiveModel, shipped_model
from dialoga.channels.base import NormalizedProfile
from dialoga.core.i18n import number, translate

VERDICTS = ("fake", "inactive", "engaged", "passive", "real", "unknown")
REAL_VERDICTS = frozenset({"engaged", "passive", "real"})
REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "network": ("followers", "following", "followers_to_following", "following_per_day"),
    "activity": ("posts", "posts_per_day", "age"),
    "avatar": ("default_avatar",),
    "banner": ("default_banner",),
    "bio": ("bio_length",),
    "details": ("website", "location"),
    "handle": ("name_words", "handle_length", "handle_digits", "handle_ends_in_digits"),
}
STRONG_PUSH = 0.4  # a group must move the logit this much to be given as a reason
MAX_REASONS = 3
_GROUPS = tuple(REASON_GROUPS)
_GROUP_MATRIX = np.array(
    [[feature in REASON_GROUPS[group] for group in _GROUPS] for feature in FEATURES], dtype=float
)
_MISSING_LOWERS = {
    "followers": "low",
    "following": "low",
    "posts": "low",
    "age": "low",
    "default_avatar": "medium",
    "default_banner": "medium",
    "handle_length": "medium",
}
_COUNT_COLUMNS = [FEATURES.index(name) for name in COUNTS]
_CONFIDENCE_COLUMNS = [FEATURES.index(name) for name in _MISSING_LOWERS]
_LOW_COLUMNS = [FEATURES.index(name) for name, level in _MISSING_LOWERS.items() if level == "low"]
_MEDIUM_COLUMNS = [
    FEATURES.index(name) for name, level in _MISSING_LOWERS.items() if level == "medium"
]


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """How an audit judges: ``inactive_days`` without a post makes a follower inactive."""

    inactive_days: int = 180
    locale: str = "en"


@dataclass(frozen=True, slots=True)
class Engagement:
    """What the brand's inbox knows: interactions per follower id (None: no inbox at hand)."""

    interactions: Mapping[str, int] | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """A catalog key and its values, written out in a language by ``text``."""

    key: str
    values: Mapping[str, str | int | float] = field(default_factory=dict)

    def text(self, locale: str) -> str:
        shown = {name: _shown(locale, name, value) for name, value in self.values.items()}
        return translate(locale, self.key, **shown)


def _shown(locale: str, name: str, value: str | int | float) -> str:
    """A reason's value as the reader reads it: numbers in their language, field names named."""
    if isinstance(value, int | float):
        return number(locale, value)
    if name == "fields":
        return ", ".join(translate(locale, f"audience.field.{field}") for field in value.split(","))
    return value


@dataclass(frozen=True, slots=True)
class Verdict:
    """One follower's verdict; ``fake_probability`` is None when it could not be scored."""

    external_id: str
    verdict: str
    fake_probability: float | None
    confidence: str
    reasons: tuple[Reason, ...]


def judge(
    profiles: Sequence[NormalizedProfile],
    as_of: datetime,
    settings: AuditSettings = AuditSettings(),
    engagement: Engagement = Engagement(),
    model: AdditiveModel | None = None,
) -> list[Verdict]:
    """The verdict of every profile of a batch, scored in one pass of the model."""
    if not profiles:
        return []
    chosen = model or shipped_model()
    matrix = feature_matrix(profiles, as_of)
    pushes = chosen.contributions(matrix)
    probabilities = chosen.probabilities(pushes)
    fake = probabilities >= chosen.threshold
    strongest, strong = _strongest_groups(pushes @ _GROUP_MATRIX, fake)
    gaps = np.isnan(matrix)
    confidence = _confidence(gaps)
    unscored = gaps[:, _COUNT_COLUMNS].all(axis=1)
    partial = gaps[:, _CONFIDENCE_COLUMNS].any(axis=1)
    verdicts = []
    for row, profile in enumerate(profiles):
        if unscored[row]:
            verdicts.append(_unknown(profile))
            continue
        reasons = [
            _model_reason(_GROUPS[group], profile, as_of, fake=bool(fake[row]))
            for group, kept in zip(strongest[row], strong[row], strict=True)
            if kept
        ]
        verdict = "fake" if fake[row] else _real_kind(profile, as_of, settings, engagement, reasons)
        if partial[row]:
            reasons.append(_unknown_fields(gaps[row]))
        probability = round(float(probabilities[row]), 4)
        verdicts.append(
            Verdict(profile.external_id, verdict, probability, confidence[row], tuple(reasons))
        )
    return verdicts


def _strongest_groups(
    groups: np.ndarray, fake: np.ndarray
) -> tuple[list[list[int]], list[list[bool]]]:
    """Per profile, the reason groups that pushed hardest towards its verdict, and which
    of them pushed hard enough to be given."""
    towards = np.where(fake[:, None], groups, -groups)
    order = np.argsort(-towards, axis=1)[:, :MAX_REASONS]
    strong = np.take_along_axis(towards, order, axis=1) >= STRONG_PUSH
    return order.tolist(), strong.tolist()


def _confidence(gaps: np.ndarray) -> list[str]:
    low = gaps[:, _LOW_COLUMNS].any(axis=1)
    medium = gaps[:, _MEDIUM_COLUMNS].any(axis=1)
    levels: list[str] = np.where(low, "low", np.where(medium, "medium", "high")).tolist()
    return levels


def _unknown(profile: NormalizedProfile) -> Verdict:
    reason = Reason("audience.reason.no_counts")
    return Verdict(profile.external_id, "unknown", None, "none", (reason,))


def _unknown_fields(gaps: np.ndarray) -> Reason:
    names = [
        name
        for name, column in zip(_MISSING_LOWERS, _CONFIDENCE_COLUMNS, strict=True)
        if gaps[column]
    ]
    return Reason("audience.reason.unknown_fields", {"fields": ",".join(names)})


def _real_kind(
    profile: NormalizedProfile,
    as_of: datetime,
    settings: AuditSettings,
    engagement: Engagement,
    reasons: list[Reason],
) -> str:
    silent = _silent_days(profile, as_of)
    if silent is not None and silent > settings.inactive_days:
        key = "audience.reason.never_posted" if silent < 0 else "audience.reason.silent"
        reasons.insert(0, Reason(key, {"days": abs(int(silent))}))
        return "inactive"
    if engagement.interactions is None:
        return "real"
    count = engagement.interactions.get(profile.external_id, 0)
    if count:
        reasons.insert(0, Reason("audience.reason.engaged", {"count": count}))
        return "engaged"
    reasons.insert(0, Reason("audience.reason.passive"))
    return "passive"


def _silent_days(profile: NormalizedProfile, as_of: datetime) -> float | None:
    """Days since the last post; for an account that never posted, minus its age in days."""
    if profile.last_post_at is not None:
        return days_between(profile.seen_at or as_of, profile.last_post_at)
    age = account_age_days(profile, as_of)
    if profile.posts_count == 0 and age is not None:
        return -age
    return None


def _model_reason(group: str, profile: NormalizedProfile, as_of: datetime, *, fake: bool) -> Reason:
    values = _values(group, profile, as_of)
    key = f"audience.reason.{group}.{'fake' if fake else 'real'}"
    if key == "audience.reason.bio.fake" and not values["bio_length"]:
        key = "audience.reason.bio.empty"
    return Reason(key, values)


def _values(
    group: str, profile: NormalizedProfile, as_of: datetime
) -> dict[str, str | int | float]:
    """The numbers a group's reason quotes, and only those."""
    if group == "network":
        return {
            "followers": profile.followers_count or 0,
            "following": profile.following_count or 0,
        }
    if group == "activity":
        age = account_age_days(profile, as_of)
        return {"posts": profile.posts_count or 0, "days": int(age) if age is not None else 0}
    if group == "bio":
        return {"bio_length": len((profile.bio or "").strip())}
    if group == "handle":
        return {"handle": profile.handle or profile.external_id}
    return {}


def reasons_text(verdict: Verdict, locale: str) -> str:
    """The reasons as one line, for the CSV output and the report."""
    return "; ".join(reason.text(locale) for reason in verdict.reasons)


def stored_reasons_text(stored: list[list[Any]], locale: str) -> list[str]:
    """Reasons kept with an audit (``[key, values]`` pairs), each written out in ``locale``."""
    return [Reason(key, values).text(locale) for key, values in stored]
