"""What an audit found, in aggregate: the figures its page, report and stored run show.

Built batch by batch while an audit streams, so its size does not grow with the number
of followers: counts per verdict, a histogram of fake probabilities, verdicts by the
year accounts were created, the reasons most given for fakes, and the real reach.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dialoga.audience.verdicts import REAL_VERDICTS, VERDICTS, Verdict
from dialoga.channels.base import NormalizedProfile

PROBABILITY_BINS = 20


@dataclass
class AuditSummary:
    """Aggregates of one audit; ``quality_score`` is the share of judged followers who are real."""

    verdicts: Counter[str] = field(default_factory=Counter)
    confidence: Counter[str] = field(default_factory=Counter)
    probability_bins: list[int] = field(default_factory=lambda: [0] * PROBABILITY_BINS)
    by_year: dict[str, Counter[str]] = field(default_factory=dict)
    fake_reasons: Counter[str] = field(default_factory=Counter)
    real_reach: int = 0
    rejected: int = 0

    def add(self, profiles: Sequence[NormalizedProfile], verdicts: Sequence[Verdict]) -> None:
        for profile, verdict in zip(profiles, verdicts, strict=True):
            self.verdicts[verdict.verdict] += 1
            self.confidence[verdict.confidence] += 1
            if verdict.fake_probability is not None:
                index = min(int(verdict.fake_probability * PROBABILITY_BINS), PROBABILITY_BINS - 1)
                self.probability_bins[index] += 1
            year = str(profile.account_created_at.year) if profile.account_created_at else "?"
            self.by_year.setdefault(year, Counter())[verdict.verdict] += 1
            if verdict.verdict == "fake":
                self.fake_reasons.update(reason.key for reason in verdict.reasons)
            elif verdict.verdict in REAL_VERDICTS:
                self.real_reach += profile.followers_count or 0

    @property
    def total(self) -> int:
        return sum(self.verdicts.values())

    @property
    def judged(self) -> int:
        return self.total - self.verdicts["unknown"]

    @property
    def real(self) -> int:
        return sum(self.verdicts[name] for name in REAL_VERDICTS)

    @property
    def quality_score(self) -> float | None:
        return self.real / self.judged if self.judged else None

    def as_json(self) -> dict[str, Any]:
        return {
            "verdicts": {name: self.verdicts[name] for name in VERDICTS},
            "confidence": dict(self.confidence),
            "probability_bins": self.probability_bins,
            "by_year": {year: dict(counts) for year, counts in sorted(self.by_year.items())},
            "fake_reasons": dict(self.fake_reasons.most_common(10)),
            "real_reach": self.real_reach,
            "rejected": self.rejected,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditSummary:
        return cls(
            verdicts=Counter(data["verdicts"]),
            confidence=Counter(data["confidence"]),
            probability_bins=list(data["probability_bins"]),
            by_year={year: Counter(counts) for year, counts in data["by_year"].items()},
            fake_reasons=Counter(data["fake_reasons"]),
            real_reach=int(data["real_reach"]),
            rejected=int(data["rejected"]),
        )
