"""The labelled texts the models learn from, read from ``../shared/data`` and split.

Each example keeps its source id, so the held-out share is fixed by a hash of the id
(the same tweets are held out on every run and machine), and the intent labels, which
the project made (``data/intent_labels.csv``), are joined to their texts by id.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

INTENT_LABELS = Path(__file__).parent / "data" / "intent_labels.csv"
SENTIPOLC = "sentiment/sentipolc2016_train.csv"
AIRLINE = "sentiment/airline_tweets_en_train.csv"
HELD_OUT_SHARE = {"sentiment": 0.2, "intent": 0.25}
_SENTIPOLC_CLASS = {(0, 0): "neutral", (1, 0): "positive", (0, 1): "negative", (1, 1): "mixed"}


@dataclass(frozen=True, slots=True)
class Example:
    source_id: str
    text: str
    language: str
    label: str


@dataclass(frozen=True, slots=True)
class Split:
    train: list[Example]
    held_out: list[Example]


def is_held_out(source_id: str, share: float) -> bool:
    digest = hashlib.sha256(source_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") < share * 2**32


def split(examples: list[Example], share: float) -> Split:
    held = [is_held_out(e.source_id, share) for e in examples]
    return Split(
        train=[e for e, h in zip(examples, held, strict=True) if not h],
        held_out=[e for e, h in zip(examples, held, strict=True) if h],
    )


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def sentipolc(data: Path) -> list[Example]:
    """Italian tweets; the class combines the positive and negative tasks (both: mixed)."""
    return [
        Example(row["idtwitter"], row["text"], "it", _sentipolc_class(row))
        for row in _rows(data / SENTIPOLC)
    ]


def _sentipolc_class(row: dict[str, str]) -> str:
    return _SENTIPOLC_CLASS[(int(row["opos"]), int(row["oneg"]))]


def airline(data: Path) -> list[Example]:
    """English tweets to airlines: negative, neutral or positive."""
    return [
        Example(row["tweet_id"], row["text"], "en", row["airline_sentiment"])
        for row in _rows(data / AIRLINE)
    ]


def intents(data: Path) -> list[Example]:
    """The project's intent labels joined to the tweets they name."""
    texts = {("sentipolc2016", e.source_id): e.text for e in sentipolc(data)}
    texts.update({("airline", e.source_id): e.text for e in airline(data)})
    return [
        Example(
            f"{row['source']}:{row['id']}",
            texts[(row["source"], row["id"])],
            row["lang"],
            row["intent"],
        )
        for row in _rows(INTENT_LABELS)
    ]
