"""The fast tier: hashed n-grams and linear heads, thousands of messages a second per core.

``FastModel`` is what ``train.py`` writes into ``shipped/fast.npz``: the idf weights and
one head per task (Italian sentiment, English sentiment, intent). ``FastReader`` turns
a batch of texts into ``Reading`` values: language first, then the sentiment head of
that language (English for the others), the intent head, and spam as the intent
head's spam probability.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from dialoga.core.errors import DialogaError
from dialoga.understand.features import FEATURES, counts, weighted
from dialoga.understand.heads import Kind, LinearHead
from dialoga.understand.language import LanguageGuesser
from dialoga.understand.reading import INTENTS, SENTIMENTS, Reading

SHIPPED_FAST = Path(__file__).parent / "shipped" / "fast.npz"
SENTIMENT_IT = "sentiment.it"
SENTIMENT_EN = "sentiment.en"
INTENT = "intent"
HEAD_SHAPES: dict[str, tuple[tuple[str, ...], Kind]] = {
    SENTIMENT_IT: (("positive", "negative"), "sigmoid"),
    SENTIMENT_EN: (("negative", "neutral", "positive"), "softmax"),
    INTENT: (INTENTS, "softmax"),
}
_SENTIMENT_HEAD = {"it": SENTIMENT_IT}  # every other language: the English head


@dataclass(frozen=True)
class FastModel:
    """The idf weights and the heads, by name (see ``HEAD_SHAPES``)."""

    idf: np.ndarray
    heads: Mapping[str, LinearHead]
    card: Mapping[str, object]

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {"idf": self.idf.astype(np.float32)}
        for name, head in self.heads.items():
            arrays.update(head.arrays(name))
        meta = json.dumps(dict(self.card), sort_keys=True).encode()
        np.savez_compressed(path, meta=np.frombuffer(meta, dtype=np.uint8), **arrays)

    @classmethod
    def load(cls, path: Path = SHIPPED_FAST) -> FastModel:
        with np.load(path) as stored:
            arrays = dict(stored.items())
        heads = {
            name: LinearHead.from_arrays(arrays, name, classes, kind)
            for name, (classes, kind) in HEAD_SHAPES.items()
        }
        card = json.loads(arrays["meta"].tobytes())
        return cls(idf=checked_idf(arrays["idf"], path), heads=heads, card=card)

    def with_heads(self, heads: Mapping[str, LinearHead]) -> FastModel:
        """This model with some heads replaced (a workspace's retrained ones)."""
        return replace(self, heads={**self.heads, **heads})


def checked_idf(idf: np.ndarray, path: Path) -> np.ndarray:
    """``idf`` as float32, once sure it has one weight per feature this code computes."""
    if idf.shape != (FEATURES,):
        raise DialogaError(
            f"{path.name} holds weights for {idf.shape[0]:,} features, but this version "
            f"computes {FEATURES:,}: retrain it (docs/models.md)"
        )
    return idf.astype(np.float32)


class FastReader:
    """Reads batches of texts with a ``FastModel``, preferring the given languages."""

    def __init__(self, model: FastModel, languages: Sequence[str] = ("it", "en")) -> None:
        self.model = model
        self.guesser = LanguageGuesser(languages)

    def read(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[Reading]:
        if not texts:
            return []
        found = self.guesser.guess(texts, languages)
        features = self.features(texts)
        intents = self.model.heads[INTENT].probabilities(features)
        sentiments = self._sentiments(features, found)
        spam_column = INTENTS.index("spam")
        return [
            Reading(
                language=language,
                sentiment=max(sentiment, key=sentiment.__getitem__),
                sentiment_scores=sentiment,
                intent=INTENTS[int(intent.argmax())],
                intent_scores=dict(zip(INTENTS, map(float, intent), strict=True)),
                spam=float(intent[spam_column]),
            )
            for language, sentiment, intent in zip(found, sentiments, intents, strict=True)
        ]

    def features(self, texts: Sequence[str]) -> sp.csr_matrix | np.ndarray:
        """The rows the heads read (the deep tier puts its embeddings beside these)."""
        return weighted(counts(texts), self.model.idf)

    def _sentiments(self, features: object, languages: list[str]) -> list[dict[str, float]]:
        """Four-class sentiment scores per row, each row from its language's head."""
        rows_of: dict[str, list[int]] = {}
        for row, language in enumerate(languages):
            rows_of.setdefault(_SENTIMENT_HEAD.get(language, SENTIMENT_EN), []).append(row)
        result: list[dict[str, float]] = [{} for _ in languages]
        for name, rows in rows_of.items():
            head = self.model.heads[name]
            probabilities = head.probabilities(features[rows])  # type: ignore[index]
            for row, values in zip(rows, probabilities, strict=True):
                result[row] = sentiment_scores(head, values)
        return result


def sentiment_scores(head: LinearHead, values: np.ndarray) -> dict[str, float]:
    """The four sentiment classes' probabilities from one head's output row.

    A sigmoid head's positive and negative probabilities combine as independent events
    (both: mixed; neither: neutral); a softmax head never says mixed.
    """
    if head.kind == "sigmoid":
        positive, negative = (float(v) for v in values)
        scores = {
            "negative": (1 - positive) * negative,
            "neutral": (1 - positive) * (1 - negative),
            "positive": positive * (1 - negative),
            "mixed": positive * negative,
        }
    else:
        scores = dict.fromkeys(SENTIMENTS, 0.0)
        scores.update(zip(head.classes, map(float, values), strict=True))
    return scores
